//! Operations: `/health` (database reachable, queue lag), `/metrics` (Prometheus text) and the
//! request counters behind it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::AppState;

#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    duration_us: AtomicU64,
    started: std::sync::OnceLock<Instant>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics::default();
        let _ = m.started.set(Instant::now());
        m
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
}

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let res = next.run(req).await;
    let class = (res.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    state.metrics.by_class[class].fetch_add(1, Ordering::Relaxed);
    state
        .metrics
        .duration_us
        .fetch_add(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
    res
}

async fn health(State(state): State<AppState>) -> Response {
    let db = state.store.ping().await.is_ok();
    let queue = if db {
        state.store.queue_stats().await.ok()
    } else {
        None
    };
    let body = serde_json::json!({
        "status": if db { "ok" } else { "unavailable" },
        "database": if db { "ok" } else { "unreachable" },
        "queue_lag_seconds": queue.as_ref().map(|q| q.lag_ms as f64 / 1000.0),
        "jobs_dead": queue.as_ref().map(|q| q.dead),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let code = if db {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    let m = &state.metrics;
    let mut out = String::new();
    out.push_str("# HELP relais_http_requests_total HTTP responses by status class.\n# TYPE relais_http_requests_total counter\n");
    for (i, c) in m.by_class.iter().enumerate() {
        let _ = writeln!(
            out,
            "relais_http_requests_total{{class=\"{}xx\"}} {}",
            i + 1,
            c.load(Ordering::Relaxed)
        );
    }
    out.push_str("# HELP relais_http_request_duration_seconds_sum Total time spent answering.\n# TYPE relais_http_request_duration_seconds_sum counter\n");
    let _ = writeln!(
        out,
        "relais_http_request_duration_seconds_sum {:.6}",
        m.duration_us.load(Ordering::Relaxed) as f64 / 1e6
    );
    let up = m.started.get().map_or(0.0, |s| s.elapsed().as_secs_f64());
    let _ = writeln!(
        out,
        "# TYPE relais_uptime_seconds gauge\nrelais_uptime_seconds {up:.0}"
    );
    let db = state.store.ping().await.is_ok();
    let _ = writeln!(
        out,
        "# TYPE relais_database_up gauge\nrelais_database_up {}",
        db as u8
    );
    if let Ok(q) = state.store.queue_stats().await {
        out.push_str("# HELP relais_jobs Jobs by state.\n# TYPE relais_jobs gauge\n");
        for (s, n) in [
            ("queued", q.queued),
            ("running", q.running),
            ("dead", q.dead),
            ("done", q.done),
        ] {
            let _ = writeln!(out, "relais_jobs{{state=\"{s}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP relais_queue_lag_seconds Age of the oldest due job.\n# TYPE relais_queue_lag_seconds gauge\nrelais_queue_lag_seconds {:.3}", q.lag_ms as f64 / 1000.0);
    }
    if let Ok(h) = relais_publisher::health::health(&state.store, None).await {
        out.push_str("# HELP relais_targets Publication targets needing attention, all workspaces.\n# TYPE relais_targets gauge\n");
        let sum =
            |f: fn(&relais_store::posts::PublishingHealth) -> i64| h.iter().map(f).sum::<i64>();
        for (k, n) in [
            ("due", sum(|x| x.due)),
            ("late", sum(|x| x.late)),
            ("failed", sum(|x| x.failed)),
            ("unconfirmed", sum(|x| x.unconfirmed)),
        ] {
            let _ = writeln!(out, "relais_targets{{state=\"{k}\"}} {n}");
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
