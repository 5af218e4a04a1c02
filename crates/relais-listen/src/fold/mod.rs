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

/// Slack kept after the last written byte: tokens are hashed with whole 8-byte loads.
const SLACK: usize = 16;

/// The tokens of one text: lower-cased bytes stored contiguously, with spans, hashes and marks.
/// Reused between posts so that tokenising allocates nothing once warmed up.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    /// Token bytes back to back, then at least [`SLACK`] readable bytes (stale content: the
    /// buffer is overwritten, never cleared).
    buf: Vec<u8>,
    /// Entries `..n` describe this text; later ones are stale. Written by index, not pushed:
    /// no length bookkeeping per token and no refill per text.
    toks: Vec<Tok>,
    marks: Vec<u8>,
    n: usize,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tok {
    start: u32,
    end: u32,
    /// `matcher::table::hash` of the token, computed while its bytes are in cache.
    hash: u64,
}

impl Tokens {
    /// Empty token list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tokens.
    #[inline]
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the text had no token.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The bytes (ASCII `[0-9a-z_]`) of token `i`.
    #[inline]
    pub fn token(&self, i: usize) -> &[u8] {
        let t = self.toks[..self.n][i];
        &self.buf[t.start as usize..t.end as usize]
    }

    /// The token `i` as a `&str` (tokens are always ASCII).
    pub fn token_str(&self, i: usize) -> &str {
        std::str::from_utf8(self.token(i)).unwrap_or("")
    }

    /// Hash of token `i` (same as `matcher::table::hash`).
    #[inline]
    pub(crate) fn hash(&self, i: usize) -> u64 {
        self.toks[..self.n][i].hash
    }

    /// Hash of the first `len` bytes of token `i` (same as `matcher::table::hash`).
    #[inline]
    pub(crate) fn hash_prefix(&self, i: usize, len: usize) -> u64 {
        crate::matcher::hash_padded(&self.buf, self.toks[..self.n][i].start as usize, len)
    }

    /// Length and first three bytes of token `i`, little-endian (bytes past the token are
    /// arbitrary).
    #[inline]
    pub(crate) fn head(&self, i: usize) -> (usize, u32) {
        let t = self.toks[..self.n][i];
        let s = t.start as usize;
        let b = &self.buf[s..s + 3];
        let head = b[0] as u32 | (b[1] as u32) << 8 | (b[2] as u32) << 16;
        ((t.end - t.start) as usize, head)
    }

    /// The mark of token `i` ([`MARK_NONE`], [`MARK_HASH`] or [`MARK_AT`]).
    #[inline]
    pub fn mark(&self, i: usize) -> u8 {
        self.marks[..self.n][i]
    }

    /// Iterate over the tokens as `&str`.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.token_str(i))
    }

    /// Bytes retained by the buffers.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity() + self.toks.capacity() * 16 + self.marks.capacity()
    }
}

/// Tokeniser state while scanning one text; the buffers are taken out of `Tokens` so that the
/// hot loop works on locals.
struct Scan {
    buf: Vec<u8>,
    toks: Vec<Tok>,
    marks: Vec<u8>,
    /// Tokens written so far.
    t: usize,
    w: usize,
    start: usize,
    in_token: bool,
    pending: u8,
}

impl Scan {
    #[inline(always)]
    fn end_token(&mut self) -> bool {
        let was = self.in_token;
        if was {
            self.in_token = false;
            let hash = crate::matcher::hash_padded(&self.buf, self.start, self.w - self.start);
            // `begin_token` made room for entry `t`.
            self.toks[self.t] = Tok {
                start: self.start as u32,
                end: self.w as u32,
                hash,
            };
            self.t += 1;
        }
        was
    }

    #[inline(always)]
    fn begin_token(&mut self) {
        if !self.in_token {
            self.in_token = true;
            self.start = self.w;
            if self.t >= self.toks.len() {
                self.grow();
            }
            self.marks[self.t] = self.pending;
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let len = (self.toks.len() * 2).max(64);
        self.toks.resize(len, Tok::default());
        self.marks.resize(len, MARK_NONE);
    }

    /// One byte class: a token byte, or SEP/HASH/AT.
    #[inline(always)]
    fn class(&mut self, class: u8) {
        if class > NON_ASCII {
            self.begin_token();
            self.buf[self.w] = class;
            self.w += 1;
        } else {
            // `a#b` or `mail@host`: a sign glued to a word marks nothing. `pending` is read
            // only when a token starts, so token bytes need not reset it.
            let glued = self.end_token();
            self.pending = match class {
                HASH if !glued => MARK_HASH,
                AT if !glued => MARK_AT,
                _ => MARK_NONE,
            };
        }
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
/// Emoji and pictographs (U+1F000–U+1FAFF, ~1 per social post) get a table too.
const EMOJI: std::ops::Range<u32> = 0x1_F000..0x1_FB00;

/// Number of classes (0..=3, or 255 for the slow path) then the classes, for U+0080–U+2FFF
/// followed by the [`EMOJI`] range.
fn fold_table() -> &'static [[u8; 4]] {
    static FOLD: OnceLock<Vec<[u8; 4]>> = OnceLock::new();
    FOLD.get_or_init(|| {
        (0x80..TABLE_END)
            .chain(EMOJI)
            .map(|cp| {
                let mut e = [255, 0, 0, 0];
                if let Some(c) = char::from_u32(cp) {
                    let mut out = Vec::new();
                    fold_char(c, &mut |cl| out.push(cl));
                    if out.len() <= 3 {
                        e[0] = out.len() as u8;
                        e[1..=out.len()].copy_from_slice(&out);
                    }
                }
                e
            })
            .collect()
    })
}

#[inline]
fn fold_entry(table: &[[u8; 4]], cp: u32) -> [u8; 4] {
    if cp < TABLE_END {
        table[(cp - 0x80) as usize]
    } else if EMOJI.contains(&cp) {
        table[(cp - EMOJI.start + TABLE_END - 0x80) as usize]
    } else {
        [255; 4]
    }
}

/// Tokenise `text` into `out` (cleared first), in one pass: ASCII runs are lower-cased 8 bytes at
/// a time ([`swar_class`], no branch per byte), common non-ASCII characters go through
/// [`fold_table`], the rest through NFKD; each token is hashed as soon as it ends.
pub fn tokenize_into(text: &str, out: &mut Tokens) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    // Table characters write at most 1.5 bytes per input byte (3 classes for 2 bytes), so this
    // bound holds until a slow-path character, which re-checks it.
    let need = n + n / 2 + SLACK;
    let mut st = Scan {
        buf: std::mem::take(&mut out.buf),
        toks: std::mem::take(&mut out.toks),
        marks: std::mem::take(&mut out.marks),
        t: 0,
        w: 0,
        start: 0,
        in_token: false,
        pending: MARK_NONE,
    };
    if st.buf.len() < need {
        st.buf.resize(need, 0);
    }
    let mut i = 0;
    while i < n {
        let class = CLASS[bytes[i] as usize];
        if class > NON_ASCII {
            st.begin_token();
            // A run of ASCII token bytes (the common case): no state changes inside.
            let mut w = st.w;
            let buf = &mut st.buf[..];
            // 8 bytes at a time: most words end within one step. The store may write past
            // the token; `buf` has the slack for it.
            while i + 8 <= n {
                let word = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
                let (lowered, stop) = swar_class(word);
                buf[w..w + 8].copy_from_slice(&lowered.to_le_bytes());
                let k = (stop.trailing_zeros() / 8) as usize;
                w += k;
                i += k;
                if k < 8 {
                    break;
                }
            }
            while i < n {
                let c = CLASS[bytes[i] as usize];
                if c <= NON_ASCII {
                    break;
                }
                buf[w] = c;
                w += 1;
                i += 1;
            }
            st.w = w;
        } else if class != NON_ASCII {
            st.class(class);
            i += 1;
        } else {
            // `i` is on a char boundary of valid UTF-8 (a lead byte, ≥ 0xC0).
            let b0 = bytes[i] as u32;
            let cont = |k: usize| bytes[i + k] as u32 & 0x3f;
            let (cp, w) = if b0 < 0xe0 {
                ((b0 & 0x1f) << 6 | cont(1), 2)
            } else if b0 < 0xf0 {
                ((b0 & 0x0f) << 12 | cont(1) << 6 | cont(2), 3)
            } else {
                (
                    (b0 & 0x07) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3),
                    4,
                )
            };
            i += w;
            let e = fold_entry(fold_table(), cp);
            if e[0] != 255 {
                for &c in &e[1..=e[0] as usize] {
                    st.class(c);
                }
            } else {
                slow_char(&mut st, cp, n - i);
            }
        }
    }
    st.end_token();
    out.n = st.t;
    out.buf = st.buf;
    out.toks = st.toks;
    out.marks = st.marks;
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `y` (bytes < 0x80) that is ≥ `c`: no carry crosses bytes.
#[inline(always)]
fn ge(y: u64, c: u8) -> u64 {
    y.wrapping_add((0x80 - c as u64) * LO) & HI
}

/// [`CLASS`] on 8 bytes at once: the bytes lower-cased, and the high bit set in each byte
/// that is not a token byte (separator, sign or non-ASCII). `trailing_zeros` of a zero stop
/// mask is 64, i.e. 8 bytes.
#[inline(always)]
fn swar_class(x: u64) -> (u64, u64) {
    let y = x & !HI;
    let between = |v: u64, lo: u8, hi: u8| ge(v, lo) & !ge(v, hi + 1);
    // `| 0x20` lower-cases letters (and only moves non-letters to non-letters).
    let letter = between(y | (0x20 * LO), b'a', b'z');
    let underscore = !ge(y ^ (b'_' as u64 * LO), 1) & HI;
    let token = (letter | between(y, b'0', b'9') | underscore) & !x;
    // Upper case: a letter whose 0x20 bit (moved to the high bit) is clear.
    let upper = letter & !(y << 2);
    (x | upper >> 2, !token & HI)
}

/// A character outside the tables (rare): full NFKD, then restore the buffer bound for the
/// `rest` bytes still to scan.
#[cold]
#[inline(never)]
fn slow_char(st: &mut Scan, cp: u32, rest: usize) {
    let c = char::from_u32(cp).unwrap_or(' ');
    fold_char(c, &mut |class| {
        if st.w + SLACK >= st.buf.len() {
            let len = st.buf.len() * 2;
            st.buf.resize(len, 0);
        }
        st.class(class)
    });
    let need = st.w + rest + rest / 2 + SLACK;
    if st.buf.len() < need {
        st.buf.resize(need, 0);
    }
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

    /// The specification as a per-character state machine: every character folded through
    /// [`fold_char`] (ASCII through [`CLASS`]), no tables, no runs.
    fn reference(text: &str) -> Vec<(String, u8)> {
        let mut toks: Vec<(String, u8)> = Vec::new();
        let (mut in_token, mut pending) = (false, MARK_NONE);
        let mut step = |class: u8| {
            if class > NON_ASCII {
                if !in_token {
                    toks.push((String::new(), pending));
                    in_token = true;
                }
                pending = MARK_NONE;
                toks.last_mut().unwrap().0.push(class as char);
            } else {
                let glued = std::mem::replace(&mut in_token, false);
                pending = match class {
                    HASH if !glued => MARK_HASH,
                    AT if !glued => MARK_AT,
                    _ => MARK_NONE,
                };
            }
        };
        for c in text.chars() {
            if c.is_ascii() {
                step(CLASS[c as usize]);
            } else {
                fold_char(c, &mut step);
            }
        }
        toks
    }

    #[test]
    fn one_pass_tokenizer_equals_reference() {
        let alphabet: Vec<char> =
            "aZ_09 #@.-'\t#a@bé\u{c9}œßẞİﬁ＃＠\u{301}🔥👍🏽東пﷺ\u{1F1EB}ǅ\u{2126}㎉ⅷx"
                .chars()
                .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut t = Tokens::new();
        for round in 0..30_000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let ascii_only = round % 3 == 0;
            for k in 0..(state % 60) {
                let r = state.rotate_left(k as u32 * 5) % alphabet.len() as u64;
                let c = alphabet[r as usize];
                s.push(if ascii_only && !c.is_ascii() { 'q' } else { c });
            }
            tokenize_into(&s, &mut t);
            let got: Vec<(String, u8)> = (0..t.len())
                .map(|i| (t.token_str(i).to_owned(), t.mark(i)))
                .collect();
            assert_eq!(got, reference(&s), "{s:?}");
            for i in 0..t.len() {
                assert_eq!(t.hash(i), crate::matcher::table_hash(t.token(i)), "{s:?}");
            }
        }
    }

    #[test]
    fn swar_class_equals_class_table() {
        for b in 0..=255u8 {
            for lane in 0..8 {
                // Neighbours of every kind, to catch carries between bytes.
                for fill in [b' ', b'z', b'A', 0xc3, b'_', 0x7f, 0] {
                    let mut bytes = [fill; 8];
                    bytes[lane] = b;
                    let (lowered, stop) = swar_class(u64::from_le_bytes(bytes));
                    let (lowered, stop) = (lowered.to_le_bytes(), stop.to_le_bytes());
                    for k in 0..8 {
                        let c = CLASS[bytes[k] as usize];
                        assert_eq!(stop[k] == 0, c > NON_ASCII, "{bytes:?} {k}");
                        if c > NON_ASCII {
                            assert_eq!(lowered[k], c, "{bytes:?} {k}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn long_expansions_fit() {
        // Slow-path characters may write more bytes than they read (㎉ → kcal): the bound on
        // the buffer must be restored after each.
        let s = "㎉ⅷ".repeat(300) + " ok";
        assert_eq!(reference(&s), {
            let t = tokenize(&s);
            (0..t.len())
                .map(|i| (t.token_str(i).to_owned(), t.mark(i)))
                .collect::<Vec<_>>()
        });
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
