//! `relais sentiment learn`: lexicon lines learned from the user's labelled posts (see
//! `relais_enrich::sentiment::learn`), written as a lexicon file to review and load with
//! `[listening] sentiment_lexicon`.

use std::path::PathBuf;
use std::process::ExitCode;

use relais_enrich::sentiment::learn::{learn, parse_labelled};

#[derive(clap::Subcommand, Debug)]
pub enum SentimentCommand {
    /// Learn the words of your sector from labelled posts (label<TAB>text per line; labels
    /// negative, neutral, positive) and write them as a lexicon file.
    Learn {
        /// Labelled posts, UTF-8, one `label<TAB>text` per line (`#` starts a comment).
        #[arg(long)]
        data: PathBuf,
        /// Language of the posts: fr or en.
        #[arg(long)]
        lang: String,
        /// Lexicon file to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Your current lexicon file, extended rather than replaced.
        #[arg(long)]
        lexicon: Option<PathBuf>,
    },
}

fn read(path: &PathBuf, what: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{what} {}: not UTF-8 (byte {}): save the file as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

pub fn run(cmd: SentimentCommand) -> ExitCode {
    let SentimentCommand::Learn {
        data,
        lang,
        out,
        lexicon,
    } = cmd;
    let result = (|| -> Result<String, String> {
        let posts = parse_labelled(&read(&data, "--data")?)
            .map_err(|e| format!("--data {}: {e}", data.display()))?;
        let base = match &lexicon {
            Some(p) => read(p, "--lexicon")?,
            None => String::new(),
        };
        let learned = learn(&base, &lang, &posts)?;
        let pct = |a: usize, n: usize| 100.0 * a as f64 / n.max(1) as f64;
        eprintln!(
            "{} terms learned from {} posts; accuracy on training posts {:.1} % -> {:.1} %, on {} held-out posts {:.1} % -> {:.1} %",
            learned.lines.len(),
            learned.train,
            pct(learned.train_before, learned.train),
            pct(learned.train_after, learned.train),
            learned.held_out,
            pct(learned.held_out_before, learned.held_out),
            pct(learned.held_out_after, learned.held_out),
        );
        Ok(learned.to_tsv(&lang, &data.display().to_string()))
    })();
    let tsv = match result {
        Ok(t) => t,
        Err(e) => {
            eprintln!("relais sentiment learn: {e}");
            return ExitCode::from(2);
        }
    };
    match out {
        None => print!("{tsv}"),
        // Written beside, then renamed: an interrupted run leaves the old file whole.
        Some(path) => {
            let tmp = path.with_extension("tmp");
            if let Err(e) = std::fs::write(&tmp, &tsv).and_then(|_| std::fs::rename(&tmp, &path)) {
                eprintln!("relais sentiment learn: --out {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
