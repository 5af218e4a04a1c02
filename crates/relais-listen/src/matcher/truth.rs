//! Candidate evaluation by truth table.
//!
//! Most queries are a boolean function of a handful of *atoms*: words (present or not, one
//! bit read each) and a few leaves that need a scan of the post (phrases, `#tag`s, wildcards,
//! `NEAR`s, `lang:`s). At
//! compile time such a query gets its truth table over at most [`MAX_ATOMS`] atoms (a `u64`);
//! a candidate then costs one read per word and a table lookup, without walking the tree (a
//! walk is a chain of calls and unpredictable jumps per node). Non-word atoms are evaluated
//! only when the words leave the result undecided. Larger queries keep the tree walk.

use super::eval::{Ctx, Occurrences};
use super::program::{Elem, Node, Program, NONE};

/// Atoms per truth table: 2^6 results fit in a `u64`.
pub const MAX_ATOMS: usize = 6;
/// [`Plan::n`] of a query evaluated by walking its tree (root node in [`Plan::off`]).
const TREE: u8 = u8::MAX;

/// Words kept in the plan itself: most queries need no other read.
const INLINE: usize = 3;

/// How a candidate query is evaluated.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Bit `a`: the query's value when atom `j` has the value of bit `j` of `a`.
    table: u64,
    /// Atoms are in `Program::atoms` from `off`: `words` vocabulary ids, then for each other
    /// atom its node and guard (see [`Program::guard`]).
    off: u32,
    /// The words when there are at most [`INLINE`].
    inline: [u32; INLINE],
    words: u8,
    n: u8,
}

/// `STRIDE[w]`: bits at the multiples of `2^w`, i.e. the table entries where the first `w`
/// atoms (the words) are all false.
const STRIDE: [u64; MAX_ATOMS + 1] = [
    u64::MAX,
    0x5555_5555_5555_5555,
    0x1111_1111_1111_1111,
    0x0101_0101_0101_0101,
    0x0001_0001_0001_0001,
    0x0000_0001_0000_0001,
    1,
];

/// The leaves of `node` (words, spans, `lang:`s, `NEAR`s), each once.
fn leaves(p: &Program, node: u32, out: &mut Vec<u32>) {
    match p.nodes[node as usize] {
        Node::Not(k) => leaves(p, k, out),
        Node::And(off, len) | Node::Or(off, len) => {
            for &k in p.kids(off, len) {
                leaves(p, k, out);
            }
        }
        Node::Word(_) | Node::Span(_) | Node::Lang(_) | Node::Near(..) => {
            if !out.contains(&node) {
                out.push(node);
            }
        }
    }
}

/// `COLUMN[j]`: bit `a` set when atom `j` is true in assignment `a`.
const COLUMN: [u64; MAX_ATOMS] = [
    0xaaaa_aaaa_aaaa_aaaa,
    0xcccc_cccc_cccc_cccc,
    0xf0f0_f0f0_f0f0_f0f0,
    0xff00_ff00_ff00_ff00,
    0xffff_0000_ffff_0000,
    0xffff_ffff_0000_0000,
];

/// Truth table of `node`, all assignments at once, where leaf node `n` is atom `atom(n)`.
fn table(p: &Program, node: u32, atom: &impl Fn(u32) -> usize) -> u64 {
    match p.nodes[node as usize] {
        Node::Not(k) => !table(p, k, atom),
        Node::And(off, len) => p
            .kids(off, len)
            .iter()
            .fold(!0, |t, &k| t & table(p, k, atom)),
        Node::Or(off, len) => p
            .kids(off, len)
            .iter()
            .fold(0, |t, &k| t | table(p, k, atom)),
        Node::Word(_) | Node::Span(_) | Node::Lang(_) | Node::Near(..) => COLUMN[atom(node)],
    }
}

/// [`Program::guard`] flag: the guard is a prefix key, not a vocabulary id.
const PREFIX_GUARD: u32 = 1 << 31;

impl Program {
    /// The evaluation plan of the query rooted at `root`; atoms go to `self.atoms`.
    pub fn plan(&mut self, root: u32) -> Plan {
        let mut nodes = Vec::new();
        leaves(self, root, &mut nodes);
        // Words (deduplicated), then the leaves that need a scan.
        let (mut words, mut others, mut word_of) = (Vec::new(), Vec::new(), Vec::new());
        for &node in &nodes {
            match self.word(node) {
                Some(v) => {
                    if !words.contains(&v) {
                        words.push(v);
                    }
                    word_of.push((node, v));
                }
                None => others.push(node),
            }
        }
        let n = words.len() + others.len();
        if n > MAX_ATOMS {
            return Plan {
                table: 0,
                off: root,
                inline: [0; INLINE],
                words: 0,
                n: TREE,
            };
        }
        // Cheap scans first: later ones are often not needed.
        others.sort_by_key(|&o| self.static_cost(o));
        let atom = |node: u32| match word_of.iter().find(|&&(w, _)| w == node) {
            Some(&(_, v)) => words.iter().position(|&w| w == v).unwrap_or(0),
            None => words.len() + others.iter().position(|&o| o == node).unwrap_or(0),
        };
        let table = table(self, root, &atom) & u64::MAX >> (64 - (1 << n));
        let off = self.atoms.len() as u32;
        self.atoms.extend_from_slice(&words);
        for &o in &others {
            let guard = self.guard(o);
            self.atoms.extend_from_slice(&[o, guard]);
        }
        let mut inline = [0; INLINE];
        let mut table = table;
        if words.len() <= INLINE {
            inline[..words.len()].copy_from_slice(&words);
            if others.is_empty() {
                // Simple plan: pad with the first word, whose value the padding atoms then
                // repeat, and extend the table so that their bits do not change the result.
                inline[words.len()..].fill(words[0]);
                for a in 1 << n..1 << INLINE {
                    table |= (table >> (a & ((1 << n) - 1)) & 1) << a;
                }
            }
        }
        Plan {
            table,
            off,
            inline,
            words: words.len() as u8,
            n: n as u8,
        }
    }

    /// The vocabulary id of leaf `node` when it is a word; None for leaves evaluated by
    /// scanning.
    fn word(&self, node: u32) -> Option<u32> {
        match self.nodes[node as usize] {
            Node::Word(v) => Some(v),
            _ => None,
        }
    }

    /// A token (or prefix key) that every post matching `node` contains, checked with one
    /// read before scanning: a vocabulary id, a prefix key with [`PREFIX_GUARD`], or NONE.
    fn guard(&self, node: u32) -> u32 {
        let span_guard = |s: u32| {
            let sp = &self.spans[s as usize];
            match self.span_elems(sp).get(sp.exact_at as usize) {
                Some(Elem::Exact(v)) => *v,
                _ if sp.pkey != NONE => sp.pkey | PREFIX_GUARD,
                _ => NONE,
            }
        };
        match self.nodes[node as usize] {
            Node::Span(s) => span_guard(s),
            Node::Near(loff, 1, _, _, _) => span_guard(self.kids[loff as usize]),
            Node::Near(_, _, roff, 1, _) => span_guard(self.kids[roff as usize]),
            _ => NONE,
        }
    }
}

impl Plan {
    /// At most [`INLINE`] words and nothing else: [`Ctx::simple`] evaluates it.
    pub fn is_simple(&self) -> bool {
        self.n as usize <= INLINE && self.words == self.n
    }
}

impl Ctx<'_> {
    /// Evaluate a simple plan (see [`Plan::is_simple`]) without a branch: three presence
    /// bits and a table lookup.
    #[inline(always)]
    pub fn simple(&self, plan: &Plan) -> bool {
        let [a, b, c] = plan.inline.map(|v| self.present(v) as u32);
        plan.table >> (a | b << 1 | c << 2) & 1 != 0
    }

    /// Evaluate a candidate query.
    #[inline]
    pub fn run(&self, plan: Plan, occ: &mut Occurrences) -> bool {
        if plan.n == TREE {
            return self.eval(plan.off, occ);
        }
        let nw = plan.words as usize;
        let words = if nw <= INLINE {
            &plan.inline[..nw]
        } else {
            &self.p.atoms[plan.off as usize..][..nw]
        };
        let mut bits = 0;
        for (j, &v) in words.iter().enumerate() {
            bits |= (self.present(v) as u32) << j;
        }
        let (n, valid) = (plan.n as usize, u64::MAX >> (64 - (1 << plan.n)));
        if nw == n {
            return plan.table >> bits & 1 != 0;
        }
        let others = self.p.atoms[plan.off as usize + nw..].chunks_exact(2);
        // `known`: atoms whose value is in `bits`.
        for (known, pair) in (nw..n).zip(others) {
            // The entries compatible with the atoms known so far: all false or all true
            // decides.
            let entries = STRIDE[known] & valid >> bits;
            let hit = plan.table >> bits & entries;
            if hit == 0 || hit == entries {
                return hit != 0;
            }
            let (node, guard) = (pair[0], pair[1]);
            let possible = match guard {
                NONE => true,
                g if g & PREFIX_GUARD != 0 => {
                    self.pstate[(g & !PREFIX_GUARD) as usize].stamp == self.epoch
                }
                v => self.present(v),
            };
            bits |= ((possible && self.eval(node, occ)) as u32) << known;
        }
        plan.table >> bits & 1 != 0
    }
}
