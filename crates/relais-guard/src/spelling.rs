//! Spelling with the embedded Hunspell dictionaries (through `spellbook`).
//!
//! The hot path only answers "known or not"; suggestions are a separate call
//! ([`suggest`]) because they can take hundreds of milliseconds.

use std::collections::HashSet;
use unicode_normalization::UnicodeNormalization;

use crate::dict::{self, Lang};
use crate::finding::{kinds, Hit, Severity, UiLang};
use crate::text::is_apostrophe;
use crate::tokenize::Word;

/// French elided forms, written with a plain apostrophe after normalisation.
const ELISIONS: &[&str] = &[
    "l'", "d'", "qu'", "j'", "n'", "s'", "c'", "m'", "t'", "jusqu'", "lorsqu'", "puisqu'",
    "quoiqu'", "presqu'",
];

/// Everyday social-media vocabulary missing from the dictionaries, in both
/// languages (lowercase).
const WEB_WORDS: &str = "ok emoji emojis wifi visio visios selfie selfies replay replays webinar \
    webinars hashtag hashtags unboxing livestream e-shop smartphone smartphones podcast podcasts \
    newsletter newsletters influenceur influenceurs coworking vlog vlogs vlogger vloggers reshare \
    repost reposts rdv dev devs tuto tutos skincare fintech fintechs edtech healthtech foodtech \
    proptech martech merch collab collabs onboarded offboarding wellbeing standup standups \
    workstream workstreams";

/// Prefixes written with a hyphen before a known word (both languages).
const PREFIXES: &str = "anti auto bio co contre e éco eco extra hyper inter maxi méga mega micro \
    mini multi néo neo non post pré pre pro re semi sous super sur télé ultra vice";

fn listed(list: &str, w: &str) -> bool {
    let w = w.to_lowercase();
    list.split_whitespace().any(|x| x == w)
}

/// Custom words of a workspace (brand names, jargon), matched case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct CustomWords {
    words: HashSet<String>,
}

impl CustomWords {
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> CustomWords {
        let mut set = HashSet::new();
        for w in words {
            let n = normalize(w.as_ref().trim()).to_lowercase();
            // Multi-word names ("Crédit Agricole") are accepted word by word.
            for part in n.split(|c: char| c.is_whitespace() || c == '-') {
                if !part.is_empty() {
                    set.insert(part.to_string());
                }
            }
            if !n.is_empty() {
                set.insert(n);
            }
        }
        CustomWords { words: set }
    }

    fn contains(&self, w: &str) -> bool {
        !self.words.is_empty() && self.words.contains(&w.to_lowercase())
    }
}

/// NFKC (folds ligatures like "ﬁ", decomposed accents, styled letters) and
/// plain apostrophes/hyphens, the forms the dictionaries know.
fn normalize(w: &str) -> String {
    let s: String = if w.is_ascii() {
        w.to_string()
    } else {
        w.nfkc().collect()
    };
    s.chars()
        .map(|c| match c {
            c if is_apostrophe(c) => '\'',
            '\u{2010}' | '\u{2011}' => '-',
            c => c,
        })
        .collect()
}

/// Letters outside the Latin script: not ours to judge with fr/en dictionaries.
fn is_foreign_script(w: &str) -> bool {
    w.chars().any(|c| {
        c.is_alphabetic()
            && !(c <= '\u{024F}' || ('\u{1E00}'..='\u{1EFF}').contains(&c) || c == 'ﬁ' || c == 'ﬂ')
    })
}

struct Checker<'a> {
    dicts: Vec<&'static spellbook::Dictionary>,
    lang: Lang,
    custom: &'a CustomWords,
}

impl Checker<'_> {
    fn known(&self, w: &str) -> bool {
        if w.is_empty()
            || self.custom.contains(w)
            || self.dicts.iter().any(|d| d.check(w))
            || listed(WEB_WORDS, w)
        {
            return true;
        }
        match self.lang {
            Lang::Fr => {
                // Keyboards lack "œ": accept "coeur" for "cœur".
                let lower = w.to_lowercase();
                lower.contains("oe")
                    && self
                        .dicts
                        .iter()
                        .any(|d| d.check(&lower.replace("oe", "œ")))
            }
            // Possessive of a custom word: "Relais's", "Relais'".
            Lang::En => {
                let base = w.strip_suffix("'s").or_else(|| w.strip_suffix('\''));
                base.is_some_and(|b| self.custom.contains(b))
            }
        }
    }

    /// Strips a French elided article/pronoun: "l'équipe" → "équipe".
    fn strip_elision<'w>(&self, w: &'w str) -> &'w str {
        if self.lang != Lang::Fr {
            return w;
        }
        let lower = w.to_lowercase();
        for e in ELISIONS {
            if lower.starts_with(e) && lower.len() > e.len() {
                // ELISIONS are ASCII, so the byte length carries over to `w`.
                return &w[e.len()..];
            }
        }
        w
    }

    fn word_ok(&self, w: &str) -> bool {
        if self.known(w) {
            return true;
        }
        // Inclusive writing: "collaborateur·rice·s" is checked on its stem.
        if let Some((stem, _)) = w.split_once('·') {
            return self.word_ok(stem);
        }
        let rest = self.strip_elision(w);
        if rest.len() != w.len() && (self.known(rest) || self.parts_ok(rest)) {
            return true;
        }
        self.parts_ok(rest)
    }

    /// Hyphenated compounds: accepted when each part is a known word, or,
    /// in French, when every part is English ("best-of", "must-have").
    fn parts_ok(&self, w: &str) -> bool {
        if !w.contains('-') {
            return false;
        }
        let mut parts = w.split('-').filter(|p| p.chars().count() > 1);
        if parts
            .clone()
            .all(|p| self.known(p) || self.known(self.strip_elision(p)))
        {
            return true;
        }
        // "éco-responsable", "anti-âge": a prefix glued with a hyphen.
        if let Some((head, rest)) = w.split_once('-') {
            if listed(PREFIXES, head) && (self.known(rest) || self.known(&format!("{head}{rest}")))
            {
                return true;
            }
        }
        self.lang == Lang::Fr && {
            let en = dict::dictionaries(Lang::En);
            parts.all(|p| en.iter().any(|d| d.check(p)))
        }
    }
}

/// Abbreviations: no vowel at all ("bcp", "qqch", "svp", "nb"), or a word
/// followed by a period that does not end the sentence ("env. 20 km").
fn looks_like_abbreviation(w: &str, after: &str) -> bool {
    let vowel = |c: char| {
        let base = crate::text::fold(&c.to_string());
        base.chars().any(|b| "aeiouy".contains(b))
    };
    if !w.chars().any(vowel) {
        return true;
    }
    let Some(rest) = after.strip_prefix('.') else {
        return false;
    };
    let next = rest
        .trim_start_matches([' ', '\u{00A0}', '\u{202F}'])
        .chars()
        .next();
    w.chars().count() <= 6
        && next.is_some_and(|c| c.is_lowercase() || c.is_numeric() || matches!(c, ',' | ';' | ')'))
}

/// Why an unknown word is not reported: the shape says it is a name.
fn looks_like_name(raw: &str, sentence_start: bool) -> bool {
    let letters: Vec<char> = raw.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    if upper == 0 {
        return false;
    }
    if upper == letters.len() {
        // Acronyms (RGPD, CNIL, NASA); long all-caps words are still checked.
        return letters.len() <= 5;
    }
    let first_upper = letters[0].is_uppercase();
    if upper > 1 || !first_upper {
        // camelCase / inner capitals: iPhone, LinkedIn, McDonald, d'Orange.
        return true;
    }
    // A capital in mid-sentence marks a proper noun.
    !sentence_start
}

/// Unknown words of the text, as findings without suggestions.
pub(crate) fn check(
    text: &str,
    words: &[Word<'_>],
    lang: Lang,
    custom: &CustomWords,
    ui: UiLang,
) -> Vec<Hit> {
    let checker = Checker {
        dicts: dict::dictionaries(lang),
        lang,
        custom,
    };
    if checker.dicts.is_empty() {
        return Vec::new();
    }
    // Words seen capitalised in mid-sentence are names, even at a sentence start.
    let names: HashSet<&str> = words
        .iter()
        .filter(|w| !w.sentence_start && w.text.chars().next().is_some_and(char::is_uppercase))
        .map(|w| w.text)
        .collect();
    // A capitalised word followed by ®/™ or by another capitalised word
    // ("Leroy Merlin annonce…") is a name even at a sentence start.
    let in_name = |i: usize| {
        let w = &words[i];
        text[w.end..].starts_with(['®', '™'])
            || words.get(i + 1).is_some_and(|n| {
                &text[w.end..n.start] == " "
                    && n.text.chars().next().is_some_and(char::is_uppercase)
                    && n.text.chars().any(char::is_lowercase)
            })
    };
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let raw = w.text;
        if raw.chars().count() <= 1 || raw.chars().any(|c| c.is_numeric() || c == '_') {
            continue;
        }
        // After NFKC, so that styled letters ("𝐁𝐨𝐧𝐣𝐨𝐮𝐫") count as Latin.
        let norm = normalize(raw);
        if is_foreign_script(&norm) || checker.word_ok(&norm) {
            continue;
        }
        let after_elision = checker.strip_elision(&norm);
        if looks_like_name(
            after_elision,
            w.sentence_start && after_elision.len() == norm.len(),
        ) || names.contains(raw)
            || (raw.chars().next().is_some_and(char::is_uppercase) && in_name(i))
            || looks_like_abbreviation(after_elision, &text[w.end..])
        {
            continue;
        }
        let msg = ui.pick(
            format!("Mot inconnu du dictionnaire ({}) : « {raw} »", lang.code()),
            format!("Word not in the {} dictionary: “{raw}”", lang.code()),
        );
        out.push(Hit::new(
            kinds::SPELLING,
            Severity::Warn,
            (w.start, w.end),
            msg,
        ));
    }
    out
}

/// True when `word` is correct in `lang` (same rules as the text check).
pub fn is_correct(word: &str, lang: &str) -> bool {
    let Some(l) = Lang::parse(lang) else {
        return true;
    };
    let custom = CustomWords::default();
    let checker = Checker {
        dicts: dict::dictionaries(l),
        lang: l,
        custom: &custom,
    };
    checker.dicts.is_empty() || checker.word_ok(&normalize(word))
}

/// Spelling suggestions for one word, best first (at most `max`). Slow:
/// call it on demand (e.g. when the user opens a finding), not per keystroke.
pub fn suggest(word: &str, lang: &str, max: usize) -> Vec<String> {
    let Some(l) = Lang::parse(lang) else {
        return Vec::new();
    };
    let mut dicts = dict::dictionaries(l);
    if lang.to_ascii_lowercase().replace('_', "-") == "en-gb" {
        dicts.reverse();
    }
    let norm = normalize(word);
    // Keep the elided prefix as typed ("l'evenement" → "l'événement").
    let (prefix, rest) = match l {
        Lang::Fr => {
            let custom = CustomWords::default();
            let checker = Checker {
                dicts: dicts.clone(),
                lang: l,
                custom: &custom,
            };
            let rest = checker.strip_elision(&norm).to_string();
            // The prefix as the user typed it (keeps "’" rather than "'").
            let n = norm[..norm.len() - rest.len()].chars().count();
            (word.chars().take(n).collect(), rest)
        }
        Lang::En => (String::new(), norm.clone()),
    };
    let mut out: Vec<String> = Vec::new();
    for cand in accent_candidates(&rest, l, &dicts) {
        push_unique(&mut out, format!("{prefix}{cand}"));
    }
    let elided = !prefix.is_empty();
    for d in dicts {
        let mut s = Vec::new();
        d.suggest(&rest, &mut s);
        for cand in s {
            // "l'" only before a vowel or h: drop "l'reversement".
            let vowel = cand.chars().next().is_some_and(|c| {
                "aàâäeéèêëiîïoôöuùûüyhœæ".contains(c.to_lowercase().next().unwrap_or(c))
            });
            if elided && !vowel {
                continue;
            }
            push_unique(&mut out, format!("{prefix}{cand}"));
        }
        if out.len() >= max {
            break;
        }
    }
    out.truncate(max);
    out
}

/// Suggestions for a `spelling.unknown_word` finding of `text` (char offsets).
pub fn suggest_for(text: &str, finding: &crate::Finding, lang: &str, max: usize) -> Vec<String> {
    if finding.kind != kinds::SPELLING {
        return Vec::new();
    }
    let word: String = text
        .chars()
        .skip(finding.start)
        .take(finding.end.saturating_sub(finding.start))
        .collect();
    suggest(&word, lang, max)
}

fn push_unique(out: &mut Vec<String>, s: String) {
    if !out.contains(&s) {
        out.push(s);
    }
}

/// Missing or wrong accents are the most common French typo: restore them
/// from the dictionary stems before asking the (slower, edit-based) suggester.
fn accent_candidates(
    word: &str,
    lang: Lang,
    dicts: &[&'static spellbook::Dictionary],
) -> Vec<String> {
    let index = dict::accent_index(lang);
    let folded = crate::text::fold(word);
    let mut keys = vec![(folded.clone(), String::new())];
    // Plurals and feminines are not stems: "evenements" → "événement" + "s".
    for suffix in ["s", "x", "e", "es"] {
        if let Some(base) = folded.strip_suffix(suffix) {
            keys.push((base.to_string(), suffix.to_string()));
        }
    }
    let capital = word.chars().next().is_some_and(char::is_uppercase);
    let mut out = Vec::new();
    for (key, suffix) in keys {
        for stem in index.get(&key).into_iter().flatten() {
            let mut cand = format!("{stem}{suffix}");
            if capital {
                let mut c = cand.chars();
                cand = c
                    .next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default();
            }
            if cand != word && dicts.iter().any(|d| d.check(&cand)) {
                push_unique(&mut out, cand);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::scan;

    fn unknown(text: &str, lang: Lang, custom: &[&str]) -> Vec<String> {
        let s = scan(text);
        check(text, &s.words, lang, &CustomWords::new(custom), UiLang::En)
            .into_iter()
            .map(|h| text[h.start..h.end].to_string())
            .collect()
    }

    #[test]
    fn french_elisions_both_apostrophes() {
        let t = "L'équipe d’Orange qu’il aime, jusqu’à lorsqu'elle s’en va ; c'est l’évènement, puisqu’on n’a rien.";
        assert!(
            unknown(t, Lang::Fr, &[]).is_empty(),
            "{:?}",
            unknown(t, Lang::Fr, &[])
        );
        assert_eq!(
            unknown("l’evenement est prevu", Lang::Fr, &[]),
            ["l’evenement", "prevu"]
        );
    }

    #[test]
    fn french_hyphens_handles_urls_emoji_numbers() {
        let t = "Peut-être un rendez-vous 🎉 le 12/03 à 18h30 pour 49,90 € ? Écrivez à @relais_fr ou contact@relais.fr, #RentréeDigitale https://relais.io/a?x=1 va-t-il ?";
        assert!(
            unknown(t, Lang::Fr, &[]).is_empty(),
            "{:?}",
            unknown(t, Lang::Fr, &[])
        );
    }

    #[test]
    fn english_text_and_typos() {
        let t =
            "We don’t ship on Sundays; the company's colour and color are both fine — e-mail us!";
        assert!(
            unknown(t, Lang::En, &[]).is_empty(),
            "{:?}",
            unknown(t, Lang::En, &[])
        );
        assert_eq!(
            unknown("We recieve teh parcel tommorow.", Lang::En, &[]),
            ["recieve", "teh", "tommorow"]
        );
    }

    #[test]
    fn names_and_custom_words() {
        // Mid-sentence capitals are names; custom words are accepted anywhere.
        assert!(unknown("Nous avons rencontré Zorblax hier.", Lang::Fr, &[]).is_empty());
        assert!(unknown("Zorblax lance sa gamme.", Lang::Fr, &[]).len() == 1);
        assert!(unknown("Zorblax Quintel lance Brovik® demain.", Lang::Fr, &[]).is_empty());
        assert!(unknown("Zorblax lance sa gamme zorblax.", Lang::Fr, &["Zorblax"]).is_empty());
        assert!(unknown("ZORBLAXIUM", Lang::Fr, &[]).len() == 1);
        assert!(unknown("Le RGPD et la CNIL", Lang::Fr, &[]).is_empty());
    }

    #[test]
    fn abbreviations() {
        let t = "Env. 20 km, approx. 5 ml, bcp de monde, svp, qqch. Fin.";
        assert!(
            unknown(t, Lang::Fr, &[]).is_empty(),
            "{:?}",
            unknown(t, Lang::Fr, &[])
        );
        // A typo ending a sentence is still a typo.
        assert_eq!(
            unknown("Nous arrivons demian. Merci", Lang::Fr, &[]),
            ["demian"]
        );
    }

    #[test]
    fn inclusive_writing_and_prefixes() {
        let t =
            "Cher·e·s client·e·s et collaborateur·rice·s, un produit éco-responsable et anti-âge.";
        assert!(
            unknown(t, Lang::Fr, &[]).is_empty(),
            "{:?}",
            unknown(t, Lang::Fr, &[])
        );
        assert_eq!(unknown("Les clinet·e·s", Lang::Fr, &[]), ["clinet·e·s"]);
    }

    #[test]
    fn ligatures_and_decomposed_accents() {
        assert_eq!(
            unknown(
                "𝐁𝐨𝐧𝐣𝐨𝐮𝐫 𝐭𝐨𝐮𝐬 𝐥𝐞𝐬 𝐚𝐦𝐢𝐬 𝐝𝐞 𝐥𝐚 𝐦𝐚𝐫𝐪𝐮𝐞 𝐞𝐯𝐞𝐧𝐞𝐦𝐞𝐧𝐭",
                Lang::Fr,
                &[]
            )
            .len(),
            1
        );
        assert!(unknown("Привет 你好 مرحبا", Lang::Fr, &[]).is_empty());
        assert!(unknown("Le coeur de la ﬁnance, l'e\u{301}te\u{301}.", Lang::Fr, &[]).is_empty());
    }

    #[test]
    fn suggestions_on_demand() {
        let s = suggest("recieve", "en", 5);
        assert!(s.iter().any(|x| x == "receive"), "{s:?}");
        let s = suggest("l'evenement", "fr", 5);
        assert!(
            s.iter().any(|x| x == "l'événement" || x == "l'évènement"),
            "{s:?}"
        );
        assert!(suggest("hello", "de", 5).is_empty());
    }
}
