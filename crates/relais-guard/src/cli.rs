//! `relais check FILE [--lang fr|en] [--workspace W] [--format json]`.
//!
//! Exit status: 0 when nothing blocks, 1 when something blocks, 2 on usage or
//! input errors. JSON output is one finding per line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::charter::Charter;
use crate::check::{check, CheckContext};
use crate::dict::Lang;
use crate::finding::{Finding, UiLang};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per finding and per line (JSON Lines).
    Json,
    /// Human-readable list.
    Text,
}

/// Arguments of `relais check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// UTF-8 text file to check (`-` reads standard input).
    pub file: PathBuf,
    /// Language of the text: fr or en.
    #[arg(long, default_value = "fr")]
    pub lang: String,
    /// Workspace whose charter applies (resolved by the caller).
    #[arg(long)]
    pub workspace: Option<String>,
    /// Output format; without it, a human-readable list.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Charter JSON file, for use without a database (wins over --workspace).
    #[arg(long, value_name = "FILE.json")]
    pub charter: Option<PathBuf>,
    /// Channel kind for per-channel rules (linkedin, instagram, newsletter…).
    #[arg(long)]
    pub channel: Option<String>,
    /// Language of the messages (fr or en); defaults to --lang.
    #[arg(long)]
    pub ui_lang: Option<String>,
}

/// Runs `relais check`; `charter` is the workspace's stored charter, if any.
pub fn run_check(args: &CheckArgs, charter: Option<Charter>) -> ExitCode {
    let code = run_check_to(
        args,
        charter,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}

/// Same as [`run_check`], writing to the given streams; returns the exit status.
pub fn run_check_to(
    args: &CheckArgs,
    charter: Option<Charter>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    match run(args, charter, out, err) {
        Ok(code) => code,
        Err(msg) => {
            let _ = writeln!(err, "relais check: {msg}");
            2
        }
    }
}

fn read_input(path: &PathBuf) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn load_charter(args: &CheckArgs, given: Option<Charter>) -> Result<Option<Charter>, String> {
    let Some(path) = &args.charter else {
        return Ok(given);
    };
    let raw = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read charter {}: {e}", path.display()))?;
    serde_json::from_str(&raw)
        .map(Some)
        .map_err(|e| format!("invalid charter {}: {e}", path.display()))
}

fn run(
    args: &CheckArgs,
    charter: Option<Charter>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, String> {
    if Lang::parse(&args.lang).is_none() {
        return Err(format!(
            "unsupported --lang {:?}: expected fr or en",
            args.lang
        ));
    }
    let bytes = read_input(&args.file)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        format!(
            "{} is not valid UTF-8: invalid byte at offset {}",
            args.file.display(),
            e.valid_up_to()
        )
    })?;
    let ui = args
        .ui_lang
        .as_deref()
        .map_or(UiLang::parse(&args.lang), UiLang::parse);
    let mut ctx = CheckContext::new(&args.lang).with_ui_lang(ui);
    if let Some(c) = &args.channel {
        ctx = ctx.with_channel(c);
    }
    if let Some(ch) = load_charter(args, charter)? {
        ctx = ctx.with_charter(&ch).map_err(|e| e.to_string())?;
    }
    if text.trim().is_empty() {
        let _ = writeln!(err, "relais check: empty text, nothing to check");
        return Ok(0);
    }
    let report = check(text, &ctx);
    for l in &report.languages_without_dictionary {
        let _ = writeln!(
            err,
            "relais check: no spelling dictionary for {l:?}: spelling not checked"
        );
    }
    let io = |e: std::io::Error| format!("cannot write output: {e}");
    match args.format {
        Some(OutputFormat::Json) => {
            for f in &report.findings {
                // Finding serialises exactly the contract's fields, in order.
                let line = serde_json::to_string(f).map_err(|e| e.to_string())?;
                writeln!(out, "{line}").map_err(io)?;
            }
        }
        _ => write_human(text, &report.findings, ui, out).map_err(io)?,
    }
    Ok(if report.blocking { 1 } else { 0 })
}

fn write_human(
    text: &str,
    findings: &[Finding],
    ui: UiLang,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if findings.is_empty() {
        return writeln!(
            out,
            "{}",
            ui.pick("Aucun problème trouvé.", "No problems found.")
        );
    }
    // Line/column (1-based) of each char offset, computed in one pass.
    let mut pos = Vec::with_capacity(text.len() + 1);
    let (mut line, mut col) = (1, 1);
    for c in text.chars() {
        pos.push((line, col));
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    pos.push((line, col));
    for f in findings {
        let (l, c) = pos[f.start.min(pos.len() - 1)];
        let excerpt: String = text
            .chars()
            .skip(f.start)
            .take(f.end.saturating_sub(f.start).min(40))
            .collect();
        write!(
            out,
            "{l}:{c} [{}] {} — {}",
            f.severity.as_str(),
            f.kind,
            f.message
        )?;
        if !excerpt.trim().is_empty() && !f.kind.starts_with("pii.") {
            write!(out, " «{}»", excerpt.replace('\n', " "))?;
        }
        if !f.suggestions.is_empty() {
            let s: Vec<String> = f.suggestions.iter().map(|s| format!("{s:?}")).collect();
            write!(out, " → {}", s.join(", "))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
