//! The firehose client against a real PDS (`@atproto/pds`, /work/shared/peers/start-pds.sh).
//! Env: PDS_URL, BSKY_HANDLE, BSKY_PASSWORD (source $PEERS_HOME/pds/env).

mod common;

use std::time::{Duration, Instant};

use common::{loopback_net, peer_env, status_until, unique, Collector};
use relais_net::Net;
use relais_sources::{spawn, FirehoseConfig, SourceConfig, SourceState};
use serde_json::{json, Value};

struct Pds {
    net: Net,
    url: String,
    did: String,
    jwt: String,
}

impl Pds {
    async fn login(env: &[String]) -> Pds {
        let net = loopback_net();
        let url = env[0].trim_end_matches('/').to_owned();
        let v: Value = serde_json::from_slice(
            &net.fetch(
                net.post(&format!("{url}/xrpc/com.atproto.server.createSession"))
                    .json(&json!({"identifier": env[1], "password": env[2]})),
            )
            .await
            .expect("createSession"),
        )
        .unwrap();
        Pds {
            did: v["did"].as_str().unwrap().to_owned(),
            jwt: v["accessJwt"].as_str().unwrap().to_owned(),
            net,
            url,
        }
    }

    /// Create a post; returns its at:// URI.
    async fn post(&self, text: &str, langs: &[&str]) -> String {
        let rec = json!({
            "$type": "app.bsky.feed.post",
            "text": text,
            "langs": langs,
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let body = json!({"repo": self.did, "collection": "app.bsky.feed.post", "record": rec});
        let v: Value = serde_json::from_slice(
            &self
                .net
                .fetch(
                    self.net
                        .post(&format!("{}/xrpc/com.atproto.repo.createRecord", self.url))
                        .bearer_auth(&self.jwt)
                        .json(&body),
                )
                .await
                .expect("createRecord"),
        )
        .unwrap();
        v["uri"].as_str().unwrap().to_owned()
    }
}

fn source(pds: &Pds) -> SourceConfig {
    // The PDS base URL: the client adds the subscribeRepos path and switches to ws://.
    let mut f = FirehoseConfig::new(&pds.url);
    f.dids = vec![pds.did.clone()];
    SourceConfig::BlueskyFirehose(f)
}

#[tokio::test]
async fn peer_bluesky_post_appears_as_an_event_within_one_second() {
    let Some(env) = peer_env(&["PDS_URL", "BSKY_HANDLE", "BSKY_PASSWORD"], "start-pds.sh") else {
        return;
    };
    let pds = Pds::login(&env).await;
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 1, source(&pds), None, tx);
    status_until(&h, Duration::from_secs(10), "connected", |s| {
        s.state == SourceState::Connected
    })
    .await;
    // Let the PDS attach the new subscriber to its outbox.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let marker = unique();
    let text = format!("firehose test {marker} café");
    let uri = pds.post(&text, &["fr"]).await;
    let sent = Instant::now();
    c.until(Duration::from_secs(1), "the post within 1 s", |c| {
        c.has_text(&marker)
    })
    .await;
    let latency = sent.elapsed();
    eprintln!("firehose latency after createRecord returned: {latency:?}");
    let ev = c.events.iter().find(|e| e.text.contains(&marker)).unwrap();
    assert_eq!(ev.guid, uri, "the guid is the record's at:// URI");
    assert_eq!(ev.text, text);
    assert_eq!(ev.langs, vec!["fr"]);
    assert_eq!(ev.author.as_deref(), Some(pds.did.as_str()));
    assert!(ev.published_at_ms.is_some());
    assert!(c
        .cursor
        .as_deref()
        .is_some_and(|s| s.parse::<i64>().is_ok()));
}

#[tokio::test]
async fn peer_bluesky_restart_from_the_saved_cursor_loses_nothing_and_repeats_nothing() {
    let Some(env) = peer_env(&["PDS_URL", "BSKY_HANDLE", "BSKY_PASSWORD"], "start-pds.sh") else {
        return;
    };
    let pds = Pds::login(&env).await;
    let marker = unique();
    let (tx, mut c) = Collector::new();
    let h = spawn(loopback_net(), 1, source(&pds), None, tx);
    status_until(&h, Duration::from_secs(10), "connected", |s| {
        s.state == SourceState::Connected
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    pds.post(&format!("before restart {marker}"), &[]).await;
    c.until(Duration::from_secs(5), "first post and its cursor", |c| {
        c.has_text(&format!("before restart {marker}")) && c.cursor.is_some()
    })
    .await;
    let saved = c.cursor.clone();
    drop(h); // the process stops; the store kept `saved`

    let while_down = format!("while down {marker}");
    pds.post(&while_down, &["en"]).await;

    let (tx2, mut c2) = Collector::new();
    let _h2 = spawn(loopback_net(), 1, source(&pds), saved, tx2);
    c2.until(Duration::from_secs(5), "the post made while down", |c| {
        c.has_text(&while_down)
    })
    .await;
    c2.drain(Duration::from_millis(500)).await;
    assert_eq!(c2.count_text(&while_down), 1, "{:?}", c2.texts());
    assert_eq!(
        c2.count_text(&format!("before restart {marker}")),
        0,
        "not delivered twice: {:?}",
        c2.texts()
    );
}
