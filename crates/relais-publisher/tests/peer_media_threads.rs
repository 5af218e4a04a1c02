//! Media and threads reaching real peers through the publisher (job queue, stored media):
//! - mastodon-mock (`start-mastodon-mock.sh`; MASTODON_URL, MASTODON_TOKEN): a status with an
//!   image and its description;
//! - a Bluesky PDS (`start-pds.sh`; PDS_URL, BSKY_HANDLE, BSKY_PASSWORD): a thread of two parts
//!   with an image, exactly two records, the second replying to the first.
//!
//! Without the variables the tests print a skip message, or fail when CI=true.

mod common;

use std::time::Duration;

use common::{env_with, fast_config, tiny_png};
use relais_domain::publish::TargetState as S;
use relais_publisher::ChannelCredentials;
use relais_store::now;
use serde_json::Value;

fn peer(vars: &[&str], script: &str) -> Option<Vec<String>> {
    let vals: Vec<Option<String>> = vars
        .iter()
        .map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .collect();
    if vals.iter().all(Option::is_some) {
        return Some(vals.into_iter().map(Option::unwrap).collect());
    }
    let msg = format!(
        "peer not configured (missing one of {vars:?}): run /work/shared/peers/{script} start and source $PEERS_HOME/<peer>/env"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("SKIP: {msg}");
    None
}

async fn get_json(e: &common::Env, url: &str, token: Option<&str>) -> Value {
    let mut rb = e.net.get(url);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    serde_json::from_slice(&e.net.fetch(rb).await.unwrap()).unwrap()
}

#[tokio::test]
async fn peer_mastodon_mock_status_with_media_and_alt_text() {
    let Some(env) = peer(
        &["MASTODON_URL", "MASTODON_TOKEN"],
        "start-mastodon-mock.sh",
    ) else {
        return;
    };
    let (url, token) = (env[0].clone(), env[1].clone());
    let e = env_with(fast_config(), Duration::from_secs(30)).await;
    let ch = e
        .connect(ChannelCredentials::Mastodon {
            instance: url.clone(),
            access_token: token.clone(),
        })
        .await;
    let text = format!("relais media peer test {}", relais_store::random_token(6));
    let t = e.draft(&ch, &text).await;
    e.attach(&t, 0, &tiny_png(), "Un pixel rouge sur fond blanc")
        .await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("peer");
    let done = e.wait_state(t.id, S::Published, 30).await;
    w.stop().await;
    let id = done.remote_id.unwrap();
    let v = get_json(&e, &format!("{url}/api/v1/statuses/{id}"), Some(&token)).await;
    let media = v["media_attachments"]
        .as_array()
        .expect("media_attachments");
    assert_eq!(media.len(), 1, "{v}");
    assert_eq!(
        media[0]["description"], "Un pixel rouge sur fond blanc",
        "{v}"
    );
    assert_eq!(media[0]["type"], "image", "{v}");
}

#[tokio::test]
async fn peer_bluesky_thread_of_two_parts_with_an_image() {
    let Some(env) = peer(&["PDS_URL", "BSKY_HANDLE", "BSKY_PASSWORD"], "start-pds.sh") else {
        return;
    };
    let e = env_with(fast_config(), Duration::from_secs(30)).await;
    let ch = e
        .connect(ChannelCredentials::Bluesky {
            pds: env[0].clone(),
            identifier: env[1].clone(),
            app_password: env[2].clone(),
        })
        .await;
    let marker = relais_store::random_token(8);
    let first = format!("Fil 1/2 {marker}");
    let second = format!("Fil 2/2 {marker}");
    let t = e.draft(&ch, &first).await;
    e.attach(&t, 0, &tiny_png(), "Un pixel").await;
    e.thread(&t, &[&second], None).await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("peer");
    let done = e.wait_state(t.id, S::Published, 30).await;
    w.stop().await;

    let did = ch.config["did"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            done.remote_id
                .as_deref()
                .unwrap()
                .trim_start_matches("at://")
                .split('/')
                .next()
                .unwrap()
                .to_owned()
        });
    let url = format!(
        "{}/xrpc/com.atproto.repo.listRecords?repo={did}&collection=app.bsky.feed.post&limit=100",
        env[0]
    );
    let list = get_json(&e, &url, None).await;
    let ours: Vec<&Value> = list["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["value"]["text"]
                .as_str()
                .unwrap_or_default()
                .contains(&marker)
        })
        .collect();
    assert_eq!(ours.len(), 2, "exactly two posts: {list}");
    let head = ours
        .iter()
        .find(|r| r["value"]["text"] == first.as_str())
        .unwrap();
    let reply = ours
        .iter()
        .find(|r| r["value"]["text"] == second.as_str())
        .unwrap();
    assert_eq!(done.remote_id.as_deref(), head["uri"].as_str());
    let images = head["value"]["embed"]["images"]
        .as_array()
        .expect("image embed");
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["alt"], "Un pixel");
    let r = &reply["value"]["reply"];
    for k in ["root", "parent"] {
        assert_eq!(r[k]["uri"], head["uri"], "{k}: {reply}");
        assert_eq!(r[k]["cid"], head["cid"], "{k}: {reply}");
    }
    assert!(
        reply["value"]["embed"].is_null(),
        "the image is on the first post only"
    );
}
