//! `cargo run --release -p relais-publisher --example publish_bench -- --workers 2` (what
//! `relais bench publish` runs).

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: relais_publisher::bench::BenchArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    relais_publisher::bench::run_bench(Cli::parse().args).await?;
    Ok(())
}
