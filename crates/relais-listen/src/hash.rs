//! The token hash shared by the tokeniser (which hashes every post token while its bytes are
//! in cache) and the matcher's tables: two independent multiplications for tokens of up to 16
//! bytes, no loop and no branch on the length.
//!
//! Tokens never contain a zero byte, so zero-padding the last word keeps keys distinct and the
//! length need not be mixed in.

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;

/// `MASK0[len]`, `MASK1[len]`: the bytes of the first and second words that belong to a key
/// of `len ≤ 16` bytes.
const MASK0: [u64; 17] = {
    let mut m = [u64::MAX; 17];
    let mut k = 0;
    while k < 8 {
        m[k] = (1u64 << (8 * k)) - 1;
        k += 1;
    }
    m
};
const MASK1: [u64; 17] = {
    let mut m = [0u64; 17];
    let mut k = 9;
    while k <= 16 {
        m[k] = if k == 16 {
            u64::MAX
        } else {
            (1u64 << (8 * (k - 8))) - 1
        };
        k += 1;
    }
    m
};

#[inline(always)]
fn load(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]))
}

/// Hash of a key of up to 16 bytes given as its first two little-endian words (bytes past the
/// key arbitrary).
#[inline(always)]
pub(crate) fn hash16(w0: u64, w1: u64, len: usize) -> u64 {
    let h = (w0 & MASK0[len]).wrapping_mul(K1) ^ (w1 & MASK1[len]).wrapping_mul(K2);
    // The slot index uses the low bits: fold the well-mixed high half into them.
    h ^ (h >> 32)
}

/// Hash of `buf[start..start + len]`, where `buf` is readable up to `start + len` rounded up
/// to 8, and to at least `start + 16`.
#[inline(always)]
pub(crate) fn hash_at(buf: &[u8], start: usize, len: usize) -> u64 {
    if len <= 16 {
        let w = &buf[start..start + 16];
        return hash16(load(w, 0), load(w, 8), len);
    }
    hash_long(buf, start, len)
}

#[cold]
fn hash_long(buf: &[u8], start: usize, len: usize) -> u64 {
    let mut h = hash16(load(buf, start), load(buf, start + 8), 16);
    let mut p = start + 16;
    let end = start + len;
    while p < end {
        let take = (end - p).min(8);
        h = (h.rotate_left(23) ^ (load(buf, p) & MASK0[take])).wrapping_mul(K1);
        p += 8;
    }
    h ^ (h >> 32)
}

/// Hash of any key (compile time of the matcher, tests).
pub(crate) fn hash(key: &[u8]) -> u64 {
    if key.len() <= 16 {
        let mut padded = [0u8; 16];
        padded[..key.len()].copy_from_slice(key);
        return hash_at(&padded, 0, key.len());
    }
    let mut padded = vec![0u8; key.len().next_multiple_of(8)];
    padded[..key.len()].copy_from_slice(key);
    hash_at(&padded, 0, key.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_bytes_past_the_key_do_not_matter() {
        for len in 1..=40 {
            let key: Vec<u8> = (0..len).map(|i| b'a' + (i * 7 % 26) as u8).collect();
            let mut buf = vec![0xffu8; 64];
            buf[3..3 + len].copy_from_slice(&key);
            assert_eq!(hash_at(&buf, 3, len), hash(&key), "{len}");
        }
    }

    #[test]
    fn few_collisions() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000u32 {
            let key = format!("w{i}x");
            seen.insert(hash(key.as_bytes()));
        }
        assert_eq!(seen.len(), 200_000);
    }
}
