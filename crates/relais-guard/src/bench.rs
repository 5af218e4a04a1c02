//! `relais bench guard`: spelling recall on a typo corpus, false alarms on
//! clean professional text, and checking time for 3,000 characters.
//! The corpora (`bench/`) are embedded so the bench runs anywhere.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::check::{check, CheckContext};
use crate::finding::kinds;
use crate::tokenize;

const TYPOS_FR: &str = include_str!("../bench/typos_fr.tsv");
const TYPOS_EN: &str = include_str!("../bench/typos_en.tsv");
const CLEAN_FR: &str = include_str!("../bench/clean_fr.txt");
const CLEAN_EN: &str = include_str!("../bench/clean_en.txt");
const CUSTOM: &str = include_str!("../bench/custom_words.txt");

/// Arguments of `relais bench guard`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Timing runs for the 3,000-character sample (median reported).
    #[arg(long, default_value_t = 50)]
    pub iterations: usize,
    /// Print every missed typo and every false alarm.
    #[arg(long)]
    pub verbose: bool,
    /// Read the corpora from this directory instead of the embedded copies
    /// (typos_fr.tsv, typos_en.tsv, clean_fr.txt, clean_en.txt, custom_words.txt).
    #[arg(long)]
    pub corpus_dir: Option<PathBuf>,
}

/// Figures for one language.
#[derive(Debug, Clone, Default)]
pub struct LangFigures {
    pub typos: usize,
    pub detected: usize,
    /// Typo-corpus reference spellings that were (wrongly) flagged.
    pub references_flagged: usize,
    pub clean_words: usize,
    pub false_alarms: usize,
    pub median_ms_3000: f64,
    pub missed: Vec<String>,
    pub alarms: Vec<String>,
}

impl LangFigures {
    pub fn recall(&self) -> f64 {
        ratio(self.detected, self.typos)
    }
    pub fn false_alarm_rate(&self) -> f64 {
        ratio(self.false_alarms, self.clean_words)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn spelling_spans(text: &str, ctx: &CheckContext) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    check(text, ctx)
        .findings
        .into_iter()
        .filter(|f| f.kind == kinds::SPELLING)
        .map(|f| chars[f.start..f.end].iter().collect())
        .collect()
}

/// Measures one language on the given corpora.
pub fn measure(
    lang: &str,
    typos: &str,
    clean: &str,
    custom: &str,
    iterations: usize,
) -> LangFigures {
    let custom_words = custom
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let bare = CheckContext::new(lang);
    let ctx = CheckContext::new(lang).with_custom_words(custom_words);
    let mut f = LangFigures::default();
    for line in typos
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut cols = line.split('\t');
        let (Some(typo), Some(reference)) = (cols.next(), cols.next()) else {
            continue;
        };
        f.typos += 1;
        if spelling_spans(typo, &bare).is_empty() {
            f.missed.push(format!("{typo} ({reference})"));
        } else {
            f.detected += 1;
        }
        if !spelling_spans(reference, &bare).is_empty() {
            f.references_flagged += 1;
        }
    }
    f.clean_words = tokenize::scan(clean).words.len();
    f.alarms = spelling_spans(clean, &ctx);
    f.false_alarms = f.alarms.len();
    let sample: String = clean.chars().take(3000).collect();
    let mut times: Vec<f64> = (0..iterations.max(1))
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(check(&sample, &ctx));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    f.median_ms_3000 = times[times.len() / 2];
    f
}

fn read(dir: &Option<PathBuf>, name: &str, embedded: &'static str) -> Result<String, String> {
    match dir {
        None => Ok(embedded.to_string()),
        Some(d) => std::fs::read_to_string(d.join(name))
            .map_err(|e| format!("{}: {e}", d.join(name).display())),
    }
}

/// Runs the bench and prints the figures.
pub fn run_bench(args: &BenchArgs) -> ExitCode {
    let load = || -> Result<[String; 5], String> {
        Ok([
            read(&args.corpus_dir, "typos_fr.tsv", TYPOS_FR)?,
            read(&args.corpus_dir, "typos_en.tsv", TYPOS_EN)?,
            read(&args.corpus_dir, "clean_fr.txt", CLEAN_FR)?,
            read(&args.corpus_dir, "clean_en.txt", CLEAN_EN)?,
            read(&args.corpus_dir, "custom_words.txt", CUSTOM)?,
        ])
    };
    let [tfr, ten, cfr, cen, custom] = match load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("relais bench guard: {e}");
            return ExitCode::from(2);
        }
    };
    let t = Instant::now();
    crate::dict::preload();
    println!(
        "guard bench: dictionaries parsed in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    for (lang, typos, clean) in [("fr", &tfr, &cfr), ("en", &ten, &cen)] {
        let f = measure(lang, typos, clean, &custom, args.iterations);
        println!(
            "{lang}: recall {:.1} % ({}/{} typos) | false alarms {:.2} % of words ({}/{}) | reference words flagged {} | check 3,000 chars: median {:.2} ms",
            f.recall() * 100.0,
            f.detected,
            f.typos,
            f.false_alarm_rate() * 100.0,
            f.false_alarms,
            f.clean_words,
            f.references_flagged,
            f.median_ms_3000,
        );
        if args.verbose {
            for m in &f.missed {
                println!("  {lang} missed: {m}");
            }
            for a in &f.alarms {
                println!("  {lang} false alarm: {a}");
            }
        }
    }
    let big: String = cfr.repeat(100_000 / cfr.len().max(1) + 1);
    let ctx = CheckContext::new("fr").with_custom_words(custom.lines());
    let t = Instant::now();
    let n = check(&big, &ctx).findings.len();
    println!(
        "fr: check {} KB: {:.1} ms ({n} findings, all kinds)",
        big.len() / 1000,
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!("goals: recall >= 95 %, false alarms <= 1 % of words, <= 20 ms");
    ExitCode::SUCCESS
}
