//! Development aid: a deterministic matching run for instruction counting, e.g.
//! `valgrind --tool=callgrind --toggle-collect='*match_all*' instr 10000 20000`.
//! Prints matches and a checksum of all (post, query) results, to compare versions, and the
//! best wall-clock rate over `RUNS` (third argument) runs: the best is the least disturbed by
//! other jobs on a shared machine.

use relais_listen::bench::{workload, BenchArgs};
use relais_listen::{parse, Matcher, Query, Scratch};

#[inline(never)]
fn match_all(m: &Matcher, posts: &[(String, Option<String>)]) -> (u64, u64) {
    let mut s = Scratch::new();
    let mut out = Vec::new();
    let (mut n, mut sum) = (0u64, 0u64);
    for (i, (text, lang)) in posts.iter().enumerate() {
        let langs: Vec<&str> = lang.iter().map(|l| l.as_str()).collect();
        m.match_with(&mut s, text, &langs, &mut out);
        n += out.len() as u64;
        for &q in &out {
            sum = (sum ^ (i as u64) << 32 ^ q as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    (n, sum)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let queries = a.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let posts = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    // The workload of `relais bench listen` (brands drawn for its 100k-query set).
    let w = workload(&BenchArgs {
        posts,
        runs: 1,
        seed: 42,
        small: queries,
        large: queries.max(100_000),
    });
    let qs: Vec<Query> = w.queries[..queries]
        .iter()
        .map(|q| parse(q).unwrap())
        .collect();
    let m = Matcher::compile_queries(&qs);
    let mut best = f64::MAX;
    let (mut n, mut sum) = (0, 0);
    for _ in 0..a.get(3).and_then(|s| s.parse().ok()).unwrap_or(1) {
        let t = std::time::Instant::now();
        (n, sum) = match_all(&m, &w.posts);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{posts} posts, {queries} queries: {n} matches, checksum {sum:016x}, best {:.0} posts/s",
        posts as f64 / best
    );
}
