//! Error paths against a local Mastodon-shaped server: connect (credentials + instance
//! limits), a hang after the request was received, 429, 401 and 422.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{env_with, fast_config, serve, Env};
use relais_domain::publish::TargetState as S;
use relais_publisher::{ChannelCredentials, ChannelError};
use relais_store::audit::Actor;
use relais_store::channels::Channel;
use relais_store::now;
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Ok,
    /// Store the status, then answer too late (the client times out).
    HangAfterStore,
    TooMany,
    Unauthorized,
    Unprocessable,
}

#[derive(Default)]
struct Server {
    mode: Option<Mode>,
    /// POST /api/v1/statuses calls.
    calls: usize,
    statuses: Vec<(String, String)>,
}

type S2 = Arc<Mutex<Server>>;

fn authed(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer good")
}

async fn verify(h: HeaderMap) -> Response {
    if !authed(&h) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "The access token is invalid"})),
        )
            .into_response();
    }
    Json(json!({"id": "7", "acct": "brand"})).into_response()
}

async fn instance() -> Json<Value> {
    Json(
        json!({"configuration": {"statuses": {"max_characters": 777, "characters_reserved_per_url": 23, "max_media_attachments": 4}}}),
    )
}

async fn create(State(s): State<S2>, Json(body): Json<Value>) -> Response {
    let mode = {
        let mut g = s.lock().unwrap();
        g.calls += 1;
        g.mode.unwrap_or(Mode::Ok)
    };
    let text = body["status"].as_str().unwrap_or_default().to_string();
    let store = |s: &S2| {
        let mut g = s.lock().unwrap();
        let id = format!("{}", 100 + g.statuses.len());
        g.statuses.push((id.clone(), text.clone()));
        id
    };
    match mode {
        Mode::Ok => {
            let id = store(&s);
            Json(json!({"id": id, "url": format!("https://m.test/@brand/{id}"), "content": text}))
                .into_response()
        }
        Mode::HangAfterStore => {
            store(&s);
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Mode::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "2")],
            Json(json!({"error": "Too many requests"})),
        )
            .into_response(),
        Mode::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "The access token was revoked"})),
        )
            .into_response(),
        Mode::Unprocessable => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "Validation failed: Text character limit of 500 exceeded"})),
        )
            .into_response(),
    }
}

async fn account_statuses(State(s): State<S2>, Path(_id): Path<String>) -> Json<Value> {
    let g = s.lock().unwrap();
    let list: Vec<Value> = g
        .statuses
        .iter()
        .rev()
        .map(|(id, text)| json!({"id": id, "url": format!("https://m.test/@brand/{id}"), "content": format!("<p>{text}</p>")}))
        .collect();
    Json(json!(list))
}

async fn mastodon() -> (String, S2) {
    let s: S2 = Arc::default();
    let app = Router::new()
        .route("/api/v1/accounts/verify_credentials", get(verify))
        .route("/api/v2/instance", get(instance))
        .route("/api/v1/statuses", post(create))
        .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
        .with_state(s.clone());
    (serve(app).await, s)
}

fn set(s: &S2, m: Mode) {
    s.lock().unwrap().mode = Some(m);
}

fn calls(s: &S2) -> usize {
    s.lock().unwrap().calls
}

async fn setup() -> (Env, S2, Channel, ChannelCredentials) {
    let e = env_with(fast_config(), Duration::from_millis(800)).await;
    let (base, s) = mastodon().await;
    let creds = ChannelCredentials::Mastodon {
        instance: base,
        access_token: "good".into(),
    };
    let ch = e.connect(creds.clone()).await;
    (e, s, ch, creds)
}

#[tokio::test]
async fn connect_checks_credentials_and_reads_instance_limits() {
    let (e, _s, ch, creds) = setup().await;
    assert_eq!(ch.network, "mastodon");
    assert_eq!(ch.limits["max_characters"], 777);
    assert_eq!(ch.config["acct"], "brand");
    assert!(
        !ch.config.to_string().contains("good"),
        "no token in the config"
    );
    assert_eq!(e.svc.credentials(&ch).await.unwrap(), creds);
    // A refused token stores nothing.
    let bad = match &creds {
        ChannelCredentials::Mastodon { instance, .. } => ChannelCredentials::Mastodon {
            instance: instance.clone(),
            access_token: "bad".into(),
        },
        _ => unreachable!(),
    };
    let err = e
        .svc
        .connect(
            e.workspace_id,
            "Nope",
            &bad,
            (e.user_id, &Actor::system("t")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ChannelError::Network(ref p) if p.code() == "disconnect"),
        "{err}"
    );
    assert_eq!(e.store.channels(e.workspace_id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_hang_after_sending_is_reconciled_never_posted_twice() {
    let (e, s, ch, _) = setup().await;
    set(&s, Mode::HangAfterStore);
    let t = e.draft(&ch, "Le lancement est confirmé").await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    let done = e.wait_state(t.id, S::Published, 15).await;
    w.stop().await;
    assert_eq!(calls(&s), 1, "never a second post");
    assert_eq!(done.remote_id.as_deref(), Some("100"));
    assert_eq!(
        done.remote_url.as_deref(),
        Some("https://m.test/@brand/100")
    );
    assert!(e
        .audit_actions()
        .await
        .contains(&"publish.unconfirmed".to_string()));
}

#[tokio::test]
async fn a_429_rate_limits_the_channel_and_no_call_is_made_until_then() {
    let (e, s, ch, _) = setup().await;
    set(&s, Mode::TooMany);
    let first = e.draft(&ch, "one").await;
    let first = e.schedule(&first, now()).await;
    let w = e.worker("w1");
    let end = tokio::time::Instant::now() + Duration::from_secs(5);
    while calls(&s) == 0 {
        assert!(tokio::time::Instant::now() < end);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let hit = now();
    set(&s, Mode::Ok);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = e.store.channel(e.workspace_id, ch.id).await.unwrap();
    assert_eq!(c.status, "rate_limited");
    let until = c.rate_limited_until.unwrap();
    assert!(
        until >= hit + 1_000 && until <= hit + 2_500,
        "{until} vs {hit}"
    );
    // Another target due now waits for the channel too.
    let second = e.draft(&ch, "two").await;
    let second = e.schedule(&second, now()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(calls(&s), 1, "no call while rate limited");
    assert_eq!(e.target(second.id).await.scheduled_at, Some(until));
    let a = e.wait_state(first.id, S::Published, 10).await;
    let b = e.wait_state(second.id, S::Published, 10).await;
    w.stop().await;
    assert!(a.published_at.unwrap() >= until && b.published_at.unwrap() >= until);
    assert_eq!(calls(&s), 3);
    let c = e.store.channel(e.workspace_id, ch.id).await.unwrap();
    assert_eq!(
        (c.status.as_str(), c.rate_limited_until),
        ("connected", None)
    );
}

#[tokio::test]
async fn a_401_fails_the_target_and_asks_for_reconnection_keeping_credentials() {
    let (e, s, ch, creds) = setup().await;
    set(&s, Mode::Unauthorized);
    let t = e.draft(&ch, "revoked").await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    let done = e.wait_state(t.id, S::Failed, 10).await;
    w.stop().await;
    assert_eq!(done.last_error_code.as_deref(), Some("disconnect"));
    assert!(done.last_error.unwrap().contains("revoked"));
    let c = e.store.channel(e.workspace_id, ch.id).await.unwrap();
    assert_eq!(c.status, "needs_reconnect");
    assert_eq!(c.secret_id, ch.secret_id);
    assert_eq!(
        e.svc.credentials(&c).await.unwrap(),
        creds,
        "credentials kept"
    );
    assert!(e
        .audit_actions()
        .await
        .contains(&"publish.failed".to_string()));
    // A reconnect with refused credentials changes nothing.
    let bad = ChannelCredentials::Mastodon {
        instance: match &creds {
            ChannelCredentials::Mastodon { instance, .. } => instance.clone(),
            _ => unreachable!(),
        },
        access_token: "bad".into(),
    };
    let by = Actor::system("t");
    assert!(e
        .svc
        .reconnect(e.workspace_id, ch.id, &bad, &by)
        .await
        .is_err());
    let c = e.store.channel(e.workspace_id, ch.id).await.unwrap();
    assert_eq!(
        (c.status.as_str(), c.secret_id),
        ("needs_reconnect", ch.secret_id)
    );
    assert_eq!(e.svc.credentials(&c).await.unwrap(), creds);
    // A good reconnect swaps the secret and the channel is usable again.
    let c = e
        .svc
        .reconnect(e.workspace_id, ch.id, &creds, &by)
        .await
        .unwrap();
    assert_eq!(c.status, "connected");
    assert_ne!(c.secret_id, ch.secret_id);
}

#[tokio::test]
async fn a_422_fails_with_the_networks_message_without_retry() {
    let (e, s, ch, _) = setup().await;
    set(&s, Mode::Unprocessable);
    let t = e.draft(&ch, "x".repeat(600).as_str()).await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    let done = e.wait_state(t.id, S::Failed, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.stop().await;
    assert_eq!(done.last_error_code.as_deref(), Some("bad_request"));
    assert!(done.last_error.unwrap().contains("character limit of 500"));
    assert_eq!(calls(&s), 1, "no retry");
    let c = e.store.channel(e.workspace_id, ch.id).await.unwrap();
    assert_eq!(c.status, "connected");
}
