//! `cargo run --release -p relais-guard --example guard_bench -- [--verbose]`:
//! the same figures as `relais bench guard`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: relais_guard::BenchArgs,
}

fn main() -> std::process::ExitCode {
    relais_guard::run_bench(&Cli::parse().args)
}
