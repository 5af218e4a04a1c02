//! Mastodon against a local axum server for what the mock cannot show: streaming refused (the
//! instance answers the websocket upgrade with 404, as an instance with streaming disabled does;
//! docs.joinmastodon.org/methods/streaming) → polling, and a hostile timeline (malformed JSON).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use common::{loopback_net, status_until, Collector};
use relais_sources::{spawn, ErrorCode, MastodonConfig, SourceConfig};
use serde_json::json;

#[derive(Default)]
struct Instance {
    base: Mutex<String>,
    statuses: Mutex<Vec<u64>>,
    timeline_calls: AtomicUsize,
    upgrades: AtomicUsize,
}

fn status(base: &str, id: u64) -> serde_json::Value {
    json!({"id": id.to_string(), "uri": format!("{base}/users/a/statuses/{id}"),
           "url": format!("{base}/@a/{id}"), "created_at": "2024-01-01T00:00:00.000Z",
           "content": format!("<p>status {id} #veille</p>"), "spoiler_text": "", "language": "en",
           "account": {"acct": "a"}})
}

async fn timeline(
    State(i): State<Arc<Instance>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    // The first answer is garbage: the source must back off and recover.
    if i.timeline_calls.fetch_add(1, Ordering::SeqCst) == 0 {
        return (StatusCode::OK, "[{\"id\": ").into_response();
    }
    let min: u64 = q.get("min_id").and_then(|m| m.parse().ok()).unwrap_or(0);
    let base = i.base.lock().unwrap().clone();
    let mut ids: Vec<u64> = i
        .statuses
        .lock()
        .unwrap()
        .iter()
        .copied()
        .filter(|&s| s > min)
        .collect();
    ids.sort();
    ids.truncate(40);
    ids.reverse();
    Json(ids.iter().map(|&id| status(&base, id)).collect::<Vec<_>>()).into_response()
}

#[tokio::test]
async fn streaming_refused_falls_back_to_polling_and_malformed_pages_recover() {
    let inst = Arc::new(Instance::default());
    inst.statuses.lock().unwrap().extend([1, 2]);
    let app = Router::new()
        .route(
            "/api/v2/instance",
            get(|State(i): State<Arc<Instance>>| async move {
                let base = i.base.lock().unwrap().replace("http", "ws");
                Json(json!({"configuration": {"urls": {"streaming": base}}}))
            }),
        )
        .route("/api/v1/timelines/tag/{tag}", get(timeline))
        .route(
            "/api/v1/streaming",
            get(|State(i): State<Arc<Instance>>| async move {
                i.upgrades.fetch_add(1, Ordering::SeqCst);
                (StatusCode::NOT_FOUND, "Streaming is disabled")
            }),
        )
        .with_state(inst.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    *inst.base.lock().unwrap() = base.clone();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let mut cfg = MastodonConfig::hashtag(&base, "veille");
    cfg.poll_interval_secs = 1;
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 4, SourceConfig::Mastodon(cfg), None, tx);
    status_until(&h, Duration::from_secs(5), "malformed page reported", |s| {
        s.last_error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::Malformed)
    })
    .await;
    c.until(Duration::from_secs(6), "first page after recovery", |c| {
        c.events.len() == 2
    })
    .await;
    status_until(&h, Duration::from_secs(5), "fallback", |s| {
        s.last_notice
            .as_ref()
            .is_some_and(|n| n.code == ErrorCode::StreamingUnavailable && n.message.contains("404"))
    })
    .await;
    inst.statuses.lock().unwrap().push(3);
    c.until(Duration::from_secs(5), "polled", |c| c.events.len() == 3)
        .await;
    c.drain(Duration::from_millis(1500)).await;
    assert_eq!(
        c.texts(),
        vec!["status 1 #veille", "status 2 #veille", "status 3 #veille"]
    );
    assert_eq!(c.cursor.as_deref(), Some("3"));
    assert_eq!(
        inst.upgrades.load(Ordering::SeqCst),
        1,
        "streaming is not retried at once"
    );
    assert_eq!(h.status().last_error, None, "healthy again");
    assert_eq!(
        c.events[2].author.as_deref(),
        Some(format!("a@{}", &base[7..]).as_str())
    );
}
