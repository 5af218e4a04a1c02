//! Builders of valid firehose frames, for tests, fuzz seeds and local relays.

use ipld_core::cid::Cid;
use serde::Serialize;

use crate::car::{cid_for_cbor, write_car};

#[derive(Serialize)]
struct Header<'a> {
    op: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<&'a str>,
}

#[derive(Serialize)]
struct OpOut {
    action: &'static str,
    path: String,
    cid: Option<Cid>,
}

#[derive(Serialize)]
struct CommitOut<'a> {
    seq: i64,
    rebase: bool,
    #[serde(rename = "tooBig")]
    too_big: bool,
    repo: &'a str,
    commit: Cid,
    rev: &'a str,
    since: Option<&'a str>,
    #[serde(with = "serde_bytes")]
    blocks: &'a [u8],
    ops: Vec<OpOut>,
    blobs: Vec<Cid>,
    time: &'a str,
}

fn frame<T: Serialize>(op: i64, t: Option<&str>, body: &T) -> Vec<u8> {
    let mut out = serde_ipld_dagcbor::to_vec(&Header { op, t }).expect("header encodes");
    out.extend(serde_ipld_dagcbor::to_vec(body).expect("body encodes"));
    out
}

/// A `#commit` frame of `repo` creating one `app.bsky.feed.post` per `(rkey, record)`; the
/// records are JSON values encoded as DAG-CBOR.
pub fn commit_frame(seq: i64, repo: &str, posts: &[(&str, serde_json::Value)]) -> Vec<u8> {
    let mut blocks = Vec::new();
    let mut ops = Vec::new();
    for (rkey, rec) in posts {
        let block = serde_ipld_dagcbor::to_vec(rec).expect("record encodes");
        let cid = cid_for_cbor(&block);
        ops.push(OpOut {
            action: "create",
            path: format!("app.bsky.feed.post/{rkey}"),
            cid: Some(cid),
        });
        blocks.push((cid, block));
    }
    // A stand-in commit block, so the CAR has a root like a real one.
    let commit_block = serde_ipld_dagcbor::to_vec(&serde_json::json!({"did": repo, "version": 3}))
        .expect("commit encodes");
    let commit = cid_for_cbor(&commit_block);
    blocks.push((commit, commit_block));
    let car = write_car(&[commit], &blocks);
    frame(
        1,
        Some("#commit"),
        &CommitOut {
            seq,
            rebase: false,
            too_big: false,
            repo,
            commit,
            rev: "3kaaaaaaaaaa2",
            since: None,
            blocks: &car,
            ops,
            blobs: vec![],
            time: "2024-01-01T00:00:00.000Z",
        },
    )
}

/// A `#info` frame (`OutdatedCursor`, …).
pub fn info_frame(name: &str, message: &str) -> Vec<u8> {
    frame(
        1,
        Some("#info"),
        &serde_json::json!({"name": name, "message": message}),
    )
}

/// An error frame (`op = -1`: `FutureCursor`, `ConsumerTooSlow`, …).
pub fn error_frame(error: &str, message: &str) -> Vec<u8> {
    frame(
        -1,
        None,
        &serde_json::json!({"error": error, "message": message}),
    )
}

/// Another message type (`#identity`, `#account`) with a sequence number.
pub fn other_frame(t: &str, seq: i64, did: &str) -> Vec<u8> {
    frame(
        1,
        Some(t),
        &serde_json::json!({"seq": seq, "did": did, "time": "2024-01-01T00:00:00.000Z"}),
    )
}

/// A simple post record.
pub fn post(text: &str, langs: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "langs": langs,
        "createdAt": "2024-01-02T03:04:05.678Z",
    })
}
