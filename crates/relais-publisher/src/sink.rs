//! A local webhook receiver (axum) for the bench and the tests: records every delivery with its
//! `Idempotency-Key` and receipt time, so duplicates are counted. Knobs let tests inject
//! failures: answer 500 to the first deliveries, or hold the first one (a hung network).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

#[derive(Debug, Clone, Default)]
pub struct SinkBehaviour {
    /// Answer 500 to this many deliveries first.
    pub fail_first: usize,
    /// Record, then hold the first delivery this long before answering.
    pub hold_first: Option<Duration>,
}

#[derive(Default)]
struct Inner {
    behaviour: SinkBehaviour,
    seen: AtomicUsize,
    /// key → receipt instants (ms), in arrival order.
    deliveries: Mutex<HashMap<String, Vec<i64>>>,
}

/// A running sink. Cheap to clone.
#[derive(Clone)]
pub struct Sink {
    pub base: String,
    inner: Arc<Inner>,
}

impl Sink {
    pub async fn start(behaviour: SinkBehaviour) -> std::io::Result<Sink> {
        let inner = Arc::new(Inner {
            behaviour,
            ..Default::default()
        });
        let app = Router::new()
            .route("/hook/{n}", post(receive))
            .with_state(inner.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        Ok(Sink {
            base: format!("http://{addr}"),
            inner,
        })
    }

    /// The URL of one hook (one per channel, for realism).
    pub fn url(&self, n: usize) -> String {
        format!("{}/hook/{n}", self.base)
    }

    /// Every delivery received (including failed and duplicate ones).
    pub fn requests(&self) -> usize {
        self.inner.seen.load(Ordering::SeqCst)
    }

    /// Distinct idempotency keys accepted (answered 2xx or held).
    pub fn distinct(&self) -> usize {
        self.lock().len()
    }

    /// Accepted deliveries beyond the first per key.
    pub fn duplicates(&self) -> usize {
        self.lock()
            .values()
            .map(|v| v.len().saturating_sub(1))
            .sum()
    }

    /// First receipt instant per key.
    pub fn first_receipts(&self) -> HashMap<String, i64> {
        self.lock().iter().map(|(k, v)| (k.clone(), v[0])).collect()
    }

    pub fn deliveries_of(&self, key: &str) -> usize {
        self.lock().get(key).map_or(0, Vec::len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<i64>>> {
        self.inner
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

async fn receive(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let n = s.seen.fetch_add(1, Ordering::SeqCst);
    if n < s.behaviour.fail_first {
        return (StatusCode::INTERNAL_SERVER_ERROR, "sink asked to fail").into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    s.deliveries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key.clone())
        .or_default()
        .push(relais_store::now());
    if n == s.behaviour.fail_first {
        if let Some(d) = s.behaviour.hold_first {
            tokio::time::sleep(d).await;
        }
    }
    Json(serde_json::json!({ "id": format!("sink-{key}") })).into_response()
}
