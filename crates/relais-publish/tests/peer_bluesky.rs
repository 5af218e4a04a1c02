//! Bluesky against a real PDS (`@atproto/pds`). Env: PDS_URL, BSKY_HANDLE, BSKY_PASSWORD
//! (start-pds.sh).

mod common;

use common::{loopback_net, peer_env, png_media, unique};
use relais_publish::bluesky::{rkey_for, Bluesky, BlueskyCredentials};
use relais_publish::{Connector, PublishRequest, ReplyTo, Secret, Variant};
use serde_json::Value;

fn connector(env: &[String]) -> Bluesky {
    Bluesky::new(
        loopback_net(),
        BlueskyCredentials {
            pds: env[0].clone(),
            identifier: env[1].clone(),
            app_password: Secret::new(env[2].as_str()),
        },
    )
}

async fn list_records(pds: &str, did: &str) -> Vec<Value> {
    let net = loopback_net();
    let url = format!("{pds}/xrpc/com.atproto.repo.listRecords?repo={did}&collection=app.bsky.feed.post&limit=100");
    let v: Value = serde_json::from_slice(&net.fetch(net.get(&url)).await.unwrap()).unwrap();
    v["records"].as_array().unwrap().clone()
}

#[tokio::test]
async fn peer_bluesky_post_with_facets_image_and_reply() {
    let Some(env) = peer_env(&["PDS_URL", "BSKY_HANDLE", "BSKY_PASSWORD"], "start-pds.sh") else {
        return;
    };
    let b = connector(&env);
    let (did, handle) = b.whoami().await.unwrap();
    let marker = unique();
    let text = format!("héllo @{handle} voir https://example.org/a. #relais {marker}");
    let req = PublishRequest {
        idempotency_key: format!("target-{marker}"),
        variant: Variant {
            text: text.clone(),
            media: vec![png_media("a red pixel")],
            language: Some("fr".into()),
            ..Default::default()
        },
        reply_to: None,
    };
    assert!(b.validate(&req.variant).is_empty());
    assert_eq!(
        b.reconcile(&req).await.unwrap(),
        None,
        "nothing before publishing"
    );
    let p = b.publish(&req).await.unwrap();
    assert!(
        p.remote_id.ends_with(&rkey_for(&req.idempotency_key)),
        "{p:?}"
    );
    // A retry with the same idempotency key returns the same post instead of duplicating.
    let again = b.publish(&req).await.unwrap();
    assert_eq!(again.remote_id, p.remote_id);
    assert_eq!(
        b.reconcile(&req).await.unwrap().unwrap().remote_id,
        p.remote_id
    );

    let recs = list_records(&env[0], &did).await;
    let ours: Vec<&Value> = recs
        .iter()
        .filter(|r| r["value"]["text"] == text.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "exactly once in listRecords");
    let v = &ours[0]["value"];
    assert_eq!(v["langs"][0], "fr");
    let facets = v["facets"].as_array().unwrap();
    let slice = |f: &Value| {
        let s = f["index"]["byteStart"].as_u64().unwrap() as usize;
        let e = f["index"]["byteEnd"].as_u64().unwrap() as usize;
        text.as_bytes()[s..e].to_vec()
    };
    let kinds: Vec<(String, String)> = facets
        .iter()
        .map(|f| {
            (
                f["features"][0]["$type"].as_str().unwrap().to_owned(),
                String::from_utf8(slice(f)).unwrap(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(
            "app.bsky.richtext.facet#link".into(),
            "https://example.org/a".into()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "app.bsky.richtext.facet#mention".into(),
            format!("@{handle}")
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("app.bsky.richtext.facet#tag".into(), "#relais".into())),
        "{kinds:?}"
    );
    let mention = facets
        .iter()
        .find(|f| f["features"][0]["did"].is_string())
        .unwrap();
    assert_eq!(mention["features"][0]["did"], did.as_str());
    let img = &v["embed"]["images"][0];
    assert_eq!(v["embed"]["$type"], "app.bsky.embed.images");
    assert_eq!(img["alt"], "a red pixel");
    assert_eq!(img["image"]["mimeType"], "image/png");
    assert!(img["image"]["ref"]["$link"].is_string(), "{img}");

    // A reply in the thread.
    let reply = PublishRequest {
        idempotency_key: format!("reply-{marker}"),
        variant: Variant {
            text: format!("suite {marker}"),
            ..Default::default()
        },
        reply_to: Some(ReplyTo {
            root: p.clone(),
            parent: p.clone(),
        }),
    };
    b.publish(&reply).await.unwrap();
    let recs = list_records(&env[0], &did).await;
    let r = recs
        .iter()
        .find(|r| r["value"]["text"] == reply.variant.text.as_str())
        .unwrap();
    assert_eq!(r["value"]["reply"]["parent"]["uri"], p.remote_id.as_str());
    assert_eq!(
        r["value"]["reply"]["root"]["cid"],
        p.cid.clone().unwrap().as_str()
    );
}

#[tokio::test]
async fn peer_bluesky_wrong_password_is_disconnect() {
    let Some(mut env) = peer_env(&["PDS_URL", "BSKY_HANDLE", "BSKY_PASSWORD"], "start-pds.sh")
    else {
        return;
    };
    env[2] = "wrong-password".into();
    let e = connector(&env).whoami().await.unwrap_err();
    assert_eq!(e.code(), "disconnect", "{e}");
}
