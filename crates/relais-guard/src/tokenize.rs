//! Splits a text into words, and finds the spans that are not prose
//! (URLs, emails, @handles, #hashtags, bare domains) so that the spelling and
//! typography checks leave them alone.

use regex::Regex;
use std::sync::LazyLock;

use crate::text::is_apostrophe;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Url,
    Email,
    Handle,
    Hashtag,
    Domain,
}

/// A non-prose span, byte offsets.
#[derive(Debug, Clone, Copy)]
pub struct Protected {
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
}

/// A word of prose, byte offsets.
#[derive(Debug, Clone, Copy)]
pub struct Word<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
    /// First word of a sentence, a line or a list item (capital is expected).
    pub sentence_start: bool,
}

/// The result of scanning a text once; shared by all checks.
pub struct Scan<'a> {
    pub protected: Vec<Protected>,
    pub words: Vec<Word<'a>>,
}

static URL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:https?://|www\.)[^\s<>"«»\[\]{}|\\^`]+"#).expect("url regex")
});
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}").expect("email")
});
static TAG_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[@#][\p{L}\p{N}_]+(?:\.[\p{L}\p{N}_]+)*").expect("tag regex"));
static DOMAIN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        concat!(
            // Bare domains with a common TLD, with or without a path.
            r"(?i)\b[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.(?:com|fr|io|org|net|eu|co|app|dev|be|ch|ca|uk|de|info|biz|shop|store|tech|ai|me|tv|ly|gg|xyz|paris|bzh|studio|agency|online|site|blog|news|media|cloud|digital)\b(?:/[^\s]*)?",
            // Any other host followed by a path ("verdane.lu/kalyo").
            r"|\b[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/[^\s]*",
            // File names ("rapport-2024.pdf").
            r"|\b[\p{L}\p{N}_-]+\.(?:pdf|docx?|xlsx?|pptx?|odt|png|jpe?g|gif|webp|svg|mp3|mp4|mov|zip|csv|txt)\b",
        ),
    )
    .expect("domain regex")
});

/// Trims punctuation that ends a sentence rather than the URL.
pub(crate) fn trim_url_end(s: &str) -> &str {
    let mut s = s;
    loop {
        let Some(last) = s.chars().next_back() else {
            return s;
        };
        let unbalanced_paren = last == ')' && s.matches('(').count() < s.matches(')').count();
        if matches!(
            last,
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '’' | '"' | ']' | '}' | '…'
        ) || unbalanced_paren
        {
            s = &s[..s.len() - last.len_utf8()];
        } else {
            return s;
        }
    }
}

fn overlaps(spans: &[Protected], start: usize, end: usize) -> bool {
    spans.iter().any(|p| p.start < end && start < p.end)
}

/// URLs, emails, handles, hashtags and bare domains, sorted, non-overlapping.
pub fn protected_spans(text: &str) -> Vec<Protected> {
    let mut out: Vec<Protected> = Vec::new();
    for m in URL_RE.find_iter(text) {
        let end = m.start() + trim_url_end(m.as_str()).len();
        out.push(Protected {
            start: m.start(),
            end,
            kind: SpanKind::Url,
        });
    }
    for m in EMAIL_RE.find_iter(text) {
        if !overlaps(&out, m.start(), m.end()) {
            out.push(Protected {
                start: m.start(),
                end: m.end(),
                kind: SpanKind::Email,
            });
        }
    }
    for m in TAG_RE.find_iter(text) {
        // `@`/`#` must not be glued to a word ("a@b" is an email, "C#" a word).
        let glued = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric());
        if glued || overlaps(&out, m.start(), m.end()) {
            continue;
        }
        let kind = if m.as_str().starts_with('@') {
            SpanKind::Handle
        } else {
            SpanKind::Hashtag
        };
        let end = m.start() + trim_url_end(m.as_str()).len();
        out.push(Protected {
            start: m.start(),
            end,
            kind,
        });
    }
    for m in DOMAIN_RE.find_iter(text) {
        if !overlaps(&out, m.start(), m.end()) {
            let end = m.start() + trim_url_end(m.as_str()).len();
            out.push(Protected {
                start: m.start(),
                end,
                kind: SpanKind::Domain,
            });
        }
    }
    out.sort_by_key(|p| p.start);
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// Characters that join two letters into one word: apostrophes, hyphens and
/// the interpunct of French inclusive writing ("client·e·s").
fn is_joiner(c: char) -> bool {
    is_apostrophe(c) || matches!(c, '-' | '\u{2010}' | '\u{2011}' | '·')
}

/// Whether a word starting at `start` opens a sentence, line or list item.
fn starts_sentence(text: &str, start: usize) -> bool {
    for c in text[..start].chars().rev() {
        match c {
            '\n' | '\r' => return true,
            c if c.is_whitespace() => continue,
            '«' | '"' | '“' | '(' | '[' | '\'' | '‘' | '-' | '–' | '—' | '*' | '_' => {
                continue
            }
            '.' | '!' | '?' | '…' | '•' | '·' => return true,
            c if c.is_alphanumeric() => return false,
            ',' | ';' | ':' | ')' | ']' | '»' | '”' | '’' | '/' | '&' | '+' | '=' | '%' => {
                return false
            }
            '€' | '$' | '£' => return false,
            // Emoji and other symbols usually open a social-media line.
            _ => return true,
        }
    }
    true
}

/// Scans the text once: protected spans, then the words outside them.
pub fn scan(text: &str) -> Scan<'_> {
    let protected = protected_spans(text);
    let mut words = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut pi = 0; // next protected span
    let mut i = 0;
    while i < chars.len() {
        let (b, c) = chars[i];
        while pi < protected.len() && protected[pi].end <= b {
            pi += 1;
        }
        if pi < protected.len() && protected[pi].start <= b {
            // Skip the whole protected span.
            let end = protected[pi].end;
            while i < chars.len() && chars[i].0 < end {
                i += 1;
            }
            continue;
        }
        if !is_word_char(c) {
            i += 1;
            continue;
        }
        let start = b;
        let mut j = i + 1;
        while j < chars.len() {
            let c = chars[j].1;
            if is_word_char(c) {
                j += 1;
            } else if is_joiner(c) && j + 1 < chars.len() && is_word_char(chars[j + 1].1) {
                j += 2;
            } else {
                break;
            }
        }
        let end = if j < chars.len() {
            chars[j].0
        } else {
            text.len()
        };
        // A word never runs into a protected span (e.g. "voir:https://…").
        let end = match protected.get(pi) {
            Some(p) if p.start < end => p.start,
            _ => end,
        };
        if end > start {
            words.push(Word {
                start,
                end,
                text: &text[start..end],
                sentence_start: starts_sentence(text, start),
            });
        }
        while j < chars.len() && chars[j].0 < end {
            j += 1;
        }
        i = j.max(i + 1);
    }
    Scan { protected, words }
}

impl Scan<'_> {
    /// True when byte offset `b` lies inside a URL, email, handle…
    pub fn is_protected(&self, b: usize) -> bool {
        let i = self.protected.partition_point(|p| p.end <= b);
        self.protected.get(i).is_some_and(|p| p.start <= b)
    }

    #[cfg(test)]
    pub fn count(&self, kind: SpanKind) -> usize {
        self.protected.iter().filter(|p| p.kind == kind).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str) -> Vec<&str> {
        scan(t).words.iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_keep_elisions_and_hyphens() {
        assert_eq!(
            words("L’équipe d'Orange est-elle prête ? 😀 Oui !"),
            ["L’équipe", "d'Orange", "est-elle", "prête", "Oui"]
        );
    }

    #[test]
    fn protected_spans_are_skipped() {
        let t =
            "Voir https://ex.com/a?b=c. Écrivez à jo@ex.fr, @relais_app #NouveauProduit relais.io";
        assert_eq!(words(t), ["Voir", "Écrivez", "à"]);
        let s = scan(t);
        assert_eq!(s.count(SpanKind::Url), 1);
        assert_eq!(s.count(SpanKind::Hashtag), 1);
        assert_eq!(
            &t[s.protected[0].start..s.protected[0].end],
            "https://ex.com/a?b=c"
        );
    }

    #[test]
    fn domains_paths_and_file_names() {
        let t =
            "Sur verdane.paris, verdane.lu/kalyo et bit.ly/3xYz, lisez rapport-annuel.docx ici.";
        assert_eq!(words(t), ["Sur", "et", "lisez", "ici"]);
    }

    #[test]
    fn sentence_starts() {
        let s = scan("Bonjour Paris. Merci\n🎉 Nouveau, Marc");
        let starts: Vec<bool> = s.words.iter().map(|w| w.sentence_start).collect();
        assert_eq!(starts, [true, false, true, true, false]);
    }
}
