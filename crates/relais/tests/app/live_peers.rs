//! Live sources through the whole application: a post created on the local Bluesky PDS
//! (start-pds.sh) becomes a mention through the firehose, and a status on mastodon-mock
//! (start-mastodon-mock.sh) through the Mastodon timeline. With CI=true a missing peer fails.

use crate::common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn env(keys: &[&str], script: &str) -> Option<Vec<String>> {
    let got: Vec<Option<String>> = keys
        .iter()
        .map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .collect();
    if got.iter().all(Option::is_some) {
        return Some(got.into_iter().flatten().collect());
    }
    let msg = format!("live source peers missing ({keys:?}): start ../shared/peers/{script}");
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

async fn setup(
    app: &TestApp,
    word: &str,
    kind: &str,
    url: &str,
    extra: &[(&str, &str)],
) -> (reqwest::Client, i64) {
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let setup = format!("/w/{ws}/listening/setup");
    let r = app
        .submit(
            &owner,
            &setup,
            &format!("/w/{ws}/listening/queries"),
            &[("name", word), ("expression", word), ("tag", "brand")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut form = vec![("kind", kind), ("url", url)];
    form.extend_from_slice(extra);
    let r = app
        .submit(&owner, &setup, &format!("/w/{ws}/listening/live"), &form)
        .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    // The worker's runner takes the source and connects.
    let t0 = Instant::now();
    loop {
        let l = &app.state.store.live_subscriptions(ws).await.unwrap()[0];
        let (st, problem) = relais_web::service::live::describe(l.source.status.as_deref());
        if st == "connected" || st == "idle" {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "source not connected: {st} {problem:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (owner, ws)
}

async fn wait_mention(
    app: &TestApp,
    ws: i64,
    text: &str,
    within: Duration,
) -> (relais_store::mentions::Mention, Duration) {
    let t0 = Instant::now();
    loop {
        let m = app.state.store.mentions(ws, None, 50).await.unwrap();
        if let Some(x) = m.into_iter().find(|m| m.body.contains(text)) {
            return (x, t0.elapsed());
        }
        assert!(t0.elapsed() < within, "no mention containing {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_bluesky_post_becomes_a_mention_through_the_firehose() {
    let Some(e) = env(&["PDS_URL", "BSKY_HANDLE", "BSKY_PASSWORD"], "start-pds.sh") else {
        return;
    };
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let word = format!(
        "relais{}",
        relais_store::random_token(4)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let (_, ws) = setup(&app, &word, "bluesky_firehose", &e[0], &[]).await;
    let http = reqwest::Client::new();
    let s: Value = http
        .post(format!("{}/xrpc/com.atproto.server.createSession", e[0]))
        .json(&json!({ "identifier": e[1], "password": e[2] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = format!("Le nouveau {word} est arrivé, quelle honte ce retard !");
    let rec = json!({ "repo": s["did"], "collection": "app.bsky.feed.post", "record": {
        "$type": "app.bsky.feed.post", "text": text, "langs": ["fr"],
        "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true) } });
    let r = http
        .post(format!("{}/xrpc/com.atproto.repo.createRecord", e[0]))
        .bearer_auth(s["accessJwt"].as_str().unwrap())
        .json(&rec)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (m, took) = wait_mention(&app, ws, &word, Duration::from_secs(10)).await;
    eprintln!("PDS post → stored mention in {} ms", took.as_millis());
    assert!(
        m.origin == "bluesky"
            && m.lang.as_deref() == Some("fr")
            && m.sentiment.as_deref() == Some("negative"),
        "{m:?}"
    );
    assert!(m
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://bsky.app/profile/")));
    // The cursor is saved: a restart resumes after it (the runner keeps it per source).
    let l = &app.state.store.live_subscriptions(ws).await.unwrap()[0];
    assert!(l.source.cursor.is_some());
}

#[tokio::test]
async fn a_mastodon_status_becomes_a_mention_through_the_hashtag_timeline() {
    let Some(e) = env(
        &["MASTODON_URL", "MASTODON_TOKEN"],
        "start-mastodon-mock.sh",
    ) else {
        return;
    };
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let word = format!(
        "relais{}",
        relais_store::random_token(4)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let (_, ws) = setup(
        &app,
        &word,
        "mastodon",
        &e[0],
        &[("hashtag", &word), ("mastodon_token", &e[1])],
    )
    .await;
    let text = format!("J'adore #{word}, merci !");
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/statuses", e[0]))
        .bearer_auth(&e[1])
        .form(&[("status", text.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (m, took) = wait_mention(&app, ws, &word, Duration::from_secs(20)).await;
    eprintln!(
        "mastodon status → stored mention in {} ms",
        took.as_millis()
    );
    assert_eq!(m.origin, "mastodon");
    // The token is sealed, not in the stored settings.
    let l = &app.state.store.live_subscriptions(ws).await.unwrap()[0];
    assert!(!l.source.config.contains(&e[1]) && l.source.secret_id.is_some());
}
