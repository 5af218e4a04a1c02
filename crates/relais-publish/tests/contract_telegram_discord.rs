//! Telegram and Discord have no local peer: a local axum server plays the request/response
//! contract from the official documentation.
//! - Telegram Bot API: https://core.telegram.org/bots/api#making-requests (envelope
//!   `{"ok","result"|"description","error_code","parameters"}`), #sendmessage, #sendphoto,
//!   #sendmediagroup, #responseparameters (`retry_after`).
//! - Discord: https://discord.com/developers/docs/resources/webhook#execute-webhook (`wait=true`
//!   returns the message object, `payload_json` + `files[n]`),
//!   https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit (429 body
//!   `{"message","retry_after","global"}`).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use relais_publish::discord::{DiscordWebhook, DiscordWebhookConfig};
use relais_publish::telegram::{Telegram, TelegramConfig};
use relais_publish::{Connector, PublishError, PublishRequest, RateScope, Secret, Variant};
use serde_json::{json, Value};

type Log = Arc<Mutex<Vec<Value>>>;

async fn serve(app: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn req(text: &str, media: usize) -> PublishRequest {
    PublishRequest {
        idempotency_key: "k".into(),
        variant: Variant {
            text: text.into(),
            media: (0..media).map(|_| common::png_media("alt")).collect(),
            ..Default::default()
        },
        reply_to: None,
    }
}

async fn multipart_fields(mut mp: Multipart) -> Value {
    let mut out = serde_json::Map::new();
    while let Some(f) = mp.next_field().await.unwrap() {
        let name = f.name().unwrap().to_owned();
        let file = f.file_name().map(str::to_owned);
        let data = f.bytes().await.unwrap();
        let v = match file {
            Some(fname) => json!({ "file": fname, "size": data.len() }),
            None => json!(String::from_utf8_lossy(&data)),
        };
        out.insert(name, v);
    }
    Value::Object(out)
}

async fn telegram_api(
    State(log): State<Log>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, Json<Value>) {
    if bot != "bot123:ABC" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        );
    }
    let ct = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let fields = if ct.starts_with("multipart/") {
        let req = axum::http::Request::builder()
            .header("content-type", ct)
            .body(axum::body::Body::from(body))
            .unwrap();
        let mp = <Multipart as axum::extract::FromRequest<()>>::from_request(req, &())
            .await
            .unwrap();
        multipart_fields(mp).await
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    log.lock()
        .unwrap()
        .push(json!({ "method": method, "fields": fields }));
    let text = fields["text"]
        .as_str()
        .or(fields["caption"].as_str())
        .unwrap_or_default();
    if text == "flood" {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Json(
                json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 5", "parameters": {"retry_after": 5}}),
            ),
        );
    }
    if fields["chat_id"] != "@relais_test" {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
            ),
        );
    }
    let msg = json!({"message_id": 42, "date": 0, "chat": {"id": -1001, "type": "channel", "username": "relais_test"}});
    let result = if method == "sendMediaGroup" {
        json!([msg, msg])
    } else {
        msg
    };
    (StatusCode::OK, Json(json!({"ok": true, "result": result})))
}

fn telegram(base: &str, token: &str, chat: &str) -> Telegram {
    Telegram::new(
        common::loopback_net(),
        TelegramConfig {
            bot_token: Secret::new(token),
            chat_id: chat.into(),
            api_base: base.into(),
        },
    )
}

#[tokio::test]
async fn telegram_contract() {
    let log: Log = Arc::default();
    let base = serve(
        Router::new()
            .route("/{bot}/{method}", post(telegram_api))
            .with_state(log.clone()),
    )
    .await;
    let tg = telegram(&base, "123:ABC", "@relais_test");

    let p = tg.publish(&req("hello", 0)).await.unwrap();
    assert_eq!(p.remote_id, "42");
    assert_eq!(p.url.as_deref(), Some("https://t.me/relais_test/42"));
    tg.publish(&req("with photo", 1)).await.unwrap();
    tg.publish(&req("album", 3)).await.unwrap();
    {
        let log = log.lock().unwrap();
        assert_eq!(log[0]["method"], "sendMessage");
        assert_eq!(log[0]["fields"]["text"], "hello");
        assert_eq!(log[1]["method"], "sendPhoto");
        assert_eq!(log[1]["fields"]["caption"], "with photo");
        assert_eq!(log[1]["fields"]["photo"]["file"], "pixel.png");
        assert_eq!(log[2]["method"], "sendMediaGroup");
        let media: Value =
            serde_json::from_str(log[2]["fields"]["media"].as_str().unwrap()).unwrap();
        assert_eq!(media.as_array().unwrap().len(), 3);
        assert_eq!(media[0]["media"], "attach://f0");
        assert_eq!(log[2]["fields"]["f2"]["file"], "pixel.png");
    }
    match tg.publish(&req("flood", 0)).await.unwrap_err() {
        PublishError::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(5)))
        }
        e => panic!("{e}"),
    }
    let e = telegram(&base, "123:WRONG", "@relais_test")
        .publish(&req("x", 0))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "disconnect");
    assert!(
        !e.to_string().contains("WRONG"),
        "the token never appears in errors: {e}"
    );
    assert_eq!(
        telegram(&base, "123:ABC", "@nope")
            .publish(&req("x", 0))
            .await
            .unwrap_err()
            .code(),
        "disconnect"
    );
    assert_eq!(
        tg.reconcile(&req("x", 0)).await.unwrap_err().code(),
        "unknown_outcome"
    );
    // Caption limit is 1,024 UTF-16 units.
    assert_eq!(
        tg.validate(&req(&"😀".repeat(513), 1).variant)[0].code,
        "text_too_long"
    );
    assert!(tg.validate(&req(&"😀".repeat(513), 0).variant).is_empty());
}

async fn discord_api(
    State(log): State<Log>,
    Path((id, token)): Path<(String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, HeaderMap, Json<Value>) {
    let mut h = HeaderMap::new();
    if token != "tok" {
        return (
            StatusCode::NOT_FOUND,
            h,
            Json(json!({"message": "Unknown Webhook", "code": 10015})),
        );
    }
    assert_eq!(q.get("wait").map(String::as_str), Some("true"));
    let ct = headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let payload = if ct.starts_with("multipart/") {
        let req = axum::http::Request::builder()
            .header("content-type", ct)
            .body(axum::body::Body::from(body))
            .unwrap();
        let mp = <Multipart as axum::extract::FromRequest<()>>::from_request(req, &())
            .await
            .unwrap();
        let f = multipart_fields(mp).await;
        let mut p: Value = serde_json::from_str(f["payload_json"].as_str().unwrap()).unwrap();
        p["files"] = json!(f
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("files["))
            .collect::<Vec<_>>());
        p
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    log.lock().unwrap().push(payload.clone());
    if payload["content"] == "slow down" {
        h.insert("x-ratelimit-reset-after", "2.5".parse().unwrap());
        h.insert("x-ratelimit-global", "true".parse().unwrap());
        return (
            StatusCode::TOO_MANY_REQUESTS,
            h,
            Json(
                json!({"message": "You are being rate limited.", "retry_after": 2.5, "global": true}),
            ),
        );
    }
    (
        StatusCode::OK,
        h,
        Json(
            json!({"id": "1100", "channel_id": "77", "guild_id": "9", "webhook_id": id, "content": payload["content"]}),
        ),
    )
}

#[tokio::test]
async fn discord_contract() {
    let log: Log = Arc::default();
    let base = serve(
        Router::new()
            .route("/api/webhooks/{id}/{token}", post(discord_api))
            .with_state(log.clone()),
    )
    .await;
    let d = |tok: &str| {
        DiscordWebhook::new(
            common::loopback_net(),
            DiscordWebhookConfig {
                webhook_url: Secret::new(format!("{base}/api/webhooks/55/{tok}")),
                username: Some("relais".into()),
            },
        )
    };
    let p = d("tok").publish(&req("hello @everyone", 0)).await.unwrap();
    assert_eq!(p.remote_id, "1100");
    assert_eq!(
        p.url.as_deref(),
        Some("https://discord.com/channels/9/77/1100")
    );
    d("tok").publish(&req("pics", 2)).await.unwrap();
    {
        let log = log.lock().unwrap();
        assert_eq!(log[0]["allowed_mentions"]["parse"], json!([]));
        assert_eq!(log[0]["username"], "relais");
        assert_eq!(log[1]["files"], json!(["files[0]", "files[1]"]));
        assert_eq!(log[1]["attachments"][1]["description"], "alt");
    }
    match d("tok").publish(&req("slow down", 0)).await.unwrap_err() {
        PublishError::RateLimited {
            retry_after, scope, ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_millis(2500)));
            assert_eq!(scope, RateScope::App);
        }
        e => panic!("{e}"),
    }
    assert_eq!(
        d("gone").publish(&req("x", 0)).await.unwrap_err().code(),
        "disconnect"
    );
    assert_eq!(
        d("tok").validate(&req(&"x".repeat(2001), 0).variant)[0].code,
        "text_too_long"
    );
}
