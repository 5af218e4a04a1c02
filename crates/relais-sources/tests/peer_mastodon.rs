//! Mastodon against `mastodon-mock` (/work/shared/peers/start-mastodon-mock.sh): the websocket
//! streaming API (docs.joinmastodon.org/methods/streaming, which the mock implements with real
//! Mastodon's frames) and hashtag-timeline polling with `min_id` paging.
//! Env: MASTODON_URL, MASTODON_TOKEN (source $PEERS_HOME/mastodon-mock/env).

mod common;

use std::time::Duration;

use common::{loopback_net, peer_env, status_until, unique, Collector};
use relais_sources::{spawn, MastodonConfig, MastodonMode, Secret, SourceConfig, SourceState};
use serde_json::Value;

async fn post_status(env: &[String], text: &str) -> Value {
    let net = loopback_net();
    let body = net
        .fetch(
            net.post(&format!("{}/api/v1/statuses", env[0]))
                .bearer_auth(&env[1])
                .form(&[("status", text), ("language", "fr")]),
        )
        .await
        .expect("post a status");
    serde_json::from_slice(&body).unwrap()
}

fn config(env: &[String], tag: &str, mode: MastodonMode) -> SourceConfig {
    let mut c = MastodonConfig::hashtag(&env[0], tag);
    c.token = Some(Secret::new(env[1].as_str()));
    c.mode = mode;
    c.poll_interval_secs = 1;
    SourceConfig::Mastodon(c)
}

#[tokio::test]
async fn peer_mastodon_streaming_delivers_new_statuses_and_catches_up_after_a_restart() {
    let Some(env) = peer_env(
        &["MASTODON_URL", "MASTODON_TOKEN"],
        "start-mastodon-mock.sh",
    ) else {
        return;
    };
    let tag = format!("relais{}", unique());
    let (tx, mut c) = Collector::new();
    let h = spawn(
        loopback_net(),
        5,
        config(&env, &tag, MastodonMode::Stream),
        None,
        tx,
    );
    status_until(&h, Duration::from_secs(10), "stream open", |s| {
        s.state == SourceState::Connected
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let st = post_status(&env, &format!("Bonjour #{tag} en direct")).await;
    c.until(Duration::from_secs(3), "the streamed status", |c| {
        c.has_text("en direct")
    })
    .await;
    let ev = &c.events[0];
    assert_eq!(ev.guid, st["uri"].as_str().unwrap());
    assert_eq!(ev.url.as_deref(), st["url"].as_str());
    assert_eq!(ev.text, format!("Bonjour #{tag} en direct"));
    assert_eq!(ev.langs, vec!["fr"]);
    assert!(
        ev.author.as_deref().unwrap().starts_with("testuser@"),
        "{:?}",
        ev.author
    );
    c.until(Duration::from_secs(6), "cursor = the status id", |c| {
        c.cursor.as_deref() == st["id"].as_str()
    })
    .await;
    assert_eq!(
        h.status().state,
        SourceState::Connected,
        "streaming, not polling"
    );
    assert_eq!(h.status().last_notice, None);
    let saved = c.cursor.clone();
    drop(h);

    // Posted while nobody listens: the catch-up poll before the stream reopens finds it.
    post_status(&env, &format!("pendant la coupure #{tag}")).await;
    let (tx2, mut c2) = Collector::new();
    let _h2 = spawn(
        loopback_net(),
        5,
        config(&env, &tag, MastodonMode::Stream),
        saved,
        tx2,
    );
    c2.until(Duration::from_secs(5), "caught up", |c| {
        c.has_text("pendant la coupure")
    })
    .await;
    c2.drain(Duration::from_millis(300)).await;
    assert_eq!(
        c2.texts(),
        vec![format!("pendant la coupure #{tag}")],
        "nothing twice"
    );
}

#[tokio::test]
async fn peer_mastodon_timeline_polling_pages_forward_from_the_cursor() {
    let Some(env) = peer_env(
        &["MASTODON_URL", "MASTODON_TOKEN"],
        "start-mastodon-mock.sh",
    ) else {
        return;
    };
    let tag = format!("relaispoll{}", unique());
    let seed = post_status(&env, &format!("seed #{tag}")).await;
    // More than one page (40) after the cursor.
    for i in 0..45 {
        post_status(&env, &format!("n{i:02} #{tag}")).await;
    }
    let (tx, mut c) = Collector::new();
    let cursor = seed["id"].as_str().map(str::to_owned);
    let h = spawn(
        loopback_net(),
        6,
        config(&env, &tag, MastodonMode::Poll),
        cursor,
        tx,
    );
    c.until(Duration::from_secs(10), "45 statuses", |c| {
        c.events.len() >= 45
    })
    .await;
    let expected: Vec<String> = (0..45).map(|i| format!("n{i:02} #{tag}")).collect();
    assert_eq!(c.texts(), expected, "oldest first, each once, not the seed");
    let last = post_status(&env, &format!("late #{tag}")).await;
    c.until(Duration::from_secs(5), "next poll", |c| c.has_text("late"))
        .await;
    c.until(Duration::from_secs(5), "cursor", |c| {
        c.cursor.as_deref() == last["id"].as_str()
    })
    .await;
    assert_eq!(c.events.len(), 46);
    assert!(matches!(
        h.status().state,
        SourceState::Idle { .. } | SourceState::Connecting
    ));

    // A first start (no cursor) takes the newest page.
    let (tx2, mut c2) = Collector::new();
    let _h2 = spawn(
        loopback_net(),
        7,
        config(&env, &tag, MastodonMode::Poll),
        None,
        tx2,
    );
    c2.until(Duration::from_secs(5), "newest page", |c| {
        c.events.len() >= 40
    })
    .await;
    assert!(c2.has_text("late") && !c2.has_text("seed"));
}
