//! Channels from the UI to a real publication: connect (credentials checked, sealed), compose,
//! publish now, the worker publishes once on a local webhook receiver, the list says so.

use crate::common;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let s = s.clone();
                async move {
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    s.lock().unwrap().push((key, body));
                    "ok"
                }
            }),
        )
        .route(
            "/api/v1/accounts/verify_credentials",
            axum::routing::get(|| async {
                (
                    axum::http::StatusCode::UNAUTHORIZED,
                    "{\"error\":\"The access token is invalid\"}",
                )
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn connect_compose_publish_once() {
    let (base_url, seen) = receiver().await;
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let page = format!("/w/{ws}/channels");

    // A token the network refuses: the answer is shown, nothing is stored.
    let r = app
        .submit(
            &owner,
            &page,
            &page,
            &[
                ("network", "mastodon"),
                ("name", "Masto"),
                ("instance", &base_url),
                ("access_token", "bad"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("The network refused these credentials"),
        "{body}"
    );
    assert!(!body.contains("bad\""), "the secret is not echoed");
    assert!(app.state.store.channels(ws).await.unwrap().is_empty());

    let hook = format!("{base_url}/hook");
    let r = app
        .submit(
            &owner,
            &page,
            &page,
            &[
                ("network", "webhook"),
                ("name", "Zapier"),
                ("url", &hook),
                ("secret", "s3cr3t-signing"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, list) = app.get(&owner, &page).await;
    assert!(
        list.contains("Zapier") && list.contains("Connected") && !list.contains("s3cr3t-signing")
    );
    let ch = app.state.store.channels(ws).await.unwrap()[0].clone();
    assert!(ch.secret_id.is_some(), "credentials sealed in secrets");

    let id = ch.id.to_string();
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[
                ("body", "Hello from relais"),
                ("channel", &id),
                ("action", "now"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut published = None;
    for _ in 0..200 {
        let t = app
            .state
            .store
            .list_targets(ws, &Default::default())
            .await
            .unwrap();
        if t[0].state.as_str() == "published" {
            published = Some(t[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = published.expect("published by the worker");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "exactly one delivery");
    assert_eq!(got[0].0, t.idempotency_key);
    assert!(got[0].1.contains("Hello from relais"));
    let (_, posts) = app.get(&owner, &format!("/w/{ws}/posts")).await;
    assert!(posts.contains("Published"));
}

#[tokio::test]
async fn a_failed_publication_notifies_managers_and_the_author() {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "rejected: text too long",
            )
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let page = format!("/w/{ws}/channels");
    app.submit(
        &owner,
        &page,
        &page,
        &[
            ("network", "webhook"),
            ("name", "Hook"),
            ("url", &hook),
            ("secret", "k"),
        ],
    )
    .await;
    let editor = app.join(&owner, ws, "ed@example.com", "editor").await;
    let ch = app.state.store.channels(ws).await.unwrap()[0]
        .id
        .to_string();
    let r = app
        .submit(
            &editor,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[("body", "Will fail"), ("channel", &ch), ("action", "now")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut notified = false;
    for _ in 0..200 {
        if app.state.store.unread_notifications(1).await.unwrap() > 0 {
            notified = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(notified, "the owner is notified");
    let (_, home) = app.get(&owner, "/").await;
    assert!(home.contains("<span class=\"count\">1</span>"));
    let (_, list) = app.get(&owner, "/notifications").await;
    assert!(
        list.contains("Une publication a échoué") && list.contains("rejected: text too long"),
        "{list}"
    );
    assert_eq!(
        app.state.store.unread_notifications(1).await.unwrap(),
        0,
        "read once seen"
    );
    for _ in 0..100 {
        let mails = app.mails().await;
        if mails
            .iter()
            .any(|(to, s, _)| to == "ed@example.com" && s.contains("failed"))
            && mails.iter().any(|(to, _, _)| to == "owner@example.com")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "emails to the owner and the author: {:?}",
        app.mails()
            .await
            .iter()
            .map(|m| (&m.0, &m.1))
            .collect::<Vec<_>>()
    );
}
