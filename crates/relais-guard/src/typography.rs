//! Typography: French spacing before `: ; ! ?` and inside « », doubled words,
//! doubled spaces, ALL-CAPS runs and repeated punctuation.

use crate::dict::Lang;
use crate::finding::{kinds, Hit, Severity, UiLang};
use crate::tokenize::{Scan, Word};

const NNBSP: char = '\u{202F}';
const NBSP: char = '\u{00A0}';

fn is_nb_space(c: char) -> bool {
    c == NNBSP || c == NBSP || c == '\u{2009}'
}

/// Emoticons such as ":)" or ";-)" are not punctuation.
fn is_emoticon(next: Option<char>, next2: Option<char>) -> bool {
    matches!(
        next,
        Some(')' | '(' | 'D' | 'P' | 'p' | 'o' | 'O' | '/' | '|')
    ) || (next == Some('-') && matches!(next2, Some(')' | '(' | 'D' | 'P')))
}

/// French high punctuation and guillemets need a (narrow) no-break space.
fn french_spacing(text: &str, scan: &Scan<'_>, ui: UiLang, out: &mut Vec<Hit>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(b, c)) in chars.iter().enumerate() {
        if !matches!(c, ':' | ';' | '!' | '?' | '«' | '»') || scan.is_protected(b) {
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).map(|x| x.1);
        let next2 = chars.get(i + 2).map(|x| x.1);
        if matches!(c, ':' | ';') && is_emoticon(next, next2) {
            continue;
        }
        // A ':' glued on both sides is a time, ratio or scheme ("10:30").
        if c == ':' && next.is_some_and(|n| !n.is_whitespace()) {
            continue;
        }
        // Only the first mark of "?!" or "!!!" gets the space.
        if matches!(c, '!' | '?') && prev.is_some_and(|p| matches!(p.1, '!' | '?')) {
            continue;
        }
        let space = if matches!(c, ':' | '«' | '»') {
            NBSP
        } else {
            NNBSP
        };
        let name = if space == NNBSP { "U+202F" } else { "U+00A0" };
        if c == '«' {
            match next {
                Some(n) if is_nb_space(n) => {}
                Some(' ') => out.push(nbsp_hit(
                    (chars[i + 1].0, chars[i + 1].0 + 1),
                    space,
                    name,
                    c,
                    ui,
                )),
                Some(_) => out.push(
                    nbsp_hit((b, b + c.len_utf8()), space, name, c, ui)
                        .with_replacement(format!("«{space}")),
                ),
                None => {}
            }
            continue;
        }
        match prev {
            None => {}
            Some((_, p)) if is_nb_space(p) || p == '\n' => {}
            Some((pb, ' ')) => {
                // "Bonjour !" → "Bonjour\u{202F}!"
                let start = chars[..i]
                    .iter()
                    .rev()
                    .take_while(|x| x.1 == ' ')
                    .last()
                    .map_or(pb, |x| x.0);
                out.push(nbsp_hit((start, b), space, name, c, ui));
            }
            Some((_, p))
                if p.is_alphanumeric() || matches!(p, '»' | ')' | '"' | '”' | '…' | '.') =>
            {
                out.push(
                    nbsp_hit((b, b + c.len_utf8()), space, name, c, ui)
                        .with_replacement(format!("{space}{c}")),
                );
            }
            _ => {}
        }
    }
}

fn nbsp_hit(span: (usize, usize), space: char, name: &str, c: char, ui: UiLang) -> Hit {
    let msg = ui.pick(
        format!("Espace insécable ({name}) attendue avec « {c} »"),
        format!("French typography: a no-break space ({name}) is expected with “{c}”"),
    );
    Hit::new(kinds::NBSP, Severity::Warn, span, msg).suggest(space.to_string())
}

impl Hit {
    fn with_replacement(mut self, s: String) -> Hit {
        self.suggestions = vec![s];
        self
    }
}

/// English puts no space before `: ; ! ?`.
fn english_spacing(text: &str, scan: &Scan<'_>, ui: UiLang, out: &mut Vec<Hit>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(b, c)) in chars.iter().enumerate() {
        if !matches!(c, ':' | ';' | '!' | '?') || i == 0 || scan.is_protected(b) {
            continue;
        }
        let (pb, p) = chars[i - 1];
        let before = i.checked_sub(2).map(|x| chars[x].1);
        if (p == ' ' || is_nb_space(p)) && before.is_some_and(char::is_alphanumeric) {
            let msg = ui.pick(
                format!("Pas d’espace avant « {c} » en anglais"),
                format!("No space before “{c}” in English"),
            );
            out.push(Hit::new(kinds::SPACE_BEFORE_PUNCT, Severity::Warn, (pb, b), msg).suggest(""));
        }
    }
}

/// Legitimate repetitions: "nous nous sommes", "had had", "that that".
const DOUBLE_OK: &[&str] = &[
    "nous", "vous", "had", "that", "is", "da", "bora", "ha", "hi", "très",
];

fn doubled_words(text: &str, words: &[Word<'_>], ui: UiLang, out: &mut Vec<Hit>) {
    for pair in words.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let gap = &text[a.end..b.start];
        if !gap.chars().all(|c| c == ' ' || is_nb_space(c)) || gap.is_empty() {
            continue;
        }
        let la = a.text.to_lowercase();
        if la != b.text.to_lowercase()
            || la.chars().any(char::is_numeric)
            || DOUBLE_OK.contains(&la.as_str())
        {
            continue;
        }
        let msg = ui.pick(
            format!("Mot répété : « {} »", b.text),
            format!("Repeated word: “{}”", b.text),
        );
        out.push(Hit::new(kinds::DOUBLED_WORD, Severity::Warn, (a.end, b.end), msg).suggest(""));
    }
}

fn doubled_spaces(text: &str, scan: &Scan<'_>, ui: UiLang, out: &mut Vec<Hit>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let inside_line = start > 0
            && bytes[start - 1] != b'\n'
            && i < bytes.len()
            && bytes[i] != b'\n'
            && bytes[i] != b'\r';
        if i - start >= 2 && inside_line && !scan.is_protected(start) {
            let msg = ui.pick("Espaces multiples", "Multiple spaces");
            out.push(
                Hit::new(
                    kinds::DOUBLED_SPACE,
                    Severity::Warn,
                    (start, i),
                    msg.to_string(),
                )
                .suggest(" "),
            );
        }
    }
}

fn is_caps_word(w: &Word<'_>) -> bool {
    let mut letters = 0;
    for c in w.text.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_alphabetic() {
            letters += 1;
        }
    }
    letters >= 2
}

/// Runs of ALL-CAPS words: at least two words and eight letters, with three
/// words or a word of six letters (acronyms such as "RGPD" are fine). Byte spans.
pub(crate) fn all_caps_runs(text: &str, words: &[Word<'_>]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if !is_caps_word(&words[i]) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < words.len()
            && is_caps_word(&words[j])
            && !text[words[j - 1].end..words[j].start].contains(['\n', '.', '!', '?'])
        {
            j += 1;
        }
        let letters: usize = words[i..j]
            .iter()
            .map(|w| w.text.chars().filter(|c| c.is_alphabetic()).count())
            .sum();
        let longest = words[i..j]
            .iter()
            .map(|w| w.text.chars().count())
            .max()
            .unwrap_or(0);
        // "RGPD CNIL" is two acronyms; "SOLDES MONSTRES" is shouting.
        if j - i >= 2 && letters >= 8 && (j - i >= 3 || longest >= 6) {
            runs.push((words[i].start, words[j - 1].end));
        }
        i = j;
    }
    runs
}

pub(crate) fn all_caps_hit(span: (usize, usize), severity: Severity, ui: UiLang) -> Hit {
    let msg = ui.pick(
        "Passage en MAJUSCULES : ton agressif",
        "ALL-CAPS passage reads as shouting",
    );
    Hit::new(kinds::ALL_CAPS, severity, span, msg.to_string())
}

fn repeated_punctuation(text: &str, scan: &Scan<'_>, ui: UiLang, out: &mut Vec<Hit>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if !matches!(c, '!' | '?' | '.' | ',' | ';') {
            i += 1;
            continue;
        }
        let group = |x: char| {
            if matches!(c, '!' | '?') {
                matches!(x, '!' | '?')
            } else {
                x == c
            }
        };
        let mut j = i + 1;
        while j < chars.len() && group(chars[j].1) {
            j += 1;
        }
        let run: String = chars[i..j].iter().map(|x| x.1).collect();
        let start = chars[i].0;
        let end = chars.get(j).map_or(text.len(), |x| x.0);
        let flagged = match c {
            '.' => run.len() >= 4,
            '!' | '?' => run.chars().count() >= 2 && run != "?!" && run != "!?",
            _ => run.len() >= 2,
        };
        if flagged && !scan.is_protected(start) {
            let fix = if c == '.' {
                "…".to_string()
            } else {
                c.to_string()
            };
            let msg = ui.pick(
                format!("Ponctuation répétée : « {run} »"),
                format!("Repeated punctuation: “{run}”"),
            );
            out.push(
                Hit::new(kinds::REPEATED_PUNCT, Severity::Warn, (start, end), msg).suggest(fix),
            );
        }
        i = j;
    }
}

/// All typography checks. `caps` is the severity of ALL-CAPS runs, or None
/// when the charter's tone rule reports them instead.
pub(crate) fn check(
    text: &str,
    scan: &Scan<'_>,
    lang: Option<Lang>,
    ui: UiLang,
    caps: Option<Severity>,
) -> Vec<Hit> {
    let mut out = Vec::new();
    match lang {
        Some(Lang::Fr) => french_spacing(text, scan, ui, &mut out),
        Some(Lang::En) => english_spacing(text, scan, ui, &mut out),
        None => {}
    }
    doubled_words(text, &scan.words, ui, &mut out);
    doubled_spaces(text, scan, ui, &mut out);
    repeated_punctuation(text, scan, ui, &mut out);
    if let Some(sev) = caps {
        for span in all_caps_runs(text, &scan.words) {
            out.push(all_caps_hit(span, sev, ui));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::scan;

    fn kinds_of(text: &str, lang: Lang) -> Vec<(&'static str, String, Vec<String>)> {
        let s = scan(text);
        check(text, &s, Some(lang), UiLang::Fr, Some(Severity::Warn))
            .into_iter()
            .map(|h| (h.kind, text[h.start..h.end].to_string(), h.suggestions))
            .collect()
    }

    #[test]
    fn french_nbsp() {
        let k = kinds_of(
            "Bonjour ! Quoi? Voici : « oui » et 10:30 https://a.fr ;)",
            Lang::Fr,
        );
        assert_eq!(k.len(), 5, "{k:?}");
        assert_eq!(k[0], (kinds::NBSP, " ".into(), vec!["\u{202F}".into()]));
        assert_eq!(k[1], (kinds::NBSP, "?".into(), vec!["\u{202F}?".into()]));
        assert_eq!(k[2].2, vec!["\u{00A0}".to_string()]);
        assert!(kinds_of(
            "Bonjour\u{202F}! Voici\u{00A0}: «\u{00A0}oui\u{00A0}»",
            Lang::Fr
        )
        .is_empty());
    }

    #[test]
    fn english_has_no_space_before_marks() {
        assert!(kinds_of("Hello! Ready? Go: now; yes.", Lang::En).is_empty());
        assert_eq!(
            kinds_of("Hello !", Lang::En)[0].0,
            kinds::SPACE_BEFORE_PUNCT
        );
    }

    #[test]
    fn doubled_words_and_spaces() {
        let k = kinds_of(
            "Le le chat  dort. Nous nous sommes vus. the the end",
            Lang::En,
        );
        let ks: Vec<_> = k.iter().map(|x| x.0).collect();
        assert_eq!(
            ks,
            [
                kinds::DOUBLED_WORD,
                kinds::DOUBLED_WORD,
                kinds::DOUBLED_SPACE
            ]
        );
    }

    #[test]
    fn caps_and_repeated_punctuation() {
        let k = kinds_of(
            "SOLDES MONSTRES aujourd'hui!!! Vraiment?? Oui?! Le RGPD CNIL.... fin",
            Lang::En,
        );
        let ks: Vec<_> = k.iter().map(|x| x.0).collect();
        assert_eq!(
            ks,
            [
                kinds::REPEATED_PUNCT,
                kinds::REPEATED_PUNCT,
                kinds::REPEATED_PUNCT,
                kinds::ALL_CAPS
            ]
        );
        assert_eq!(k[3].1, "SOLDES MONSTRES");
    }
}
