use std::collections::HashSet;

use super::testing::*;
use super::*;

fn events(bytes: &[u8]) -> Vec<crate::model::Event> {
    match decode_frame(bytes).unwrap() {
        Frame::Commit(c) => {
            let (ev, errs) = commit_events(&c, &HashSet::new(), DEFAULT_POST_URL_BASE);
            assert!(errs.is_empty(), "{errs:?}");
            ev
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn decodes_a_commit_with_posts() {
    let f = commit_frame(
        42,
        "did:plc:alice",
        &[
            ("3kone", post("bonjour", &["fr"])),
            ("3ktwo", post("hello", &[])),
        ],
    );
    let ev = events(&f);
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].guid, "at://did:plc:alice/app.bsky.feed.post/3kone");
    assert_eq!(ev[0].text, "bonjour");
    assert_eq!(ev[0].langs, vec!["fr"]);
    assert_eq!(ev[1].langs, Vec::<String>::new());
    let Frame::Commit(c) = decode_frame(&f).unwrap() else {
        panic!()
    };
    assert_eq!(c.seq, 42);
    // A DID filter that does not include the author.
    let only_bob: HashSet<String> = ["did:plc:bob".to_string()].into();
    assert!(commit_events(&c, &only_bob, "").0.is_empty());
}

#[test]
fn other_frames() {
    match decode_frame(&info_frame("OutdatedCursor", "too old")).unwrap() {
        Frame::Info { name, message } => {
            assert_eq!(name, "OutdatedCursor");
            assert_eq!(message.as_deref(), Some("too old"));
        }
        f => panic!("{f:?}"),
    }
    match decode_frame(&error_frame("FutureCursor", "x")).unwrap() {
        Frame::Error { error, .. } => assert_eq!(error, "FutureCursor"),
        f => panic!("{f:?}"),
    }
    match decode_frame(&other_frame("#identity", 9, "did:plc:a")).unwrap() {
        Frame::Other { t, seq } => assert_eq!((t.as_str(), seq), ("#identity", Some(9))),
        f => panic!("{f:?}"),
    }
}

#[test]
fn malformed_frames_are_errors() {
    let f = commit_frame(1, "did:plc:a", &[("k", post("x", &[]))]);
    for cut in [0, 1, 5, f.len() / 2, f.len() - 1] {
        let e = decode_frame(&f[..cut]).unwrap_err();
        assert_eq!(e.code, ErrorCode::Malformed, "cut at {cut}");
    }
    let mut trailing = f.clone();
    trailing.push(0);
    assert!(decode_frame(&trailing)
        .unwrap_err()
        .message
        .contains("trailing"));
    let e = decode_frame(&serde_ipld_dagcbor::to_vec(&serde_json::json!({"op": 7})).unwrap())
        .unwrap_err();
    assert!(e.message.contains("op 7"), "{e}");
    assert!(decode_frame(b"not cbor at all").is_err());
}

#[test]
fn a_bad_record_is_reported_and_the_rest_kept() {
    // A record whose text is a number: decoding it fails, the other post survives.
    let f = commit_frame(
        3,
        "did:plc:a",
        &[
            ("bad", serde_json::json!({"text": 5})),
            ("good", post("ok", &[])),
        ],
    );
    let Frame::Commit(c) = decode_frame(&f).unwrap() else {
        panic!()
    };
    let (ev, errs) = commit_events(&c, &HashSet::new(), "");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].text, "ok");
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].message.contains("app.bsky.feed.post/bad"),
        "{errs:?}"
    );
}

#[test]
fn endpoints_and_cursors() {
    let c = FirehoseConfig::new("https://bsky.network");
    assert_eq!(
        c.endpoint().unwrap().as_str(),
        "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos"
    );
    let c =
        FirehoseConfig::new("ws://127.0.0.1:2583/xrpc/com.atproto.sync.subscribeRepos?cursor=5");
    assert_eq!(
        c.endpoint().unwrap().as_str(),
        "ws://127.0.0.1:2583/xrpc/com.atproto.sync.subscribeRepos"
    );
    assert_eq!(
        FirehoseConfig::new("ftp://x").validate().unwrap_err().code,
        ErrorCode::InvalidConfig
    );
    assert!(FirehoseConfig::new("not a url").validate().is_err());
    let mut c = FirehoseConfig::new("wss://bsky.network");
    c.dids = vec!["alice".into()];
    assert!(c.validate().unwrap_err().message.contains("dids"));
    assert_eq!(parse_cursor(Some("12".into())).0.as_deref(), Some("12"));
    let (c, e) = parse_cursor(Some("abc".into()));
    assert!(c.is_none() && e.is_some());
}
