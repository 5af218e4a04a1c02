//! Bluesky Jetstream: the firehose as JSON (github.com/bluesky-social/jetstream, README).
//!
//! `GET /subscribe?wantedCollections=app.bsky.feed.post&wantedDids=…&cursor=<time_us>`; every
//! message is `{did, time_us, kind, commit: {operation, collection, rkey, record, cid}}`. The
//! cursor is a time in microseconds; the README advises resuming a few seconds *before* the last
//! `time_us` for gapless playback, so a reconnect rewinds by `rewind_secs` and the replayed posts
//! are dropped by guid (here for recent ones, in the store for the rest).

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use crate::bsky::{post_event, valid_did, PostRecord, DEFAULT_POST_URL_BASE, POST_COLLECTION};
use crate::error::SourceError;
use crate::output::Output;
use crate::stream::WsSource;
use crate::ws::{to_ws_scheme, WsOptions};

pub const DEFAULT_URL: &str = "wss://jetstream2.us-east.bsky.network/subscribe";
pub const DEFAULT_MAX_MESSAGE: usize = 1024 * 1024;
/// More DIDs than this are filtered here instead of in the URL (a URL has practical limits).
const MAX_DIDS_IN_URL: usize = 100;
const MAX_BAD_IN_ROW: u32 = 50;

/// Settings of a Jetstream source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JetstreamConfig {
    /// The `/subscribe` URL of a Jetstream instance.
    #[serde(default = "default_url")]
    pub url: String,
    /// Only posts by these DIDs (empty = all posts).
    #[serde(default)]
    pub dids: Vec<String>,
    #[serde(default)]
    pub post_url_base: Option<String>,
    #[serde(default)]
    pub max_message_bytes: Option<usize>,
    /// How far before the saved cursor a (re)connection starts (default 5 s).
    #[serde(default)]
    pub rewind_secs: Option<u64>,
}

fn default_url() -> String {
    DEFAULT_URL.into()
}

impl Default for JetstreamConfig {
    fn default() -> Self {
        JetstreamConfig {
            url: default_url(),
            dids: Vec::new(),
            post_url_base: None,
            max_message_bytes: None,
            rewind_secs: None,
        }
    }
}

impl JetstreamConfig {
    pub fn endpoint(&self) -> Result<Url, SourceError> {
        let mut u = Url::parse(self.url.trim())
            .map_err(|e| SourceError::config(format!("url: {e} (e.g. {DEFAULT_URL})")))?;
        to_ws_scheme(&mut u);
        if !matches!(u.scheme(), "ws" | "wss") {
            return Err(SourceError::config("url: not a wss:// or https:// address"));
        }
        if u.path() == "/" || u.path().is_empty() {
            u.set_path("/subscribe");
        }
        u.set_query(None);
        Ok(u)
    }

    pub fn validate(&self) -> Result<(), SourceError> {
        self.endpoint()?;
        if let Some(d) = self.dids.iter().find(|d| !valid_did(d)) {
            return Err(SourceError::config(format!(
                "dids: {d:?} is not a DID (did:plc:… or did:web:…)"
            )));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct JsEvent {
    did: String,
    time_us: i64,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    commit: Option<JsCommit>,
}

#[derive(Deserialize)]
struct JsCommit {
    #[serde(default)]
    operation: String,
    #[serde(default)]
    collection: String,
    #[serde(default)]
    rkey: String,
    #[serde(default)]
    record: Option<serde_json::Value>,
}

pub(crate) struct Jetstream {
    endpoint: Url,
    dids: HashSet<String>,
    dids_in_url: bool,
    url_base: String,
    rewind_us: i64,
    options: WsOptions,
    bad_in_row: u32,
    last_us: Option<i64>,
}

impl Jetstream {
    pub(crate) fn new(
        cfg: &JetstreamConfig,
        connect_timeout: Duration,
    ) -> Result<Self, SourceError> {
        cfg.validate()?;
        Ok(Jetstream {
            endpoint: cfg.endpoint()?,
            dids: cfg.dids.iter().cloned().collect(),
            dids_in_url: cfg.dids.len() <= MAX_DIDS_IN_URL,
            url_base: cfg
                .post_url_base
                .clone()
                .unwrap_or_else(|| DEFAULT_POST_URL_BASE.into()),
            rewind_us: cfg.rewind_secs.unwrap_or(5).min(3600) as i64 * 1_000_000,
            options: WsOptions {
                max_message: cfg.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE),
                connect_timeout,
                headers: Vec::new(),
            },
            bad_in_row: 0,
            last_us: None,
        })
    }

    /// Seed the highest `time_us` seen with the starting cursor.
    pub(crate) fn start_from(&mut self, cursor: Option<&str>) {
        self.last_us = cursor.and_then(|c| c.parse().ok());
    }

    fn skip_bad(&mut self, e: SourceError, out: &Output) -> Result<(), SourceError> {
        self.bad_in_row += 1;
        out.notice(&e);
        if self.bad_in_row >= MAX_BAD_IN_ROW {
            return Err(SourceError::malformed(format!(
                "{MAX_BAD_IN_ROW} malformed messages in a row; last: {}",
                e.message
            )));
        }
        Ok(())
    }
}

/// A stored cursor that is not a time in µs is dropped (resume live).
pub(crate) fn parse_cursor(c: Option<String>) -> (Option<String>, Option<SourceError>) {
    crate::firehose::parse_cursor(c)
}

impl WsSource for Jetstream {
    fn url(&self, cursor: Option<&str>) -> Url {
        let mut u = self.endpoint.clone();
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("wantedCollections", POST_COLLECTION);
            if self.dids_in_url {
                let mut dids: Vec<&String> = self.dids.iter().collect();
                dids.sort();
                for d in dids {
                    q.append_pair("wantedDids", d);
                }
            }
            if let Some(c) = cursor.and_then(|c| c.parse::<i64>().ok()) {
                q.append_pair("cursor", &(c - self.rewind_us).max(0).to_string());
            }
        }
        u
    }

    fn options(&self) -> &WsOptions {
        &self.options
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_secs(90)
    }

    fn on_message(&mut self, msg: Message, out: &mut Output) -> Result<(), SourceError> {
        let text = match msg {
            Message::Text(t) => t,
            _ => {
                return self.skip_bad(
                    SourceError::malformed("a binary message (compression is not requested)"),
                    out,
                )
            }
        };
        let ev: JsEvent = match serde_json::from_str(text.as_str()) {
            Ok(ev) => ev,
            Err(e) => return self.skip_bad(SourceError::malformed(format!("message: {e}")), out),
        };
        self.bad_in_row = 0;
        if let (Some(c), "commit") = (ev.commit, ev.kind.as_str()) {
            let wanted = self.dids.is_empty() || self.dids.contains(&ev.did);
            if wanted && c.operation == "create" && c.collection == POST_COLLECTION {
                let rec = c.record.map(serde_json::from_value::<PostRecord>);
                match rec {
                    Some(Ok(rec)) => match post_event(&ev.did, &c.rkey, rec, &self.url_base) {
                        Some(e) => out.push(e),
                        None => out.notice(&SourceError::malformed("invalid DID or record key")),
                    },
                    Some(Err(e)) => out.notice(&SourceError::malformed(format!("record: {e}"))),
                    None => out.notice(&SourceError::malformed("a create without its record")),
                }
            }
        }
        // time_us is only roughly ordered: the cursor never moves back.
        if self.last_us.is_none_or(|l| ev.time_us > l) {
            self.last_us = Some(ev.time_us);
            out.set_cursor(Some(ev.time_us.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_carries_filters_and_a_rewound_cursor() {
        let cfg = JetstreamConfig {
            url: "ws://127.0.0.1:1/".into(),
            dids: vec!["did:plc:b".into(), "did:plc:a".into()],
            ..Default::default()
        };
        let j = Jetstream::new(&cfg, Duration::from_secs(1)).unwrap();
        let u = j.url(Some("10000000"));
        assert_eq!(
            u.as_str(),
            "ws://127.0.0.1:1/subscribe?wantedCollections=app.bsky.feed.post\
             &wantedDids=did%3Aplc%3Aa&wantedDids=did%3Aplc%3Ab&cursor=5000000"
        );
        assert!(!j.url(None).as_str().contains("cursor"));
        let bad = JetstreamConfig {
            dids: vec!["x".into()],
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
