//! Folding of non-ASCII characters (the specification), and the table that caches it for the
//! common ones.
//!
//! A character folds to a sequence of *folded bytes*: `[0-9a-z_]` (token bytes), `#`, `@`, or
//! a space standing for any separator. The folded text of a post is the concatenation of its
//! characters' folded bytes; tokens are the maximal runs of token bytes in it.

use std::sync::OnceLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Folded byte of an ASCII byte: lower-cased token bytes, `#`, `@`, else a space.
pub(crate) const fn ascii_folded(b: u8) -> u8 {
    match b {
        b'a'..=b'z' | b'0'..=b'9' | b'_' | b'#' | b'@' => b,
        b'A'..=b'Z' => b + 32,
        _ => b' ',
    }
}

/// True for the folded bytes that belong to tokens.
#[inline]
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
}

/// Fold one non-ASCII character: NFKD per character (canonical reordering only moves
/// combining marks, which are dropped anyway), combining marks removed, lower case, œ → oe,
/// æ → ae, ß → ss; any other character is a separator.
pub(crate) fn fold_char(c: char, emit: &mut dyn FnMut(u8)) {
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
        emit(ascii_folded(l as u8));
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
                emit(b' ');
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
/// Table entry of a character that takes the slow path (folds to more than 3 bytes).
pub(crate) const SLOW: u32 = u32::MAX;

/// Fold table for U+0080–U+2FFF followed by the [`EMOJI`] range: the folded bytes in the low
/// three bytes (little-endian, written with one 4-byte store) and their number in the high
/// byte, or [`SLOW`].
pub(crate) fn fold_table() -> &'static [u32] {
    static FOLD: OnceLock<Vec<u32>> = OnceLock::new();
    FOLD.get_or_init(|| {
        (0x80..TABLE_END)
            .chain(EMOJI)
            .map(|cp| {
                let Some(c) = char::from_u32(cp) else {
                    return SLOW;
                };
                let mut out = Vec::new();
                fold_char(c, &mut |b| out.push(b));
                if out.len() > 3 {
                    return SLOW;
                }
                let bytes = out.iter().rev().fold(0u32, |acc, &b| acc << 8 | b as u32);
                (out.len() as u32) << 24 | bytes
            })
            .collect()
    })
}

/// The [`fold_table`] entry of `cp` (≥ 0x80), or [`SLOW`].
#[inline]
pub(crate) fn fold_entry(table: &[u32], cp: u32) -> u32 {
    if cp < TABLE_END {
        table[(cp - 0x80) as usize]
    } else if EMOJI.contains(&cp) {
        table[(cp - EMOJI.start + TABLE_END - 0x80) as usize]
    } else {
        SLOW
    }
}

/// Decode the UTF-8 character whose lead byte (≥ 0xC0) is `bytes[i]`: (code point, length).
#[inline(always)]
pub(crate) fn decode(bytes: &[u8], i: usize) -> (u32, usize) {
    let b0 = bytes[i] as u32;
    let cont = |k: usize| bytes[i + k] as u32 & 0x3f;
    if b0 < 0xe0 {
        ((b0 & 0x1f) << 6 | cont(1), 2)
    } else if b0 < 0xf0 {
        ((b0 & 0x0f) << 12 | cont(1) << 6 | cont(2), 3)
    } else {
        (
            (b0 & 0x07) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3),
            4,
        )
    }
}
