//! The matcher: every query of every workspace compiled together.
//!
//! Each query is indexed under one or more *anchors* (its rarest required token, or one per OR
//! branch); a post looks up each of its tokens once and evaluates only the queries anchored on
//! them, plus the few queries that have no anchor at all (`NOT x`, `lang:fr`). See
//! `docs/decisions/listen-matcher.md`.

mod anchor;
mod eval;
mod freq;
mod post;
mod program;
mod table;
mod truth;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::hash::hash;
use crate::query::Query;
use anchor::{anchors, Anchor, Loads, MAX_PREFIX_KEY};
pub use eval::{lang_matches, Scratch};
use program::{Filter, Program};
use truth::Plan;

/// Index of a query in the slice given to [`Matcher::compile`].
pub type QueryIdx = u32;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Flag on an anchor-list entry: the query's plan is simple (see `truth::Plan::is_simple`).
const SIMPLE: u32 = 1 << 31;
/// Flag on an anchor-list entry: the query has no other entry, so it needs no deduplication
/// (saves a random access to `Scratch::qstamp` per candidate, a cache miss at 100k queries).
const SINGLE: u32 = 1 << 30;
const QUERY: u32 = SINGLE - 1;
/// Both flags: evaluated without branches nor deduplication.
const FAST: u32 = SIMPLE | SINGLE;

/// An anchor-list entry: all pass 2 needs to reject or evaluate a candidate, in one cache
/// line (a list is one random access; at 100k queries each is a cache miss).
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Entry {
    filter: Filter,
    /// The query's evaluation plan (saves a random read of `Program::plans`).
    plan: Plan,
    /// Query index with the [`SIMPLE`] and [`SINGLE`] flags.
    q: u32,
}

/// Compiled set of queries. Immutable and `Sync`: share it behind an `Arc` (see
/// [`SharedMatcher`] for hot reload).
#[derive(Debug)]
pub struct Matcher {
    id: u64,
    prog: Program,
    /// The queries anchored on vocabulary id `v` are
    /// `anchors[anchor_start[2v]..anchor_start[2v + 2]]`, the [`FAST`] ones first, up to
    /// `anchor_start[2v + 1]`; likewise for prefix keys (see [`lists`]).
    anchor_start: Vec<u32>,
    anchors: Vec<Entry>,
    prefix_start: Vec<u32>,
    prefixes: Vec<Entry>,
    /// Prefix pre-filter: bit `l - 1` when some prefix key of length `l` may start like the
    /// token; indexed by [`pmask_index`] of the token's first bytes.
    pmask: Box<[u16; PMASK_SIZE]>,
    /// Some key has 1 or 2 bytes, so the first table is used (not the usual case).
    pmask_short: bool,
    /// Queries evaluated on every post (no anchor).
    always: Vec<Entry>,
    /// Bit filter over token hashes: most post tokens are in no query and are rejected here,
    /// in cache, instead of missing in the (larger) vocabulary table.
    vfilter: Vec<u64>,
    vfilter_log2: u32,
    /// Bit filter over the hashes of prefix keys, like `vfilter`: most truncations miss.
    phfilter: Vec<u64>,
    phfilter_log2: u32,
}

/// ~16 filter bits per vocabulary token (≈ 6% false positives), from 8 KiB to 512 KiB.
fn vfilter_log2(vocab: usize) -> u32 {
    (vocab * 16)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(16, 22)
}

#[inline]
fn vfilter_bit(h: u64, log2: u32) -> usize {
    (h >> (64 - log2)) as usize
}

/// Log2 of the size of each of the two `pmask` tables (32 KiB each: they stay in L2).
const PMASK_LOG2: u32 = 14;
/// Entries of the two `pmask` tables (a fixed size: indexes need no bounds check).
const PMASK_SIZE: usize = 2 << PMASK_LOG2;

/// Indexes in the two `pmask` tables: a hash of the first two bytes for keys of 1 or 2 bytes
/// (bits 0 and 1; a 1-byte key sets every second byte), of the first three for longer keys
/// (which two bytes would let through for most common words).
#[inline]
fn pmask_index(head: u32) -> (usize, usize) {
    let h = |x: u32| ((x as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - PMASK_LOG2)) as usize;
    (h(head & 0xffff), (1 << PMASK_LOG2) + h(head & 0xff_ffff))
}

/// `LEN_MASK[len]`: the key lengths a token of `len` bytes (at most 16) can start with, bits
/// `0..len`.
const LEN_MASK: [u16; MAX_PREFIX_KEY + 1] = {
    let mut t = [0u16; MAX_PREFIX_KEY + 1];
    let mut len = 0;
    while len <= MAX_PREFIX_KEY {
        t[len] = ((1u32 << len) - 1) as u16;
        len += 1;
    }
    t
};

fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

#[inline]
fn has_bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

/// Anchor lists from `(key, entry)` pairs: the entries of key `k` are
/// `entries[start[2k]..start[2k + 2]]`, the [`FAST`] ones first, up to `start[2k + 1]`.
fn lists(keys: usize, mut pairs: Vec<(u32, Entry)>) -> (Vec<u32>, Vec<Entry>) {
    pairs.sort_unstable_by_key(|&(k, e)| (k, e.q & FAST != FAST, e.q));
    let mut start = vec![0u32; 2 * keys + 1];
    for &(k, e) in &pairs {
        let half = 2 * k as usize + (e.q & FAST != FAST) as usize;
        start[half + 1] += 1;
    }
    for i in 0..2 * keys {
        start[i + 1] += start[i];
    }
    (start, pairs.into_iter().map(|(_, e)| e).collect())
}

impl Matcher {
    /// Compile queries; the ids are the caller's and are not used: results are indices into
    /// `queries`.
    pub fn compile<I>(queries: &[(I, Query)]) -> Matcher {
        Self::compile_queries(queries.iter().map(|(_, q)| q))
    }

    /// Compile queries given without ids; results are indices in iteration order.
    pub fn compile_queries<'a>(queries: impl IntoIterator<Item = &'a Query>) -> Matcher {
        let mut prog = Program::default();
        let mut pairs = Vec::new();
        let mut ppairs = Vec::new();
        let mut always = Vec::new();
        let mut loads = Loads::default();
        for (qi, q) in queries.into_iter().enumerate() {
            assert!(qi < SINGLE as usize, "at most 2^30 queries");
            let qi = qi as u32;
            let root = prog.add(q);
            prog.roots.push(root);
            match anchors(&prog, root, &loads) {
                None => always.push(qi),
                Some((_, list)) => {
                    for a in list {
                        loads.add(&a);
                        match a {
                            Anchor::Token(v) => pairs.push((v, qi)),
                            Anchor::Prefix(key) => ppairs.push((key, qi)),
                        }
                    }
                }
            }
        }
        prog.assign_sig_bits();
        prog.plans = (0..prog.roots.len())
            .map(|q| prog.plan(prog.roots[q]))
            .collect();
        prog.shrink();
        pairs.sort_unstable();
        pairs.dedup();
        ppairs.sort_unstable();
        ppairs.dedup();
        // Queries anchored once need no deduplication.
        let mut anchored = vec![0u8; prog.roots.len()];
        for &(_, q) in pairs.iter().chain(&ppairs) {
            anchored[q as usize] = anchored[q as usize].saturating_add(1);
        }
        let entry = |q: u32| {
            let plan = prog.plans[q as usize];
            let simple = if plan.is_simple() { SIMPLE } else { 0 };
            let single = if anchored[q as usize] <= 1 { SINGLE } else { 0 };
            Entry {
                filter: prog.filters[q as usize],
                plan,
                q: q | simple | single,
            }
        };
        let keyed =
            |pairs: Vec<(u32, u32)>| pairs.into_iter().map(|(k, q)| (k, entry(q))).collect();
        let (anchor_start, anchors) = lists(prog.vocab.len(), keyed(pairs));
        let (prefix_start, prefixes) = lists(prog.ptable.len(), keyed(ppairs));
        let always = always.into_iter().map(entry).collect();
        // Only the entries need them now.
        (prog.filters, prog.plans) = (Vec::new(), Vec::new());
        let vlog2 = vfilter_log2(prog.vocab.len());
        let mut vfilter = vec![0u64; (1 << vlog2) / 64];
        for v in 0..prog.vocab.len() as u32 {
            set_bit(&mut vfilter, vfilter_bit(hash(prog.vocab.key(v)), vlog2));
        }
        let plog2 = vfilter_log2(prog.ptable.len());
        let mut phfilter = vec![0u64; (1 << plog2) / 64];
        for k in 0..prog.ptable.len() as u32 {
            set_bit(&mut phfilter, vfilter_bit(hash(prog.ptable.key(k)), plog2));
        }
        let mut pmask = Box::new([0u16; PMASK_SIZE]);
        let mut pmask_short = false;
        for k in 0..prog.ptable.len() as u32 {
            let key = prog.ptable.key(k);
            let bit = 1 << (key.len() - 1);
            let head = key
                .iter()
                .take(3)
                .rev()
                .fold(0u32, |h, &b| h << 8 | b as u32);
            let (i2, i3) = pmask_index(head);
            match key.len() {
                1 => (0..256).for_each(|b| pmask[pmask_index(head | b << 8).0] |= bit),
                2 => pmask[i2] |= bit,
                _ => pmask[i3] |= bit,
            }
            if key.len() <= 2 {
                pmask_short = true;
            }
        }
        Matcher {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            prog,
            anchor_start,
            anchors,
            prefix_start,
            prefixes,
            pmask,
            pmask_short,
            always,
            vfilter,
            vfilter_log2: vlog2,
            phfilter,
            phfilter_log2: plog2,
        }
    }

    /// Number of compiled queries.
    pub fn len(&self) -> usize {
        self.prog.roots.len()
    }

    /// True when no query was compiled.
    pub fn is_empty(&self) -> bool {
        self.prog.roots.is_empty()
    }

    /// Number of queries evaluated on every post because they have no anchor.
    pub fn unanchored(&self) -> usize {
        self.always.len()
    }

    /// Heap bytes held by the matcher (its memory footprint, excluding per-thread [`Scratch`]).
    pub fn heap_bytes(&self) -> usize {
        self.prog.heap_bytes()
            + (self.anchor_start.capacity() + self.prefix_start.capacity()) * 4
            + (self.anchors.capacity() + self.prefixes.capacity() + self.always.capacity())
                * std::mem::size_of::<Entry>()
            + PMASK_SIZE * 2
            + (self.vfilter.capacity() + self.phfilter.capacity()) * 8
    }

    /// Match `text` (with the post's declared languages, possibly none) and put the indices of
    /// matching queries, ascending, into `out` (cleared first). Uses a thread-local [`Scratch`].
    pub fn match_text(&self, text: &str, langs: &[&str], out: &mut Vec<QueryIdx>) {
        thread_local! {
            static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
        }
        SCRATCH.with(|s| self.match_with(&mut s.borrow_mut(), text, langs, out));
    }
}

/// A matcher that can be swapped while other threads match (hot reload when queries change).
#[derive(Debug, Clone)]
pub struct SharedMatcher {
    inner: Arc<RwLock<Arc<Matcher>>>,
}

impl SharedMatcher {
    /// Wrap a compiled matcher.
    pub fn new(m: Matcher) -> Self {
        SharedMatcher {
            inner: Arc::new(RwLock::new(Arc::new(m))),
        }
    }

    /// The current matcher; hold the `Arc` for a batch of posts, then load again.
    pub fn load(&self) -> Arc<Matcher> {
        match self.inner.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Replace the matcher (compile the new one first, outside any lock).
    pub fn store(&self, m: Matcher) {
        let m = Arc::new(m);
        match self.inner.write() {
            Ok(mut g) => *g = m,
            Err(p) => *p.into_inner() = m,
        }
    }
}

#[cfg(test)]
mod tests;
