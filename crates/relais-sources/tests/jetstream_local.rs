//! The Jetstream client against a local websocket server speaking the message format of the
//! Jetstream README (github.com/bluesky-social/jetstream: `/subscribe?wantedCollections=…&cursor=`,
//! JSON `{did, time_us, kind, commit: {rev, operation, collection, rkey, record, cid}}`). No
//! Jetstream peer exists, so the server here plays one.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{loopback_net, ws_server, Collector};
use futures::SinkExt;
use relais_sources::{spawn, ErrorCode, JetstreamConfig, SourceConfig};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const T0: i64 = 1_725_911_162_329_308;

fn post(did: &str, rkey: &str, t: i64, text: &str) -> Message {
    Message::Text(
        json!({
            "did": did, "time_us": t, "kind": "commit",
            "commit": {"rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post",
                       "rkey": rkey, "cid": "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4",
                       "record": {"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z",
                                  "langs": ["en"], "text": text}}
        })
        .to_string()
        .into(),
    )
}

#[tokio::test]
async fn posts_cursor_rewind_and_replays_dropped() {
    let paths = Arc::new(Mutex::new(Vec::new()));
    let p2 = paths.clone();
    let base = ws_server(move |n, path, mut ws| {
        p2.lock().unwrap().push(path);
        async move {
            if n == 0 {
                let like = json!({"did": "did:plc:a", "time_us": T0, "kind": "commit",
                    "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "l1",
                               "record": {"subject": {}}}});
                ws.send(Message::Text(like.to_string().into())).await.unwrap();
                ws.send(post("did:plc:a", "p1", T0 + 10, "first post")).await.unwrap();
                ws.send(Message::Text("{not json".into())).await.unwrap();
                let id = json!({"did": "did:plc:a", "time_us": T0 + 20, "kind": "identity",
                    "identity": {"did": "did:plc:a", "handle": "a.test", "seq": 1, "time": "2024-09-09T19:46:02.102Z"}});
                ws.send(Message::Text(id.to_string().into())).await.unwrap();
                let _ = ws.close(None).await;
            } else {
                // After a rewind the server replays what it had sent, then goes on.
                ws.send(post("did:plc:a", "p1", T0 + 10, "first post")).await.unwrap();
                ws.send(post("did:plc:a", "p2", T0 + 30, "second post")).await.unwrap();
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    })
    .await;
    let (tx, mut c) = Collector::new();
    let cfg = JetstreamConfig {
        url: format!("{base}/subscribe"),
        ..Default::default()
    };
    let h = spawn(
        loopback_net(),
        3,
        SourceConfig::BlueskyJetstream(cfg),
        Some((T0 - 1).to_string()),
        tx,
    );
    c.until(Duration::from_secs(10), "second post", |c| {
        c.has_text("second post")
    })
    .await;
    c.drain(Duration::from_millis(200)).await;
    assert_eq!(
        c.texts(),
        vec!["first post", "second post"],
        "the replay is dropped"
    );
    assert_eq!(c.cursor, Some((T0 + 30).to_string()));
    assert_eq!(c.events[0].guid, "at://did:plc:a/app.bsky.feed.post/p1");
    assert_eq!(c.events[0].langs, vec!["en"]);
    let paths = paths.lock().unwrap().clone();
    assert_eq!(
        paths[0],
        format!(
            "/subscribe?wantedCollections=app.bsky.feed.post&cursor={}",
            T0 - 1 - 5_000_000
        )
    );
    assert_eq!(
        paths[1],
        format!(
            "/subscribe?wantedCollections=app.bsky.feed.post&cursor={}",
            T0 + 20 - 5_000_000
        ),
        "resumed 5 s before the last time_us received (identity events count)"
    );
    let notice = h.status().last_notice.unwrap();
    assert_eq!(notice.code, ErrorCode::Malformed);
}
