//! What a running source reports, for the caller to show per source.

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, SourceError};
use crate::model::now_ms;

/// Where a source is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SourceState {
    /// Connecting (or reconnecting) and not yet receiving.
    Connecting,
    /// A stream is open and being read.
    Connected,
    /// Between two polls (Mastodon polling, page watch), all well.
    Idle { next_at_ms: i64 },
    /// Waiting after a failure before the next attempt.
    Backoff { attempt: u32, retry_at_ms: i64 },
    /// Stopped for good: a fatal error (see `last_error`) or the receiver was dropped.
    Stopped,
}

/// A problem with its code and when it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: ErrorCode,
    pub message: String,
    pub at_ms: i64,
}

impl From<&SourceError> for Problem {
    fn from(e: &SourceError) -> Self {
        Problem {
            code: e.code,
            message: e.message.clone(),
            at_ms: now_ms(),
        }
    }
}

/// Per-source status, published on a `tokio::sync::watch` channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub state: SourceState,
    /// The last failure that broke a connection or a poll.
    pub last_error: Option<Problem>,
    /// The last thing that did not stop the source but matters: a skipped malformed frame, a
    /// cursor too old (events may be missing), streaming unavailable (polling instead).
    pub last_notice: Option<Problem>,
    /// Events handed over since the source started.
    pub delivered: u64,
    /// When the last event was handed over (UTC ms).
    pub last_event_at_ms: Option<i64>,
    /// When the current connection opened (UTC ms).
    pub connected_at_ms: Option<i64>,
}

impl Default for SourceStatus {
    fn default() -> Self {
        SourceStatus {
            state: SourceState::Connecting,
            last_error: None,
            last_notice: None,
            delivered: 0,
            last_event_at_ms: None,
            connected_at_ms: None,
        }
    }
}
