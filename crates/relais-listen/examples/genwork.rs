//! Development aid: write the bench workload to files (`genwork DIR [POSTS] [QUERIES]`).

use std::io::Write;

use relais_listen::bench::{workload, BenchArgs};

fn main() -> std::io::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(a.get(1).map_or("/tmp", |s| s.as_str()));
    let posts = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let queries = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let w = workload(&BenchArgs {
        posts,
        runs: 1,
        seed: 42,
        small: queries,
        large: queries,
    });
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("posts.jsonl"))?);
    for l in &w.lines {
        writeln!(f, "{l}")?;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("queries.tsv"))?);
    for (i, q) in w.queries.iter().enumerate() {
        writeln!(f, "q{i}\t{q}")?;
    }
    Ok(())
}
