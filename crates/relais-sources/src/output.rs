//! The sending side every source shares: batching, the cursor rule, replay dedup, status.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::error::{ErrorCode, SourceError};
use crate::model::{now_ms, Batch, Event, SourceRef};
use crate::status::{Problem, SourceState, SourceStatus};

/// How long events wait for company before they are sent (latency vs batch size).
const EVENT_LINGER: Duration = Duration::from_millis(20);
/// A moving cursor with no events (filtered streams) is handed over at this pace.
const CURSOR_LINGER: Duration = Duration::from_secs(5);
const MAX_BATCH: usize = 256;
/// Guids remembered to drop replays after a reconnect (Jetstream rewind, Mastodon catch-up).
const RECENT: usize = 4096;

#[derive(Default)]
struct Recent {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl Recent {
    /// False when `guid` was seen recently.
    fn insert(&mut self, guid: &str) -> bool {
        if self.set.contains(guid) {
            return false;
        }
        if self.order.len() == RECENT {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(guid.to_owned());
        self.order.push_back(guid.to_owned());
        true
    }
}

pub(crate) struct Output {
    source: SourceRef,
    tx: mpsc::Sender<Batch>,
    status: watch::Sender<SourceStatus>,
    pending: Vec<Event>,
    /// Position after everything received so far (pending or sent).
    cursor: Option<String>,
    /// Last cursor handed over (or the starting one).
    sent_cursor: Option<String>,
    events_since: Option<Instant>,
    cursor_since: Option<Instant>,
    recent: Recent,
}

impl Output {
    pub(crate) fn new(
        source: SourceRef,
        tx: mpsc::Sender<Batch>,
        status: watch::Sender<SourceStatus>,
        cursor: Option<String>,
    ) -> Self {
        Output {
            source,
            tx,
            status,
            pending: Vec::new(),
            sent_cursor: cursor.clone(),
            cursor,
            events_since: None,
            cursor_since: None,
            recent: Recent::default(),
        }
    }

    /// Start from `cursor` (the one the caller saved): nothing to hand over yet.
    pub(crate) fn reset_cursor(&mut self, cursor: Option<String>) {
        self.sent_cursor = cursor.clone();
        self.cursor = cursor;
    }

    /// Where to resume: past every event received (call [`Output::flush`] before reconnecting).
    pub(crate) fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Queue an event (a replay of a recently queued guid is dropped).
    pub(crate) fn push(&mut self, ev: Event) {
        if self.recent.insert(&ev.guid) {
            self.events_since.get_or_insert_with(Instant::now);
            self.pending.push(ev);
        }
    }

    /// Advance the cursor past everything pushed so far; `None` forgets it (resume live).
    pub(crate) fn set_cursor(&mut self, cursor: Option<String>) {
        if cursor != self.cursor {
            self.cursor = cursor;
            self.cursor_since.get_or_insert_with(Instant::now);
        }
    }

    /// When a flush is due, if anything waits.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match (self.events_since, self.cursor_since) {
            (Some(e), _) if self.pending.len() >= MAX_BATCH => Some(e),
            (Some(e), _) => Some(e + EVENT_LINGER),
            (None, Some(c)) => Some(c + CURSOR_LINGER),
            (None, None) => None,
        }
    }

    /// Send what waits. Blocks while the receiver is full (backpressure: the stream is not read
    /// meanwhile). `Shutdown` when the receiver is gone.
    pub(crate) async fn flush(&mut self) -> Result<(), SourceError> {
        // A forgotten cursor (reset relay) is not handed over: the next event's cursor will be.
        let cursor_moved = self.cursor.is_some() && self.cursor != self.sent_cursor;
        if self.pending.is_empty() && !cursor_moved {
            self.events_since = None;
            self.cursor_since = None;
            return Ok(());
        }
        let events = std::mem::take(&mut self.pending);
        let n = events.len() as u64;
        let batch = Batch {
            source: self.source,
            events,
            cursor: if cursor_moved {
                self.cursor.clone()
            } else {
                None
            },
        };
        if self.tx.send(batch).await.is_err() {
            return Err(SourceError::new(
                ErrorCode::Shutdown,
                "the receiver of events was dropped",
            ));
        }
        self.sent_cursor = self.cursor.clone();
        self.events_since = None;
        self.cursor_since = None;
        if n > 0 {
            self.status.send_modify(|s| {
                s.delivered += n;
                s.last_event_at_ms = Some(now_ms());
            });
        }
        Ok(())
    }

    /// Flush now if the batch is full.
    pub(crate) async fn flush_if_full(&mut self) -> Result<(), SourceError> {
        if self.pending.len() >= MAX_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    pub(crate) fn state(&self, state: SourceState) {
        self.status.send_modify(|s| {
            s.state = state;
            match state {
                SourceState::Connected => s.connected_at_ms = Some(now_ms()),
                SourceState::Idle { .. } => {}
                _ => s.connected_at_ms = None,
            }
        });
    }

    pub(crate) fn error(&self, e: &SourceError) {
        tracing::info!(source = self.source.id, kind = self.source.kind.as_str(), error = %e, "source error");
        self.status
            .send_modify(|s| s.last_error = Some(Problem::from(e)));
    }

    pub(crate) fn notice(&self, e: &SourceError) {
        tracing::info!(source = self.source.id, kind = self.source.kind.as_str(), notice = %e, "source notice");
        self.status
            .send_modify(|s| s.last_notice = Some(Problem::from(e)));
    }

    /// A success: the last error is history.
    pub(crate) fn healthy(&self) {
        self.status
            .send_if_modified(|s| s.last_error.take().is_some());
    }

    /// Sleep `d` in the given state (flushes first).
    pub(crate) async fn wait(
        &mut self,
        d: Duration,
        state: SourceState,
    ) -> Result<(), SourceError> {
        self.flush().await?;
        self.state(state);
        tokio::time::sleep(d).await;
        Ok(())
    }

    /// Record a failure and sleep the next backoff delay.
    pub(crate) async fn backoff(
        &mut self,
        e: &SourceError,
        backoff: &mut crate::backoff::Backoff,
    ) -> Result<(), SourceError> {
        self.error(e);
        let d = backoff.next_delay();
        let retry_at_ms = now_ms() + d.as_millis() as i64;
        let attempt = backoff.attempt();
        self.wait(
            d,
            SourceState::Backoff {
                attempt,
                retry_at_ms,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    fn ev(g: &str) -> Event {
        Event {
            guid: g.into(),
            url: None,
            author: None,
            title: None,
            text: String::new(),
            langs: vec![],
            links: vec![],
            published_at_ms: None,
        }
    }

    #[tokio::test]
    async fn batches_carry_the_cursor_after_their_events() {
        let (tx, mut rx) = mpsc::channel(4);
        let (st, _r) = watch::channel(SourceStatus::default());
        let src = SourceRef {
            id: 7,
            kind: SourceKind::BlueskyFirehose,
        };
        let mut out = Output::new(src, tx, st, Some("1".into()));
        out.flush().await.unwrap();
        assert!(rx.try_recv().is_err(), "nothing to send");
        out.push(ev("a"));
        out.push(ev("a"));
        out.set_cursor(Some("2".into()));
        assert!(out.deadline().is_some());
        out.flush().await.unwrap();
        let b = rx.recv().await.unwrap();
        assert_eq!(b.events.len(), 1, "replay dropped");
        assert_eq!(b.cursor.as_deref(), Some("2"));
        out.set_cursor(Some("3".into()));
        out.flush().await.unwrap();
        let b = rx.recv().await.unwrap();
        assert!(b.events.is_empty());
        assert_eq!(b.cursor.as_deref(), Some("3"));
        drop(rx);
        out.set_cursor(Some("4".into()));
        assert_eq!(out.flush().await.unwrap_err().code, ErrorCode::Shutdown);
    }
}
