//! `cargo run -p relais-guard --example check -- FILE [--lang fr|en] [--format json] [--charter C.json]`:
//! the same contract as `relais check`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: relais_guard::CheckArgs,
}

fn main() -> std::process::ExitCode {
    relais_guard::run_check(&Cli::parse().args, None)
}
