//! Instagram's content publishing API cannot be reached from here: a local server plays the
//! documented container → status → media_publish contract (answers copied from the cited pages).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::mock::{MemorySink, Mock, Recorded, Reply};
use relais_publish::instagram::{self, Instagram, InstagramCredentials, InstagramLogin};
use relais_publish::meta::Poll;
use relais_publish::oauth::OAuthApp;
use relais_publish::{Connector, Media, PublishRequest, Published, ReplyTo, Secret, Variant};
use serde_json::json;

const IG: &str = "17841405822304914";
const CONTAINER: &str = "17889455560051444";
const MEDIA: &str = "17920238422030506";

fn creds(base: &str, token: &str, expires_at: Option<i64>) -> InstagramCredentials {
    InstagramCredentials {
        app_id: "990602627938098".into(),
        app_secret: Secret::new("ig-secret"),
        ig_user_id: IG.into(),
        access_token: Secret::new(token),
        expires_at,
        login: InstagramLogin::Instagram,
        api_base: Some(base.into()),
        graph_version: "v25.0".into(),
    }
}

fn jpeg(n: usize) -> Media {
    Media {
        data: bytes::Bytes::from_static(b"\xff\xd8\xff\xe0jpeg"),
        mime: "image/jpeg".into(),
        filename: format!("p{n}.jpg"),
        alt: Some(format!("alt {n}")),
        url: Some(format!("https://cdn.relais.example/m/p{n}.jpg")),
    }
}

fn req(text: &str, media: usize) -> PublishRequest {
    PublishRequest {
        idempotency_key: "k".into(),
        variant: Variant {
            text: text.into(),
            media: (0..media).map(jpeg).collect(),
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

/// Containers are IN_PROGRESS on the first status read, FINISHED on the next.
fn api(reads: Arc<AtomicUsize>) -> impl Fn(&Recorded) -> Reply {
    move |r| {
        match (r.method.as_str(), r.path.as_str()) {
            // https://developers.facebook.com/docs/instagram-platform/content-publishing
            // (step 1: "{"id":"<IG_CONTAINER_ID>"}")
            ("POST", "/v25.0/17841405822304914/media") => Reply::ok(json!({ "id": CONTAINER })),
            // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container
            ("GET", "/v25.0/17889455560051444") => {
                let n = reads.fetch_add(1, Ordering::SeqCst);
                let code = if n.is_multiple_of(2) {
                    "IN_PROGRESS"
                } else {
                    "FINISHED"
                };
                Reply::ok(json!({ "status_code": code, "id": CONTAINER }))
            }
            ("POST", "/v25.0/17841405822304914/media_publish") => Reply::ok(json!({ "id": MEDIA })),
            ("GET", "/v25.0/17920238422030506") => Reply::ok(
                json!({"permalink": "https://www.instagram.com/p/DBx5vRhN1Yz/", "id": MEDIA}),
            ),
            // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
            ("POST", "/v25.0/17920238422030506/comments") => {
                Reply::ok(json!({"id": "17870913679156914"}))
            }
            // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
            ("GET", "/v25.0/17841405822304914/media") => Reply::ok(json!({
                "data": [{"id": MEDIA, "caption": "Sunset #relais", "permalink": "https://www.instagram.com/p/DBx5vRhN1Yz/", "timestamp": "2026-11-21T10:00:00+0000"}],
                "paging": {"cursors": {"before": "b", "after": "a"}}
            })),
            _ => Reply::json(
                400,
                json!({"error": {"message": "Unsupported request", "type": "GraphMethodException", "code": 100}}),
            ),
        }
    }
}

#[tokio::test]
async fn single_image_container_poll_publish() {
    let m = Mock::start(api(Arc::default())).await;
    let ig =
        Instagram::new(common::loopback_net(), creds(&m.base, "IGQVJ-1", None)).with_poll(fast());
    let p = ig.publish(&req("Sunset #relais", 1)).await.unwrap();
    assert_eq!(p.remote_id, MEDIA);
    assert_eq!(
        p.url.as_deref(),
        Some("https://www.instagram.com/p/DBx5vRhN1Yz/")
    );
    let rs = m.requests();
    let f = rs[0].form();
    assert_eq!(rs[0].line(), format!("POST /v25.0/{IG}/media"));
    assert_eq!(f["image_url"], "https://cdn.relais.example/m/p0.jpg");
    assert_eq!(f["caption"], "Sunset #relais");
    assert_eq!(f["alt_text"], "alt 0");
    assert_eq!(f["access_token"], "IGQVJ-1");
    assert_eq!(rs[1].query["fields"], "status_code,status");
    // Polled until FINISHED, then published.
    assert_eq!(rs[2].query["fields"], "status_code,status");
    assert_eq!(rs[3].line(), format!("POST /v25.0/{IG}/media_publish"));
    assert_eq!(rs[3].form()["creation_id"], CONTAINER);
    assert_eq!(rs.last().unwrap().query["fields"], "permalink");
}

#[tokio::test]
async fn carousel_and_first_comment() {
    let m = Mock::start(api(Arc::default())).await;
    let ig =
        Instagram::new(common::loopback_net(), creds(&m.base, "IGQVJ-1", None)).with_poll(fast());
    ig.publish(&req("three", 3)).await.unwrap();
    let rs = m.requests();
    let creates: Vec<&Recorded> = rs
        .iter()
        .filter(|r| r.line() == format!("POST /v25.0/{IG}/media"))
        .collect();
    assert_eq!(creates.len(), 4);
    for (i, c) in creates[..3].iter().enumerate() {
        assert_eq!(c.form()["is_carousel_item"], "true");
        assert_eq!(
            c.form()["image_url"],
            format!("https://cdn.relais.example/m/p{i}.jpg")
        );
        assert!(!c.form().contains_key("caption"));
    }
    let parent = creates[3].form();
    assert_eq!(parent["media_type"], "CAROUSEL");
    assert_eq!(parent["caption"], "three");
    assert_eq!(parent["children"].split(',').count(), 3);

    m.clear();
    let mut c = req("first comment", 0);
    c.reply_to = Some(ReplyTo {
        root: Published {
            remote_id: MEDIA.into(),
            ..Default::default()
        },
        parent: Published {
            remote_id: MEDIA.into(),
            ..Default::default()
        },
    });
    assert_eq!(ig.publish(&c).await.unwrap().remote_id, "17870913679156914");
    assert_eq!(m.requests()[0].form()["message"], "first comment");
}

#[tokio::test]
async fn container_errors_limits_and_unknown_outcomes() {
    let m = Mock::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v25.0/17841405822304914/media") => match r.param("caption").as_deref() {
            Some("broken") => Reply::ok(json!({"id": "1"})),
            Some("slow") => Reply::ok(json!({"id": "2"})),
            Some("limit") => Reply::ok(json!({"id": "3"})),
            // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
            // (sample response)
            Some("huge") => Reply::json(400, json!({"error": {"message": "The image size is too large.", "type": "OAuthException", "code": 36000, "error_subcode": 2207004, "is_transient": false, "error_user_title": "Image size too large", "error_user_msg": "The image is too large to download. It should be less than 8 MiB.", "fbtrace_id": "A6LJylpZRKw2xKLFsAP-cJh"}})),
            _ => Reply::ok(json!({"id": "4"})),
        },
        // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container
        // (status_code ERROR with the error subcode in `status`); error codes:
        // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
        ("GET", "/v25.0/1") => Reply::ok(json!({"status_code": "ERROR", "status": "Error: Media download has failed. The media URI doesn't meet our requirements. (2207052)", "id": "1"})),
        ("GET", "/v25.0/2") => Reply::ok(json!({"status_code": "IN_PROGRESS", "id": "2"})),
        ("GET", _) => Reply::ok(json!({"status_code": "FINISHED"})),
        ("POST", "/v25.0/17841405822304914/media_publish") if r.param("creation_id").as_deref() == Some("3") => Reply::json(
            400,
            json!({"error": {"message": "Application request limit reached", "type": "OAuthException", "is_transient": false, "code": 9, "error_subcode": 2207042, "error_user_title": "Publishing limit reached", "fbtrace_id": "A3Xz"}}),
        ),
        // An unknown error on publish: it may have gone out.
        ("POST", "/v25.0/17841405822304914/media_publish") => Reply::json(
            500,
            json!({"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1, "error_subcode": 99, "is_transient": true, "fbtrace_id": "B1"}}),
        ),
        _ => Reply::empty(404),
    })
    .await;
    let ig =
        Instagram::new(common::loopback_net(), creds(&m.base, "IGQVJ-1", None)).with_poll(Poll {
            interval: Duration::from_millis(5),
            max_wait: Duration::from_millis(40),
        });
    let e = ig.publish(&req("broken", 1)).await.unwrap_err();
    assert_eq!(e.code(), "bad_request");
    assert!(e.to_string().contains("2207052"), "{e}");
    assert_eq!(
        ig.publish(&req("slow", 1)).await.unwrap_err().code(),
        "transient"
    );
    let e = ig.publish(&req("huge", 1)).await.unwrap_err();
    assert_eq!(e.code(), "bad_request");
    assert!(e.to_string().contains("less than 8 MiB"), "{e}");
    assert_eq!(
        ig.publish(&req("limit", 1)).await.unwrap_err().code(),
        "rate_limited"
    );
    assert_eq!(
        ig.publish(&req("other", 1)).await.unwrap_err().code(),
        "unknown_outcome"
    );
}

#[tokio::test]
async fn reconcile_and_token_renewal() {
    let m = Mock::start(|r| match r.line().as_str() {
        // https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token
        "GET /refresh_access_token" => {
            assert_eq!(r.query["grant_type"], "ig_refresh_token");
            assert_eq!(r.query["access_token"], "IGQVJ-old");
            Reply::ok(
                json!({"access_token": "IGQVJ-new", "token_type": "bearer", "expires_in": 5183944}),
            )
        }
        _ => api(Arc::default())(r),
    })
    .await;
    // Expires in three days: renewed first (a week ahead), stored, then used.
    let soon = chrono::Utc::now().timestamp_millis() + 3 * 86_400_000;
    let sink = Arc::new(MemorySink::default());
    let ig = Instagram::new(
        common::loopback_net(),
        creds(&m.base, "IGQVJ-old", Some(soon)),
    )
    .with_token_sink(sink.clone());
    let found = ig
        .reconcile(&req("Sunset  #relais", 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, MEDIA);
    assert_eq!(ig.reconcile(&req("other", 1)).await.unwrap(), None);
    let rs = m.requests();
    assert_eq!(rs[0].path, "/refresh_access_token");
    assert_eq!(rs[1].query["access_token"], "IGQVJ-new");
    let saved = sink.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 1);
    assert!(saved[0].expires_at.unwrap() > chrono::Utc::now().timestamp_millis() + 59 * 86_400_000);
}

#[tokio::test]
async fn instagram_login_code_exchange() {
    let m = Mock::start(|r| match r.line().as_str() {
        // https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
        "POST /oauth/access_token" => Reply::ok(json!({"data": [{"access_token": "IGAA-short", "user_id": "17841405822304914", "permissions": "instagram_business_basic,instagram_business_content_publish"}]})),
        "GET /access_token" => Reply::ok(json!({"access_token": "IGAA-long", "token_type": "bearer", "expires_in": 5183944})),
        _ => Reply::empty(404),
    })
    .await;
    let app = OAuthApp {
        client_id: "990602627938098".into(),
        client_secret: Secret::new("ig-secret"),
        redirect_uri: "https://relais.example/oauth/instagram".into(),
    };
    let u = instagram::authorize_url(&app, "st").unwrap();
    assert!(u.starts_with("https://www.instagram.com/oauth/authorize?client_id=990602627938098&"));
    let (id, t) = instagram::exchange_code(&common::loopback_net(), &m.base, &m.base, &app, "AQBx")
        .await
        .unwrap();
    assert_eq!(id, IG);
    assert_eq!(t.access_token, Secret::new("IGAA-long"));
    let rs = m.requests();
    let f = rs[0].form();
    assert_eq!(f["grant_type"], "authorization_code");
    assert_eq!(f["code"], "AQBx");
    assert_eq!(f["client_secret"], "ig-secret");
    assert_eq!(rs[1].query["grant_type"], "ig_exchange_token");
    assert_eq!(rs[1].query["access_token"], "IGAA-short");
}

#[test]
fn validation_rules() {
    let ig = Instagram::new(
        common::loopback_net(),
        creds("https://graph.instagram.com", "t", None),
    );
    let codes = |r: PublishRequest| -> Vec<&'static str> {
        ig.validate(&r.variant).iter().map(|p| p.code).collect()
    };
    assert!(codes(req("ok", 1)).is_empty());
    assert_eq!(codes(req("text only", 0)), ["media_required"]);
    assert_eq!(codes(req("#a #b #c #d #e #f", 1)), ["too_many_hashtags"]);
    let mut png = req("png", 0);
    png.variant.media.push(common::png_media("alt"));
    assert_eq!(codes(png), ["media_type", "media_url"]);
    assert_eq!(codes(req("eleven", 11)), ["too_many_media"]);
}
