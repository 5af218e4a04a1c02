//! The Threads API cannot be reached from here: a local server plays the documented
//! container → status → threads_publish contract (answers copied from the cited pages).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::mock::{MemorySink, Mock, Recorded, Reply};
use relais_publish::meta::Poll;
use relais_publish::oauth::OAuthApp;
use relais_publish::threads::{self, Threads, ThreadsCredentials};
use relais_publish::{Connector, Media, PublishRequest, Published, ReplyTo, Secret, Variant};
use serde_json::json;

const UID: &str = "1234567890";
const CONTAINER: &str = "17889615691921648";
const THREAD: &str = "1234567";

fn creds(base: &str, token: &str) -> ThreadsCredentials {
    ThreadsCredentials {
        app_id: "990602627938098".into(),
        app_secret: Secret::new("th-secret"),
        threads_user_id: UID.into(),
        access_token: Secret::new(token),
        expires_at: None,
        api_base: base.into(),
        api_version: "v1.0".into(),
    }
}

fn image(n: usize) -> Media {
    Media {
        data: bytes::Bytes::from_static(b"\x89PNG"),
        mime: "image/png".into(),
        filename: format!("i{n}.png"),
        alt: Some(format!("alt {n}")),
        url: Some(format!("https://cdn.relais.example/i{n}.png")),
    }
}

fn req(text: &str, media: usize) -> PublishRequest {
    PublishRequest {
        idempotency_key: "k".into(),
        variant: Variant {
            text: text.into(),
            media: (0..media).map(image).collect(),
            ..Default::default()
        },
        reply_to: None,
    }
}

fn fast() -> Poll {
    Poll {
        interval: Duration::from_millis(1),
        max_wait: Duration::from_secs(5),
    }
}

fn api(r: &Recorded) -> Reply {
    // https://developers.facebook.com/docs/threads/get-started/long-lived-tokens (expired token)
    if r.param("access_token").as_deref() == Some("expired") {
        return Reply::json(
            400,
            json!({"error": {"message": "Error validating access token: Session has expired.", "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AbC"}}),
        );
    }
    match (r.method.as_str(), r.path.as_str()) {
        // https://developers.facebook.com/docs/threads/posts (step 1: {"id": "1234567"})
        ("POST", "/v1.0/1234567890/threads") => Reply::ok(json!({ "id": CONTAINER })),
        // https://developers.facebook.com/docs/threads/troubleshooting#publishing-does-not-return-a-media-id
        ("GET", "/v1.0/17889615691921648") => {
            Reply::ok(json!({"status": "FINISHED", "id": CONTAINER}))
        }
        ("POST", "/v1.0/1234567890/threads_publish") => Reply::ok(json!({ "id": THREAD })),
        // https://developers.facebook.com/docs/threads/threads-media (permalink field)
        ("GET", "/v1.0/1234567") => Reply::ok(
            json!({"permalink": "https://www.threads.com/@relais/post/abcdefg", "id": THREAD}),
        ),
        // https://developers.facebook.com/docs/threads/retrieve-and-discover-posts/retrieve-posts
        ("GET", "/v1.0/1234567890/threads") => Reply::ok(json!({
            "data": [{"id": THREAD, "text": "Hello Threads", "permalink": "https://www.threads.com/@relais/post/abcdefg", "timestamp": "2026-11-21T10:00:00+0000"}],
            "paging": {"cursors": {"before": "b", "after": "a"}}
        })),
        ("GET", "/v1.0/1234567890/replies") => {
            Reply::ok(json!({"data": [{"id": "7654321", "text": "my reply"}]}))
        }
        _ => Reply::json(
            400,
            json!({"error": {"message": "Unsupported request", "type": "THApiException", "code": 100}}),
        ),
    }
}

#[tokio::test]
async fn text_image_and_carousel_posts() {
    let m = Mock::start(api).await;
    let th = Threads::new(common::loopback_net(), creds(&m.base, "THAA-1")).with_poll(fast());
    let p = th.publish(&req("Hello Threads", 0)).await.unwrap();
    assert_eq!(p.remote_id, THREAD);
    assert_eq!(
        p.url.as_deref(),
        Some("https://www.threads.com/@relais/post/abcdefg")
    );
    assert_eq!(
        m.lines(),
        [
            "POST /v1.0/1234567890/threads",
            "GET /v1.0/17889615691921648",
            "POST /v1.0/1234567890/threads_publish",
            "GET /v1.0/1234567"
        ]
    );
    let rs = m.requests();
    let f = rs[0].form();
    assert_eq!(f["media_type"], "TEXT");
    assert_eq!(f["text"], "Hello Threads");
    assert_eq!(f["access_token"], "THAA-1");
    assert_eq!(rs[1].query["fields"], "status,error_message");
    assert_eq!(rs[2].form()["creation_id"], CONTAINER);

    m.clear();
    th.publish(&req("a picture", 1)).await.unwrap();
    let f = m.requests()[0].form().clone();
    assert_eq!(f["media_type"], "IMAGE");
    assert_eq!(f["image_url"], "https://cdn.relais.example/i0.png");
    assert_eq!(f["alt_text"], "alt 0");
    assert_eq!(f["text"], "a picture");

    m.clear();
    th.publish(&req("three", 3)).await.unwrap();
    let creates: Vec<Recorded> = m
        .requests()
        .into_iter()
        .filter(|r| r.line() == "POST /v1.0/1234567890/threads")
        .collect();
    assert_eq!(creates.len(), 4);
    assert_eq!(creates[1].form()["is_carousel_item"], "true");
    assert_eq!(
        creates[1].form()["image_url"],
        "https://cdn.relais.example/i1.png"
    );
    let parent = creates[3].form();
    assert_eq!(parent["media_type"], "CAROUSEL");
    assert_eq!(
        parent["children"],
        format!("{CONTAINER},{CONTAINER},{CONTAINER}")
    );
    assert_eq!(parent["text"], "three");
}

#[tokio::test]
async fn reply_uses_reply_to_id_and_reconcile_reads_back() {
    let m = Mock::start(api).await;
    let th = Threads::new(common::loopback_net(), creds(&m.base, "THAA-1")).with_poll(fast());
    let mut r = req("my reply", 0);
    r.reply_to = Some(ReplyTo {
        root: Published {
            remote_id: THREAD.into(),
            ..Default::default()
        },
        parent: Published {
            remote_id: "1111".into(),
            ..Default::default()
        },
    });
    th.publish(&r).await.unwrap();
    // https://developers.facebook.com/docs/threads/retrieve-and-manage-replies/create-replies
    assert_eq!(m.requests()[0].form()["reply_to_id"], "1111");

    m.clear();
    assert_eq!(
        th.reconcile(&r).await.unwrap().unwrap().remote_id,
        "7654321"
    );
    assert_eq!(m.requests()[0].path, "/v1.0/1234567890/replies");
    let found = th
        .reconcile(&req("Hello   Threads", 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.url.as_deref(),
        Some("https://www.threads.com/@relais/post/abcdefg")
    );
    assert_eq!(th.reconcile(&req("missing", 0)).await.unwrap(), None);
}

#[tokio::test]
async fn expired_token_cannot_be_renewed_and_is_kept() {
    let m = Mock::start(|r| match r.path.as_str() {
        // Renewing needs a valid token: the refresh endpoint refuses an expired one.
        "/refresh_access_token" => Reply::json(
            400,
            json!({"error": {"message": "Error validating access token: Session has expired.", "type": "OAuthException", "code": 190, "fbtrace_id": "AbD"}}),
        ),
        _ => api(r),
    })
    .await;
    let sink = Arc::new(MemorySink::default());
    let th = Threads::new(common::loopback_net(), creds(&m.base, "expired"))
        .with_token_sink(sink.clone());
    let e = th.publish(&req("hi", 0)).await.unwrap_err();
    assert_eq!(e.code(), "disconnect", "{e}");
    assert_eq!(
        m.lines(),
        ["POST /v1.0/1234567890/threads", "GET /refresh_access_token"]
    );
    assert_eq!(m.requests()[1].query["grant_type"], "th_refresh_token");
    assert!(sink.saved.lock().unwrap().is_empty());
    assert_eq!(th.tokens().await.access_token, Secret::new("expired"));
}

#[tokio::test]
async fn processing_errors() {
    let m = Mock::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1.0/1234567890/threads") => Reply::ok(json!({"id": "42"})),
        // https://developers.facebook.com/docs/threads/troubleshooting (status ERROR + error_message)
        ("GET", "/v1.0/42") => Reply::ok(
            json!({"status": "ERROR", "id": "42", "error_message": "FAILED_PROCESSING_IMAGE"}),
        ),
        _ => Reply::empty(404),
    })
    .await;
    let th = Threads::new(common::loopback_net(), creds(&m.base, "THAA-1")).with_poll(fast());
    let e = th.publish(&req("pic", 1)).await.unwrap_err();
    assert_eq!(e.code(), "bad_request");
    assert!(e.to_string().contains("FAILED_PROCESSING_IMAGE"), "{e}");
}

#[tokio::test]
async fn code_exchange_then_long_lived_token() {
    let m = Mock::start(|r| match r.line().as_str() {
        // https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions
        "POST /oauth/access_token" => {
            Reply::ok(json!({"access_token": "THQVJ-short", "user_id": 1234567890u64}))
        }
        // https://developers.facebook.com/docs/threads/get-started/long-lived-tokens
        "GET /access_token" => Reply::ok(
            json!({"access_token": "THQVJ-long", "token_type": "bearer", "expires_in": 5183944}),
        ),
        _ => Reply::empty(404),
    })
    .await;
    let app = OAuthApp {
        client_id: "990602627938098".into(),
        client_secret: Secret::new("th-secret"),
        redirect_uri: "https://relais.example/oauth/threads".into(),
    };
    let u = threads::authorize_url(&app, "st").unwrap();
    assert!(u.starts_with("https://threads.com/oauth/authorize?client_id=990602627938098&"));
    assert!(u.contains("scope=threads_basic%2Cthreads_content_publish%2Cthreads_manage_replies"));
    let (uid, t) = threads::exchange_code(&common::loopback_net(), &m.base, &app, "c0de")
        .await
        .unwrap();
    assert_eq!(uid, UID);
    assert_eq!(t.access_token, Secret::new("THQVJ-long"));
    let rs = m.requests();
    assert_eq!(rs[0].form()["grant_type"], "authorization_code");
    assert_eq!(
        rs[0].form()["redirect_uri"],
        "https://relais.example/oauth/threads"
    );
    assert_eq!(rs[1].query["grant_type"], "th_exchange_token");
    assert_eq!(rs[1].query["client_secret"], "th-secret");
}

#[test]
fn validation_rules() {
    let th = Threads::new(
        common::loopback_net(),
        creds("https://graph.threads.net", "t"),
    );
    let codes = |r: &PublishRequest| -> Vec<&'static str> {
        th.validate(&r.variant).iter().map(|p| p.code).collect()
    };
    assert!(codes(&req("plain text", 0)).is_empty());
    // Emoji count as their UTF-8 bytes: 125 × 4 = 500 is the limit.
    assert!(codes(&req(&"😀".repeat(125), 0)).is_empty());
    assert_eq!(codes(&req(&"😀".repeat(126), 0)), ["text_too_long"]);
    let links = "a.com b.com c.com d.com e.com https://f.org";
    assert_eq!(codes(&req(links, 0)), ["too_many_links"]);
    assert!(codes(&req("a.com A.COM https://a.com/ b.com", 0)).is_empty());
    let mut no_url = req("pic", 1);
    no_url.variant.media[0].url = None;
    assert_eq!(codes(&no_url), ["media_url"]);
}
