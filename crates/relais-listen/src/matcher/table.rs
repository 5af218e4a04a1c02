//! A compact open-addressing hash table from token bytes to dense ids, with keys stored in one
//! byte arena: no per-key allocation, one cache line probe in the common case.

const K: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

#[inline]
fn finish(h: u64) -> u64 {
    // Fold high bits down: the slot index uses the low bits, the tag the high ones.
    h ^ (h >> 32)
}

#[inline]
fn load(buf: &[u8], p: usize) -> u64 {
    let b = &buf[p..p + 8];
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// FxHash-style hash over little-endian 8-byte words, the last one zero-padded.
pub fn hash(key: &[u8]) -> u64 {
    let mut padded = [0u8; 24];
    if key.len() <= 16 {
        padded[..key.len()].copy_from_slice(key);
        return hash_padded(&padded, 0, key.len());
    }
    let mut v = key.to_vec();
    v.extend_from_slice(&[0; 8]);
    hash_padded(&v, 0, key.len())
}

/// `MASKS[k]`: the low `k` bytes of a word.
const MASKS: [u64; 9] = {
    let mut m = [0u64; 9];
    let mut k = 1;
    while k <= 8 {
        m[k] = u64::MAX >> (64 - 8 * k);
        k += 1;
    }
    m
};

/// [`hash`] of `buf[start..start + len]` when `buf` has 8 readable bytes after it: whole-word
/// loads and a mask, no byte loop and no copy (post tokens are stored with such padding).
#[inline]
pub fn hash_padded(buf: &[u8], start: usize, len: usize) -> u64 {
    if len <= 16 && start + 16 <= buf.len() {
        // Most tokens: two loads and selects instead of a loop whose exit depends on the
        // length (a branch miss per token otherwise). Same value as the loop below.
        let mask = |k: usize| MASKS[k];
        let h1 = mix(len as u64, load(buf, start) & mask(len.min(8)));
        let h2 = mix(h1, load(buf, start + 8) & mask(len.saturating_sub(8)));
        return finish(if len > 8 { h2 } else { h1 });
    }
    let end = start + len;
    let mut h = len as u64;
    let mut p = start;
    while p + 8 <= end {
        h = mix(h, load(buf, p));
        p += 8;
    }
    if p < end {
        h = mix(h, load(buf, p) & ((1u64 << ((end - p) * 8)) - 1));
    }
    finish(h)
}

/// Token → id (ids are dense, in insertion order).
#[derive(Debug, Clone)]
pub(crate) struct TokenTable {
    /// `hash tag << 32 | (id + 1)`, 0 = empty.
    slots: Vec<u64>,
    keys: Vec<u8>,
    /// `ends[id]` = end of key `id` in `keys`.
    ends: Vec<u32>,
}

impl Default for TokenTable {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenTable {
    /// Empty table.
    pub fn new() -> Self {
        TokenTable {
            slots: vec![0; 16],
            keys: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The key of `id`.
    pub fn key(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.keys[start..self.ends[id] as usize]
    }

    /// Look up `key` whose [`hash`] is `h`.
    #[inline]
    pub fn get(&self, key: &[u8], h: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s >> 32 == tag {
                let id = (s as u32) - 1;
                if self.key(id) == key {
                    return Some(id);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Insert `key` if absent; returns its id.
    pub fn insert(&mut self, key: &[u8]) -> u32 {
        let h = hash(key);
        if let Some(id) = self.get(key, h) {
            return id;
        }
        if (self.ends.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let id = self.ends.len() as u32;
        self.keys.extend_from_slice(key);
        self.ends.push(self.keys.len() as u32);
        self.place(h, id);
        id
    }

    fn place(&mut self, h: u64, id: u32) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (h >> 32) << 32 | (id as u64 + 1);
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        self.slots = vec![0; n];
        for id in 0..self.ends.len() as u32 {
            let h = hash(self.key(id));
            self.place(h, id);
        }
    }

    /// Shrink buffers to fit (after compilation).
    pub fn shrink(&mut self) {
        self.keys.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.keys.capacity() + self.ends.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_and_get() {
        let mut t = TokenTable::new();
        let words: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.insert(w.as_bytes()), i as u32);
        }
        assert_eq!(t.insert(b"w5"), 5);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.get(w.as_bytes(), hash(w.as_bytes())), Some(i as u32));
            assert_eq!(t.key(i as u32), w.as_bytes());
        }
        assert_eq!(t.get(b"nope", hash(b"nope")), None);
        assert_eq!(t.get(b"", hash(b"")), None);
    }
}
