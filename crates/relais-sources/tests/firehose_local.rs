//! The firehose client against a scripted local relay (tokio-tungstenite server): cursors,
//! reconnects after a cut mid-frame, `#info OutdatedCursor`, `FutureCursor`, malformed and
//! oversized frames, the SSRF guard. Frames are built with `relais_sources::firehose::testing`
//! following atproto.com/specs/event-stream.

mod common;

use std::time::Duration;

use common::{loopback_net, status_until, ws_server, Collector};
use futures::SinkExt;
use relais_net::Net;
use relais_sources::firehose::testing::{commit_frame, error_frame, info_frame, other_frame, post};
use relais_sources::{spawn, ErrorCode, FirehoseConfig, SourceConfig, SourceState};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

const S: Duration = Duration::from_secs(10);

fn cfg(base: &str) -> SourceConfig {
    SourceConfig::BlueskyFirehose(FirehoseConfig::new(base))
}

fn bin(b: Vec<u8>) -> Message {
    Message::Binary(b.into())
}

#[tokio::test]
async fn resumes_after_a_cut_mid_frame_without_loss_or_duplicates() {
    let paths = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let p2 = paths.clone();
    let base = ws_server(move |n, path, mut ws| {
        p2.lock().unwrap().push(path);
        async move {
            if n == 0 {
                ws.send(bin(commit_frame(
                    1,
                    "did:plc:a",
                    &[("r1", post("one", &["fr"]))],
                )))
                .await
                .unwrap();
                ws.send(bin(other_frame("#identity", 2, "did:plc:a")))
                    .await
                    .unwrap();
                ws.send(bin(commit_frame(
                    3,
                    "did:plc:a",
                    &[("r3", post("three", &[]))],
                )))
                .await
                .unwrap();
                ws.flush().await.unwrap();
                // Half a binary frame announcing 1000 bytes, then the connection drops.
                let tcp = ws.get_mut();
                tcp.write_all(&[0x82, 0x7e, 0x03, 0xe8, 1, 2, 3])
                    .await
                    .unwrap();
                tcp.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
                drop(ws);
            } else {
                ws.send(bin(commit_frame(
                    4,
                    "did:plc:a",
                    &[("r4", post("four", &[]))],
                )))
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    })
    .await;
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 1, cfg(&base), Some("0".into()), tx);
    c.until(S, "four", |c| c.has_text("four")).await;
    assert_eq!(
        c.texts(),
        vec!["one", "three", "four"],
        "each once, in order"
    );
    c.until(S, "cursor 4", |c| c.cursor.as_deref() == Some("4"))
        .await;
    let paths = paths.lock().unwrap().clone();
    assert_eq!(paths[0], "/xrpc/com.atproto.sync.subscribeRepos?cursor=0");
    assert_eq!(
        paths[1], "/xrpc/com.atproto.sync.subscribeRepos?cursor=3",
        "resumed after the last frame received"
    );
    let st = h.status();
    assert_eq!(
        st.last_error, None,
        "cleared once the new connection delivered"
    );
    assert_eq!(st.delivered, 3);
    assert_eq!(st.state, SourceState::Connected);
    assert_eq!(c.events[0].langs, vec!["fr"]);
    assert_eq!(c.events[0].guid, "at://did:plc:a/app.bsky.feed.post/r1");
}

#[tokio::test]
async fn outdated_cursor_is_a_notice_and_the_stream_goes_on() {
    let base = ws_server(|_, _, mut ws| async move {
        ws.send(bin(info_frame(
            "OutdatedCursor",
            "Requested cursor exceeded limit. Possibly missing events",
        )))
        .await
        .unwrap();
        ws.send(bin(commit_frame(
            100,
            "did:plc:a",
            &[("k", post("after info", &[]))],
        )))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 1, cfg(&base), Some("5".into()), tx);
    c.until(S, "event", |c| c.has_text("after info")).await;
    let n = h.status().last_notice.expect("a notice");
    assert_eq!(n.code, ErrorCode::CursorTooOld);
    assert!(n.message.contains("OutdatedCursor"), "{}", n.message);
    assert_eq!(h.status().state, SourceState::Connected);
}

#[tokio::test]
async fn future_cursor_resumes_from_the_live_head() {
    let paths = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let p2 = paths.clone();
    let base = ws_server(move |n, path, mut ws| {
        p2.lock().unwrap().push(path);
        async move {
            if n == 0 {
                ws.send(bin(error_frame("FutureCursor", "Cursor in the future.")))
                    .await
                    .unwrap();
                let _ = ws.close(None).await;
            } else {
                ws.send(bin(commit_frame(
                    7,
                    "did:plc:a",
                    &[("k", post("live", &[]))],
                )))
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    })
    .await;
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 1, cfg(&base), Some("999999".into()), tx);
    c.until(S, "live", |c| c.cursor.as_deref() == Some("7"))
        .await;
    let paths = paths.lock().unwrap().clone();
    assert!(paths[0].ends_with("cursor=999999"));
    assert_eq!(
        paths[1], "/xrpc/com.atproto.sync.subscribeRepos",
        "no cursor after FutureCursor"
    );
    assert_eq!(h.status().last_notice.unwrap().code, ErrorCode::CursorReset);
}

#[tokio::test]
async fn malformed_frames_are_skipped_with_a_notice() {
    let base = ws_server(|_, _, mut ws| async move {
        ws.send(bin(b"\xff\x00garbage".to_vec())).await.unwrap();
        ws.send(Message::Text("{\"op\":1}".into())).await.unwrap();
        let mut cut = commit_frame(8, "did:plc:a", &[("k", post("lost", &[]))]);
        cut.truncate(cut.len() / 2);
        ws.send(bin(cut)).await.unwrap();
        ws.send(bin(commit_frame(
            9,
            "did:plc:a",
            &[("k2", post("good", &[]))],
        )))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 1, cfg(&base), None, tx);
    c.until(S, "good", |c| c.has_text("good")).await;
    assert_eq!(c.texts(), vec!["good"]);
    assert_eq!(h.status().last_notice.unwrap().code, ErrorCode::Malformed);
    assert_eq!(
        h.status().state,
        SourceState::Connected,
        "no reconnect for a bad frame"
    );
}

#[tokio::test]
async fn an_oversized_frame_breaks_the_connection_and_it_recovers() {
    let base = ws_server(|n, _, mut ws| async move {
        if n == 0 {
            let big = commit_frame(1, "did:plc:a", &[("k", post(&"x".repeat(4000), &[]))]);
            let _ = ws.send(bin(big)).await;
        } else {
            let _ = ws
                .send(bin(commit_frame(
                    2,
                    "did:plc:a",
                    &[("k2", post("small", &[]))],
                )))
                .await;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let (tx, mut c) = Collector::new();
    let mut f = FirehoseConfig::new(&base);
    f.max_frame_bytes = Some(2000);
    let h = spawn(
        loopback_net(),
        1,
        SourceConfig::BlueskyFirehose(f),
        None,
        tx,
    );
    status_until(&h, S, "too large", |s| {
        s.last_error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::TooLarge)
    })
    .await;
    c.until(S, "small", |c| c.has_text("small")).await;
    assert_eq!(c.texts(), vec!["small"]);
}

#[tokio::test]
async fn the_ssrf_guard_refuses_loopback_unless_allow_listed() {
    let base = ws_server(|_, _, mut ws| async move {
        let _ = ws
            .send(bin(commit_frame(1, "did:plc:a", &[("k", post("no", &[]))])))
            .await;
    })
    .await;
    let (tx, mut c) = Collector::new();
    let h = spawn(Net::strict().unwrap(), 1, cfg(&base), None, tx);
    status_until(&h, S, "blocked", |s| {
        s.last_error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::SsrfBlocked)
            && matches!(s.state, SourceState::Backoff { .. })
    })
    .await;
    c.drain(Duration::from_millis(200)).await;
    assert!(c.events.is_empty());
}

#[tokio::test]
async fn a_bad_configuration_stops_the_source() {
    let (tx, _c) = Collector::new();
    let h = spawn(loopback_net(), 1, cfg("ftp://relay.example"), None, tx);
    status_until(&h, S, "stopped", |s| s.state == SourceState::Stopped).await;
    let e = h.status().last_error.unwrap();
    assert_eq!(e.code, ErrorCode::InvalidConfig);
    assert!(e.message.starts_with("url"), "{}", e.message);
}

#[tokio::test]
async fn unreachable_relay_backs_off_with_growing_delays() {
    // A port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let (tx, _c) = Collector::new();
    let h = spawn(
        loopback_net(),
        1,
        cfg(&format!("ws://127.0.0.1:{port}")),
        None,
        tx,
    );
    status_until(
        &h,
        S,
        "second attempt",
        |s| matches!(s.state, SourceState::Backoff { attempt, .. } if attempt >= 2),
    )
    .await;
    assert_eq!(h.status().last_error.unwrap().code, ErrorCode::Connect);
}
