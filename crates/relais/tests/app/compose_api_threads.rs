//! Threads, first comments and media through the JSON API: the same checks as the composer.

use crate::common;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn api_posts_with_threads_comments_and_media() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let masto = app.channel(ws, "mastodon", "Mastodon", json!({})).await;
    let hook = app.channel(ws, "webhook", "Hook", json!({})).await;
    let tok = app.api_token(&owner).await;
    let api = reqwest::Client::new();
    let url = app.at(&format!("/api/v1/workspaces/{ws}/posts"));
    let send = |body: Value| {
        let (api, url, tok) = (api.clone(), url.clone(), tok.clone());
        async move {
            api.post(url)
                .bearer_auth(tok)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };

    // A thread where the network has no replies: refused, naming the field.
    let r =
        send(json!({"text": "x", "channels": [hook], "threads": {hook.to_string(): ["y"]}})).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("no_replies"), Some("thread"))
    );
    // A media id that is not in the library.
    let r = send(json!({"text": "x", "channels": [masto], "media": [999]})).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["field"], "media");

    let r = send(json!({
        "text": "Première partie",
        "channels": [masto],
        "threads": {masto.to_string(): ["Deuxième partie"]},
        "comments": {masto.to_string(): "Un commentaire"},
        "action": "draft"
    }))
    .await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let target = v["targets"][0]["id"].as_i64().unwrap();
    let parts: Vec<(String, String)> = app
        .state
        .store
        .parts(target)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.kind, p.body))
        .collect();
    assert_eq!(
        parts,
        [
            ("thread".to_string(), "Deuxième partie".to_string()),
            ("comment".into(), "Un commentaire".into())
        ]
    );
}
