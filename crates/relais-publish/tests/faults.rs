//! Fault injection with a local server: each failure mode maps to the DESIGN §2 class.

mod common;

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use relais_net::{Net, NetConfig, SsrfPolicy};
use relais_publish::mastodon::{Mastodon, MastodonCredentials};
use relais_publish::{Connector, PublishError, PublishRequest, Secret, Variant};
use tokio::io::AsyncReadExt;

async fn serve(app: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn mastodon(base: &str) -> Mastodon {
    let net = Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap(),
        timeout: Duration::from_millis(500),
        ..NetConfig::default()
    })
    .unwrap();
    Mastodon::new(
        net,
        MastodonCredentials {
            instance: base.into(),
            access_token: Secret::new("t"),
        },
    )
}

fn req() -> PublishRequest {
    PublishRequest {
        idempotency_key: "k1".into(),
        variant: Variant {
            text: "hello".into(),
            ..Default::default()
        },
        reply_to: None,
    }
}

async fn publish_against(app: Router) -> PublishError {
    let base = serve(app).await;
    mastodon(&base).publish(&req()).await.unwrap_err()
}

#[tokio::test]
async fn status_500_is_transient() {
    let app = Router::new().route(
        "/api/v1/statuses",
        post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
    );
    assert_eq!(publish_against(app).await.code(), "transient");
}

#[tokio::test]
async fn hang_after_send_is_unknown_outcome() {
    let app = Router::new().route(
        "/api/v1/statuses",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "{}"
        }),
    );
    let e = publish_against(app).await;
    assert!(matches!(e, PublishError::UnknownOutcome(_)), "{e}");
}

#[tokio::test]
async fn reset_after_send_is_unknown_outcome() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            // Close abruptly (RST) once the request is in.
            #[allow(deprecated)] // linger 0 = RST, which is the point; it does not block.
            let _ = s.set_linger(Some(Duration::ZERO));
            drop(s);
        }
    });
    let e = mastodon(&format!("http://{addr}"))
        .publish(&req())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unknown_outcome", "{e}");
}

#[tokio::test]
async fn refused_connection_is_transient() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let e = mastodon(&format!("http://{addr}"))
        .publish(&req())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "transient", "{e}");
}

#[tokio::test]
async fn status_429_is_rate_limited_with_retry_after() {
    let app = Router::new().route(
        "/api/v1/statuses",
        post(|| async {
            let mut h = HeaderMap::new();
            h.insert("retry-after", "42".parse().unwrap());
            (
                StatusCode::TOO_MANY_REQUESTS,
                h,
                r#"{"error":"Too many requests"}"#,
            )
        }),
    );
    match publish_against(app).await {
        PublishError::RateLimited {
            retry_after,
            message,
            ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(42)));
            assert!(message.contains("Too many requests"));
        }
        e => panic!("{e}"),
    }
}

#[tokio::test]
async fn idempotency_key_is_sent() {
    let app = Router::new().route(
        "/api/v1/statuses",
        post(|h: HeaderMap| async move {
            assert_eq!(h.get("idempotency-key").unwrap(), "k1");
            assert!(h
                .get("user-agent")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("relais/"));
            r#"{"id":"9","url":"https://x/9"}"#
        }),
    );
    let base = serve(app).await;
    let p = mastodon(&base).publish(&req()).await.unwrap();
    assert_eq!(p.remote_id, "9");
}

#[test]
fn credentials_are_redacted() {
    let c = MastodonCredentials {
        instance: "https://m.example".into(),
        access_token: Secret::new("s3cret"),
    };
    assert!(!format!("{c:?}").contains("s3cret"));
    let _ = common::unique();
}
