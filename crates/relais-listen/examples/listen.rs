//! Development binary mounting the commands exactly as the `relais` binary does:
//! `cargo run --release -p relais-listen --example listen -- listen match --queries Q --posts P`
//! and `… -- bench listen`.

use clap::{Parser, Subcommand};
use relais_listen::{run, run_bench, BenchArgs, ListenCommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Social listening.
    #[command(subcommand)]
    Listen(ListenCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Throughput of the listening matcher on a generated workload.
    Listen(BenchArgs),
}

fn main() -> std::process::ExitCode {
    match Cli::parse().cmd {
        Cmd::Listen(c) => run(c),
        Cmd::Bench(BenchCmd::Listen(a)) => run_bench(a),
    }
}
