//! Anchor selection: for each query, a set of tokens (or prefixes) such that any matching post
//! contains at least one of them. Posts only evaluate the queries anchored on their tokens.

use super::freq::{prefix_cost, token_cost};
use super::program::{Elem, Node, Program, Span};

/// Prefix anchors are indexed under their first (at most) this many bytes: a key of every
/// length up to it, so that for the usual stems a key hit is a real prefix match.
pub const MAX_PREFIX_KEY: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    Token(u32),
    /// A prefix truncated to [`MAX_PREFIX_KEY`] bytes (id in `Program::ptable`).
    Prefix(u32),
}

/// How many queries are already anchored on each token / prefix key: anchoring one more query
/// there costs more, which spreads queries sharing a frequent term over their other terms.
#[derive(Debug, Default)]
pub struct Loads {
    pub vocab: Vec<u32>,
    pub prefix: Vec<u32>,
}

impl Loads {
    fn token(&self, v: u32) -> f64 {
        1.0 + self.vocab.get(v as usize).copied().unwrap_or(0) as f64
    }

    fn prefix(&self, key: u32) -> f64 {
        1.0 + self.prefix.get(key as usize).copied().unwrap_or(0) as f64
    }

    /// Record that a query is anchored on `a`.
    pub fn add(&mut self, a: &Anchor) {
        let (counts, i) = match a {
            Anchor::Token(v) => (&mut self.vocab, *v as usize),
            Anchor::Prefix(k) => (&mut self.prefix, *k as usize),
        };
        if counts.len() <= i {
            counts.resize(i + 1, 0);
        }
        counts[i] += 1;
    }
}

/// Length of the key indexing a prefix of `len` bytes.
pub fn canonical_len(len: usize) -> usize {
    len.min(MAX_PREFIX_KEY)
}

/// The cheapest anchor set of `node`, with its estimated cost (probability that a post hits
/// one of its anchors); None when the node can match without any positive token (NOT, lang:).
pub fn anchors(p: &Program, node: u32, loads: &Loads) -> Option<(f64, Vec<Anchor>)> {
    match p.nodes[node as usize] {
        Node::Word(v) => Some((
            token_cost(p.vocab.key(v)) * loads.token(v),
            vec![Anchor::Token(v)],
        )),
        Node::Span(s) => Some(span_anchor(p, &p.spans[s as usize], loads)),
        Node::Lang(_) | Node::Not(_) => None,
        Node::And(off, len) => p
            .kids(off, len)
            .iter()
            .filter_map(|&k| anchors(p, k, loads))
            .min_by(|a, b| a.0.total_cmp(&b.0)),
        Node::Or(off, len) => {
            let mut cost = 0.0;
            let mut all = Vec::new();
            for &k in p.kids(off, len) {
                let (c, a) = anchors(p, k, loads)?;
                cost += c;
                all.extend(a);
            }
            Some((cost, all))
        }
        Node::Near(loff, llen, roff, rlen, _) => {
            let side = |off, len| {
                let mut cost = 0.0;
                let mut all = Vec::new();
                for &s in p.kids(off, len) {
                    let (c, a) = span_anchor(p, &p.spans[s as usize], loads);
                    cost += c;
                    all.extend(a);
                }
                (cost, all)
            };
            let (l, r) = (side(loff, llen), side(roff, rlen));
            Some(if l.0 <= r.0 { l } else { r })
        }
    }
}

fn span_anchor(p: &Program, sp: &Span, loads: &Loads) -> (f64, Vec<Anchor>) {
    let mut best: Option<(f64, Anchor)> = None;
    for e in p.span_elems(sp) {
        let cand = match *e {
            Elem::Exact(v) => (
                token_cost(p.vocab.key(v)) * loads.token(v),
                Anchor::Token(v),
            ),
            Elem::Prefix(_) => {
                let key = p.ptable.key(sp.pkey);
                (
                    prefix_cost(key) * loads.prefix(sp.pkey),
                    Anchor::Prefix(sp.pkey),
                )
            }
        };
        if best.as_ref().is_none_or(|b| cand.0 < b.0) {
            best = Some(cand);
        }
    }
    let (c, a) = best.unwrap_or((1.0, Anchor::Prefix(sp.pkey)));
    (c, vec![a])
}
