//! Bluesky firehose: `com.atproto.sync.subscribeRepos` of a relay or PDS.
//!
//! The cursor is the `seq` of the last frame received; the server resumes *after* it
//! (atproto.com/specs/event-stream, "Sequence numbers"). An `#info OutdatedCursor` frame says the
//! cursor is older than the server keeps (events in between are gone; reported as a notice); a
//! `FutureCursor` error says the server does not know it (reset relay: resume from its head).

mod frame;
pub mod testing;

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

pub use frame::{commit_events, decode_frame, Commit, Frame, Op};

use crate::bsky::DEFAULT_POST_URL_BASE;
use crate::error::{redact, ErrorCode, SourceError};
use crate::output::Output;
use crate::stream::WsSource;
use crate::ws::{to_ws_scheme, WsOptions};

const XRPC_PATH: &str = "/xrpc/com.atproto.sync.subscribeRepos";
/// Commits carry at most 2 MB of blocks (atproto.com/specs/sync); frames have a little more.
pub const DEFAULT_MAX_FRAME: usize = 5 * 1024 * 1024;
/// Malformed frames in a row before the connection is deemed broken and reopened.
const MAX_BAD_IN_ROW: u32 = 50;

/// Settings of a firehose source (stored as JSON by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirehoseConfig {
    /// A relay or PDS: `wss://bsky.network`, `https://pds.example.com`, or the full
    /// `…/xrpc/com.atproto.sync.subscribeRepos` URL.
    pub url: String,
    /// Only posts by these DIDs (empty = every post the relay carries).
    #[serde(default)]
    pub dids: Vec<String>,
    /// Where post links point (default `https://bsky.app`).
    #[serde(default)]
    pub post_url_base: Option<String>,
    /// Largest frame accepted (default 5 MiB).
    #[serde(default)]
    pub max_frame_bytes: Option<usize>,
}

impl FirehoseConfig {
    pub fn new(url: impl Into<String>) -> Self {
        FirehoseConfig {
            url: url.into(),
            dids: Vec::new(),
            post_url_base: None,
            max_frame_bytes: None,
        }
    }

    /// The subscribeRepos URL (without cursor), or what is wrong with `url`.
    pub fn endpoint(&self) -> Result<Url, SourceError> {
        let mut u = Url::parse(self.url.trim())
            .map_err(|e| SourceError::config(format!("url: {e} (e.g. wss://bsky.network)")))?;
        to_ws_scheme(&mut u);
        if !matches!(u.scheme(), "ws" | "wss") {
            return Err(SourceError::config(format!(
                "url: {} is not a wss:// or https:// address",
                redact(&u)
            )));
        }
        if u.path() == "/" || u.path().is_empty() {
            u.set_path(XRPC_PATH);
        }
        u.set_query(None);
        Ok(u)
    }

    pub fn validate(&self) -> Result<(), SourceError> {
        self.endpoint()?;
        if let Some(d) = self.dids.iter().find(|d| !crate::bsky::valid_did(d)) {
            return Err(SourceError::config(format!(
                "dids: {d:?} is not a DID (did:plc:… or did:web:…)"
            )));
        }
        Ok(())
    }
}

pub(crate) struct Firehose {
    endpoint: Url,
    dids: HashSet<String>,
    url_base: String,
    options: WsOptions,
    bad_in_row: u32,
}

impl Firehose {
    pub(crate) fn new(
        cfg: &FirehoseConfig,
        connect_timeout: Duration,
    ) -> Result<Self, SourceError> {
        cfg.validate()?;
        Ok(Firehose {
            endpoint: cfg.endpoint()?,
            dids: cfg.dids.iter().cloned().collect(),
            url_base: cfg
                .post_url_base
                .clone()
                .unwrap_or_else(|| DEFAULT_POST_URL_BASE.into()),
            options: WsOptions {
                max_message: cfg.max_frame_bytes.unwrap_or(DEFAULT_MAX_FRAME),
                connect_timeout,
                headers: Vec::new(),
            },
            bad_in_row: 0,
        })
    }

    fn skip_bad(&mut self, e: SourceError, out: &Output) -> Result<(), SourceError> {
        self.bad_in_row += 1;
        out.notice(&e);
        if self.bad_in_row >= MAX_BAD_IN_ROW {
            return Err(SourceError::malformed(format!(
                "{MAX_BAD_IN_ROW} malformed frames in a row; last: {}",
                e.message
            )));
        }
        Ok(())
    }
}

/// A stored cursor that is not a sequence number is dropped (resume live) rather than fatal.
pub(crate) fn parse_cursor(c: Option<String>) -> (Option<String>, Option<SourceError>) {
    match c {
        Some(c) if c.trim().parse::<i64>().is_ok_and(|n| n >= 0) => {
            (Some(c.trim().to_owned()), None)
        }
        Some(c) => (
            None,
            Some(SourceError::new(
                ErrorCode::CursorReset,
                format!("cursor {c:?} is not a number: starting from the live stream"),
            )),
        ),
        None => (None, None),
    }
}

impl WsSource for Firehose {
    fn url(&self, cursor: Option<&str>) -> Url {
        let mut u = self.endpoint.clone();
        if let Some(c) = cursor {
            u.query_pairs_mut().append_pair("cursor", c);
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
        let Message::Binary(bytes) = msg else {
            return self.skip_bad(
                SourceError::malformed("a text frame on a binary stream"),
                out,
            );
        };
        let frame = match decode_frame(&bytes) {
            Ok(f) => f,
            Err(e) => return self.skip_bad(e, out),
        };
        self.bad_in_row = 0;
        match frame {
            Frame::Commit(c) => {
                let (events, errors) = commit_events(&c, &self.dids, &self.url_base);
                for e in errors {
                    out.notice(&e);
                }
                for ev in events {
                    out.push(ev);
                }
                out.set_cursor(Some(c.seq.to_string()));
            }
            Frame::Other { seq, .. } => {
                if let Some(seq) = seq {
                    out.set_cursor(Some(seq.to_string()));
                }
            }
            Frame::Info { name, message } => {
                let code = if name == "OutdatedCursor" {
                    ErrorCode::CursorTooOld
                } else {
                    ErrorCode::RelayError
                };
                let msg = message.unwrap_or_default();
                out.notice(&SourceError::new(code, format!("{name}: {msg}")));
            }
            Frame::Error { error, message } => {
                let code = if error == "FutureCursor" {
                    ErrorCode::CursorReset
                } else {
                    ErrorCode::RelayError
                };
                let msg = message.unwrap_or_default();
                return Err(SourceError::new(code, format!("{error}: {msg}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
