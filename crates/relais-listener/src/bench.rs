//! `relais bench ingest`: the full listening path — JSON events (as a firehose or a feed poll
//! hands them over) → parsed → matched against every query of every workspace → enriched
//! (language, sentiment, story) → stored as mentions — on a real database. Prints events per
//! second (wall and per CPU-second of the whole process, database included) and the latency
//! from an event's receipt to its mention being committed.

use std::time::Instant;

use anyhow::Context;
use relais_domain::Lang;
use relais_listen::bench::corpus::{self, Rng};
use relais_store::testing::TempDir;
use relais_store::users::NewUser;
use relais_store::{ConnectOptions, Store};

use crate::{Incoming, Listener};

#[derive(clap::Args, Debug, Clone)]
pub struct IngestArgs {
    /// Events to ingest.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Queries, spread over the workspaces.
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
    #[arg(long, default_value_t = 10)]
    pub workspaces: usize,
    /// Share of events that mention a followed brand (the rest is the stream's background: on a
    /// firehose almost nothing matches). 100 = every event is about a followed brand.
    #[arg(long, default_value_t = 5)]
    pub match_percent: u32,
    /// Events per batch (one transaction per batch).
    #[arg(long, default_value_t = 2_000)]
    pub batch: usize,
    /// Database (default: a fresh SQLite file in a temp folder).
    #[arg(long)]
    pub database_url: Option<String>,
}

/// One event of the stream as it arrives (Bluesky-like JSON).
#[derive(serde::Deserialize)]
struct Event {
    text: String,
    #[serde(default)]
    lang: Option<String>,
}

/// CPU seconds used by this process so far (user + system), from /proc (Linux).
fn process_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn pct(xs: &mut [f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}

pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    let _dir;
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => {
            let d = TempDir::new();
            let u = format!("sqlite://{}/bench.db", d.0.display());
            _dir = d;
            u
        }
    };
    let store = Store::connect(&url, &ConnectOptions::default())
        .await
        .context("database")?;
    store.migrate().await?;
    let mut rng = Rng::new(42);
    let brands = corpus::brands(args.queries.max(1) * 2, &mut rng);
    let mut tx = store.begin().await?;
    let u = store
        .create_user(
            &mut tx,
            NewUser {
                email: "bench@example.org",
                name: "bench",
                password_hash: "x",
                lang: Some(Lang::Fr),
                is_admin: false,
            },
        )
        .await?;
    let mut ws = Vec::new();
    for w in 0..args.workspaces.max(1) {
        ws.push(
            store
                .create_workspace(
                    &mut tx,
                    &format!("bench {w}"),
                    "Europe/Paris",
                    Lang::Fr,
                    u.id,
                )
                .await?
                .id,
        );
    }
    for i in 0..args.queries {
        let q = corpus::query(i, &mut rng, &brands);
        store
            .create_query(&mut tx, ws[i % ws.len()], &format!("q{i}"), &q, "brand")
            .await?;
    }
    tx.commit().await?;
    // Background posts talk about brands nobody follows.
    let others: Vec<String> = corpus::brands(args.queries.max(1) * 4, &mut rng)
        .into_iter()
        .filter(|b| !brands.contains(b))
        .collect();
    let lines: Vec<String> = (0..args.events)
        .map(|_| {
            if rng.below(100) < args.match_percent as usize {
                corpus::post(&mut rng, &brands)
            } else {
                corpus::post(&mut rng, &others)
            }
        })
        .collect();
    let net = relais_net::Net::new(relais_net::NetConfig::default())?;
    let listener = Listener::new(store.clone(), net);
    let audience: Vec<(i64, Option<i64>)> = ws.iter().map(|w| (*w, None)).collect();
    // Compile the matcher before the clock starts (it is cached between polls in production).
    listener.store_matches("bluesky", &audience, &[]).await?;

    let cpu0 = process_cpu_s();
    let t0 = Instant::now();
    let mut latencies = Vec::with_capacity(args.events);
    let mut stored = 0;
    let mut bad = 0;
    for (b, chunk) in lines.chunks(args.batch.max(1)).enumerate() {
        let mut received = Vec::with_capacity(chunk.len());
        let mut items = Vec::with_capacity(chunk.len());
        for (i, line) in chunk.iter().enumerate() {
            received.push(Instant::now());
            match serde_json::from_str::<Event>(line) {
                Ok(e) => items.push(Incoming {
                    guid: format!("at://bench/{b}/{i}"),
                    text: e.text,
                    langs: e.lang.into_iter().collect(),
                    ..Incoming::default()
                }),
                Err(_) => bad += 1,
            }
        }
        stored += listener.store_matches("bluesky", &audience, &items).await?;
        let done = Instant::now();
        latencies.extend(received.iter().map(|r| (done - *r).as_secs_f64() * 1000.0));
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu0.zip(process_cpu_s()).map(|(a, b)| b - a);
    let n = args.events as f64;
    println!(
        "ingest bench on {}: {} events ({} % about followed brands), {} queries in {} workspaces, {} mentions stored ({} unparsable)",
        format!("{:?}", store.backend()).to_lowercase(),
        args.events,
        args.match_percent,
        args.queries,
        ws.len(),
        stored,
        bad
    );
    println!(
        "throughput: {:.0} events/s wall ({:.0} stored mentions/s){}; receipt→stored p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (batches of {})",
        n / wall,
        stored as f64 / wall,
        cpu.filter(|c| *c > 0.0)
            .map(|c| format!(", {:.0} events per CPU-second ({:.2} CPU-s)", n / c, c))
            .unwrap_or_default(),
        pct(&mut latencies.clone(), 0.5),
        pct(&mut latencies.clone(), 0.99),
        pct(&mut latencies, 1.0),
        args.batch
    );
    Ok(())
}
