//! The tokeniser's two passes, on blocks of bytes with branch-free bit tricks (plain loops
//! over fixed-size arrays, which the compiler turns into vector code, and arithmetic on
//! `u64` words: portable, no `unsafe`).
//!
//! 1. [`fold_text`] writes the *folded text*: ASCII is copied lower-cased 32 bytes at a time;
//!    the first non-ASCII byte of a block stops the copy there, its character is folded
//!    through the table (or the slow path) and the copy resumes after it.
//! 2. [`token_bounds`] classifies the folded text (pure ASCII by construction) into a bitmask of
//!    token bytes, 64 positions at a time, and writes the positions where it changes: token
//!    starts and ends alternate, so token `i` is `bounds[2i]..bounds[2i + 1]`.
//!
//! No branch depends on individual bytes: a post costs a few instructions per 8 bytes plus a
//! few per token, and only non-ASCII characters take a (short) detour.

use super::unicode::{decode, fold_char, fold_entry, SLOW};

const HI: u64 = 0x8080_8080_8080_8080;
const SPACES: u64 = 0x2020_2020_2020_2020;

/// Bytes the folded text may need past the folded length of the input consumed so far:
/// 8-byte stores, the padding word, 16-byte hash loads, and the whole last group of 8 words
/// read by [`token_bounds`].
pub(crate) const SLACK: usize = 160;

/// Folded length bound for `n` input bytes: a table character writes at most 3 bytes for 2.
#[inline]
pub(crate) fn folded_bound(n: usize) -> usize {
    n + n / 2 + SLACK
}

#[inline(always)]
fn store(b: &mut [u8], i: usize, x: u64) {
    b[i..i + 8].copy_from_slice(&x.to_le_bytes());
}

/// One bit per byte of `chunk` (folded bytes, all < 0x80), set for token bytes `[0-9a-z_]`.
/// Written as a plain loop over a fixed-size array so that it compiles to vector compares;
/// the bytes' high bits are then gathered eight at a time with a multiplication.
#[inline(always)]
pub(crate) fn token_mask(chunk: &[u8; 64]) -> u64 {
    let mut t = [0u8; 64];
    for (t, &c) in t.iter_mut().zip(chunk) {
        let token = (c.wrapping_sub(b'a') < 26) | (c.wrapping_sub(b'0') < 10) | (c == b'_');
        *t = (token as u8).wrapping_neg();
    }
    let mut m = 0;
    for (g, w) in t.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        // Distinct partial products: no carries into the top byte.
        m |= ((w & HI).wrapping_mul(0x0002_0408_1020_4081) >> 56) << (8 * g);
    }
    m
}

/// Bytes folded per step.
const BLOCK: usize = 32;

/// The block lower-cased (non-ASCII bytes come out arbitrary), as a plain loop over a
/// fixed-size array: vector code.
#[inline(always)]
pub(crate) fn lower_block(block: &[u8; BLOCK]) -> [u8; BLOCK] {
    let mut out = [0; BLOCK];
    for (o, &c) in out.iter_mut().zip(block) {
        *o = c | ((c.wrapping_sub(b'A') < 26) as u8) << 5;
    }
    out
}

/// One bit per byte of the block, set for non-ASCII bytes.
#[inline(always)]
pub(crate) fn non_ascii(block: &[u8; BLOCK]) -> u32 {
    let mut m = 0;
    for (g, w) in block.chunks_exact(8).enumerate() {
        let high = u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) & HI;
        m |= ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * g);
    }
    m as u32
}

/// Fold `src[i..end]` into `buf` at `w`, where `src` has [`BLOCK`] readable bytes at every
/// position before `end`. Returns the new `(i, w)`; `i` may pass `end` (by less than a block,
/// over spaces in the padded tail, see [`fold_text`]).
#[inline(always)]
fn fold_run(
    src: &[u8],
    mut i: usize,
    end: usize,
    buf: &mut Vec<u8>,
    mut w: usize,
    table: &[u32],
) -> (usize, usize) {
    while i < end {
        let block: &[u8; BLOCK] = src[i..i + BLOCK].try_into().unwrap_or(&[0; BLOCK]);
        // Store the whole block lower-cased; bytes from the first non-ASCII one on are
        // overwritten next.
        buf[w..w + BLOCK].copy_from_slice(&lower_block(block));
        let high = non_ascii(block);
        if high == 0 {
            i += BLOCK;
            w += BLOCK;
            continue;
        }
        // Keep the ASCII bytes before the first non-ASCII one (a lead byte: `i` is always on
        // a character boundary), then fold that character.
        let k = high.trailing_zeros() as usize;
        i += k;
        w += k;
        let (cp, len) = decode(src, i);
        i += len;
        let e = fold_entry(table, cp);
        if e != SLOW {
            buf[w..w + 4].copy_from_slice(&e.to_le_bytes());
            w += (e >> 24) as usize;
        } else {
            w = slow_char(buf, w, cp, src.len() - i);
        }
    }
    (i, w)
}

/// Write the folded text of `bytes` into `buf` (sized by the caller to at least
/// [`folded_bound`]), followed by 8 spaces; returns its length.
pub(crate) fn fold_text(bytes: &[u8], buf: &mut Vec<u8>, table: &[u32]) -> usize {
    let n = bytes.len();
    let (i, w) = fold_run(bytes, 0, (n + 1).saturating_sub(BLOCK), buf, 0, table);
    let w = if i >= n {
        w
    } else {
        // The last bytes, padded with spaces (separators: they change no token, only the
        // folded length).
        let mut tail = [b' '; 2 * BLOCK];
        if n >= BLOCK {
            // A whole block ending with the text (fixed size: no `memcpy` call), folded from
            // where the text was left.
            tail[..BLOCK].copy_from_slice(&bytes[n - BLOCK..]);
            fold_run(&tail, BLOCK - (n - i), BLOCK, buf, w, table).1
        } else {
            tail[..n - i].copy_from_slice(&bytes[i..]);
            fold_run(&tail, 0, n - i, buf, w, table).1
        }
    };
    store(buf, w, SPACES);
    w
}

/// A character outside the tables (rare): full NFKD, growing the buffer as needed, then
/// restore the bound for the `rest` input bytes still to fold.
#[cold]
#[inline(never)]
fn slow_char(buf: &mut Vec<u8>, mut w: usize, cp: u32, rest: usize) -> usize {
    let c = char::from_u32(cp).unwrap_or(' ');
    fold_char(c, &mut |b| {
        if w + SLACK >= buf.len() {
            let len = buf.len() * 2;
            buf.resize(len, 0);
        }
        buf[w] = b;
        w += 1;
    });
    let need = w + folded_bound(rest + 8);
    if buf.len() < need {
        buf.resize(need, 0);
    }
    w
}

/// Positions where the folded text `buf[..len]` enters or leaves a token, into `bounds`
/// (sized by the caller to at least `len + 128`); returns how many (even: the text is followed
/// by spaces).
pub(crate) fn token_bounds(buf: &[u8], len: usize, bounds: &mut [u32]) -> usize {
    // Words to classify: through the one holding position `len` (a padding space), so that
    // a token ending the text has its end.
    let words = len / 8 + 1;
    let mut k = 0;
    let mut carry = 0;
    let mut j = 0;
    while j < words {
        let chunk = buf[j * 8..j * 8 + 64].try_into().unwrap_or(&[0; 64]);
        let mut m = token_mask(chunk);
        // Words past the padding hold stale bytes.
        let valid = words - j;
        if valid < 8 {
            m &= (1u64 << (8 * valid)) - 1;
        }
        let mut t = m ^ (m << 1 | carry);
        carry = m >> 63;
        let base = (j * 8) as u32;
        // Four positions per step without testing `t` in between (the extra ones land past
        // the end and are overwritten): fewer branches, one unpredictable exit per group.
        // At most 64 transitions per group, plus 3 extra: one bounds check for the group.
        let count = t.count_ones() as usize;
        let dst = &mut bounds[k..k + 128];
        let mut c = 0;
        while c < count {
            for u in 0..4 {
                dst[(c + u) & 127] = base + t.trailing_zeros();
                t &= t.wrapping_sub(1);
            }
            c += 4;
        }
        k += count;
        j += 8;
    }
    k
}
