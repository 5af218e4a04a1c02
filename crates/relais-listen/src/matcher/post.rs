//! Matching one post: tokenise, look the tokens up, evaluate the candidates.

use super::eval::{Ctx, Occurrences, VState};
use super::program::{self, NONE};
use super::{
    has_bit, pmask_index, vfilter_bit, Entry, Matcher, QueryIdx, Scratch, LEN_MASK, MAX_PREFIX_KEY,
    QUERY, SINGLE,
};

impl Matcher {
    /// Like [`Matcher::match_text`] with caller-owned scratch space (the hot path).
    pub fn match_with(&self, s: &mut Scratch, text: &str, langs: &[&str], out: &mut Vec<QueryIdx>) {
        out.clear();
        s.prepare(
            self.id,
            self.prog.vocab.len(),
            self.prog.ptable.len(),
            self.len(),
        );
        let n = s.tokens.scan(text);
        // Grown, never refilled: pass 1 writes `ids[..n]`, and `next[i]` when `i` joins a chain.
        if s.ids.len() < n {
            s.ids.resize(n, NONE);
            s.next.resize(n, NONE);
            s.vcand.resize(n, 0);
            s.pcand.resize(n, 0);
        }
        // Pass 1a, run on each token as it is hashed (while it is in registers), without
        // data-dependent branches (most tokens are in no query, and which ones are is
        // unpredictable: a branch would mispredict every few tokens): the tokens that pass
        // the vocabulary filter, and those the prefix pre-filter lets through with their key
        // lengths.
        let (nv, np) = if self.pmask_short {
            self.filter_tokens::<true>(s, n)
        } else {
            self.filter_tokens::<false>(s, n)
        };
        let epoch = s.epoch;
        s.ids[..n].fill(NONE);
        // The previous post's words (cleared here rather than at its end, so that a panic
        // there cannot leave stale bits).
        for &v in &s.hits {
            s.present[v as usize / 64] &= !(1 << (v % 64));
        }
        s.hits.clear();
        s.phits.clear();
        // Pass 1b: token ids, positions and the post's signature.
        let mut sig = program::SIG_ALWAYS;
        for &i in &s.vcand[..nv] {
            let i = i as usize;
            let (start, len) = s.tokens.span(i);
            let found = self
                .prog
                .vocab
                .get_at(s.tokens.buf(), start, len, s.tokens.hash(i));
            let Some(v) = found else {
                continue;
            };
            s.ids[i] = v;
            s.next[i] = NONE;
            sig |= self.prog.sig_bit(v);
            let (word, bit) = (&mut s.present[v as usize / 64], 1 << (v % 64));
            let pos = &mut s.vpos[v as usize];
            if *word & bit != 0 {
                s.next[pos.1 as usize] = i as u32;
                pos.1 = i as u32;
            } else {
                *word |= bit;
                *pos = (i as u32, i as u32);
                s.hits.push(v);
            }
        }
        // Pass 1c: prefix keys, for the lengths the pre-filter let through.
        for &c in &s.pcand[..np] {
            let (i, mut m) = (c as u32 as usize, (c >> 32) as u32);
            while m != 0 {
                let l = m.trailing_zeros() as usize + 1;
                m &= m - 1;
                let h = s.tokens.hash_prefix(i, l);
                if !has_bit(&self.phfilter, vfilter_bit(h, self.phfilter_log2)) {
                    continue;
                }
                let start = s.tokens.span(i).0;
                if let Some(x) = self.prog.ptable.get_at(s.tokens.buf(), start, l, h) {
                    let st = &mut s.pstate[x as usize];
                    if st.stamp != epoch {
                        sig |= self.prog.prefix_sig_bit(x);
                        // Only the first position is needed: prefix spans scan from there.
                        *st = VState {
                            stamp: epoch,
                            first: i as u32,
                        };
                        s.phits.push(x);
                    }
                }
            }
        }
        // Pass 2: candidates whose required tokens are all in the post's signature, evaluated
        // as they are found.
        let ctx = Ctx {
            p: &self.prog,
            tokens: &s.tokens,
            ids: &s.ids,
            next: &s.next,
            present: &s.present,
            vpos: &s.vpos,
            pstate: &s.pstate,
            epoch,
            langs,
        };
        let mut walk = Walk {
            ctx,
            sig,
            qstamp: &mut s.qstamp,
            cands: &mut s.cands,
            ncands: 0,
            occ: (std::mem::take(&mut s.occ_l), std::mem::take(&mut s.occ_r)),
            res: &mut s.res,
            nout: 0,
        };
        for &v in &s.hits {
            walk.lists(&self.anchor_start, v, &self.anchors);
        }
        for &x in &s.phits {
            walk.lists(&self.prefix_start, x, &self.prefixes);
        }
        walk.slow(&self.always);
        let (nout, ncands) = (walk.nout, walk.ncands);
        (s.occ_l, s.occ_r) = walk.occ;
        s.ncands = ncands;
        sort_into(&s.res[..nout], out);
    }
}

/// `out` = `found` sorted (query indices, all distinct). Usually a handful: ranked by counting
/// without branches instead of an insertion sort that mispredicts.
fn sort_into(found: &[u32], out: &mut Vec<QueryIdx>) {
    const SMALL: usize = 8;
    if found.len() > SMALL {
        out.extend_from_slice(found);
        out.sort_unstable();
        return;
    }
    let mut sorted = [0; SMALL];
    for &q in found {
        let rank = found.iter().map(|&o| (o < q) as usize).sum::<usize>();
        sorted[rank % SMALL] = q;
    }
    out.extend_from_slice(&sorted[..found.len()]);
}

impl Matcher {
    /// Pass 1a, run on each token as it is hashed (while it is in registers), without
    /// data-dependent branches (most tokens are in no query, and which ones are is
    /// unpredictable: a branch would mispredict every few tokens): the tokens that pass the
    /// vocabulary filter, and those the prefix pre-filter lets through with their key lengths.
    /// `SHORT`: some prefix key has 1 or 2 bytes. Returns how many of each.
    #[inline]
    fn filter_tokens<const SHORT: bool>(&self, s: &mut Scratch, n: usize) -> (usize, usize) {
        let (vcand, pcand) = (&mut s.vcand[..n], &mut s.pcand[..n]);
        let (vfilter, vlog2, pmask) = (&self.vfilter[..], self.vfilter_log2, &*self.pmask);
        // A power of two: masking the index proves it in bounds.
        assert!(vfilter.len().is_power_of_two());
        let (mut nv, mut np) = (0, 0);
        s.tokens.hash_tokens(|i, h, head, len| {
            vcand[nv] = i as u32;
            let bit = vfilter_bit(h, vlog2);
            nv += (vfilter[(bit / 64) & (vfilter.len() - 1)] >> (bit % 64) & 1) as usize;
            let (i2, i3) = pmask_index(head);
            let mut keys = pmask[i3];
            if SHORT {
                keys |= pmask[i2];
            }
            let keys = keys & LEN_MASK[len.min(MAX_PREFIX_KEY)];
            pcand[np] = i as u64 | (keys as u64) << 32;
            np += (keys != 0) as usize;
        });
        (nv, np)
    }
}

/// Pass 2 state: evaluates the candidates of anchor lists. Results and candidates are
/// written before knowing whether they count, then counted (no branch on the outcome).
struct Walk<'a, 'c> {
    ctx: Ctx<'c>,
    sig: program::Sig,
    qstamp: &'a mut [u32],
    cands: &'a mut Vec<u32>,
    ncands: usize,
    occ: Occurrences,
    res: &'a mut Vec<QueryIdx>,
    nout: usize,
}

impl Walk<'_, '_> {
    /// The anchor lists of key `k` (see `super::lists`).
    #[inline]
    fn lists(&mut self, start: &[u32], k: u32, entries: &[Entry]) {
        let k = 2 * k as usize;
        let (a, m, b) = (
            start[k] as usize,
            start[k + 1] as usize,
            start[k + 2] as usize,
        );
        let need = self.nout.max(self.ncands) + b - a;
        if self.res.len() < need {
            self.res.resize(need.next_power_of_two(), 0);
            self.cands.resize(need.next_power_of_two(), 0);
        }
        self.fast(&entries[a..m]);
        if m < b {
            self.slow(&entries[m..b]);
        }
    }

    /// [`FAST`] entries, most of them: whether the filter passes and whether the query
    /// matches are unpredictable, so neither is a branch.
    #[inline]
    fn fast(&mut self, entries: &[Entry]) {
        for ent in entries {
            let (pass, q) = (ent.filter.passes(self.sig), ent.q & QUERY);
            self.cands[self.ncands] = q;
            self.ncands += pass as usize;
            self.res[self.nout] = q;
            self.nout += (pass & self.ctx.simple(&ent.plan)) as usize;
        }
    }

    /// Other entries: deduplicated, evaluated in full.
    #[inline(never)]
    fn slow(&mut self, entries: &[Entry]) {
        let need = self.nout.max(self.ncands) + entries.len();
        if self.res.len() < need {
            self.res.resize(need.next_power_of_two(), 0);
            self.cands.resize(need.next_power_of_two(), 0);
        }
        for ent in entries {
            if !ent.filter.passes(self.sig) {
                continue;
            }
            let q = ent.q & QUERY;
            if ent.q & SINGLE == 0 {
                // Anchored more than once (OR): may already be a candidate.
                let st = &mut self.qstamp[q as usize];
                if *st == self.ctx.epoch {
                    continue;
                }
                *st = self.ctx.epoch;
            }
            self.cands[self.ncands] = q;
            self.ncands += 1;
            if self.ctx.run(ent.plan, &mut self.occ) {
                self.res[self.nout] = q;
                self.nout += 1;
            }
        }
    }
}
