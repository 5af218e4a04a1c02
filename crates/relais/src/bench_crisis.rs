//! `relais bench crisis`: delivery latency of crisis alerts. The whole application runs (its
//! worker, the recurring evaluation every 10 s, the delivery jobs) on a fresh SQLite database;
//! bursts are injected on many queries at once and a webhook receiver on loopback notes when
//! each escalation arrives. Latency = receipt − the instant the burst became statistically
//! significant (the end of the burst's minute, when its bucket closes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use relais_domain::Lang;
use relais_store::alerts::NewAlertRule;
use relais_store::mentions::NewMention;
use relais_store::testing::TempDir;
use relais_store::users::NewUser;

use crate::app::{Application, Roles};
use crate::config::Settings;

#[derive(clap::Args, Debug, Clone)]
pub struct CrisisArgs {
    /// Queries bursting together in each round (one alert each).
    #[arg(long, default_value_t = 30)]
    pub queries: usize,
    /// Rounds (each waits for a fresh minute: about 70 s per round).
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Mentions per burst.
    #[arg(long, default_value_t = 40)]
    pub burst: usize,
}

type Received = Arc<Mutex<HashMap<String, i64>>>;

async fn receiver(got: Received) -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let got = got.clone();
            async move {
                if let Some(k) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
                    got.lock()
                        .expect("lock")
                        .entry(k.to_string())
                        .or_insert_with(relais_store::now);
                }
                axum::Json(serde_json::json!({ "ok": true }))
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = l.local_addr()?;
    tokio::spawn(async move { axum::serve(l, app).await });
    Ok(format!("http://{addr}/hook"))
}

fn pct(xs: &[i64], p: f64) -> i64 {
    if xs.is_empty() {
        return 0;
    }
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}

pub async fn run(args: CrisisArgs) -> anyhow::Result<()> {
    let dir = TempDir::new();
    let mut s = Settings::from_toml(
        "listen = \"127.0.0.1:0\"\n[worker]\npoll_ms = 100\n",
        "bench",
    )?;
    s.data_dir = dir.0.clone();
    s.database_url = format!("sqlite://{}/relais.db", dir.0.display());
    s.security.fetch_allow = vec!["127.0.0.1/32".into()];
    let app = Application::build(
        &s,
        Roles {
            web: false,
            worker: true,
        },
    )
    .await?;
    let state = app.state.clone();
    let store = state.store.clone();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let got: Received = Arc::default();
    let hook = receiver(got.clone()).await?;

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
    let ws = store
        .create_workspace(&mut tx, "bench", "Europe/Paris", Lang::Fr, u.id)
        .await?
        .id;
    let secret = serde_json::to_vec(&relais_web::service::alerts::TargetSecret {
        homeserver: String::new(),
        token: "bench-signing-secret".into(),
    })?;
    let sid = store
        .put_secret(
            &mut tx,
            &state.keyring,
            relais_web::service::alerts::PURPOSE,
            &secret,
        )
        .await?;
    store
        .add_escalation_target(&mut tx, ws, "webhook", "bench", &hook, Some(sid))
        .await?;
    let mut rounds = Vec::new();
    for r in 0..args.rounds {
        let mut qs = Vec::new();
        for i in 0..args.queries {
            qs.push(
                store
                    .create_query(
                        &mut tx,
                        ws,
                        &format!("q{r}-{i}"),
                        &format!("marque{r}x{i}"),
                        "brand",
                    )
                    .await?
                    .id,
            );
        }
        rounds.push(qs);
    }
    tx.commit().await?;
    let week_ago = relais_store::now() / 60_000 - 7 * 1_440;
    for q in rounds.iter().flatten() {
        store
            .create_alert_rule(NewAlertRule {
                workspace_id: ws,
                query_id: *q,
                mode: "crisis",
                threshold: 0,
                window_minutes: 60,
                sensitivity: 3,
                cooldown_minutes: 30,
                escalate: true,
                cursor: week_ago,
                created_by: Some(u.id),
            })
            .await?;
    }
    // Learn a quiet week before the first burst.
    relais_web::service::alerts::engine::evaluate_all(&state, relais_store::now()).await?;

    let mut latencies = Vec::new();
    let mut missing = 0;
    for (r, qs) in rounds.iter().enumerate() {
        // Start the burst just after a minute begins, so it falls in one bucket.
        let now = relais_store::now();
        let wait = 60_000 - now % 60_000 + 2_000;
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        let minute_end = (relais_store::now() / 60_000 + 1) * 60_000;
        let mut tx = store.begin().await?;
        for (i, q) in qs.iter().enumerate() {
            for k in 0..args.burst {
                let body = format!("Scandale marque{r}x{i} : rappel, honte {k}");
                let guid = format!("r{r}q{i}k{k}");
                let m = NewMention {
                    workspace_id: ws,
                    source_id: None,
                    guid: &guid,
                    query_ids: &[*q],
                    url: None,
                    author: Some("bench"),
                    title: None,
                    body: &body,
                    lang: Some("fr"),
                    published_at: None,
                    origin: "bluesky",
                    sentiment: Some("negative"),
                    sentiment_score: Some(-800),
                    story_id: Some(i as i64),
                };
                store.insert_mention(&mut tx, m).await?;
            }
        }
        tx.commit().await?;
        // Wait for every alert of the round (at most two minutes after the bucket closes).
        let deadline = Instant::now()
            + Duration::from_millis((minute_end - relais_store::now()).max(0) as u64 + 120_000);
        loop {
            let alerts = store.alerts(ws, 10_000).await?;
            let round: Vec<_> = alerts
                .iter()
                .filter(|a| a.kind == "crisis" && a.title.contains(&format!("« q{r}-")))
                .collect();
            let got = got.lock().expect("lock").clone();
            let arrived: Vec<i64> = round
                .iter()
                .filter_map(|a| {
                    got.get(&format!("relais-alert-{}", a.id))
                        .map(|t| t - a.detected_at)
                })
                .collect();
            if arrived.len() >= qs.len() || Instant::now() > deadline {
                missing += qs.len() - arrived.len();
                latencies.extend(arrived);
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        eprintln!("round {}/{} done", r + 1, rounds.len());
    }
    let _ = stop.send(());
    let _ = run.await;
    latencies.sort_unstable();
    println!(
        "crisis bench: {} alerts delivered ({} missing) over {} rounds of {} queries; significance→delivery p50 {:.1} s, p99 {:.1} s, max {:.1} s (goal p99 ≤ 60 s)",
        latencies.len(),
        missing,
        args.rounds,
        args.queries,
        pct(&latencies, 0.5) as f64 / 1000.0,
        pct(&latencies, 0.99) as f64 / 1000.0,
        pct(&latencies, 1.0) as f64 / 1000.0,
    );
    anyhow::ensure!(missing == 0, "{missing} alerts were not delivered");
    Ok(())
}
