//! The matcher: every query of every workspace compiled together.
//!
//! Each query is indexed under one or more *anchors* (its rarest required token, or one per OR
//! branch); a post looks up each of its tokens once and evaluates only the queries anchored on
//! them, plus the few queries that have no anchor at all (`NOT x`, `lang:fr`). See
//! `docs/decisions/listen-matcher.md`.

mod anchor;
mod eval;
mod freq;
mod program;
mod table;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::fold::tokenize_into;
use crate::query::Query;
use anchor::{anchors, Anchor, Loads, PREFIX_LENS};
use eval::Ctx;
pub use eval::{lang_matches, Scratch};
use program::{Filter, Program, NONE};
use table::hash;
#[cfg(test)]
pub(crate) use table::hash as table_hash;
pub(crate) use table::hash_padded;

/// Index of a query in the slice given to [`Matcher::compile`].
pub type QueryIdx = u32;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Flag on an anchor-list entry: the query is the anchor word itself (matches when reached).
const TRIVIAL: u32 = 1 << 31;
/// Flag on an anchor-list entry: the query has no other entry, so it needs no deduplication
/// (saves a random access to `Scratch::qstamp` per candidate, a cache miss at 100k queries).
const SINGLE: u32 = 1 << 30;
const QUERY: u32 = SINGLE - 1;

/// What an anchor-list entry needs besides its query index, read sequentially with it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    filter: Filter,
    /// The query's root node (saves the random read of `Program::roots`).
    root: u32,
}

/// Compiled set of queries. Immutable and `Sync`: share it behind an `Arc` (see
/// [`SharedMatcher`] for hot reload).
#[derive(Debug)]
pub struct Matcher {
    id: u64,
    prog: Program,
    /// CSR: queries anchored on vocabulary id `v` are `anchor_qs[anchor_start[v]..anchor_start[v+1]]`.
    anchor_start: Vec<u32>,
    anchor_qs: Vec<u32>,
    anchor_req: Vec<Entry>,
    prefix_start: Vec<u32>,
    prefix_qs: Vec<u32>,
    prefix_req: Vec<Entry>,
    /// Prefix pre-filter: bit `j` when some prefix key of length `PREFIX_LENS[j]` may start
    /// like the token; indexed by [`pmask_index`] of the token's first bytes.
    pmask: Vec<u8>,
    /// Mask on the index in the first table: 0 when no key has 1 or 2 bytes (the usual case),
    /// so that every token reads the same (cached) entry instead of a random one.
    pmask_short: usize,
    /// Queries evaluated on every post (no anchor).
    always: Vec<u32>,
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

/// Log2 of the size of each of the two `pmask` tables (16 KiB each: they stay in L2).
const PMASK_LOG2: u32 = 14;

/// Indexes in the two `pmask` tables: a hash of the first two bytes for keys of 1 or 2 bytes
/// (bits 0 and 1; a 1-byte key sets every second byte), of the first three for longer keys
/// (which two bytes would let through for most common words).
#[inline]
fn pmask_index(head: u32) -> (usize, usize) {
    let h = |x: u32| ((x as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - PMASK_LOG2)) as usize;
    (h(head & 0xffff), (1 << PMASK_LOG2) + h(head & 0xff_ffff))
}

/// `LEN_MASK[len]`: bits `j` with `PREFIX_LENS[j] <= len` (longer tokens use index 16).
const LEN_MASK: [u8; 17] = {
    let mut t = [0u8; 17];
    let mut len = 0;
    while len <= 16 {
        let mut j = 0;
        while j < PREFIX_LENS.len() {
            if PREFIX_LENS[j] <= len {
                t[len] |= 1 << j;
            }
            j += 1;
        }
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

/// Build a CSR index from `(key, query)` pairs.
fn csr(keys: usize, mut pairs: Vec<(u32, u32)>) -> (Vec<u32>, Vec<u32>) {
    pairs.sort_unstable();
    pairs.dedup();
    let mut start = vec![0u32; keys + 1];
    for &(k, _) in &pairs {
        start[k as usize + 1] += 1;
    }
    for i in 0..keys {
        start[i + 1] += start[i];
    }
    (start, pairs.into_iter().map(|(_, q)| q).collect())
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
                            Anchor::Token(v) => {
                                // A query that is just this word matches without evaluation.
                                let trivial = matches!(prog.nodes[root as usize], program::Node::Word(w) if w == v);
                                pairs.push((v, if trivial { qi | TRIVIAL } else { qi }));
                            }
                            Anchor::Prefix(key) => ppairs.push((key, qi)),
                        }
                    }
                }
            }
        }
        prog.assign_sig_bits();
        prog.shrink();
        let (anchor_start, mut anchor_qs) = csr(prog.vocab.len(), pairs);
        let (prefix_start, mut prefix_qs) = csr(prog.ptable.len(), ppairs);
        let mut entries = vec![0u8; prog.roots.len()];
        for &e in anchor_qs.iter().chain(&prefix_qs) {
            let n = &mut entries[(e & QUERY) as usize];
            *n = n.saturating_add(1);
        }
        for e in anchor_qs.iter_mut().chain(&mut prefix_qs) {
            if entries[(*e & QUERY) as usize] == 1 {
                *e |= SINGLE;
            }
        }
        let req_of = |qs: &[u32]| -> Vec<Entry> {
            qs.iter()
                .map(|&e| Entry {
                    filter: prog.filters[(e & QUERY) as usize],
                    root: prog.roots[(e & QUERY) as usize],
                })
                .collect()
        };
        let (anchor_req, prefix_req) = (req_of(&anchor_qs), req_of(&prefix_qs));
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
        let mut pmask = vec![0u8; 2 << PMASK_LOG2];
        let mut pmask_short = 0;
        for k in 0..prog.ptable.len() as u32 {
            let key = prog.ptable.key(k);
            let bit = 1
                << PREFIX_LENS
                    .iter()
                    .position(|&l| l == key.len())
                    .unwrap_or(0);
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
                pmask_short = (1 << PMASK_LOG2) - 1;
            }
        }
        Matcher {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            prog,
            anchor_start,
            anchor_qs,
            anchor_req,
            prefix_start,
            prefix_qs,
            prefix_req,
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
            + (self.anchor_start.capacity()
                + self.anchor_qs.capacity()
                + self.prefix_start.capacity()
                + self.prefix_qs.capacity()
                + self.always.capacity())
                * 4
            + (self.anchor_req.capacity() + self.prefix_req.capacity())
                * std::mem::size_of::<Entry>()
            + self.pmask.capacity()
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

    /// Like [`Matcher::match_text`] with caller-owned scratch space (the hot path).
    pub fn match_with(&self, s: &mut Scratch, text: &str, langs: &[&str], out: &mut Vec<QueryIdx>) {
        out.clear();
        s.prepare(
            self.id,
            self.prog.vocab.len(),
            self.prog.ptable.len(),
            self.len(),
        );
        tokenize_into(text, &mut s.tokens);
        let n = s.tokens.len();
        let epoch = s.epoch;
        // Grown, never refilled: pass 1 writes `ids[..n]`, and `next[i]` when `i` joins a chain.
        if s.ids.len() < n {
            s.ids.resize(n, NONE);
            s.next.resize(n, NONE);
        }
        s.cands.clear();
        s.croots.clear();
        s.hits.clear();
        s.phits.clear();
        // Pass 1a, without data-dependent branches (most tokens are in no query, and which
        // ones are is unpredictable): the tokens that pass the filters, in order.
        if s.vcand.len() < n {
            s.vcand.resize(n, 0);
            s.pcand.resize(n, (0, 0));
        }
        let (mut nv, mut np) = (0, 0);
        for i in 0..n {
            s.ids[i] = NONE;
            s.vcand[nv] = i as u32;
            let bit = vfilter_bit(s.tokens.hash(i), self.vfilter_log2);
            nv += has_bit(&self.vfilter, bit) as usize;
            let (len, head) = s.tokens.head(i);
            let (i2, i3) = pmask_index(head);
            let m = (self.pmask[i2 & self.pmask_short] | self.pmask[i3]) & LEN_MASK[len.min(16)];
            s.pcand[np] = (i as u32, m as u32);
            np += (m != 0) as usize;
        }
        // Pass 1b: token ids, positions and the post's signature.
        let mut sig = program::SIG_ALWAYS;
        for &i in &s.vcand[..nv] {
            let i = i as usize;
            let Some(v) = self.prog.vocab.get(s.tokens.token(i), s.tokens.hash(i)) else {
                continue;
            };
            s.ids[i] = v;
            s.next[i] = NONE;
            sig |= self.prog.sig_bit(v);
            let st = &mut s.vstate[v as usize];
            if st.stamp == epoch {
                s.next[st.last as usize] = i as u32;
                st.last = i as u32;
            } else {
                *st = eval::VState {
                    stamp: epoch,
                    first: i as u32,
                    last: i as u32,
                };
                s.hits.push(v);
            }
        }
        // Pass 1c: prefixes, for the canonical lengths the pre-filter let through.
        for &(i, mut m) in &s.pcand[..np] {
            let i = i as usize;
            while m != 0 {
                let l = PREFIX_LENS[m.trailing_zeros() as usize];
                m &= m - 1;
                let h = s.tokens.hash_prefix(i, l);
                if !has_bit(&self.phfilter, vfilter_bit(h, self.phfilter_log2)) {
                    continue;
                }
                if let Some(x) = self.prog.ptable.get(&s.tokens.token(i)[..l], h) {
                    let st = &mut s.pstate[x as usize];
                    if st.stamp != epoch {
                        // Only the first position is needed: prefix spans scan from there.
                        st.stamp = epoch;
                        st.first = i as u32;
                        s.phits.push(x);
                    }
                }
            }
        }
        // Pass 2: candidates whose required tokens are all in the post's signature.
        let hits = std::mem::take(&mut s.hits);
        for &v in &hits {
            let (a, b) = (
                self.anchor_start[v as usize] as usize,
                self.anchor_start[v as usize + 1] as usize,
            );
            push_cands(
                &self.anchor_qs[a..b],
                &self.anchor_req[a..b],
                sig,
                s,
                epoch,
                out,
            );
        }
        s.hits = hits;
        let phits = std::mem::take(&mut s.phits);
        for &x in &phits {
            let (a, b) = (
                self.prefix_start[x as usize] as usize,
                self.prefix_start[x as usize + 1] as usize,
            );
            push_cands(
                &self.prefix_qs[a..b],
                &self.prefix_req[a..b],
                sig,
                s,
                epoch,
                out,
            );
        }
        s.phits = phits;
        for &q in &self.always {
            if self.prog.filters[q as usize].passes(sig) && s.qstamp[q as usize] != epoch {
                s.qstamp[q as usize] = epoch;
                s.cands.push(q);
                s.croots.push(self.prog.roots[q as usize]);
            }
        }
        let ctx = Ctx {
            p: &self.prog,
            tokens: &s.tokens,
            ids: &s.ids,
            next: &s.next,
            vstate: &s.vstate,
            pstate: &s.pstate,
            epoch,
            langs,
        };
        let mut occ = (std::mem::take(&mut s.occ_l), std::mem::take(&mut s.occ_r));
        for (&q, &root) in s.cands.iter().zip(&s.croots) {
            if ctx.eval(root, &mut occ) {
                out.push(q);
            }
        }
        (s.occ_l, s.occ_r) = occ;
        out.sort_unstable();
    }
}

#[inline]
fn push_cands(
    qs: &[u32],
    entries: &[Entry],
    sig: u64,
    s: &mut Scratch,
    epoch: u32,
    out: &mut Vec<QueryIdx>,
) {
    for (&e, ent) in qs.iter().zip(entries) {
        if !ent.filter.passes(sig) {
            continue;
        }
        let q = e & QUERY;
        if e & SINGLE == 0 {
            // Anchored more than once (OR): may already be a candidate.
            let st = &mut s.qstamp[q as usize];
            if *st == epoch {
                continue;
            }
            *st = epoch;
        }
        if e & TRIVIAL != 0 {
            out.push(q);
        } else {
            s.cands.push(q);
            s.croots.push(ent.root);
        }
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
