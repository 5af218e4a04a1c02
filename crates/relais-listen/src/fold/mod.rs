//! Folding and tokenisation shared by queries and posts.
//!
//! Text is lower-cased, NFKD-decomposed with combining marks removed (é → e), œ → oe, æ → ae,
//! ß → ss. Tokens are the maximal runs of `[0-9a-z_]`; every other character separates tokens.
//! A token directly preceded by `#` or `@` (itself not glued to a previous word, so e-mail
//! addresses are not mentions) carries a [`MARK_HASH`] / [`MARK_AT`] mark.
//!
//! Implementation: the text is first folded into a buffer of ASCII bytes (one or more per
//! character; see [`unicode`]), then token boundaries are found with bitmasks (see [`scan`]).
//! Tokens are slices of that buffer, so they need no copy, and marks are read from it only
//! when asked for.

mod scan;
mod unicode;

use scan::{fold_text, folded_bound, token_bounds};
use unicode::{fold_table, is_token_byte};

/// No mark: the token is not a hashtag nor a mention.
pub const MARK_NONE: u8 = 0;
/// The token follows a `#` (hashtag).
pub const MARK_HASH: u8 = 1;
/// The token follows an `@` (mention / handle).
pub const MARK_AT: u8 = 2;

/// The tokens of one text: its folded bytes, token boundaries and hashes. Reused between
/// posts so that tokenising allocates nothing once warmed up.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    /// The folded text (ASCII), then slack: whole-word loads may read past a token. Stale
    /// content past the text: the buffer is overwritten, never cleared.
    buf: Vec<u8>,
    /// Token `i` is `buf[bounds[2i]..bounds[2i + 1]]`. Entries past `2n` are stale.
    bounds: Vec<u32>,
    /// [`crate::hash`] of each token, computed while its bytes are in cache.
    hashes: Vec<u64>,
    n: usize,
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

    /// Start and length of token `i` in [`Tokens::buf`].
    #[inline]
    pub(crate) fn span(&self, i: usize) -> (usize, usize) {
        let b = &self.bounds[..2 * self.n];
        (b[2 * i] as usize, (b[2 * i + 1] - b[2 * i]) as usize)
    }

    /// The folded text; it has 16 readable bytes after the start of every token.
    #[inline]
    pub(crate) fn buf(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes (ASCII `[0-9a-z_]`) of token `i`.
    #[inline]
    pub fn token(&self, i: usize) -> &[u8] {
        let (s, len) = self.span(i);
        &self.buf[s..s + len]
    }

    /// The token `i` as a `&str` (tokens are always ASCII).
    pub fn token_str(&self, i: usize) -> &str {
        std::str::from_utf8(self.token(i)).unwrap_or("")
    }

    /// Hash of token `i` ([`crate::hash::hash`]).
    #[inline]
    pub(crate) fn hash(&self, i: usize) -> u64 {
        self.hashes[..self.n][i]
    }

    /// Hash of the first `len` bytes of token `i` ([`crate::hash::hash`]).
    #[inline]
    pub(crate) fn hash_prefix(&self, i: usize, len: usize) -> u64 {
        crate::hash::hash_at(&self.buf, self.span(i).0, len)
    }

    /// The mark of token `i` ([`MARK_NONE`], [`MARK_HASH`] or [`MARK_AT`]): the folded byte
    /// before it is `#` or `@`, and the one before that does not belong to a token.
    #[inline]
    pub fn mark(&self, i: usize) -> u8 {
        let s = self.span(i).0;
        let mark = match s.checked_sub(1).map(|p| self.buf[p]) {
            Some(b'#') => MARK_HASH,
            Some(b'@') => MARK_AT,
            _ => return MARK_NONE,
        };
        if s >= 2 && is_token_byte(self.buf[s - 2]) {
            MARK_NONE
        } else {
            mark
        }
    }

    /// Iterate over the tokens as `&str`.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.token_str(i))
    }

    /// Bytes retained by the buffers.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity() + self.bounds.capacity() * 4 + self.hashes.capacity() * 8
    }
}

/// Tokenise `text` into `out`, replacing its previous content.
pub fn tokenize_into(text: &str, out: &mut Tokens) {
    out.scan(text);
    out.hash_tokens(|_, _, _, _| {});
}

impl Tokens {
    /// Tokenising, first step: fold `text` and find the token boundaries (the tokens are not
    /// usable before [`Tokens::hash_tokens`]). Returns the number of tokens.
    pub(crate) fn scan(&mut self, text: &str) -> usize {
        let bytes = text.as_bytes();
        let need = folded_bound(bytes.len());
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        let len = fold_text(bytes, &mut self.buf, fold_table());
        // A slow-path character may have grown the buffer past `need`.
        if self.bounds.len() < self.buf.len() + 128 {
            self.bounds.resize(self.buf.len() + 128, 0);
        }
        self.n = token_bounds(&self.buf, len, &mut self.bounds) / 2;
        if self.hashes.len() < self.n {
            self.hashes.resize(self.n.next_power_of_two(), 0);
        }
        self.n
    }

    /// Tokenising, second step: hash each token and pass it to `f` with its index, hash,
    /// first three bytes (little-endian; bytes past the token are arbitrary) and length, while
    /// it is in registers: the matcher's first filters run there.
    #[inline(always)]
    pub(crate) fn hash_tokens(&mut self, mut f: impl FnMut(usize, u64, u32, usize)) {
        let (buf, bounds) = (&self.buf[..], &self.bounds[..2 * self.n]);
        let hashes = &mut self.hashes[..self.n];
        for (i, (h, b)) in hashes.iter_mut().zip(bounds.chunks_exact(2)).enumerate() {
            let (s, len) = (b[0] as usize, (b[1] - b[0]) as usize);
            // The buffer has slack for two words past any token start.
            let w = &buf[s..s + 16];
            let w0 = u64::from_le_bytes(w[..8].try_into().unwrap_or([0; 8]));
            *h = if len <= 16 {
                let w1 = u64::from_le_bytes(w[8..].try_into().unwrap_or([0; 8]));
                crate::hash::hash16(w0, w1, len)
            } else {
                crate::hash::hash_at(buf, s, len)
            };
            f(i, *h, w0 as u32 & 0xff_ffff, len);
        }
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
mod tests;
