//! Language of matched posts (run on matched posts only, never on the hot path): the language
//! declared by the source first, else function words when their vote is clear, else statistical
//! detection (whatlang, data embedded in the crate) when it is reliable enough.

mod function_words;
#[cfg(test)]
mod tests_agreement;

/// Where a post's language came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LangSource {
    /// Declared by the network or the import (`lang` / `langs`).
    Declared,
    /// Detected from the text.
    Detected,
}

/// A post's language: ISO 639-1 code when one exists (`fr`), else ISO 639-3 (`yue`).
#[derive(Debug, Clone, PartialEq)]
pub struct PostLang {
    /// Lower-case language code (primary subtag only for declared tags: `fr-CA` → `fr`).
    pub code: String,
    /// Declared or detected.
    pub source: LangSource,
    /// 1.0 when declared; when detected, the vote margin or whatlang's confidence (0–1).
    pub confidence: f64,
}

/// Detected languages below this confidence are reported as unknown.
pub const MIN_CONFIDENCE: f64 = 0.5;

/// The language of a post: the first well-formed declared tag, else detection.
pub fn post_language(text: &str, declared: &[&str]) -> Option<PostLang> {
    if let Some(code) = declared.iter().find_map(|d| primary_subtag(d)) {
        return Some(PostLang {
            code,
            source: LangSource::Declared,
            confidence: 1.0,
        });
    }
    detect(text)
}

/// Detection: function words when their vote is clear, else statistical detection; None for
/// short or ambiguous texts.
pub fn detect(text: &str) -> Option<PostLang> {
    if let Some((code, confidence)) = function_words::guess(text) {
        return Some(PostLang {
            code: code.to_string(),
            source: LangSource::Detected,
            confidence,
        });
    }
    let info = whatlang::detect(text)?;
    if info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    let code3 = info.lang().code();
    Some(PostLang {
        code: iso639_1(code3).unwrap_or(code3).to_string(),
        source: LangSource::Detected,
        confidence: info.confidence(),
    })
}

fn primary_subtag(tag: &str) -> Option<String> {
    let p = tag.trim().split(['-', '_']).next()?;
    ((2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| p.to_ascii_lowercase())
}

/// ISO 639-3 → 639-1 for the languages whatlang knows that have a two-letter code.
fn iso639_1(code3: &str) -> Option<&'static str> {
    const MAP: &[(&str, &str)] = &[
        ("afr", "af"),
        ("aka", "ak"),
        ("amh", "am"),
        ("ara", "ar"),
        ("aze", "az"),
        ("bel", "be"),
        ("ben", "bn"),
        ("bul", "bg"),
        ("cat", "ca"),
        ("ces", "cs"),
        ("cmn", "zh"),
        ("dan", "da"),
        ("deu", "de"),
        ("ell", "el"),
        ("eng", "en"),
        ("epo", "eo"),
        ("est", "et"),
        ("fin", "fi"),
        ("fra", "fr"),
        ("guj", "gu"),
        ("heb", "he"),
        ("hin", "hi"),
        ("hrv", "hr"),
        ("hun", "hu"),
        ("hye", "hy"),
        ("ind", "id"),
        ("ita", "it"),
        ("jav", "jv"),
        ("jpn", "ja"),
        ("kan", "kn"),
        ("kat", "ka"),
        ("khm", "km"),
        ("kor", "ko"),
        ("lat", "la"),
        ("lav", "lv"),
        ("lit", "lt"),
        ("mal", "ml"),
        ("mar", "mr"),
        ("mkd", "mk"),
        ("mya", "my"),
        ("nep", "ne"),
        ("nld", "nl"),
        ("nob", "nb"),
        ("ori", "or"),
        ("pan", "pa"),
        ("pes", "fa"),
        ("pol", "pl"),
        ("por", "pt"),
        ("ron", "ro"),
        ("rus", "ru"),
        ("sin", "si"),
        ("slk", "sk"),
        ("slv", "sl"),
        ("sna", "sn"),
        ("spa", "es"),
        ("srp", "sr"),
        ("swe", "sv"),
        ("tam", "ta"),
        ("tel", "te"),
        ("tgl", "tl"),
        ("tha", "th"),
        ("tuk", "tk"),
        ("tur", "tr"),
        ("ukr", "uk"),
        ("urd", "ur"),
        ("uzb", "uz"),
        ("vie", "vi"),
        ("yid", "yi"),
        ("zul", "zu"),
    ];
    MAP.iter().find(|(c3, _)| *c3 == code3).map(|(_, c1)| *c1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_language_wins() {
        let l = post_language(
            "This is clearly an English sentence about delivery.",
            &["fr-CA"],
        );
        assert_eq!(
            l.map(|l| (l.code, l.source)),
            Some(("fr".into(), LangSource::Declared))
        );
        // Malformed declarations are skipped.
        let l = post_language("x", &["", "12", "EN"]).unwrap();
        assert_eq!(l.code, "en");
    }

    #[test]
    fn detection_when_nothing_is_declared() {
        let fr = post_language(
            "Franchement la livraison a encore une semaine de retard, le service client ne répond jamais.",
            &[],
        )
        .unwrap();
        assert_eq!((fr.code.as_str(), fr.source), ("fr", LangSource::Detected));
        let en = detect(
            "Honestly the delivery is late again and customer support never answers my emails.",
        );
        assert_eq!(en.map(|l| l.code), Some("en".into()));
        assert!(detect("🙂").is_none());
    }
}
