//! `relais listen match` and `relais bench listen`, as clap types the `relais` binary mounts.

mod input;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub use input::{parse_post, parse_queries, ListenError, PostLine, QueryFile};

use crate::matcher::{Matcher, Scratch};

/// `relais listen …`
#[derive(Debug, clap::Subcommand)]
pub enum ListenCommand {
    /// Match posts (JSON Lines with a "text" field) against queries (ID<TAB>EXPRESSION lines)
    /// and write one JSON line {"post":N,"query":"ID"} per match.
    Match(MatchArgs),
}

/// Arguments of `relais listen match`.
#[derive(Debug, Clone, clap::Args)]
pub struct MatchArgs {
    /// Queries file: one `ID<TAB>EXPRESSION` per line; blank lines and `#` lines are comments.
    #[arg(long, value_name = "QUERIES")]
    pub queries: PathBuf,
    /// Posts file: JSON Lines, each an object with a string field "text".
    #[arg(long, value_name = "POSTS")]
    pub posts: PathBuf,
    /// Output file (default: stdout); written to a temporary file then renamed.
    #[arg(long, value_name = "OUT")]
    pub out: Option<PathBuf>,
}

/// Figures of one `listen match` run.
#[derive(Debug, Clone, Default)]
pub struct MatchStats {
    /// Queries compiled.
    pub queries: usize,
    /// Posts read (non-blank lines).
    pub posts: u64,
    /// (post, query) matches written.
    pub matches: u64,
    /// Time to parse and compile the queries.
    pub build: Duration,
    /// Time spent in the matcher only (no IO, no JSON).
    pub matching: Duration,
    /// Wall time of the whole run.
    pub total: Duration,
}

impl MatchStats {
    /// Posts per second counting matching time only.
    pub fn matching_posts_per_s(&self) -> f64 {
        self.posts as f64 / self.matching.as_secs_f64().max(1e-9)
    }

    /// The summary line printed last on stderr.
    pub fn summary(&self) -> String {
        format!(
            "listen match: posts={} matches={} posts_per_s={:.0} (matching only) build_ms={:.1} \
             queries={} total_s={:.3}",
            self.posts,
            self.matches,
            self.matching_posts_per_s(),
            self.build.as_secs_f64() * 1e3,
            self.queries,
            self.total.as_secs_f64()
        )
    }
}

/// Run a `relais listen` command; errors are printed on stderr.
pub fn run(cmd: ListenCommand) -> ExitCode {
    match cmd {
        ListenCommand::Match(args) => match run_match(&args) {
            Ok(stats) => {
                eprintln!("{}", stats.summary());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                match e {
                    ListenError::Io { .. } => ExitCode::from(1),
                    _ => ExitCode::from(2),
                }
            }
        },
    }
}

/// `listen match`: nothing is written to OUT unless the whole run succeeds.
pub fn run_match(args: &MatchArgs) -> Result<MatchStats, ListenError> {
    let start = Instant::now();
    let content = std::fs::read(&args.queries).map_err(|e| ListenError::io(&args.queries, e))?;
    let qf = parse_queries(&args.queries, &content)?;
    let matcher = Matcher::compile_queries(&qf.queries);
    let build = start.elapsed();
    // Output lines end with the JSON-escaped id, computed once.
    let tails: Vec<Vec<u8>> = qf
        .ids
        .iter()
        .map(|id| {
            let esc = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
            format!(",\"query\":{esc}}}\n").into_bytes()
        })
        .collect();
    let mut stats = MatchStats {
        queries: qf.ids.len(),
        build,
        ..MatchStats::default()
    };
    match &args.out {
        Some(out) => {
            let tmp = temp_path(out);
            let file = File::create(&tmp).map_err(|e| ListenError::io(&tmp, e))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            let res = match_posts(&matcher, &tails, &args.posts, &mut w, &mut stats)
                .and_then(|()| w.flush().map_err(|e| ListenError::io(&tmp, e)));
            drop(w);
            let res =
                res.and_then(|()| std::fs::rename(&tmp, out).map_err(|e| ListenError::io(out, e)));
            if res.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            res?;
        }
        None => {
            // Buffered whole so that an error leaves stdout empty.
            let mut buf = Vec::new();
            match_posts(&matcher, &tails, &args.posts, &mut buf, &mut stats)?;
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            lock.write_all(&buf)
                .and_then(|()| lock.flush())
                .map_err(|e| ListenError::io(Path::new("<stdout>"), e))?;
        }
    }
    stats.total = start.elapsed();
    Ok(stats)
}

fn temp_path(out: &Path) -> PathBuf {
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    out.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn match_posts<W: Write>(
    matcher: &Matcher,
    tails: &[Vec<u8>],
    posts: &Path,
    w: &mut W,
    stats: &mut MatchStats,
) -> Result<(), ListenError> {
    let file = File::open(posts).map_err(|e| ListenError::io(posts, e))?;
    let mut rd = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::with_capacity(4096);
    let mut scratch = Scratch::new();
    let mut hits = Vec::new();
    let mut index: u64 = 0;
    let mut matching = Duration::ZERO;
    let out_err = |e| ListenError::io(Path::new("<output>"), e);
    loop {
        line.clear();
        if rd
            .read_until(b'\n', &mut line)
            .map_err(|e| ListenError::io(posts, e))?
            == 0
        {
            break;
        }
        let mut l = trim_eol(&line);
        if index == 0 {
            l = l.strip_prefix(b"\xef\xbb\xbf").unwrap_or(l);
        }
        if l.iter().all(u8::is_ascii_whitespace) {
            index += 1;
            continue;
        }
        let post = parse_post(l).map_err(|message| ListenError::Post {
            path: posts.to_owned(),
            line: index + 1,
            message,
        })?;
        // Languages on the stack: no allocation per post unless a post declares more than 8.
        let mut stack = [""; 8];
        let mut heap = Vec::new();
        let all = post.lang.as_deref().into_iter();
        let all = all.chain(post.langs.iter().flatten().map(|s| s.as_ref()));
        let mut n = 0;
        for l in all {
            if n < stack.len() {
                stack[n] = l;
                n += 1;
            } else {
                if heap.is_empty() {
                    heap.extend_from_slice(&stack);
                }
                heap.push(l);
            }
        }
        let langs: &[&str] = if heap.is_empty() { &stack[..n] } else { &heap };
        let t0 = Instant::now();
        matcher.match_with(&mut scratch, &post.text, langs, &mut hits);
        matching += t0.elapsed();
        stats.posts += 1;
        for &q in &hits {
            write!(w, "{{\"post\":{index}").map_err(out_err)?;
            w.write_all(&tails[q as usize]).map_err(out_err)?;
        }
        stats.matches += hits.len() as u64;
        index += 1;
    }
    stats.matching = matching;
    Ok(())
}

fn trim_eol(l: &[u8]) -> &[u8] {
    let l = l.strip_suffix(b"\n").unwrap_or(l);
    l.strip_suffix(b"\r").unwrap_or(l)
}
