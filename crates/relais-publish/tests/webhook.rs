//! The webhook against a local receiver that verifies the signature the documented way.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use relais_publish::webhook::{verify, Webhook, WebhookConfig};
use relais_publish::{Connector, PublishRequest, Secret, Variant};

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receiver(
    State(seen): State<Seen>,
    h: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let ok = verify(
        &Secret::new("s3cret"),
        &body,
        h["x-relais-signature"].to_str().unwrap(),
    );
    seen.lock().unwrap().push((h, body));
    if ok {
        (StatusCode::OK, r#"{"id":"r-1"}"#)
    } else {
        (StatusCode::UNAUTHORIZED, "bad signature")
    }
}

#[tokio::test]
async fn webhook_signature_verifies() {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/hook", post(receiver))
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let url = format!("http://{addr}/hook");
    let hook = Webhook::new(
        common::loopback_net(),
        WebhookConfig {
            url: url.clone(),
            secret: Secret::new("s3cret"),
        },
    );
    let req = PublishRequest {
        idempotency_key: "key-1".into(),
        variant: Variant {
            text: "hello".into(),
            title: Some("T".into()),
            ..Default::default()
        },
        reply_to: None,
    };
    let p = hook.publish(&req).await.unwrap();
    assert_eq!(p.remote_id, "r-1");
    {
        let seen = seen.lock().unwrap();
        let (h, body) = &seen[0];
        assert_eq!(h["idempotency-key"], "key-1");
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["text"], "hello");
        assert_eq!(
            v["sent_at"].as_i64().unwrap().to_string(),
            h["x-relais-timestamp"].to_str().unwrap()
        );
    }
    // Wrong secret: the receiver refuses, which is a configuration problem (disconnect).
    let bad = Webhook::new(
        common::loopback_net(),
        WebhookConfig {
            url,
            secret: Secret::new("other"),
        },
    );
    assert_eq!(bad.publish(&req).await.unwrap_err().code(), "disconnect");

    // A webhook to a private address is refused by the default SSRF guard.
    let strict = Webhook::new(
        relais_net::Net::strict().unwrap(),
        WebhookConfig {
            url: "http://10.0.0.1/hook".into(),
            secret: Secret::new("s"),
        },
    );
    assert_eq!(strict.publish(&req).await.unwrap_err().code(), "disconnect");
}

#[test]
fn verify_rejects_tampering() {
    let s = Secret::new("k");
    let sig = relais_publish::webhook::sign(&s, b"body");
    assert!(verify(&s, b"body", &sig));
    assert!(!verify(&s, b"body!", &sig));
    assert!(!verify(&s, b"body", "sha256=zz"));
}
