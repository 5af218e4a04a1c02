//! Queries compiled into one flat program: nodes, spans and elements live in shared arenas
//! (no per-query allocation), tokens are replaced by dense vocabulary ids.

use super::table::TokenTable;
use crate::query::{Pattern, Query};

pub const NONE: u32 = u32::MAX;

/// One position of a span: an exact vocabulary token or a prefix.
#[derive(Debug, Clone, Copy)]
pub enum Elem {
    Exact(u32),
    Prefix(u32),
}

/// Consecutive elements, the first one carrying `mark`.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub off: u32,
    pub len: u32,
    pub mark: u8,
    /// Index of an exact element used to enumerate positions, or NONE (prefixes only).
    pub exact_at: u32,
    /// Canonical key (in `ptable`) of the last element when it is a prefix, else NONE.
    pub pkey: u32,
}

#[derive(Debug, Clone, Copy)]
pub enum Node {
    /// A single unmarked word: present iff its vocabulary id occurs in the post.
    Word(u32),
    Span(u32),
    Lang(u32),
    Not(u32),
    And(u32, u32),
    Or(u32, u32),
    /// Left spans, right spans (ranges in `kids`, holding span indices) and distance.
    Near(u32, u32, u32, u32, u32),
}

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub vocab: TokenTable,
    /// Prefixes truncated to `anchor::MAX_PREFIX_KEY` bytes.
    pub ptable: TokenTable,
    pub nodes: Vec<Node>,
    pub kids: Vec<u32>,
    pub spans: Vec<Span>,
    pub elems: Vec<Elem>,
    pub prefix_bytes: Vec<u8>,
    pub prefix_ends: Vec<u32>,
    pub langs: Vec<String>,
    pub roots: Vec<u32>,
    /// Per query: signature test every matching post passes (see [`Filter`]).
    pub filters: Vec<Filter>,
    /// Signature bit of each vocabulary id, then of each prefix key (see
    /// [`Program::assign_sig_bits`]).
    pub sigbit: Vec<u8>,
    /// Atoms of the truth tables (see `truth::Plan`).
    pub atoms: Vec<u32>,
    /// Per query: how a candidate is evaluated.
    pub plans: Vec<super::truth::Plan>,
}

/// A post's signature: one bit per frequent vocabulary token or prefix key, shared bits for
/// the others.
pub type Sig = u128;
/// Bit set in every post signature: `any` uses it to mean "no constraint".
pub const SIG_ALWAYS: Sig = 1 << 63;
/// Keys that get a signature bit of their own (the most frequent ones). Many: a frequent word
/// required besides a rarer anchor (`brand AND (refund OR delay)`) filters only with its own
/// bit; shared bits are set in most posts by frequent words.
const DEDICATED_BITS: u32 = 96;

/// Signature bit of the key of rank `r` (bit 63 is [`SIG_ALWAYS`]).
fn bit_of_rank(r: u32) -> u8 {
    (if r < 63 { r } else { r + 1 }) as u8
}

/// Necessary condition for a query to match, on the post's 128-bit signature: it contains all
/// `req` bits (tokens every match contains) and one of the `any` bits (from an OR: each
/// alternative requires one of them; within the low 64 bits, else no constraint). Rejects most
/// candidates without evaluating them. Two words, not a `u128`, to keep anchor entries small.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    req: [u64; 2],
    any: u64,
}

impl Filter {
    fn new(req: Sig, any: Sig) -> Filter {
        Filter {
            req: [req as u64, (req >> 64) as u64],
            any: if any == 0 || any >> 64 != 0 {
                SIG_ALWAYS as u64
            } else {
                any as u64
            },
        }
    }

    #[inline]
    pub fn passes(self, sig: Sig) -> bool {
        let (lo, hi) = (sig as u64, (sig >> 64) as u64);
        ((self.req[0] & !lo) | (self.req[1] & !hi) == 0) & (self.any & lo != 0)
    }
}

impl Program {
    pub fn prefix(&self, p: u32) -> &[u8] {
        let p = p as usize;
        let start = if p == 0 {
            0
        } else {
            self.prefix_ends[p - 1] as usize
        };
        &self.prefix_bytes[start..self.prefix_ends[p] as usize]
    }

    pub fn kids(&self, off: u32, len: u32) -> &[u32] {
        &self.kids[off as usize..(off + len) as usize]
    }

    pub fn span_elems(&self, sp: &Span) -> &[Elem] {
        &self.elems[sp.off as usize..(sp.off + sp.len) as usize]
    }

    /// Compile one query; returns its root node.
    pub fn add(&mut self, q: &Query) -> u32 {
        let node = match q {
            Query::Pattern(p) => self.pattern(p),
            Query::Lang(code) => {
                let i = match self.langs.iter().position(|l| l == code) {
                    Some(i) => i,
                    None => {
                        self.langs.push(code.clone());
                        self.langs.len() - 1
                    }
                };
                Node::Lang(i as u32)
            }
            Query::Not(inner) => Node::Not(self.add(inner)),
            Query::And(items) | Query::Or(items) => {
                let mut ids: Vec<u32> = items.iter().map(|i| self.add(i)).collect();
                // Cheap children first: AND and OR short-circuit.
                ids.sort_by_key(|&k| self.static_cost(k));
                let off = self.kids.len() as u32;
                self.kids.extend_from_slice(&ids);
                let len = ids.len() as u32;
                if matches!(q, Query::And(_)) {
                    Node::And(off, len)
                } else {
                    Node::Or(off, len)
                }
            }
            Query::Near {
                left,
                right,
                distance,
            } => {
                let l: Vec<u32> = left.iter().map(|p| self.span(p)).collect();
                let r: Vec<u32> = right.iter().map(|p| self.span(p)).collect();
                let loff = self.kids.len() as u32;
                self.kids.extend_from_slice(&l);
                let roff = self.kids.len() as u32;
                self.kids.extend_from_slice(&r);
                Node::Near(loff, l.len() as u32, roff, r.len() as u32, *distance)
            }
        };
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    fn pattern(&mut self, p: &Pattern) -> Node {
        if p.tokens.len() == 1 && !p.prefix && p.mark == crate::query::Mark::None {
            Node::Word(self.vocab.insert(p.tokens[0].as_bytes()))
        } else {
            Node::Span(self.span(p))
        }
    }

    fn span(&mut self, p: &Pattern) -> u32 {
        let off = self.elems.len() as u32;
        let last = p.tokens.len() - 1;
        let mut exact_at = NONE;
        let mut pkey = NONE;
        for (i, t) in p.tokens.iter().enumerate() {
            let e = if p.prefix && i == last {
                let b = t.as_bytes();
                pkey = self
                    .ptable
                    .insert(&b[..super::anchor::canonical_len(b.len())]);
                self.prefix_bytes.extend_from_slice(b);
                self.prefix_ends.push(self.prefix_bytes.len() as u32);
                Elem::Prefix((self.prefix_ends.len() - 1) as u32)
            } else {
                if exact_at == NONE {
                    exact_at = i as u32;
                }
                Elem::Exact(self.vocab.insert(t.as_bytes()))
            };
            self.elems.push(e);
        }
        self.spans.push(Span {
            off,
            len: p.tokens.len() as u32,
            mark: p.mark.as_byte(),
            exact_at,
            pkey,
        });
        (self.spans.len() - 1) as u32
    }

    /// Signature bits: frequent tokens (which would otherwise set their shared bit in most
    /// posts) get one bit each, so that requiring them is an exact test; the others share the
    /// remaining bits by id. Call once all queries are added.
    pub fn assign_sig_bits(&mut self) {
        // Keys: vocabulary ids, then prefix keys (a post has a prefix key when one of its
        // tokens starts with it).
        let nv = self.vocab.len();
        let n = nv + self.ptable.len();
        // How often a bit would be set in posts, times how many queries may test it: a word
        // every other query requires needs its own bit more than a rare brand stem.
        let mut uses = vec![0u32; n];
        let mut seen = Vec::new();
        for &root in &self.roots {
            seen.clear();
            self.keys_of(root, &mut seen);
            seen.sort_unstable();
            seen.dedup();
            for &k in &seen {
                uses[k as usize] += 1;
            }
        }
        let cost: Vec<f64> = (0..n as u32)
            .map(|k| {
                let freq = match k.checked_sub(nv as u32) {
                    None => super::freq::token_cost(self.vocab.key(k)),
                    Some(x) => super::freq::prefix_cost(self.ptable.key(x)),
                };
                freq * uses[k as usize] as f64
            })
            .collect();
        let mut by_freq: Vec<u32> = (0..n as u32).collect();
        by_freq.sort_by(|&a, &b| {
            cost[b as usize]
                .total_cmp(&cost[a as usize])
                .then(a.cmp(&b))
        });
        let shared = Sig::BITS - 1 - DEDICATED_BITS;
        self.sigbit = (0..n as u32)
            .map(|k| bit_of_rank(DEDICATED_BITS + k % shared))
            .collect();
        for (rank, &k) in by_freq.iter().take(DEDICATED_BITS as usize).enumerate() {
            self.sigbit[k as usize] = bit_of_rank(rank as u32);
        }
        self.filters = self
            .roots
            .iter()
            .map(|&r| Filter::new(self.required(r), self.any_of(r)))
            .collect();
    }

    /// Signature keys (vocabulary ids, then prefix keys after them) appearing in `node`.
    fn keys_of(&self, node: u32, out: &mut Vec<u32>) {
        let span = |s: u32, out: &mut Vec<u32>| {
            let sp = &self.spans[s as usize];
            for e in self.span_elems(sp) {
                out.push(match *e {
                    Elem::Exact(v) => v,
                    Elem::Prefix(_) => self.vocab.len() as u32 + sp.pkey,
                });
            }
        };
        match self.nodes[node as usize] {
            Node::Word(v) => out.push(v),
            Node::Span(s) => span(s, out),
            Node::Lang(_) => {}
            Node::Not(k) => self.keys_of(k, out),
            Node::And(off, len) | Node::Or(off, len) => {
                for &k in self.kids(off, len) {
                    self.keys_of(k, out);
                }
            }
            Node::Near(loff, llen, roff, rlen, _) => {
                for &s in self.kids(loff, llen).iter().chain(self.kids(roff, rlen)) {
                    span(s, out);
                }
            }
        }
    }

    /// Signature bit of vocabulary id `v`.
    #[inline]
    pub fn sig_bit(&self, v: u32) -> Sig {
        1 << self.sigbit[v as usize]
    }

    /// Signature bit of prefix key `x`.
    #[inline]
    pub fn prefix_sig_bit(&self, x: u32) -> Sig {
        1 << self.sigbit[self.vocab.len() + x as usize]
    }

    /// Bits of which a matching post contains at least one, or 0 when unknown: for an OR,
    /// every alternative requires some bits, so the post has one of their union.
    fn any_of(&self, node: u32) -> Sig {
        let union = |it: &mut dyn Iterator<Item = Sig>| {
            let mut acc = 0;
            for r in it {
                if r == 0 {
                    return 0;
                }
                acc |= r;
            }
            acc
        };
        match self.nodes[node as usize] {
            Node::Or(off, len) => union(&mut self.kids(off, len).iter().map(|&k| self.required(k))),
            Node::And(off, len) => self
                .kids(off, len)
                .iter()
                .map(|&k| self.any_of(k))
                .find(|&a| a != 0)
                .unwrap_or(0),
            Node::Near(loff, llen, roff, rlen, _) => {
                let side = |off, len| {
                    union(&mut self.kids(off, len).iter().map(|&s| self.span_required(s)))
                };
                match side(loff, llen) {
                    0 => side(roff, rlen),
                    a => a,
                }
            }
            _ => 0,
        }
    }

    /// Signature bits of the tokens `node` requires in any post it matches.
    pub fn required(&self, node: u32) -> Sig {
        match self.nodes[node as usize] {
            Node::Word(v) => self.sig_bit(v),
            Node::Span(s) => self.span_required(s),
            Node::Lang(_) | Node::Not(_) => 0,
            Node::And(off, len) => self
                .kids(off, len)
                .iter()
                .fold(0, |a, &k| a | self.required(k)),
            Node::Or(off, len) => self
                .kids(off, len)
                .iter()
                .fold(!0, |a, &k| a & self.required(k)),
            Node::Near(loff, llen, roff, rlen, _) => {
                let side = |off, len| {
                    self.kids(off, len)
                        .iter()
                        .fold(!0, |a, &s| a & self.span_required(s))
                };
                side(loff, llen) | side(roff, rlen)
            }
        }
    }

    fn span_required(&self, s: u32) -> Sig {
        let sp = &self.spans[s as usize];
        self.span_elems(sp).iter().fold(0, |a, e| match *e {
            Elem::Exact(v) => a | self.sig_bit(v),
            Elem::Prefix(_) => a | self.prefix_sig_bit(sp.pkey),
        })
    }

    /// Rough evaluation cost of a node, to order AND/OR children.
    pub fn static_cost(&self, node: u32) -> u32 {
        match self.nodes[node as usize] {
            Node::Word(_) | Node::Lang(_) => 1,
            Node::Span(s) if self.spans[s as usize].exact_at != NONE => 4,
            Node::Span(_) => 40,
            Node::Not(k) => self.static_cost(k),
            Node::And(off, len) | Node::Or(off, len) => self
                .kids(off, len)
                .iter()
                .map(|&k| self.static_cost(k))
                .sum(),
            Node::Near(..) => 60,
        }
    }

    pub fn shrink(&mut self) {
        self.vocab.shrink();
        self.ptable.shrink();
        self.nodes.shrink_to_fit();
        self.kids.shrink_to_fit();
        self.spans.shrink_to_fit();
        self.elems.shrink_to_fit();
        self.prefix_bytes.shrink_to_fit();
        self.prefix_ends.shrink_to_fit();
        self.roots.shrink_to_fit();
        self.filters.shrink_to_fit();
        self.atoms.shrink_to_fit();
        self.plans.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.vocab.heap_bytes()
            + self.ptable.heap_bytes()
            + self.nodes.capacity() * size_of::<Node>()
            + self.kids.capacity() * 4
            + self.spans.capacity() * size_of::<Span>()
            + self.elems.capacity() * size_of::<Elem>()
            + self.prefix_bytes.capacity()
            + self.prefix_ends.capacity() * 4
            + self.langs.iter().map(|l| l.capacity() + 24).sum::<usize>()
            + self.roots.capacity() * 4
            + self.filters.capacity() * size_of::<Filter>()
            + self.sigbit.capacity()
            + self.atoms.capacity() * 4
            + self.plans.capacity() * size_of::<super::truth::Plan>()
    }
}
