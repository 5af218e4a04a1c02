//! What sources hand to the caller: batches of events, each batch with the cursor to save.

use serde::{Deserialize, Serialize};

/// The kinds of live source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// `com.atproto.sync.subscribeRepos` of a relay or PDS (DAG-CBOR).
    BlueskyFirehose,
    /// Bluesky Jetstream (JSON).
    BlueskyJetstream,
    /// A Mastodon public or hashtag timeline (streaming, polling fallback).
    Mastodon,
    /// A web page (or part of one) checked periodically.
    PageWatch,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::BlueskyFirehose => "bluesky_firehose",
            SourceKind::BlueskyJetstream => "bluesky_jetstream",
            SourceKind::Mastodon => "mastodon",
            SourceKind::PageWatch => "page_watch",
        }
    }
}

/// Which source a batch comes from: the caller's own id (a row of its sources table) and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    pub id: i64,
    pub kind: SourceKind,
}

/// One post, status or page change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Stable identity across reconnects and restarts; the store dedups on it.
    /// Bluesky: `at://<did>/app.bsky.feed.post/<rkey>`; Mastodon: the status URI;
    /// page watch: `<url>#change=<old hash>..<new hash>`.
    pub guid: String,
    /// Where a person reads it.
    pub url: Option<String>,
    /// Bluesky: the DID; Mastodon: `user@instance`.
    pub author: Option<String>,
    /// Page title, Mastodon content warning.
    pub title: Option<String>,
    /// Plain text (a unified line diff for a page change), capped.
    pub text: String,
    /// Declared languages (BCP-47 as given by the author's client), possibly empty.
    pub langs: Vec<String>,
    /// Links in the post (Bluesky link facets and external embeds, Mastodon links).
    pub links: Vec<String>,
    /// When the author says it was written (Bluesky `createdAt`, Mastodon `created_at`), or when a
    /// page change was seen. UTC ms.
    pub published_at_ms: Option<i64>,
}

/// Events to store, then the cursor to save, in one transaction: the cursor is only ever past
/// events that are in this batch or an earlier one, so a crash between receiving and storing
/// replays them (the store dedups on `guid`) and nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub source: SourceRef,
    pub events: Vec<Event>,
    /// Opaque; give it back to [`crate::spawn`] after a restart. `None` = unchanged.
    pub cursor: Option<String>,
}

/// A credential: shown as `***` by `Debug`, never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Cut `s` to at most `max` bytes at a char boundary, marking the cut.
pub(crate) fn cap_text(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
    s
}

/// Caps that keep a hostile source from filling memory or the store.
pub(crate) const MAX_TEXT: usize = 16 * 1024;
pub(crate) const MAX_LANGS: usize = 8;
pub(crate) const MAX_LINKS: usize = 32;
pub(crate) const MAX_FIELD: usize = 2048;

/// Keep short, non-empty strings only, at most `n` of them, without duplicates.
pub(crate) fn cap_list(items: impl IntoIterator<Item = String>, n: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items {
        let s = s.trim().to_owned();
        if s.is_empty() || s.len() > MAX_FIELD || out.contains(&s) {
            continue;
        }
        out.push(s);
        if out.len() == n {
            break;
        }
    }
    out
}

/// Current UTC time in ms.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// RFC 3339 → UTC ms.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps() {
        assert_eq!(cap_text("héllo".into(), 100), "héllo");
        let c = cap_text("ééééé".into(), 6);
        assert!(c.len() <= 6 && c.ends_with('…'), "{c}");
        assert_eq!(
            cap_list(["a".into(), " ".into(), "a".into(), "b".into()], 8),
            vec!["a", "b"]
        );
        assert_eq!(format!("{:?}", Secret::new("tok")), "***");
        assert_eq!(parse_time("2024-01-02T03:04:05.678Z"), Some(1704164645678));
    }
}
