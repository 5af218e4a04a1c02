//! Text helpers: byte→char offsets, accent/case folding with an offset map
//! back to the original, and whole-word multi-term matching.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Converts byte offsets of a text into character offsets.
pub struct CharMap {
    /// Byte offset of each char, plus the text length at the end.
    starts: Vec<usize>,
}

impl CharMap {
    pub fn new(text: &str) -> CharMap {
        let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        starts.push(text.len());
        CharMap { starts }
    }

    /// Character offset of a byte offset (rounded down to a char boundary).
    pub fn char_at(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }
}

/// Apostrophe-like characters users type in place of `'`.
pub fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '‘' | '`' | '´')
}

/// Folds one char for accent- and case-insensitive comparison.
fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if is_apostrophe(c) {
        out.push('\'');
        return;
    }
    match c {
        'œ' | 'Œ' => return out.push_str("oe"),
        'æ' | 'Æ' => return out.push_str("ae"),
        'ß' => return out.push_str("ss"),
        '\u{00A0}' | '\u{202F}' | '\u{2009}' => return out.push(' '),
        '‐' | '‑' | '–' => return out.push('-'),
        _ => {}
    }
    let mut base = String::new();
    decompose_canonical(c, |d| {
        if !is_combining_mark(d) {
            base.push(d);
        }
    });
    for l in base.chars().flat_map(char::to_lowercase) {
        out.push(l);
    }
}

/// Folds a whole string (used for dictionary keys and rule terms).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// A folded copy of a text, with each folded byte mapped back to the byte
/// span of the original char it came from.
pub struct Folded {
    pub text: String,
    /// For each byte of `text`: (start, end) byte offsets in the original.
    origin: Vec<(u32, u32)>,
}

impl Folded {
    pub fn new(original: &str) -> Folded {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        for (i, c) in original.char_indices() {
            let before = text.len();
            fold_char(c, &mut text);
            let span = (i as u32, (i + c.len_utf8()) as u32);
            origin.extend(std::iter::repeat_n(span, text.len() - before));
        }
        Folded { text, origin }
    }

    /// Original byte span of the folded byte range `[start, end)`.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.origin[start].0 as usize;
        let e = self.origin[end - 1].1 as usize;
        (s, e)
    }

    /// True when `[start, end)` is not glued to letters/digits on either side.
    pub fn is_whole_word(&self, start: usize, end: usize) -> bool {
        let before = self.text[..start].chars().next_back();
        let after = self.text[end..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !glued(before) && !glued(after)
    }
}

/// Matches many literal terms as whole words, accent- and case-insensitively.
/// Each match reports the index of the term it came from.
pub struct TermMatcher {
    ac: Option<AhoCorasick>,
    ids: Vec<usize>,
}

impl TermMatcher {
    /// `terms` are (caller id, term). Empty terms are ignored.
    pub fn new<'a>(terms: impl IntoIterator<Item = (usize, &'a str)>) -> TermMatcher {
        let mut pats = Vec::new();
        let mut ids = Vec::new();
        for (id, t) in terms {
            let f = fold(t.trim());
            if !f.is_empty() {
                pats.push(f);
                ids.push(id);
            }
        }
        let ac = if pats.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&pats)
                .ok()
        };
        TermMatcher { ac, ids }
    }

    /// (caller id, original byte span) of every whole-word match.
    pub fn find(&self, folded: &Folded) -> Vec<(usize, (usize, usize))> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        ac.find_iter(&folded.text)
            .filter(|m| folded.is_whole_word(m.start(), m.end()))
            .map(|m| {
                let id = self.ids[m.pattern().as_usize()];
                (id, folded.original_span(m.start(), m.end()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_map_counts_scalars() {
        let t = "é😀a";
        let m = CharMap::new(t);
        assert_eq!(m.char_at(0), 0);
        assert_eq!(m.char_at(2), 1);
        assert_eq!(m.char_at(6), 2);
        assert_eq!(m.char_at(7), 3);
    }

    #[test]
    fn folding_strips_accents_and_case() {
        assert_eq!(
            fold("Élysée CONFIDENTIEL œuvre l’été"),
            "elysee confidentiel oeuvre l'ete"
        );
        // Decomposed input folds the same as composed input.
        assert_eq!(fold("e\u{301}te\u{301}"), "ete");
    }

    #[test]
    fn matcher_maps_back_to_original() {
        let m = TermMatcher::new([(7, "projet phénix")]);
        let text = "Le PROJET PHENIX arrive ; projet phénixien non.";
        let f = Folded::new(text);
        let hits = m.find(&f);
        assert_eq!(hits.len(), 1);
        let (id, (s, e)) = hits[0];
        assert_eq!(id, 7);
        assert_eq!(&text[s..e], "PROJET PHENIX");
    }
}
