//! Per-post state and evaluation of candidate queries.
//!
//! Each post is tokenised once; every token is looked up once in the vocabulary. Per-vocabulary
//! state (presence bit, first and last position) is cleared for the words of the previous post
//! only, and per-prefix and per-query state is invalidated by bumping an epoch, so the cost per
//! post depends on the post, not on the number of queries.

use super::program::{Elem, Node, Program, Span, NONE};
use crate::fold::Tokens;

/// Per prefix key: the epoch of the last post with a token carrying it, and the first such
/// token.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct VState {
    pub stamp: u32,
    pub first: u32,
}

/// Reusable per-thread buffers for matching. Create one per thread (or use
/// [`super::Matcher::match_text`], which keeps one in a thread-local).
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) tokens: Tokens,
    pub(crate) ids: Vec<u32>,
    pub(crate) next: Vec<u32>,
    /// Bit per vocabulary id: it occurs in the current post (set in pass 1, cleared with the
    /// next post; small enough to stay in L1 where candidates read it).
    pub(crate) present: Vec<u64>,
    /// Per vocabulary id: its first and last positions in the current post (valid when
    /// present).
    pub(crate) vpos: Vec<(u32, u32)>,
    /// Per prefix key: `stamp` and `first` only.
    pub(crate) pstate: Vec<VState>,
    pub(crate) qstamp: Vec<u32>,
    pub(crate) epoch: u32,
    /// Queries evaluated for the last text are `cands[..ncands]`.
    pub(crate) cands: Vec<u32>,
    pub(crate) ncands: usize,
    /// Matches of the last text, unsorted: `res[..]` up to a count kept by the walk.
    pub(crate) res: Vec<u32>,
    pub(crate) hits: Vec<u32>,
    pub(crate) phits: Vec<u32>,
    /// Tokens passing the vocabulary / prefix filters (pass 1a), grown never shrunk.
    pub(crate) vcand: Vec<u32>,
    /// Token index, and the prefix key lengths to try in the high half.
    pub(crate) pcand: Vec<u64>,
    pub(crate) occ_l: Vec<(u32, u32)>,
    pub(crate) occ_r: Vec<(u32, u32)>,
    pub(crate) matcher_id: u64,
}

impl Scratch {
    /// Empty scratch space; sized on first use with a matcher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Size the per-vocabulary and per-query arrays for a matcher (no-op if already done).
    pub(crate) fn prepare(
        &mut self,
        matcher_id: u64,
        vocab: usize,
        prefixes: usize,
        queries: usize,
    ) {
        if self.matcher_id != matcher_id {
            self.matcher_id = matcher_id;
            self.present.clear();
            self.present.resize(vocab.div_ceil(64) + 1, 0);
            self.hits.clear();
            self.vpos.clear();
            self.vpos.resize(vocab, (0, 0));
            self.pstate.clear();
            self.pstate.resize(prefixes, VState::default());
            self.qstamp.clear();
            self.qstamp.resize(queries, 0);
            self.epoch = 0;
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Wrapped after 4 billion posts: stale stamps could collide, reset them.
            self.pstate.fill(VState::default());
            self.qstamp.fill(0);
            self.epoch = 1;
        }
    }

    /// Queries evaluated for the last text (anchored on its tokens and passing their filter).
    pub fn candidates(&self) -> &[u32] {
        &self.cands[..self.ncands]
    }

    /// The tokens of the last matched text.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }
}

/// Buffers for the left and right occurrences of a NEAR, as (start, end) token positions.
pub(crate) type Occurrences = (Vec<(u32, u32)>, Vec<(u32, u32)>);

/// Read-only view used while evaluating one post.
pub(crate) struct Ctx<'a> {
    pub p: &'a Program,
    pub tokens: &'a Tokens,
    pub ids: &'a [u32],
    pub next: &'a [u32],
    pub present: &'a [u64],
    pub vpos: &'a [(u32, u32)],
    pub pstate: &'a [VState],
    pub epoch: u32,
    pub langs: &'a [&'a str],
}

impl Ctx<'_> {
    /// True when vocabulary token `v` occurs in the post.
    #[inline]
    pub fn present(&self, v: u32) -> bool {
        self.present[v as usize / 64] >> (v % 64) & 1 != 0
    }

    pub fn eval(&self, node: u32, occ: &mut Occurrences) -> bool {
        match self.p.nodes[node as usize] {
            Node::Word(v) => self.present(v),
            Node::Span(s) => self.span_each(&self.p.spans[s as usize], &mut |_, _| true),
            Node::Lang(l) => {
                let code = &self.p.langs[l as usize];
                self.langs.iter().any(|pl| lang_matches(code, pl))
            }
            Node::Not(inner) => !self.eval(inner, occ),
            Node::And(off, len) => self.p.kids(off, len).iter().all(|&k| self.eval(k, occ)),
            Node::Or(off, len) => self.p.kids(off, len).iter().any(|&k| self.eval(k, occ)),
            Node::Near(loff, llen, roff, rlen, dist) => {
                // NEAR operands are spans, never NEAR: the buffers are not re-entered.
                let (l, r) = occ;
                l.clear();
                r.clear();
                for &s in self.p.kids(loff, llen) {
                    self.span_each(&self.p.spans[s as usize], &mut |a, b| {
                        l.push((a, b));
                        false
                    });
                }
                if l.is_empty() {
                    return false;
                }
                for &s in self.p.kids(roff, rlen) {
                    self.span_each(&self.p.spans[s as usize], &mut |a, b| {
                        r.push((a, b));
                        false
                    });
                }
                l.iter().any(|&(ls, le)| {
                    r.iter().any(|&(rs, re)| {
                        (le <= rs && rs - le <= dist) || (re <= ls && ls - re <= dist)
                    })
                })
            }
        }
    }

    /// Calls `f(start, end)` for each occurrence of the span until it returns true.
    /// Returns whether `f` returned true.
    #[inline]
    fn span_each(&self, sp: &Span, mut f: impl FnMut(u32, u32) -> bool) -> bool {
        let elems = self.p.span_elems(sp);
        let len = elems.len();
        let n = self.tokens.len();
        if len > n {
            return false;
        }
        if sp.exact_at != NONE {
            let k = sp.exact_at as usize;
            let Elem::Exact(v) = elems[k] else {
                return false;
            };
            if !self.present(v) {
                return false;
            }
            let mut pos = self.vpos[v as usize].0;
            while pos != NONE {
                let p = pos as usize;
                if p >= k && p - k + len <= n && self.span_at(elems, sp.mark, p - k) {
                    let start = (p - k) as u32;
                    if f(start, start + len as u32) {
                        return true;
                    }
                }
                pos = self.next[p];
            }
            false
        } else {
            // Prefixes only: start scanning at the first token carrying the prefix key.
            let st = self.pstate[sp.pkey as usize];
            if st.stamp != self.epoch {
                return false;
            }
            let from = (st.first as usize).saturating_sub(len - 1);
            for start in from..=n - len {
                if self.span_at(elems, sp.mark, start) && f(start as u32, (start + len) as u32) {
                    return true;
                }
            }
            false
        }
    }

    #[inline]
    fn span_at(&self, elems: &[Elem], mark: u8, start: usize) -> bool {
        if mark != 0 && self.tokens.mark(start) != mark {
            return false;
        }
        elems.iter().enumerate().all(|(j, e)| match *e {
            Elem::Exact(v) => self.ids[start + j] == v,
            Elem::Prefix(x) => starts_with(self.tokens.token(start + j), self.p.prefix(x)),
        })
    }
}

/// Byte prefix test; the first-byte check rejects most tokens without a `memcmp` call.
#[inline]
fn starts_with(tok: &[u8], prefix: &[u8]) -> bool {
    tok.len() >= prefix.len()
        && !prefix.is_empty()
        && tok[0] == prefix[0]
        && tok[1..prefix.len()] == prefix[1..]
}

/// `lang:fr` matches a post declaring `fr`, `FR`, `fr-CA` or `fr_CA`.
pub fn lang_matches(code: &str, post_lang: &str) -> bool {
    let (c, p) = (code.as_bytes(), post_lang.trim().as_bytes());
    if p.len() < c.len() {
        return false;
    }
    let head_eq = p[..c.len()]
        .iter()
        .zip(c)
        .all(|(a, b)| a.to_ascii_lowercase() == *b || (*b == b'-' && *a == b'_'));
    head_eq && (p.len() == c.len() || matches!(p[c.len()], b'-' | b'_'))
}
