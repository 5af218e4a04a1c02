//! Development aid: time the phases of matching on the bench workload.

use std::time::Instant;

use relais_listen::bench::{throughput, workload, BenchArgs};
use relais_listen::fold::{tokenize_into, Tokens};
use relais_listen::{parse, Matcher, Query};

fn main() {
    let args = BenchArgs {
        posts: 100_000,
        runs: 3,
        seed: 42,
        small: 10_000,
        large: 10_000,
    };
    let w = workload(&args);
    let start = Instant::now();
    let mut acc = 0u64;
    for (text, _) in &w.posts {
        for &b in text.as_bytes() {
            acc += (b.is_ascii_alphanumeric()) as u64 ^ (acc >> 7);
        }
    }
    println!(
        "byte loop: {:.0} posts/s ({acc})",
        w.posts.len() as f64 / start.elapsed().as_secs_f64()
    );
    let mut t = Tokens::new();
    let start = Instant::now();
    let mut n = 0;
    for (text, _) in &w.posts {
        tokenize_into(text, &mut t);
        n += t.len();
    }
    let el = start.elapsed().as_secs_f64();
    println!(
        "tokenize: {:.0} posts/s, {:.1} tokens/post",
        w.posts.len() as f64 / el,
        n as f64 / w.posts.len() as f64
    );
    let empty = Matcher::compile_queries(&[]);
    let tp = throughput(&empty, &w.posts, 3);
    println!("0 queries: {:?} posts/s on-CPU", tp.cpu);
    let qs: Vec<Query> = w.queries[..10_000]
        .iter()
        .map(|q| parse(q).unwrap())
        .collect();
    let m = Matcher::compile_queries(&qs);
    let tp = throughput(&m, &w.posts, 3);
    println!(
        "10k queries: {:?} posts/s on-CPU, {:.1} candidates/post",
        tp.cpu, tp.candidates
    );
    let qs: Vec<Query> = w.queries.iter().map(|q| parse(q).unwrap()).collect();
    let m = Matcher::compile_queries(&qs);
    let mut s = relais_listen::Scratch::new();
    let mut out = Vec::new();
    let mut hist = std::collections::BTreeMap::new();
    let mut hits = std::collections::BTreeMap::new();
    for (text, lang) in w.posts.iter().take(2000) {
        let langs: Vec<&str> = lang.iter().map(|l| l.as_str()).collect();
        m.match_with(&mut s, text, &langs, &mut out);
        for &q in s.candidates() {
            let e = &w.queries[q as usize];
            let shape: String = e
                .split_whitespace()
                .map(|t| match t {
                    "AND" | "OR" | "NOT" => t.to_string(),
                    _ if t.starts_with("NEAR") => "NEAR".into(),
                    _ if t.contains('*') => "W*".into(),
                    _ if t.starts_with('#') || t.starts_with("(#") => "#".into(),
                    _ if t.starts_with('@') || t.starts_with("(@") => "@".into(),
                    _ => "w".into(),
                })
                .collect::<Vec<_>>()
                .join(" ");
            *hist.entry(shape.clone()).or_insert(0) += 1;
            if out.contains(&q) {
                *hits.entry(shape).or_insert(0) += 1;
            }
        }
    }
    for (k, v) in hist {
        println!(
            "{v:>6} ({:>5} hits) {k}",
            hits.get(&k).copied().unwrap_or(0)
        );
    }
}
