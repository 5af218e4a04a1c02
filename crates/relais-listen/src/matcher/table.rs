//! A compact open-addressing hash table from token bytes to dense ids, with keys stored in one
//! byte arena: no per-key allocation, one cache line probe in the common case.

use crate::hash::hash;

/// One slot: the key's first 16 bytes (zero-padded) and `tag << 40 | len << 32 | (id + 1)`
/// (0 = empty), so that a lookup reads one slot, not the key arena: at 100k queries every
/// random read is a cache miss.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    head: [u64; 2],
    meta: u64,
}

/// The first 16 bytes of `buf[start..start + len]`, zero-padded, where `buf` has 16 readable
/// bytes at `start`.
#[inline]
fn head_at(buf: &[u8], start: usize, len: usize) -> [u64; 2] {
    let w = &buf[start..start + 16];
    let word = |k: usize| u64::from_le_bytes(w[8 * k..8 * k + 8].try_into().unwrap_or([0; 8]));
    let keep = |bytes: usize| match bytes {
        0 => 0,
        b if b >= 8 => u64::MAX,
        b => (1u64 << (8 * b)) - 1,
    };
    [word(0) & keep(len), word(1) & keep(len.saturating_sub(8))]
}

/// `tag << 40 | len << 32`: the part of a slot's `meta` a lookup compares.
#[inline]
fn meta_key(h: u64, len: usize) -> u64 {
    (h >> 40) << 40 | (len.min(255) as u64) << 32
}

/// Token → id (ids are dense, in insertion order).
#[derive(Debug, Clone)]
pub(crate) struct TokenTable {
    slots: Vec<Slot>,
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
            slots: vec![Slot::default(); 16],
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

    /// Look up `buf[start..start + len]` (with 16 readable bytes at `start`), whose [`hash`]
    /// is `h`.
    #[inline(always)]
    pub fn get_at(&self, buf: &[u8], start: usize, len: usize, h: u64) -> Option<u32> {
        let head = head_at(buf, start, len);
        let want = meta_key(h, len);
        let i = h as usize & (self.slots.len() - 1);
        // The usual outcomes, in the first slot: the key, or an empty slot. One branch on
        // whether the key is there (unpredictable), not one per comparison.
        let s = self.slots[i];
        if (s.meta & !0xffff_ffff == want) & (s.head == head) & (len <= 16) {
            return Some((s.meta as u32) - 1);
        }
        if s.meta == 0 {
            return None;
        }
        self.probe(buf, start, len, head, want, i)
    }

    /// [`TokenTable::get_at`] past the first slot, or for keys longer than 16 bytes.
    #[cold]
    fn probe(
        &self,
        buf: &[u8],
        start: usize,
        len: usize,
        head: [u64; 2],
        want: u64,
        mut i: usize,
    ) -> Option<u32> {
        let mask = self.slots.len() - 1;
        loop {
            let s = self.slots[i];
            if s.meta == 0 {
                return None;
            }
            if s.meta & !0xffff_ffff == want && s.head == head {
                let id = (s.meta as u32) - 1;
                // Keys longer than 16 bytes: compare the rest.
                if len <= 16 || self.key(id)[16..] == buf[start + 16..start + len] {
                    return Some(id);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Look up `key` whose [`hash`] is `h`.
    pub fn get(&self, key: &[u8], h: u64) -> Option<u32> {
        let mut padded = key.to_vec();
        padded.resize(key.len() + 16, 0);
        self.get_at(&padded, 0, key.len(), h)
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
        let mut padded = self.key(id).to_vec();
        let len = padded.len();
        padded.resize(len + 16, 0);
        let slot = Slot {
            head: head_at(&padded, 0, len),
            meta: meta_key(h, len) | (id as u64 + 1),
        };
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.slots[i].meta != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        self.slots = vec![Slot::default(); n];
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
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.keys.capacity()
            + self.ends.capacity() * 4
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
        let long = b"supercalifragilisticexpialidocious";
        let id = t.insert(long);
        assert_eq!(t.get(long, hash(long)), Some(id));
        let near = b"supercalifragilisticexpialidociousness";
        assert_eq!(
            t.get(&near[..long.len() - 1], hash(&near[..long.len() - 1])),
            None
        );
        assert_eq!(t.get(b"", hash(b"")), None);
    }
}
