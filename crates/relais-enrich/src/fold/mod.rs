//! One-pass tokeniser shared by sentiment, stories and briefs.
//!
//! Text is folded like the listening matcher folds it (lower case, NFKD without combining marks,
//! œ→oe, æ→ae, ß→ss) and split into word tokens (`[0-9a-z_]` runs, other letters kept as lower
//! case UTF-8), emoji (one token per pictograph, modifiers dropped) and emoticons (from the
//! lexicon's list). URLs are reported whole; `#tag` and `@handle` keep a mark. Punctuation is
//! reported as clause/sentence breaks because negation does not cross them.

use std::sync::OnceLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Folded bytes kept per token; longer tokens are truncated (no lexicon word is that long).
pub const MAX_TOKEN: usize = 64;

/// What kind of token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Word,
    Emoji,
    Emoticon,
}

/// A mark directly before a word token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    None,
    Hash,
    At,
}

/// Punctuation that matters for scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Break {
    /// `,` `:` `;` `(` `)` and similar: ends a negation scope.
    Clause,
    /// `.` `…` and new lines.
    Sentence,
    Exclamation,
    Question,
}

/// One folded token.
#[derive(Clone, Copy, Debug)]
pub struct Token<'a> {
    pub text: &'a [u8],
    pub hash: u64,
    pub kind: Kind,
    pub mark: Mark,
    /// At least two letters, all upper case.
    pub caps: bool,
    /// Had at least one letter with a diacritic (a hint for French).
    pub accented: bool,
}

impl Token<'_> {
    /// A letter repeated three times or more ("sooo"); computed on demand (rarely needed).
    pub fn elongated(&self) -> bool {
        self.text
            .windows(3)
            .any(|w| w[0] == w[1] && w[1] == w[2] && w[0].is_ascii_alphabetic())
    }
}

/// Tokeniser output, in text order (`'a`: the token buffer, `'t`: the text).
#[derive(Debug)]
pub enum Event<'a, 't> {
    Token(Token<'a>),
    Break(Break),
    Url(&'t str),
}

/// Emoticons recognised by the tokeniser (ASCII, starting with punctuation, e.g. `:-)`, `<3`).
#[derive(Clone, Debug, Default)]
pub struct Emoticons {
    first: u128,
    /// Lower-cased emoticons, longest first.
    list: Vec<Box<[u8]>>,
}

impl Emoticons {
    /// Whether `term` is written as an emoticon (ASCII, no space, starts with punctuation).
    pub fn is_emoticon(term: &str) -> bool {
        let b = term.as_bytes();
        !b.is_empty()
            && b.len() <= 8
            && b.iter().all(|c| c.is_ascii_graphic())
            && b[0].is_ascii_punctuation()
            && b[0] != b'#'
            && b[0] != b'@'
    }

    /// Add an emoticon; returns its key (lower case).
    pub fn add(&mut self, term: &str) -> Box<[u8]> {
        let key: Box<[u8]> = term.as_bytes().to_ascii_lowercase().into();
        if !self.list.contains(&key) {
            self.first |= 1u128 << key[0];
            self.list.push(key.clone());
            self.list.sort_by_key(|k| std::cmp::Reverse(k.len()));
        }
        key
    }

    fn match_at(&self, rest: &[u8]) -> Option<&[u8]> {
        if self.first & (1u128 << rest[0]) == 0 {
            return None;
        }
        self.list.iter().map(|k| &k[..]).find(|k| {
            rest.len() >= k.len()
                && rest[..k.len()].eq_ignore_ascii_case(k)
                // ":p" must not eat the start of a word (":pas").
                && !(k[k.len() - 1].is_ascii_alphabetic()
                    && rest.get(k.len()).is_some_and(|c| c.is_ascii_alphanumeric()))
        })
    }
}

/// Stable 64-bit hash of folded bytes (the same on every platform and version: story ids derive
/// from it).
pub fn hash_bytes(b: &[u8]) -> u64 {
    let mut h: u64 = 0x243f_6a88_85a3_08d3 ^ (b.len() as u64);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut t = [0u8; 8];
        t[..rem.len()].copy_from_slice(rem);
        h = (h ^ u64::from_le_bytes(t)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fmix64(h)
}

/// [`hash_bytes`] of `buf[..len]`, reading whole words (the bytes past `len` are masked off):
/// the buffer was just written 8 bytes at a time, and byte-wise reads of it would stall.
#[inline]
fn hash_padded(buf: &[u8; MAX_TOKEN + 8], len: usize) -> u64 {
    let mut h: u64 = 0x243f_6a88_85a3_08d3 ^ (len as u64);
    let word = |i: usize| u64::from_le_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
    let full = len / 8;
    for c in 0..full {
        h = (h ^ word(c * 8))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
    let rem = len % 8;
    if rem > 0 {
        let w = word(full * 8) & (u64::MAX >> (64 - 8 * rem));
        h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fmix64(h)
}

/// Combine two hashes in order (phrases, shingles).
pub fn combine(a: u64, b: u64) -> u64 {
    fmix64(a.rotate_left(23) ^ b.wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
}

/// Murmur3 finaliser: every input bit affects every output bit.
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

// Character classes of the fold table (first byte of an entry; 0..=3 = folded ASCII length).
const UPPER: u8 = 0x80;
const LETTER: u8 = 10;
const EMOJI: u8 = 11;
const SKIP: u8 = 12;
const APOSTROPHE: u8 = 13;
const CLAUSE: u8 = 14;
const SENTENCE: u8 = 15;
const EXCLAIM: u8 = 16;
const QUESTION: u8 = 17;
const SEP: u8 = 18;
const TABLE_END: u32 = 0x3000;

fn is_emoji(cp: u32) -> bool {
    matches!(cp, 0x2300..=0x23FF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x1F000..=0x1FAFF)
        && !matches!(cp, 0x1F3FB..=0x1F3FF)
}

const HIGH: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `w` set when the byte (below 0x80) lies in `lo..=hi`.
#[inline(always)]
const fn in_range(w: u64, lo: u8, hi: u8) -> u64 {
    let ones = 0x0101_0101_0101_0101u64;
    w.wrapping_add(ones * (0x80 - lo as u64))
        & !w.wrapping_add(ones * (0x80 - hi as u64 - 1))
        & HIGH
}

/// Classes of ASCII bytes.
static ASCII: [u8; 128] = {
    let mut t = [SEP; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = ascii_class(b as u8);
        b += 1;
    }
    t
};

const fn ascii_class(b: u8) -> u8 {
    match b {
        b'0'..=b'9' | b'a'..=b'z' | b'_' => 1,
        b'A'..=b'Z' => 1 | UPPER,
        b'\'' | b'`' => APOSTROPHE,
        b'!' => EXCLAIM,
        b'?' => QUESTION,
        b'.' | b'\n' | b'\r' => SENTENCE,
        b',' | b';' | b':' | b'(' | b')' | b'[' | b']' | b'"' | b'|' => CLAUSE,
        _ => SEP,
    }
}

/// Classify a non-ASCII character: `[class, folded bytes...]`.
fn classify(c: char) -> [u8; 4] {
    let cp = c as u32;
    if matches!(cp, 0x200B..=0x200D | 0xFE00..=0xFE0F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F)
        || is_combining_mark(c)
    {
        return [SKIP, 0, 0, 0];
    }
    if matches!(cp, 0x2018 | 0x2019 | 0x02BC | 0x00B4) {
        return [APOSTROPHE, 0, 0, 0];
    }
    if matches!(cp, 0x2026 | 0x3002 | 0x2028 | 0x2029) {
        return [SENTENCE, 0, 0, 0];
    }
    if matches!(cp, 0x00AB | 0x00BB | 0x201C | 0x201D | 0x2013 | 0x2014) {
        return [CLAUSE, 0, 0, 0];
    }
    if is_emoji(cp) {
        return [EMOJI, 0, 0, 0];
    }
    let upper = if c.is_uppercase() { UPPER } else { 0 };
    let mut out = [0u8; 4];
    let mut n = 0usize;
    let mut ascii = true;
    let mut punct = None;
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        for l in d.to_lowercase() {
            let folded: &[u8] = match l {
                'œ' => b"oe",
                'æ' => b"ae",
                'ß' => b"ss",
                _ if l.is_ascii_alphanumeric() => &[l as u8],
                _ if l.is_ascii() && !l.is_ascii_whitespace() => {
                    punct = Some(l as u8);
                    &[]
                }
                _ => {
                    ascii = false;
                    &[]
                }
            };
            for &b in folded {
                if n < 3 {
                    out[1 + n] = b;
                }
                n += 1;
            }
        }
    });
    if ascii && n == 0 {
        // Full-width and compatibility punctuation behave like their ASCII form.
        return [punct.map_or(SEP, ascii_class), 0, 0, 0];
    }
    if ascii && n <= 3 && punct.is_none() {
        out[0] = n as u8 | upper;
        return out;
    }
    if c.is_alphanumeric() {
        [LETTER | upper, 0, 0, 0]
    } else {
        [SEP, 0, 0, 0]
    }
}

fn table() -> &'static [[u8; 4]] {
    static T: OnceLock<Vec<[u8; 4]>> = OnceLock::new();
    T.get_or_init(|| {
        (0x80..TABLE_END)
            .map(|cp| char::from_u32(cp).map_or([SEP, 0, 0, 0], classify))
            .collect()
    })
}

/// Token under construction.
struct Builder {
    /// Folded bytes, with 8 bytes of slack for whole-word stores past the end.
    buf: [u8; MAX_TOKEN + 8],
    len: usize,
    upper: u32,
    lower: u32,
    accented: bool,
    mark: Mark,
}

impl Builder {
    #[inline]
    fn push(&mut self, b: u8) {
        if self.len < MAX_TOKEN {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    #[inline]
    fn letter_case(&mut self, class: u8, b: u8) {
        if class & UPPER != 0 {
            self.upper += 1;
        } else if !b.is_ascii_digit() && b != b'_' {
            self.lower += 1;
        }
    }

    #[inline(always)]
    fn flush<'t>(&mut self, f: &mut impl FnMut(Event<'_, 't>)) {
        if self.len > 0 {
            let text = &self.buf[..self.len];
            f(Event::Token(Token {
                text,
                hash: hash_padded(&self.buf, self.len),
                kind: Kind::Word,
                mark: self.mark,
                caps: self.upper >= 2 && self.lower == 0,
                accented: self.accented,
            }));
            self.len = 0;
            self.upper = 0;
            self.lower = 0;
            self.accented = false;
        }
        self.mark = Mark::None;
    }
}

fn url_len(rest: &[u8]) -> usize {
    let starts = |p: &[u8]| rest.len() > p.len() && rest[..p.len()].eq_ignore_ascii_case(p);
    if starts(b"http://") || starts(b"https://") || starts(b"www.") {
        rest.iter()
            .position(|c| c.is_ascii_whitespace())
            .unwrap_or(rest.len())
    } else {
        0
    }
}

fn emit_single<'t>(kind: Kind, text: &[u8], f: &mut impl FnMut(Event<'_, 't>)) {
    f(Event::Token(Token {
        text,
        hash: hash_bytes(text),
        kind,
        mark: Mark::None,
        caps: false,
        accented: false,
    }));
}

/// Tokenise `text`, calling `f` for each event in order. Inlined into its few callers so that
/// the callback is inlined too (passing each token through memory cost a store-forwarding stall).
#[inline(always)]
pub fn tokenize<'t>(text: &'t str, emoticons: &Emoticons, mut f: impl FnMut(Event<'_, 't>)) {
    let bytes = text.as_bytes();
    let table = table();
    let mut t = Builder {
        buf: [0; MAX_TOKEN + 8],
        len: 0,
        upper: 0,
        lower: 0,
        accented: false,
        mark: Mark::None,
    };
    // Whether the previous character could glue to a mark or URL ("a#b" is not a hashtag).
    let mut after_word = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 && ASCII[b as usize] & !UPPER == 1 {
            // ASCII word run: the common case, copied and lower-cased in a tight loop.
            if t.len == 0 && !after_word && matches!(b | 0x20, b'h' | b'w') {
                let u = url_len(&bytes[i..]);
                if u > 0 {
                    f(Event::Url(&text[i..i + u]));
                    i += u;
                    continue;
                }
            }
            // 8 bytes at a time (SWAR): classify, find the end of the run, lower-case and count
            // capitals with word operations; bytes past the run are ignored (carries only move
            // towards later bytes). The last bytes of the text go one by one.
            while i + 8 <= bytes.len() {
                let w = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
                let upper = in_range(w, b'A', b'Z');
                let lower = in_range(w, b'a', b'z');
                let word = upper | lower | in_range(w, b'0', b'9') | in_range(w, b'_', b'_');
                let stop = (!word | w) & HIGH;
                let n = if stop == 0 {
                    8
                } else {
                    stop.trailing_zeros() as usize / 8
                };
                let keep = n.min(MAX_TOKEN - t.len);
                let mask = if keep == 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * keep)) - 1
                };
                t.upper += (upper & mask).count_ones();
                t.lower += (lower & mask).count_ones();
                t.buf[t.len..t.len + 8].copy_from_slice(&(w | (upper >> 2)).to_le_bytes());
                t.len += keep;
                i += n;
                if n < 8 {
                    break;
                }
            }
            if i + 8 > bytes.len() {
                while i < bytes.len() && bytes[i] < 0x80 && ASCII[bytes[i] as usize] & !UPPER == 1 {
                    let c = bytes[i];
                    t.upper += u32::from(c.is_ascii_uppercase());
                    t.lower += u32::from(c.is_ascii_lowercase());
                    t.push(c.to_ascii_lowercase());
                    i += 1;
                }
            }
            after_word = true;
            continue;
        }
        if b == b' ' {
            // The most frequent separator, without the class dispatch below.
            t.flush(&mut f);
            after_word = false;
            i += 1;
            continue;
        }
        let (class, width, folded) = if b < 0x80 {
            (ASCII[b as usize], 1, [0u8; 4])
        } else {
            let c = text[i..].chars().next().expect("char boundary");
            let cp = c as u32;
            let e = if cp < TABLE_END {
                table[(cp - 0x80) as usize]
            } else {
                classify(c)
            };
            (e[0], c.len_utf8(), e)
        };
        let base = class & !UPPER;
        if base <= 3 {
            {
                t.accented = true;
                if class & UPPER != 0 {
                    t.upper += 1;
                } else {
                    t.lower += 1;
                }
                for &x in &folded[1..=base as usize] {
                    t.push(x);
                }
            }
            after_word = true;
            i += width;
            continue;
        }
        if base == LETTER {
            let c = text[i..].chars().next().expect("char boundary");
            t.letter_case(class, b'a');
            for l in c.to_lowercase().filter(|l| !is_combining_mark(*l)) {
                let mut u = [0u8; 4];
                for &x in l.encode_utf8(&mut u).as_bytes() {
                    t.push(x);
                }
            }
            after_word = true;
            i += width;
            continue;
        }
        if base == SKIP {
            i += width;
            continue;
        }
        // English contractions stay one token: "don't" -> "dont", "isn’t" -> "isnt".
        if base == APOSTROPHE && t.len > 0 && t.buf[t.len - 1] == b'n' {
            let next = i + width;
            if bytes
                .get(next)
                .is_some_and(|c| c.eq_ignore_ascii_case(&b't'))
                && !bytes
                    .get(next + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                t.push(b't');
                i = next + 1;
                continue;
            }
        }
        if b < 0x80 && b.is_ascii_punctuation() {
            if let Some(key) = emoticons.match_at(&bytes[i..]) {
                t.flush(&mut f);
                emit_single(Kind::Emoticon, key, &mut f);
                i += key.len();
                after_word = false;
                continue;
            }
        }
        t.flush(&mut f);
        match base {
            EMOJI => {
                emit_single(Kind::Emoji, &bytes[i..i + width], &mut f);
            }
            CLAUSE => f(Event::Break(Break::Clause)),
            SENTENCE => f(Event::Break(Break::Sentence)),
            EXCLAIM => f(Event::Break(Break::Exclamation)),
            QUESTION => f(Event::Break(Break::Question)),
            _ => {}
        }
        if !after_word && (b == b'#' || b == b'@') {
            t.mark = if b == b'#' { Mark::Hash } else { Mark::At };
        }
        after_word = false;
        i += width;
    }
    t.flush(&mut f);
}

/// Folded word tokens of `text` as strings (tests, query terms, briefs).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    tokenize(text, &Emoticons::default(), |e| {
        if let Event::Token(t) = e {
            if t.kind == Kind::Word {
                out.push(String::from_utf8_lossy(t.text).into_owned());
            }
        }
    });
    out
}

#[cfg(test)]
mod tests;
