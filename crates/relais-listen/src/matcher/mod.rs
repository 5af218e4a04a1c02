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
use anchor::{anchors, Anchor, Loads};
use eval::Ctx;
pub use eval::{lang_matches, Scratch};
use program::{Program, NONE};
use table::hash;
pub(crate) use table::hash_padded;

/// Index of a query in the slice given to [`Matcher::compile`].
pub type QueryIdx = u32;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Flag on an anchor-list entry: the query is the anchor word itself (matches when reached).
const TRIVIAL: u32 = 1 << 31;

/// Compiled set of queries. Immutable and `Sync`: share it behind an `Arc` (see
/// [`SharedMatcher`] for hot reload).
#[derive(Debug)]
pub struct Matcher {
    id: u64,
    prog: Program,
    /// CSR: queries anchored on vocabulary id `v` are `anchor_qs[anchor_start[v]..anchor_start[v+1]]`.
    anchor_start: Vec<u32>,
    anchor_qs: Vec<u32>,
    /// `required` signature of each `anchor_qs` entry, read sequentially with it.
    anchor_req: Vec<u64>,
    prefix_start: Vec<u32>,
    prefix_qs: Vec<u32>,
    prefix_req: Vec<u64>,
    /// Canonical lengths of the prefixes of all queries, ascending.
    prefix_lens: Vec<usize>,
    /// Queries evaluated on every post (no anchor).
    always: Vec<u32>,
    /// Bit filter over token hashes: most post tokens are in no query and are rejected here,
    /// in cache, instead of missing in the (larger) vocabulary table.
    vfilter: Vec<u64>,
    vfilter_log2: u32,
    /// Bit filter over the first two bytes of prefix keys: skips prefix lookups for most tokens.
    pfilter: Vec<u64>,
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

#[inline]
fn pfilter_bit(tok: &[u8]) -> usize {
    (tok[0] as usize) << 8 | tok.get(1).copied().unwrap_or(0) as usize
}

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
            assert!(qi < TRIVIAL as usize, "at most 2^31 queries");
            let qi = qi as u32;
            let root = prog.add(q);
            prog.roots.push(root);
            let req = prog.required(root);
            prog.required.push(req);
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
        prog.shrink();
        let (anchor_start, anchor_qs) = csr(prog.vocab.len(), pairs);
        let (prefix_start, prefix_qs) = csr(prog.ptable.len(), ppairs);
        let req_of = |qs: &[u32]| -> Vec<u64> {
            qs.iter()
                .map(|&e| prog.required[(e & !TRIVIAL) as usize])
                .collect()
        };
        let (anchor_req, prefix_req) = (req_of(&anchor_qs), req_of(&prefix_qs));
        let mut prefix_lens: Vec<usize> = (0..prog.ptable.len() as u32)
            .map(|k| prog.ptable.key(k).len())
            .collect();
        prefix_lens.sort_unstable();
        prefix_lens.dedup();
        let vlog2 = vfilter_log2(prog.vocab.len());
        let mut vfilter = vec![0u64; (1 << vlog2) / 64];
        for v in 0..prog.vocab.len() as u32 {
            set_bit(&mut vfilter, vfilter_bit(hash(prog.vocab.key(v)), vlog2));
        }
        let mut pfilter = vec![0u64; 65536 / 64];
        for k in 0..prog.ptable.len() as u32 {
            let key = prog.ptable.key(k);
            if key.len() == 1 {
                for second in 0..256 {
                    set_bit(&mut pfilter, (key[0] as usize) << 8 | second);
                }
            } else {
                set_bit(&mut pfilter, pfilter_bit(key));
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
            prefix_lens,
            always,
            vfilter,
            vfilter_log2: vlog2,
            pfilter,
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
            + (self.anchor_req.capacity() + self.prefix_req.capacity()) * 8
            + self.prefix_lens.capacity() * 8
            + (self.vfilter.capacity() + self.pfilter.capacity()) * 8
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
        s.ids.clear();
        s.ids.resize(n, NONE);
        s.next.clear();
        s.next.resize(n, NONE);
        s.cands.clear();
        s.hits.clear();
        s.phits.clear();
        // Pass 1: token ids, positions and the post's signature.
        let mut sig = 0u64;
        for i in 0..n {
            let tok = s.tokens.token(i);
            let pbit = pfilter_bit(tok);
            let h = s.tokens.hash_prefix(i, tok.len());
            let found = if has_bit(&self.vfilter, vfilter_bit(h, self.vfilter_log2)) {
                self.prog.vocab.get(tok, h)
            } else {
                None
            };
            if let Some(v) = found {
                s.ids[i] = v;
                sig |= program::sig_bit(v);
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
            if self.prefix_lens.is_empty() || !has_bit(&self.pfilter, pbit) {
                continue;
            }
            for &l in &self.prefix_lens {
                let tok = s.tokens.token(i);
                if tok.len() < l {
                    break;
                }
                let key = &tok[..l];
                if let Some(x) = self.prog.ptable.get(key, s.tokens.hash_prefix(i, l)) {
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
            if self.prog.required[q as usize] & !sig == 0 && s.qstamp[q as usize] != epoch {
                s.qstamp[q as usize] = epoch;
                s.cands.push(q);
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
        for &q in &s.cands {
            if ctx.eval(self.prog.roots[q as usize], &mut occ) {
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
    reqs: &[u64],
    sig: u64,
    s: &mut Scratch,
    epoch: u32,
    out: &mut Vec<QueryIdx>,
) {
    for (&e, &req) in qs.iter().zip(reqs) {
        if req & !sig != 0 {
            continue;
        }
        let q = e & !TRIVIAL;
        let st = &mut s.qstamp[q as usize];
        if *st != epoch {
            *st = epoch;
            if e & TRIVIAL != 0 {
                out.push(q);
            } else {
                s.cands.push(q);
            }
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
