//! `cargo run --release -p relais-enrich --example enrich_bench [posts] [runs]`: throughput figures.

fn main() {
    let mut args = std::env::args().skip(1);
    let posts = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let report = relais_enrich::bench::run(posts, runs, 42);
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("report serialises")
    );
}
