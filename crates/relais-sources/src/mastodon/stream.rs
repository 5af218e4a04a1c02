//! Mastodon streaming over a websocket (docs.joinmastodon.org/methods/streaming): `GET
//! /api/v1/streaming?stream=hashtag&tag=…` on the streaming server; every text message is
//! `{"stream": [...], "event": "update", "payload": "<Status as a JSON string>"}`.

use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use super::api::{cmp_id, status_event, Status};
use super::Timeline;
use crate::error::{ErrorCode, SourceError};
use crate::output::Output;

#[derive(Deserialize)]
struct WsEvent {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<String>,
}

/// `{base}/api/v1/streaming?stream=…` for a timeline.
pub(crate) fn stream_url(base: &Url, timeline: &Timeline, local: bool) -> Url {
    let mut u = base.clone();
    u.set_path("/api/v1/streaming");
    u.set_query(None);
    {
        let mut q = u.query_pairs_mut();
        match timeline {
            Timeline::Public => {
                q.append_pair("stream", if local { "public:local" } else { "public" });
            }
            Timeline::Hashtag { tag } => {
                q.append_pair("stream", if local { "hashtag:local" } else { "hashtag" });
                q.append_pair("tag", tag);
            }
        }
    }
    u
}

/// Handle one streaming message: an `update` becomes an event and moves the cursor.
pub(crate) fn on_message(msg: Message, out: &mut Output, host: &str) -> Result<(), SourceError> {
    let Message::Text(text) = msg else {
        return Ok(());
    };
    let ev: WsEvent = serde_json::from_str(text.as_str())
        .map_err(|e| SourceError::malformed(format!("streaming message: {e}")))?;
    if let Some(err) = ev.error {
        return Err(SourceError::new(
            ErrorCode::RelayError,
            format!("streaming: {err}"),
        ));
    }
    if ev.event.as_deref() != Some("update") {
        return Ok(());
    }
    // The payload is a JSON string holding the status (a few servers send the object itself).
    let status: Result<Status, _> = match ev.payload {
        Some(serde_json::Value::String(s)) => serde_json::from_str(&s),
        Some(v) => serde_json::from_value(v),
        None => return Err(SourceError::malformed("an update without a payload")),
    };
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            out.notice(&SourceError::malformed(format!("status: {e}")));
            return Ok(());
        }
    };
    let id = status.id.clone();
    if let Some(e) = status_event(status, host) {
        out.push(e);
    }
    if out.cursor().is_none_or(|c| cmp_id(&id, c).is_gt()) {
        out.set_cursor(Some(id));
    }
    Ok(())
}
