//! `relais bench publish`: many targets due in the same minute, published by N workers through
//! webhook channels to a local sink; reports lateness (sink receipt − scheduled time),
//! throughput and duplicates (deliveries per idempotency key beyond the first).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use relais_domain::publish::TargetState;
use relais_domain::Lang;
use relais_net::{Net, NetConfig, SsrfPolicy};
use relais_store::audit::Actor;
use relais_store::posts::NewTarget;
use relais_store::secrets::Keyring;
use relais_store::testing::TempDir;
use relais_store::users::NewUser;
use relais_store::worker::{Registry, Worker, WorkerConfig};
use relais_store::{ConnectOptions, Store};

use crate::sink::{Sink, SinkBehaviour};
use crate::{ChannelCredentials, ChannelService, Publisher, PublisherConfig};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Targets to publish.
    #[arg(long, default_value_t = 10_000)]
    pub targets: usize,
    /// Webhook channels the targets are spread over.
    #[arg(long, default_value_t = 8)]
    pub channels: usize,
    /// Worker tasks (each one a full job worker, as separate processes would be).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Jobs each worker runs at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// The due times are spread evenly over this many seconds (0 = all at the same instant).
    #[arg(long, default_value_t = 60)]
    pub spread_secs: u64,
    /// Seconds between the end of the setup and the first due time.
    #[arg(long, default_value_t = 5)]
    pub lead_secs: u64,
    /// Worker poll interval in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Database (default: a fresh SQLite file in a temp folder). A PostgreSQL database should
    /// be empty: the bench adds a workspace and targets to it.
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub backend: String,
    pub targets: usize,
    /// Targets `published` in the database.
    pub published: usize,
    /// Distinct idempotency keys the sink received.
    pub received: usize,
    pub duplicates: usize,
    pub lateness_p50_ms: i64,
    pub lateness_p99_ms: i64,
    pub lateness_max_ms: i64,
    /// Deliveries per second between the first and the last receipt.
    pub throughput_per_s: f64,
    pub setup_s: f64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "publish bench on {}: {}/{} published ({} received), {} duplicates; lateness p50 {} ms, p99 {} ms, max {} ms; \
             throughput {:.0}/s (setup {:.1} s)",
            self.backend,
            self.published,
            self.targets,
            self.received,
            self.duplicates,
            self.lateness_p50_ms,
            self.lateness_p99_ms,
            self.lateness_max_ms,
            self.throughput_per_s,
            self.setup_s
        )
    }
}

/// Runs the bench, prints the report and returns it.
pub async fn run_bench(args: BenchArgs) -> anyhow::Result<BenchReport> {
    let started = Instant::now();
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
    let pool = (args.workers * args.concurrency).clamp(8, 48) as u32;
    let store = Store::connect(
        &url,
        &ConnectOptions {
            max_connections: pool,
            acquire_timeout: Duration::from_secs(30),
        },
    )
    .await?;
    store.migrate().await?;
    // base64url without padding → standard base64 of the same 32 random bytes.
    let key = relais_store::random_token(32)
        .replace('-', "+")
        .replace('_', "/")
        + "=";
    let ring = Keyring::from_base64(&key)?;
    let net = Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"])?,
        timeout: Duration::from_secs(10),
        ..NetConfig::default()
    })?;
    let sink = Sink::start(SinkBehaviour::default()).await?;
    let (workspace_id, due) = setup(&store, &ring, &net, &sink, &args).await?;
    let setup_s = started.elapsed().as_secs_f64();

    let publisher = Publisher::new(ring, net, PublisherConfig::default());
    let mut registry = Registry::new();
    crate::register(&mut registry, publisher);
    let (stop, rx) = tokio::sync::watch::channel(false);
    let mut handles = Vec::new();
    for i in 0..args.workers {
        let cfg = WorkerConfig {
            id: format!("bench-{i}-{}", relais_store::random_token(3)),
            concurrency: args.concurrency,
            poll: Duration::from_millis(args.poll_ms),
            ..WorkerConfig::default()
        };
        let w = Worker::new(store.clone(), registry.clone(), cfg);
        handles.push(tokio::spawn(w.run(rx.clone())));
    }
    let deadline = Instant::now() + Duration::from_secs(args.lead_secs + args.spread_secs + 180);
    while sink.distinct() < args.targets && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let late duplicates (if any) arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop.send(true);
    for h in handles {
        let _ = h.await;
    }
    let (counts, _) = store.target_counts(workspace_id, 0).await?;
    let in_db = counts
        .iter()
        .find(|(s, _)| s == "published")
        .map_or(0, |(_, n)| *n as usize);
    let report = measure(in_db, &sink, &due, &args, setup_s);
    store.close().await;
    println!("{report}");
    Ok(report)
}

/// One workspace, `channels` webhook channels on the sink, `targets` targets scheduled over
/// the spread. Returns each target's idempotency key → scheduled instant.
async fn setup(
    store: &Store,
    ring: &Keyring,
    net: &Net,
    sink: &Sink,
    args: &BenchArgs,
) -> anyhow::Result<(i64, HashMap<String, i64>)> {
    let mut tx = store.begin().await?;
    let email = format!("bench-{}@relais.invalid", relais_store::random_token(6));
    let u = store
        .create_user(
            &mut tx,
            NewUser {
                email: &email,
                name: "bench",
                password_hash: "x",
                lang: None,
                is_admin: false,
            },
        )
        .await?;
    let w = store
        .create_workspace(&mut tx, "bench", "UTC", Lang::En, u.id)
        .await?;
    tx.commit().await?;
    let svc = ChannelService::new(store.clone(), ring.clone(), net.clone());
    let actor = Actor::system("bench");
    let mut channels = Vec::new();
    for i in 0..args.channels.max(1) {
        let creds = ChannelCredentials::Webhook {
            url: sink.url(i),
            secret: format!("bench-secret-{i}"),
        };
        let ch = svc
            .connect(w.id, &format!("hook {i}"), &creds, (u.id, &actor))
            .await
            .context("connecting a bench channel")?;
        channels.push(ch.id);
    }
    // Drafts first, then the schedule: the due times start after the slow part.
    let mut ids = Vec::with_capacity(args.targets);
    for chunk in (0..args.targets).collect::<Vec<_>>().chunks(500) {
        let mut tx = store.begin().await?;
        let post = store.create_post(&mut tx, w.id, u.id, "bench", &[]).await?;
        for i in chunk {
            let t = store
                .add_target(
                    &mut tx,
                    &post,
                    NewTarget {
                        channel_id: channels[i % channels.len()],
                        body: &format!("bench post {i}"),
                        options: &serde_json::json!({}),
                        state: TargetState::Draft,
                        scheduled_at: None,
                    },
                )
                .await?;
            ids.push((t.id, t.idempotency_key));
        }
        tx.commit().await?;
    }
    let t0 = relais_store::now() + args.lead_secs as i64 * 1000;
    let spread = args.spread_secs as i64 * 1000;
    let n = args.targets.max(1) as i64;
    let mut due = HashMap::with_capacity(ids.len());
    for (chunk_no, chunk) in ids.chunks(500).enumerate() {
        let mut tx = store.begin().await?;
        for (j, (id, key)) in chunk.iter().enumerate() {
            let i = (chunk_no * 500 + j) as i64;
            let at = t0 + spread * i / n;
            crate::schedule(store, &mut tx, *id, TargetState::Draft, at).await?;
            due.insert(key.clone(), at);
        }
        tx.commit().await?;
    }
    Ok((w.id, due))
}

fn measure(
    published_in_db: usize,
    sink: &Sink,
    due: &HashMap<String, i64>,
    args: &BenchArgs,
    setup_s: f64,
) -> BenchReport {
    let receipts = sink.first_receipts();
    let mut late: Vec<i64> = receipts
        .iter()
        .filter_map(|(k, at)| due.get(k).map(|d| (at - d).max(0)))
        .collect();
    late.sort_unstable();
    let pct = |p: f64| -> i64 {
        if late.is_empty() {
            return 0;
        }
        let i = ((late.len() as f64 * p).ceil() as usize).clamp(1, late.len()) - 1;
        late[i]
    };
    let (first, last) = receipts
        .values()
        .fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(*t), b.max(*t)));
    let span_s = ((last - first).max(1)) as f64 / 1000.0;
    BenchReport {
        backend: match args.database_url.as_deref() {
            Some(u) if u.starts_with("postgres") => "postgresql".into(),
            _ => "sqlite".into(),
        },
        targets: args.targets,
        published: published_in_db,
        received: receipts.len(),
        duplicates: sink.duplicates(),
        lateness_p50_ms: pct(0.50),
        lateness_p99_ms: pct(0.99),
        lateness_max_ms: late.last().copied().unwrap_or(0),
        throughput_per_s: receipts.len() as f64 / span_s,
        setup_s,
    }
}
