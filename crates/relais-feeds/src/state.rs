//! What the caller persists per feed between fetches, and how an outcome updates it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::fetch::FetchOutcome;
use crate::schedule::{failure_delay, item_interval, jitter_unit, success_delay, PollPolicy};

/// The last failure, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// UTC ms.
    pub at: i64,
}

/// Per-feed polling state. Plain data: store it as JSON or as columns. Instants are UTC ms.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeedState {
    pub url: String,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    #[serde(default)]
    pub last_ok_at: Option<i64>,
    #[serde(default)]
    pub last_error: Option<LastError>,
    #[serde(default)]
    pub consecutive_failures: u32,
    #[serde(default)]
    pub next_poll_at: Option<i64>,
    /// Observed mean time between items, seconds.
    #[serde(default)]
    pub avg_item_interval_secs: Option<u64>,
}

impl FeedState {
    pub fn new(url: impl Into<String>) -> Self {
        FeedState {
            url: url.into(),
            ..FeedState::default()
        }
    }

    /// True when the feed should be polled at `now_ms`.
    pub fn is_due(&self, now_ms: i64) -> bool {
        self.next_poll_at.is_none_or(|t| t <= now_ms)
    }

    /// Fold a fetch outcome into the state and schedule the next poll (`next_poll_at`).
    /// Returns the delay chosen.
    pub fn record(&mut self, outcome: &FetchOutcome, now_ms: i64, policy: &PollPolicy) -> Duration {
        let unit = jitter_unit(&self.url, now_ms);
        let meta = outcome.meta();
        let max_age = meta.and_then(|m| m.max_age_secs).map(Duration::from_secs);
        let delay = match outcome {
            FetchOutcome::Updated { feed, meta } => {
                // Validators are replaced, not merged: a server that stops sending one
                // must not get a stale one back.
                self.etag = meta.etag.clone();
                self.last_modified = meta.last_modified.clone();
                let dates: Vec<i64> = feed.items.iter().filter_map(|i| i.published_at).collect();
                if let Some(iv) = item_interval(&dates, now_ms, policy.rate_window) {
                    self.avg_item_interval_secs = Some(iv.as_secs());
                }
                self.succeeded(now_ms);
                success_delay(policy, self.item_interval(), max_age, unit)
            }
            FetchOutcome::NotModified { meta } => {
                // A 304 may carry refreshed validators.
                if meta.etag.is_some() {
                    self.etag = meta.etag.clone();
                }
                if meta.last_modified.is_some() {
                    self.last_modified = meta.last_modified.clone();
                }
                self.succeeded(now_ms);
                success_delay(policy, self.item_interval(), max_age, unit)
            }
            FetchOutcome::Failed { error, meta } => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.last_error = Some(LastError {
                    code: error.code,
                    message: error.message.clone(),
                    status: error.status,
                    at: now_ms,
                });
                let status = error.status.or(meta.as_ref().map(|m| m.status));
                let rate_limited = matches!(status, Some(429 | 503));
                let retry_after = meta
                    .as_ref()
                    .and_then(|m| m.retry_after_secs)
                    .map(Duration::from_secs);
                failure_delay(
                    policy,
                    self.consecutive_failures,
                    retry_after,
                    rate_limited,
                    unit,
                )
            }
        };
        self.next_poll_at = Some(now_ms.saturating_add(delay.as_millis() as i64));
        delay
    }

    fn succeeded(&mut self, now_ms: i64) {
        self.last_ok_at = Some(now_ms);
        self.last_error = None;
        self.consecutive_failures = 0;
    }

    fn item_interval(&self) -> Option<Duration> {
        self.avg_item_interval_secs.map(Duration::from_secs)
    }
}
