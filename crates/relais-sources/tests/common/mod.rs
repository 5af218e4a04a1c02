//! Shared by the integration tests: peers (CI rule), a loopback-allowed client, a scripted
//! websocket server, and a collector of batches.
#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use relais_net::{Net, NetConfig, SsrfPolicy};
use relais_sources::{Batch, Event, SourceHandle, SourceStatus};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::WebSocketStream;

/// The values of `vars`, or `None` (skip) outside CI when one is missing. With `CI=true` a missing
/// peer fails the test: peer tests must not pass by being skipped.
pub fn peer_env(vars: &[&str], script: &str) -> Option<Vec<String>> {
    let vals: Vec<Option<String>> = vars
        .iter()
        .map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .collect();
    if vals.iter().all(Option::is_some) {
        return Some(vals.into_iter().map(Option::unwrap).collect());
    }
    let msg = format!(
        "peer not configured (missing {vars:?}): run /work/shared/peers/{script} start and source $PEERS_HOME/<peer>/env"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    None
}

/// A client whose SSRF guard allows 127.0.0.1 (test servers and peers listen there).
pub fn loopback_net() -> Net {
    Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap(),
        timeout: Duration::from_secs(10),
        ..NetConfig::default()
    })
    .unwrap()
}

pub fn unique() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}{:09}", t.as_secs(), t.subsec_nanos())
}

pub type ServerWs = WebSocketStream<TcpStream>;

/// A websocket server on 127.0.0.1: each connection gets its index (0, 1, …) and the request
/// path with query. Returns the `ws://` base address.
// The handshake callback's error type is tungstenite's (an HTTP response).
#[allow(clippy::result_large_err)]
pub async fn ws_server<F, Fut>(handler: F) -> String
where
    F: Fn(usize, String, ServerWs) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    let count = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (handler, count) = (handler.clone(), count.clone());
            tokio::spawn(async move {
                let uri = Arc::new(Mutex::new(String::new()));
                let u2 = uri.clone();
                let cb = move |req: &Request, resp: Response| {
                    *u2.lock().unwrap() = req.uri().to_string();
                    Ok(resp)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await else {
                    return;
                };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let path = uri.lock().unwrap().clone();
                handler(n, path, ws).await;
            });
        }
    });
    format!("ws://{addr}")
}

/// Receives batches and keeps every event and the last cursor, like a store would.
pub struct Collector {
    pub rx: mpsc::Receiver<Batch>,
    pub events: Vec<Event>,
    pub cursor: Option<String>,
    pub batches: usize,
}

impl Collector {
    pub fn new() -> (mpsc::Sender<Batch>, Collector) {
        let (tx, rx) = mpsc::channel(16);
        (
            tx,
            Collector {
                rx,
                events: Vec::new(),
                cursor: None,
                batches: 0,
            },
        )
    }

    fn take(&mut self, b: Batch) {
        self.batches += 1;
        // The rule a store follows: the events, then the cursor, in one transaction.
        self.events.extend(b.events);
        if b.cursor.is_some() {
            self.cursor = b.cursor;
        }
    }

    /// Receive until `pred` holds, or panic after `within`.
    pub async fn until(&mut self, within: Duration, what: &str, pred: impl Fn(&Collector) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        while !pred(self) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(b)) => self.take(b),
                Ok(None) => panic!("{what}: the source stopped"),
                Err(_) => panic!(
                    "{what}: not within {within:?}; events {:?}, cursor {:?}",
                    self.texts(),
                    self.cursor
                ),
            }
        }
    }

    /// Receive whatever arrives for `d`.
    pub async fn drain(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(b)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.take(b);
        }
    }

    pub fn texts(&self) -> Vec<String> {
        self.events.iter().map(|e| e.text.clone()).collect()
    }

    pub fn has_text(&self, t: &str) -> bool {
        self.events.iter().any(|e| e.text.contains(t))
    }

    pub fn count_text(&self, t: &str) -> usize {
        self.events.iter().filter(|e| e.text.contains(t)).count()
    }
}

/// Wait until the status satisfies `pred`.
pub async fn status_until(
    h: &SourceHandle,
    within: Duration,
    what: &str,
    pred: impl Fn(&SourceStatus) -> bool,
) {
    let mut w = h.watch();
    let r = tokio::time::timeout(within, async {
        loop {
            if pred(&w.borrow_and_update()) {
                return;
            }
            if w.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(
        r.is_ok() && pred(&h.status()),
        "{what}: status {:?}",
        h.status()
    );
}
