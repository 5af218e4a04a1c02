//! Folding and tokenisation shared by queries and posts.
//!
//! Text is lower-cased, NFKD-decomposed with combining marks removed (é → e), œ → oe, æ → ae,
//! ß → ss. Tokens are the maximal runs of `[0-9a-z_]`; every other character separates tokens.
//! A token directly preceded by `#` or `@` (itself not glued to a previous word, so e-mail
//! addresses are not mentions) carries a [`MARK_HASH`] / [`MARK_AT`] mark.

use std::sync::OnceLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// No mark: the token is not a hashtag nor a mention.
pub const MARK_NONE: u8 = 0;
/// The token follows a `#` (hashtag).
pub const MARK_HASH: u8 = 1;
/// The token follows an `@` (mention / handle).
pub const MARK_AT: u8 = 2;

// Byte classes for the ASCII fast path: a lower-cased token byte, or one of these.
const SEP: u8 = 0;
const HASH: u8 = 1;
const AT: u8 = 2;
const NON_ASCII: u8 = 3;

const fn class_table() -> [u8; 256] {
    let mut t = [SEP; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' | b'_' => c,
            b'A'..=b'Z' => c + 32,
            b'#' => HASH,
            b'@' => AT,
            0x80..=0xff => NON_ASCII,
            _ => SEP,
        };
        b += 1;
    }
    t
}
static CLASS: [u8; 256] = class_table();

/// The tokens of one text: lower-cased bytes stored contiguously, with spans and marks.
/// Reused between posts so that tokenising allocates nothing once warmed up.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    buf: Vec<u8>,
    ends: Vec<u32>,
    marks: Vec<u8>,
    // Tokeniser state (only meaningful while tokenising).
    in_token: bool,
    pending: u8,
}

impl Tokens {
    /// Empty token list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tokens.
    #[inline]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the text had no token.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes (ASCII `[0-9a-z_]`) of token `i`.
    #[inline]
    pub fn token(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.buf[start..self.ends[i] as usize]
    }

    /// The token `i` as a `&str` (tokens are always ASCII).
    pub fn token_str(&self, i: usize) -> &str {
        std::str::from_utf8(self.token(i)).unwrap_or("")
    }

    /// Hash of the first `len` bytes of token `i` (same as `matcher::table::hash`).
    #[inline]
    pub(crate) fn hash_prefix(&self, i: usize, len: usize) -> u64 {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        crate::matcher::hash_padded(&self.buf, start, len)
    }

    /// The mark of token `i` ([`MARK_NONE`], [`MARK_HASH`] or [`MARK_AT`]).
    #[inline]
    pub fn mark(&self, i: usize) -> u8 {
        self.marks[i]
    }

    /// Iterate over the tokens as `&str`.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.token_str(i))
    }

    /// Bytes retained by the buffers.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity() + self.ends.capacity() * 4 + self.marks.capacity()
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
        self.marks.clear();
        self.in_token = false;
        self.pending = MARK_NONE;
    }

    #[inline]
    fn push_token_byte(&mut self, b: u8) {
        if !self.in_token {
            self.in_token = true;
            self.marks.push(self.pending);
        }
        self.pending = MARK_NONE;
        self.buf.push(b);
    }

    #[inline]
    fn end_token(&mut self) -> bool {
        let was = self.in_token;
        if was {
            self.ends.push(self.buf.len() as u32);
            self.in_token = false;
        }
        was
    }

    #[inline]
    fn push_class(&mut self, class: u8) {
        match class {
            SEP => {
                self.end_token();
                self.pending = MARK_NONE;
            }
            HASH | AT => {
                // `a#b` or `mail@host`: the sign is glued to a word, so it marks nothing.
                let glued = self.end_token();
                self.pending = if glued {
                    MARK_NONE
                } else if class == HASH {
                    MARK_HASH
                } else {
                    MARK_AT
                };
            }
            b => self.push_token_byte(b),
        }
    }

    /// Slow path for one non-ASCII character.
    #[cold]
    fn push_char(&mut self, c: char) {
        fold_char(c, &mut |class| self.push_class(class));
    }
}

/// Fold one non-ASCII character into byte classes (token bytes, or SEP/HASH/AT).
fn fold_char(c: char, emit: &mut dyn FnMut(u8)) {
    // NFKD per character is enough: canonical reordering only moves combining marks, which
    // are dropped anyway.
    decompose_compatible(c, |d| {
        // Combining marks are removed, not turned into separators: "e\u{301}t\u{e9}" is one token.
        if !is_combining_mark(d) {
            for l in d.to_lowercase() {
                fold_lowered(l, true, emit);
            }
        }
    });
}

/// Fold a lower-cased character; `again` allows one more decomposition of the lowered form.
fn fold_lowered(l: char, again: bool, emit: &mut dyn FnMut(u8)) {
    if l.is_ascii() {
        emit(CLASS[l as usize]);
        return;
    }
    if is_combining_mark(l) {
        return;
    }
    let pair = match l {
        'œ' => b"oe",
        'æ' => b"ae",
        'ß' => b"ss",
        _ => {
            let mut parts = Vec::new();
            if again {
                // Lower-casing may yield a character that decomposes further (rare).
                decompose_compatible(l, |d| parts.push(d));
            }
            if parts.len() <= 1 && parts.first().is_none_or(|&d| d == l) {
                emit(SEP);
            } else {
                for d in parts {
                    fold_lowered(d, false, emit);
                }
            }
            return;
        }
    };
    emit(pair[0]);
    emit(pair[1]);
}

/// Characters below this code point are folded through a precomputed table.
const TABLE_END: u32 = 0x3000;

/// `FOLD[cp - 0x80]` = number of classes (0..=3, or 255 for the slow path) then the classes.
fn fold_table() -> &'static [[u8; 4]] {
    static FOLD: OnceLock<Vec<[u8; 4]>> = OnceLock::new();
    FOLD.get_or_init(|| {
        (0x80..TABLE_END)
            .map(|cp| {
                let mut e = [0u8; 4];
                if let Some(c) = char::from_u32(cp) {
                    let mut out = Vec::new();
                    fold_char(c, &mut |cl| out.push(cl));
                    if out.len() <= 3 {
                        e[0] = out.len() as u8;
                        e[1..=out.len()].copy_from_slice(&out);
                    } else {
                        e[0] = 255;
                    }
                } else {
                    e[0] = 255;
                }
                e
            })
            .collect()
    })
}

/// Tokenise `text` into `out` (cleared first). ASCII bytes take a table-driven fast path.
pub fn tokenize_into(text: &str, out: &mut Tokens) {
    if text.is_ascii() {
        tokenize_ascii(text.as_bytes(), out);
    } else {
        tokenize_general(text, out);
    }
}

/// End of the run of ASCII token bytes starting at `i`. (An 8-bytes-at-a-time SWAR version
/// measured no faster: word ends are not the bottleneck.)
#[inline]
fn run_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_token_byte(bytes[i]) {
        i += 1;
    }
    i
}

#[inline]
fn is_token_byte(b: u8) -> bool {
    CLASS[b as usize] > NON_ASCII
}

/// Pure-ASCII texts (most posts): skip separators and copy runs, no per-byte state machine.
/// Must give exactly what [`tokenize_general`] gives (checked by a test).
fn tokenize_ascii(bytes: &[u8], out: &mut Tokens) {
    out.clear();
    out.buf.reserve(bytes.len() + 8);
    let n = bytes.len();
    let mut i = 0;
    loop {
        while i < n && !is_token_byte(bytes[i]) {
            i += 1;
        }
        if i == n {
            break;
        }
        let start = i;
        i = run_end(bytes, i);
        // `#x` / `@x` unless the sign is glued to a previous word (`C#x`, `mail@host`).
        let mark = if start > 0 && !(start > 1 && is_token_byte(bytes[start - 2])) {
            match bytes[start - 1] {
                b'#' => MARK_HASH,
                b'@' => MARK_AT,
                _ => MARK_NONE,
            }
        } else {
            MARK_NONE
        };
        out.marks.push(mark);
        out.buf
            .extend(bytes[start..i].iter().map(|&b| CLASS[b as usize]));
        out.ends.push(out.buf.len() as u32);
    }
    out.buf.extend_from_slice(&[0; 8]);
}

/// Any text: a byte-class state machine with a table for common non-ASCII characters.
fn tokenize_general(text: &str, out: &mut Tokens) {
    out.clear();
    out.buf.reserve(text.len());
    let table = fold_table();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let class = CLASS[bytes[i] as usize];
        if class > NON_ASCII {
            // Fast path: a run of ASCII token bytes.
            if !out.in_token {
                out.in_token = true;
                out.marks.push(out.pending);
            }
            out.pending = MARK_NONE;
            let start = i;
            i = run_end(bytes, i);
            // Exact-size extend: one capacity check per run instead of one per byte.
            out.buf
                .extend(bytes[start..i].iter().map(|&b| CLASS[b as usize]));
        } else if class != NON_ASCII {
            out.push_class(class);
            i += 1;
        } else {
            // `i` is on a char boundary: only whole ASCII bytes or whole chars are consumed.
            let b0 = bytes[i] as u32;
            let (cp, w) = if b0 < 0xe0 && i + 1 < bytes.len() {
                ((b0 & 0x1f) << 6 | (bytes[i + 1] as u32 & 0x3f), 2)
            } else if b0 < 0xf0 && i + 2 < bytes.len() {
                let cp = (b0 & 0x0f) << 12
                    | (bytes[i + 1] as u32 & 0x3f) << 6
                    | (bytes[i + 2] as u32 & 0x3f);
                (cp, 3)
            } else {
                (u32::MAX, 4)
            };
            let e = if cp < TABLE_END {
                table[(cp - 0x80) as usize]
            } else {
                [255; 4]
            };
            if e[0] != 255 {
                for &class in &e[1..=e[0] as usize] {
                    out.push_class(class);
                }
                i += w;
            } else {
                let c = text[i..].chars().next().unwrap_or(' ');
                out.push_char(c);
                i += c.len_utf8();
            }
        }
    }
    out.end_token();
    // Padding so that tokens can be hashed with whole 8-byte loads.
    out.buf.extend_from_slice(&[0; 8]);
}

/// Tokenise `text` into a fresh [`Tokens`].
pub fn tokenize(text: &str) -> Tokens {
    let mut t = Tokens::new();
    tokenize_into(text, &mut t);
    t
}

/// The folded tokens of `text` as owned strings (convenience for queries and tests).
pub fn fold_tokens(text: &str) -> Vec<String> {
    tokenize(text).iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        fold_tokens(s)
    }

    #[test]
    fn examples_from_the_contract() {
        assert_eq!(toks("#BackMarket"), ["backmarket"]);
        assert_eq!(toks("L'Oréal"), ["l", "oreal"]);
        assert_eq!(toks("L’ORÉAL"), ["l", "oreal"]);
        assert_eq!(toks("Bœuf Œuvre"), ["boeuf", "oeuvre"]);
        assert_eq!(toks("Æsir cæsar"), ["aesir", "caesar"]);
        assert_eq!(toks("Straße STRAẞE"), ["strasse", "strasse"]);
        assert_eq!(toks("snake_case x2 3G"), ["snake_case", "x2", "3g"]);
    }

    #[test]
    fn accents_and_compatibility_forms() {
        assert_eq!(toks("Éléphant ÇA où"), ["elephant", "ca", "ou"]);
        // Combining marks are removed without splitting the word.
        assert_eq!(toks("e\u{301}te\u{301}"), ["ete"]);
        // NFKD: ligature ﬁ, full-width letters, superscript digit.
        assert_eq!(toks("ﬁne ＡＢＣ x²"), ["fine", "abc", "x2"]);
        assert_eq!(toks("İstanbul"), ["istanbul"]);
    }

    #[test]
    fn emoji_and_cjk_separate() {
        assert_eq!(toks("top🔥produit"), ["top", "produit"]);
        assert_eq!(toks("東京tokyo駅"), ["tokyo"]);
        assert_eq!(toks("🙂🙂"), Vec::<String>::new());
        assert_eq!(toks("привет hello"), ["hello"]);
    }

    #[test]
    fn marks() {
        let t = tokenize("#Fnac @darty mail@boulanger.fr C#net ##x # y");
        let got: Vec<(&str, u8)> = (0..t.len()).map(|i| (t.token_str(i), t.mark(i))).collect();
        assert_eq!(
            got,
            [
                ("fnac", MARK_HASH),
                ("darty", MARK_AT),
                ("mail", MARK_NONE),
                ("boulanger", MARK_NONE),
                ("fr", MARK_NONE),
                ("c", MARK_NONE),
                ("net", MARK_NONE),
                ("x", MARK_HASH),
                ("y", MARK_NONE),
            ]
        );
        // Full-width number sign folds to '#'.
        assert_eq!(tokenize("＃promo").mark(0), MARK_HASH);
    }

    #[test]
    fn ascii_fast_path_equals_general_path() {
        let alphabet = b"aZ_09 #@.-'\t#a@b";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let (mut fast, mut slow) = (Tokens::new(), Tokens::new());
        for _ in 0..20_000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            for k in 0..(state % 40) {
                s.push(
                    alphabet[(state.rotate_left(k as u32 * 5) % alphabet.len() as u64) as usize]
                        as char,
                );
            }
            tokenize_ascii(s.as_bytes(), &mut fast);
            tokenize_general(&s, &mut slow);
            let f: Vec<(&str, u8)> = (0..fast.len())
                .map(|i| (fast.token_str(i), fast.mark(i)))
                .collect();
            let g: Vec<(&str, u8)> = (0..slow.len())
                .map(|i| (slow.token_str(i), slow.mark(i)))
                .collect();
            assert_eq!(f, g, "{s:?}");
        }
    }

    #[test]
    fn reuse_clears_state() {
        let mut t = Tokens::new();
        tokenize_into("abc #", &mut t);
        tokenize_into("def", &mut t);
        assert_eq!(t.len(), 1);
        assert_eq!(t.mark(0), MARK_NONE);
        assert_eq!(t.token(0), b"def");
    }
}
