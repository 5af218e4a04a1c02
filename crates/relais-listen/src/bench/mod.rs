//! `relais bench listen`: throughput of the matcher on a generated workload.

pub mod corpus;

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::{run_match, MatchArgs};
use crate::matcher::{Matcher, Scratch};
use crate::query::{parse, Query};
use corpus::Rng;

/// Arguments of `relais bench listen`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Number of generated posts.
    #[arg(long, default_value_t = 200_000)]
    pub posts: usize,
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// PRNG seed (the workload is deterministic for a given seed).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Size of the small query set.
    #[arg(long, default_value_t = 10_000)]
    pub small: usize,
    /// Size of the large query set.
    #[arg(long, default_value_t = 100_000)]
    pub large: usize,
}

/// Generated workload.
pub struct Workload {
    /// Post JSON lines.
    pub lines: Vec<String>,
    /// Post texts and declared languages, as extracted from `lines`.
    pub posts: Vec<(String, Option<String>)>,
    /// Query expressions of the large set (the small set is its prefix).
    pub queries: Vec<String>,
}

/// Generate the workload for `args`.
pub fn workload(args: &BenchArgs) -> Workload {
    let mut rng = Rng::new(args.seed);
    let nq = args.large.max(args.small);
    let brands = corpus::brands((nq / 2).max(100), &mut rng);
    let queries = (0..nq)
        .map(|i| corpus::query(i, &mut rng, &brands))
        .collect();
    let lines: Vec<String> = (0..args.posts)
        .map(|_| corpus::post(&mut rng, &brands))
        .collect();
    let posts = lines
        .iter()
        .map(|l| {
            let p = crate::cli::parse_post(l.as_bytes()).expect("generated posts are valid");
            (p.text.into_owned(), p.lang.map(|l| l.into_owned()))
        })
        .collect();
    Workload {
        lines,
        posts,
        queries,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Nanoseconds this thread has spent on a CPU (Linux), to measure throughput on a machine
/// shared with other jobs: wall time counts the time we were descheduled.
pub fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Result of [`throughput`].
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Posts per second of wall time (median of the runs).
    pub wall: f64,
    /// Posts per second of on-CPU time (median), when measurable.
    pub cpu: Option<f64>,
    /// Matches per run.
    pub matches: u64,
    /// Candidate queries evaluated per post.
    pub candidates: f64,
}

/// Matching-only throughput over `posts`, `runs` times.
pub fn throughput(m: &Matcher, posts: &[(String, Option<String>)], runs: usize) -> Throughput {
    let mut cands = 0;
    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let mut matches = 0;
    for _ in 0..runs.max(1) {
        matches = 0;
        let c0 = thread_cpu_ns();
        let t = Instant::now();
        for (text, lang) in posts {
            let l = lang.as_deref();
            let langs: &[&str] = match &l {
                Some(l) => std::slice::from_ref(l),
                None => &[],
            };
            m.match_with(&mut scratch, text, langs, &mut out);
            matches += out.len() as u64;
            cands += scratch.candidates().len();
        }
        wall.push(posts.len() as f64 / t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c0, thread_cpu_ns()) {
            cpu.push(posts.len() as f64 / ((b - a).max(1) as f64 / 1e9));
        }
    }
    Throughput {
        wall: median(wall),
        cpu: (!cpu.is_empty()).then(|| median(cpu)),
        matches,
        candidates: cands as f64 / (posts.len() * runs.max(1)).max(1) as f64,
    }
}

fn compile_timed(exprs: &[String], runs: usize) -> (Matcher, Duration, Duration) {
    let mut parse_t = Vec::new();
    let mut compile_t = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let qs: Vec<Query> = exprs
            .iter()
            .map(|e| parse(e).expect("generated queries parse"))
            .collect();
        parse_t.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let m = Matcher::compile_queries(&qs);
        compile_t.push(t.elapsed().as_secs_f64());
        last = Some(m);
    }
    let m = last.unwrap_or_else(|| Matcher::compile_queries(&[]));
    (
        m,
        Duration::from_secs_f64(median(parse_t)),
        Duration::from_secs_f64(median(compile_t)),
    )
}

/// Run the benchmark and print the figures on stdout.
pub fn run_bench(args: BenchArgs) -> ExitCode {
    match bench(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn bench(args: &BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let w = workload(args);
    let avg_len = w.posts.iter().map(|p| p.0.len()).sum::<usize>() / w.posts.len().max(1);
    println!(
        "workload: {} posts (avg text {} bytes), {} queries, seed {}, generated in {:.1}s",
        w.posts.len(),
        avg_len,
        w.queries.len(),
        args.seed,
        t.elapsed().as_secs_f64()
    );
    let mut rates = Vec::new();
    for n in [args.small, args.large] {
        let (m, parse_t, compile_t) = compile_timed(&w.queries[..n], args.runs.min(3));
        let tp = throughput(&m, &w.posts, args.runs);
        let rate = tp.cpu.unwrap_or(tp.wall);
        let mem = m.heap_bytes();
        println!(
            "{n:>7} queries: {rate:>9.0} posts/s on-CPU ({:.0} wall), matching only, median of {} \
             runs; {} matches; {:.1} candidates evaluated/post; parse {:.1} ms + compile {:.1} ms; \
             matcher memory {:.2} MB ({:.2} MB per 10k queries); {} unanchored",
            tp.wall,
            args.runs,
            tp.matches,
            tp.candidates,
            parse_t.as_secs_f64() * 1e3,
            compile_t.as_secs_f64() * 1e3,
            mem as f64 / 1e6,
            mem as f64 / 1e6 / (n as f64 / 10_000.0),
            m.unanchored()
        );
        rates.push(rate);
    }
    if rates.len() == 2 {
        println!(
            "slowdown {} → {} queries: {:.2}× (on-CPU posts/s ratio)",
            args.small,
            args.large,
            rates[0] / rates[1]
        );
    }
    // The same through the `listen match` file path.
    let dir = std::env::temp_dir().join(format!("relais-bench-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let posts = dir.join("posts.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&posts)?);
    for l in &w.lines {
        writeln!(f, "{l}")?;
    }
    f.flush()?;
    drop(f);
    for n in [args.small, args.large] {
        let queries = dir.join(format!("queries-{n}.tsv"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&queries)?);
        for (i, q) in w.queries[..n].iter().enumerate() {
            writeln!(f, "q{i}\t{q}")?;
        }
        f.flush()?;
        drop(f);
        let out = dir.join("out.jsonl");
        let stats = run_match(&MatchArgs {
            queries,
            posts: posts.clone(),
            out: Some(out),
        })?;
        println!(
            "listen match {n:>7} queries: {:>10.0} posts/s matching only, {:.0} posts/s end to end \
             (read + JSON + match + write, build excluded), {} matches, build {:.1} ms",
            stats.matching_posts_per_s(),
            stats.posts as f64 / (stats.total - stats.build).as_secs_f64(),
            stats.matches,
            stats.build.as_secs_f64() * 1e3
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
