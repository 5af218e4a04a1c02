//! Firehose frames (atproto.com/specs/event-stream): one binary websocket message = a DAG-CBOR
//! header `{op, t}` followed by a DAG-CBOR body. `op = 1` is a message of type `t` (`#commit`,
//! `#identity`, `#account`, `#sync`, `#info`, …); `op = -1` is an error `{error, message}` after
//! which the server closes the stream.

use std::collections::HashSet;

use ipld_core::cid::Cid;
use serde::Deserialize;

use crate::bsky::{post_event, PostRecord, POST_COLLECTION};
use crate::car::read_car;
use crate::error::SourceError;
use crate::model::Event;

#[derive(Deserialize)]
struct Header {
    op: i64,
    #[serde(default)]
    t: Option<String>,
}

/// A `#commit` body (com.atproto.sync.subscribeRepos#commit), the fields relais reads.
#[derive(Debug, Deserialize)]
pub struct Commit<'a> {
    pub seq: i64,
    pub repo: String,
    #[serde(rename = "tooBig", default)]
    pub too_big: bool,
    /// A CAR slice with the blocks the operations point to.
    #[serde(borrow, with = "serde_bytes")]
    pub blocks: &'a [u8],
    pub ops: Vec<Op>,
}

/// One repository operation of a commit.
#[derive(Debug, Deserialize)]
pub struct Op {
    /// `create`, `update` or `delete`.
    pub action: String,
    /// `<collection>/<rkey>`.
    pub path: String,
    /// The record's CID (null for deletes).
    #[serde(default)]
    pub cid: Option<Cid>,
}

#[derive(Deserialize)]
struct SeqOnly {
    #[serde(default)]
    seq: Option<i64>,
}

#[derive(Deserialize)]
struct Info {
    name: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    message: Option<String>,
}

/// A decoded frame.
#[derive(Debug)]
pub enum Frame<'a> {
    Commit(Commit<'a>),
    /// `#info`, e.g. `OutdatedCursor`: the stream goes on.
    Info {
        name: String,
        message: Option<String>,
    },
    /// `op = -1`, e.g. `FutureCursor`, `ConsumerTooSlow`: the stream ends.
    Error {
        error: String,
        message: Option<String>,
    },
    /// Any other message type; its `seq` (when it has one) still moves the cursor.
    Other {
        t: String,
        seq: Option<i64>,
    },
}

/// Decode the body that follows the header in `de`.
macro_rules! body {
    ($de:expr, $what:expr) => {
        Deserialize::deserialize(&mut $de)
            .map_err(|e| SourceError::malformed(format!("{} body: {e}", $what)))
    };
}

/// Decode one frame. Strict: trailing bytes after the body are an error.
pub fn decode_frame(bytes: &[u8]) -> Result<Frame<'_>, SourceError> {
    let mut de = serde_ipld_dagcbor::de::Deserializer::from_slice(bytes);
    let header = Header::deserialize(&mut de)
        .map_err(|e| SourceError::malformed(format!("frame header: {e}")))?;
    let frame = match (header.op, header.t.as_deref()) {
        (-1, _) => {
            let b: ErrorBody = body!(de, "error")?;
            Frame::Error {
                error: b.error,
                message: b.message,
            }
        }
        (1, Some("#commit")) => Frame::Commit(body!(de, "#commit")?),
        (1, Some("#info")) => {
            let b: Info = body!(de, "#info")?;
            Frame::Info {
                name: b.name,
                message: b.message,
            }
        }
        (1, Some(t)) => {
            let b: SeqOnly = body!(de, t)?;
            Frame::Other {
                t: t.to_owned(),
                seq: b.seq,
            }
        }
        (1, None) => return Err(SourceError::malformed("frame header without a type (t)")),
        (op, _) => return Err(SourceError::malformed(format!("unknown frame op {op}"))),
    };
    de.end()
        .map_err(|_| SourceError::malformed("trailing bytes after the frame body"))?;
    Ok(frame)
}

/// The posts a commit creates (optionally only for `dids`), and what could not be read.
pub fn commit_events(
    c: &Commit<'_>,
    dids: &HashSet<String>,
    url_base: &str,
) -> (Vec<Event>, Vec<SourceError>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    if !dids.is_empty() && !dids.contains(&c.repo) {
        return (events, errors);
    }
    let prefix = format!("{POST_COLLECTION}/");
    let creates: Vec<(&str, &Op)> = c
        .ops
        .iter()
        .filter(|op| op.action == "create")
        .filter_map(|op| op.path.strip_prefix(&prefix).map(|rkey| (rkey, op)))
        .collect();
    if creates.is_empty() {
        return (events, errors);
    }
    if c.too_big {
        errors.push(SourceError::malformed(format!(
            "commit #{} of {} too big to carry its blocks: its posts are skipped",
            c.seq, c.repo
        )));
        return (events, errors);
    }
    let car = match read_car(c.blocks) {
        Ok(car) => car,
        Err(e) => {
            errors.push(SourceError::malformed(format!(
                "commit #{}: {}",
                c.seq, e.message
            )));
            return (events, errors);
        }
    };
    for (rkey, op) in creates {
        let Some(cid) = op.cid.as_ref() else {
            errors.push(SourceError::malformed(format!(
                "{}: create without a CID",
                op.path
            )));
            continue;
        };
        let Some(block) = car.get(cid) else {
            errors.push(SourceError::malformed(format!(
                "{}: block {cid} missing",
                op.path
            )));
            continue;
        };
        match serde_ipld_dagcbor::from_slice::<PostRecord>(block) {
            Ok(rec) => match post_event(&c.repo, rkey, rec, url_base) {
                Some(ev) => events.push(ev),
                None => errors.push(SourceError::malformed(format!(
                    "commit #{}: invalid repo or record key",
                    c.seq
                ))),
            },
            Err(e) => errors.push(SourceError::malformed(format!("{}: record: {e}", op.path))),
        }
    }
    (events, errors)
}
