//! X API v2 cannot be reached from here: a local server plays the documented request/response
//! contract. Each answer below is copied from (or shaped exactly like) the cited page.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use common::mock::{MemorySink, Mock, Recorded, Reply};
use relais_publish::oauth::{OAuthApp, OAuthTokens, Pkce};
use relais_publish::x::{self, XCredentials, X};
use relais_publish::{
    Connector, PublishError, PublishRequest, Published, RateScope, ReplyTo, Secret, Variant,
};
use serde_json::json;

fn creds(base: &str, tokens: OAuthTokens) -> XCredentials {
    XCredentials {
        client_id: "cid".into(),
        client_secret: Secret::new("csecret"),
        user_id: Some("2244994945".into()),
        tokens,
        api_base: base.into(),
    }
}

fn tokens(access: &str, refresh: &str) -> OAuthTokens {
    OAuthTokens {
        access_token: access.into(),
        refresh_token: Some(refresh.into()),
        expires_at: Some(chrono::Utc::now().timestamp_millis() + 3_600_000),
        ..Default::default()
    }
}

fn req(text: &str, media: usize) -> PublishRequest {
    PublishRequest {
        idempotency_key: "k1".into(),
        variant: Variant {
            text: text.into(),
            media: (0..media)
                .map(|i| common::png_media(&format!("alt {i}")))
                .collect(),
            ..Default::default()
        },
        reply_to: None,
    }
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

// https://docs.x.com/x-api/posts/creation-of-a-post (response example)
const TWEET: &str = "1346889436626259968";
fn created() -> Reply {
    Reply::json(
        201,
        json!({"data": {"id": TWEET, "text": "Learn how to use the user Tweet timeline and user mention timeline endpoints in the X API v2 to explore Tweet\\u2026 https:\\/\\/t.co\\/56a0vZUx7i"}}),
    )
}

// https://docs.x.com/x-api/media/quickstart/media-upload-chunked (upload answer shape)
fn uploaded() -> Reply {
    let id = "1880028106020515840";
    Reply::ok(
        json!({"data": {"id": id, "media_key": format!("3_{id}"), "expires_after_secs": 86400}}),
    )
}

/// The happy path: the documented endpoints with the documented answers.
fn happy(r: &Recorded) -> Reply {
    let uploads = r.path == "/2/media/upload";
    match r.line().as_str() {
        "POST /2/tweets" => created(),
        _ if uploads => uploaded(),
        // https://docs.x.com/x-api/media/create-media-metadata
        "POST /2/media/metadata" => Reply::ok(
            json!({"data": {"associated_metadata": {"alt_text": {"text": r.json()["metadata"]["alt_text"]["text"]}}, "id": r.json()["id"]}}),
        ),
        _ => Reply::json(404, json!({"title": "Not Found"})),
    }
}

#[tokio::test]
async fn text_media_reply_and_headers() {
    let m = Mock::start(happy).await;
    let x = X::new(
        common::loopback_net(),
        creds(&m.base, tokens("at-1", "rt-1")),
    );
    let p = x
        .publish(&req("Are you excited for the weekend?", 0))
        .await
        .unwrap();
    assert_eq!(p.remote_id, TWEET);
    assert_eq!(p.url, Some(format!("https://x.com/i/web/status/{TWEET}")));
    let r = &m.requests()[0];
    assert_eq!(r.line(), "POST /2/tweets");
    assert_eq!(r.header("authorization"), Some("Bearer at-1"));
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        r.json(),
        &json!({"text": "Are you excited for the weekend?"})
    );

    m.clear();
    let mut with_media = req("two pictures", 2);
    with_media.reply_to = Some(ReplyTo {
        root: Published {
            remote_id: "1".into(),
            ..Default::default()
        },
        parent: Published {
            remote_id: TWEET.into(),
            ..Default::default()
        },
    });
    x.publish(&with_media).await.unwrap();
    let rs = m.requests();
    assert_eq!(
        m.lines(),
        [
            "POST /2/media/upload",
            "POST /2/media/metadata",
            "POST /2/media/upload",
            "POST /2/media/metadata",
            "POST /2/tweets"
        ]
    );
    assert_eq!(rs[0].header("authorization"), Some("Bearer at-1"));
    assert_eq!(rs[0].file("media").filename.as_deref(), Some("pixel.png"));
    assert_eq!(rs[0].file("media").data, common::tiny_png());
    assert_eq!(
        rs[0].param("media_category").as_deref(),
        Some("tweet_image")
    );
    assert_eq!(rs[0].param("media_type").as_deref(), Some("image/png"));
    let id = "1880028106020515840";
    assert_eq!(
        rs[1].json(),
        &json!({"id": id, "metadata": {"alt_text": {"text": "alt 0"}}})
    );
    assert_eq!(
        rs[4].json(),
        &json!({
            "text": "two pictures",
            "media": {"media_ids": [id, id]},
            "reply": {"in_reply_to_tweet_id": TWEET}
        })
    );
}

#[tokio::test]
async fn expired_token_is_refreshed_once_and_stored() {
    let tweets = Arc::new(AtomicUsize::new(0));
    let t2 = tweets.clone();
    let m = Mock::start(move |r| match r.line().as_str() {
        // https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (token answer)
        "POST /2/oauth2/token" => Reply::ok(json!({
            "token_type": "bearer", "expires_in": 7200, "access_token": "at-2",
            "scope": "tweet.read tweet.write users.read media.write offline.access",
            "refresh_token": "rt-2"
        })),
        "POST /2/tweets" if r.header("authorization") == Some("Bearer at-1") => {
            t2.fetch_add(1, Ordering::SeqCst);
            // 401 problem details (the Problem schema of https://docs.x.com/x-api/posts/creation-of-a-post)
            Reply::json(401, json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}))
        }
        "POST /2/tweets" => created(),
        _ => Reply::empty(404),
    })
    .await;
    let sink = Arc::new(MemorySink::default());
    let x = X::new(
        common::loopback_net(),
        creds(&m.base, tokens("at-1", "rt-1")),
    )
    .with_token_sink(sink.clone());
    x.publish(&req("hello", 0)).await.unwrap();
    let rs = m.requests();
    assert_eq!(
        m.lines(),
        ["POST /2/tweets", "POST /2/oauth2/token", "POST /2/tweets"]
    );
    let t = &rs[1];
    assert_eq!(
        t.header("authorization"),
        Some(basic("cid", "csecret").as_str())
    );
    assert_eq!(
        t.form().get("grant_type").map(String::as_str),
        Some("refresh_token")
    );
    assert_eq!(
        t.form().get("refresh_token").map(String::as_str),
        Some("rt-1")
    );
    assert_eq!(t.form().get("client_id").map(String::as_str), Some("cid"));
    assert_eq!(rs[2].header("authorization"), Some("Bearer at-2"));
    let saved = sink.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].refresh_token, Some("rt-2".into()));
    assert_eq!(x.tokens().await.access_token, Secret::new("at-2"));
    assert_eq!(tweets.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn failed_refresh_keeps_the_old_tokens() {
    let m = Mock::start(|r| match r.line().as_str() {
        // X's answer to a spent refresh token (token endpoint of
        // https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token).
        "POST /2/oauth2/token" => Reply::json(
            400,
            json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."}),
        ),
        _ => Reply::json(401, json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})),
    })
    .await;
    let sink = Arc::new(MemorySink::default());
    let x = X::new(
        common::loopback_net(),
        creds(&m.base, tokens("at-1", "rt-1")),
    )
    .with_token_sink(sink.clone());
    let e = x.publish(&req("hello", 0)).await.unwrap_err();
    assert_eq!(e.code(), "disconnect", "{e}");
    assert!(sink.saved.lock().unwrap().is_empty());
    let kept = x.tokens().await;
    assert_eq!(kept.refresh_token, Some("rt-1".into()));
    assert_eq!(kept.access_token, Secret::new("at-1"));
    assert!(!e.to_string().contains("rt-1") && !e.to_string().contains("csecret"));

    // A token already expired is refreshed before the call; a refresh that cannot reach the
    // network is transient and keeps the tokens too.
    let down = "http://127.0.0.1:9";
    let expired = OAuthTokens {
        expires_at: Some(0),
        ..tokens("at-1", "rt-1")
    };
    let x = X::new(common::loopback_net(), creds(down, expired.clone()));
    assert_eq!(
        x.publish(&req("hi", 0)).await.unwrap_err().code(),
        "transient"
    );
    assert_eq!(x.tokens().await, expired);
}

#[tokio::test]
async fn rate_limits_and_refusals() {
    let reset = chrono::Utc::now().timestamp() + 120;
    let m = Mock::start(move |r| {
        let text = r.json()["text"].as_str().unwrap_or_default().to_owned();
        // https://docs.x.com/x-api/fundamentals/rate-limits (429 + x-rate-limit-* headers)
        let too_many = || {
            Reply::json(429, json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}))
                .header("x-rate-limit-limit", "100")
                .header("x-rate-limit-remaining", "0")
                .header("x-rate-limit-reset", reset.to_string())
        };
        match text.as_str() {
            "flood" => too_many(),
            "cap" => too_many()
                .header("x-app-limit-24hour-limit", "1667")
                .header("x-app-limit-24hour-remaining", "0")
                .header("x-app-limit-24hour-reset", (reset + 3600).to_string()),
            "again" => Reply::json(
                403,
                json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403}),
            ),
            "project" => Reply::json(
                403,
                json!({"client_id": "cid", "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.", "registration_url": "https://developer.twitter.com/en/docs/projects/overview", "title": "Client Forbidden", "required_enrollment": "Appropriate Level of API Access", "reason": "client-not-enrolled", "type": "https://api.twitter.com/2/problems/client-forbidden"}),
            ),
            // Invalid request problem (Problem schema, https://docs.x.com/x-api/posts/creation-of-a-post)
            "bad" => Reply::json(
                400,
                json!({"errors": [{"parameters": {"text": [""]}, "message": "Text cannot be empty"}], "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"}),
            ),
            "gateway" => Reply::empty(504),
            _ => created(),
        }
    })
    .await;
    let x = X::new(
        common::loopback_net(),
        creds(&m.base, tokens("at-1", "rt-1")),
    );
    match x.publish(&req("flood", 0)).await.unwrap_err() {
        PublishError::RateLimited {
            retry_after, scope, ..
        } => {
            let s = retry_after.unwrap().as_secs();
            assert!((110..=120).contains(&s), "{s}");
            assert_eq!(scope, RateScope::Channel);
        }
        e => panic!("{e}"),
    }
    match x.publish(&req("cap", 0)).await.unwrap_err() {
        PublishError::RateLimited {
            retry_after, scope, ..
        } => {
            assert!(retry_after.unwrap() > Duration::from_secs(3600));
            assert_eq!(scope, RateScope::App);
        }
        e => panic!("{e}"),
    }
    assert_eq!(
        x.publish(&req("again", 0)).await.unwrap_err().code(),
        "bad_request"
    );
    assert_eq!(
        x.publish(&req("project", 0)).await.unwrap_err().code(),
        "disconnect"
    );
    let e = x.publish(&req("bad", 0)).await.unwrap_err();
    assert_eq!(e.code(), "bad_request");
    assert!(e.to_string().contains("Text cannot be empty"), "{e}");
    assert_eq!(
        x.publish(&req("gateway", 0)).await.unwrap_err().code(),
        "unknown_outcome"
    );
}

#[tokio::test]
async fn reconcile_reads_the_timeline() {
    let m = Mock::start(|r| match r.line().as_str() {
        // https://docs.x.com/x-api/users/lookup/introduction (GET /2/users/me)
        "GET /2/users/me" => Reply::ok(json!({"data": {"id": "2244994945", "name": "X Dev", "username": "TwitterDev"}})),
        // https://docs.x.com/x-api/posts/timelines/introduction (GET /2/users/:id/tweets; links
        // come back as t.co, & as &amp;)
        "GET /2/users/2244994945/tweets" => Reply::ok(json!({
            "data": [
                {"id": "1338971066773905408", "text": "Salt &amp; pepper https://t.co/6zHYDZ5G4n", "created_at": "2020-12-15T22:15:53.000Z"},
                {"id": "1334200897081987072", "text": "Something else", "created_at": "2020-12-02T18:20:00.000Z"}
            ],
            "meta": {"oldest_id": "1334200897081987072", "newest_id": "1338971066773905408", "result_count": 2}
        })),
        _ => Reply::empty(404),
    })
    .await;
    let mut c = creds(&m.base, tokens("at-1", "rt-1"));
    c.user_id = None;
    let x = X::new(common::loopback_net(), c);
    let found = x
        .reconcile(&req("Salt & pepper https://example.org/recipe", 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, "1338971066773905408");
    assert_eq!(x.reconcile(&req("never posted", 0)).await.unwrap(), None);
    let rs = m.requests();
    assert_eq!(
        rs[1].query.get("max_results").map(String::as_str),
        Some("20")
    );
    assert_eq!(rs[1].header("authorization"), Some("Bearer at-1"));
    assert_eq!(x.account().await.unwrap().1, "TwitterDev");
}

#[tokio::test]
async fn oauth_code_exchange_with_pkce() {
    let m = Mock::start(|r| {
        assert_eq!(r.line(), "POST /2/oauth2/token");
        Reply::ok(json!({"token_type": "bearer", "expires_in": 7200, "access_token": "at-new", "scope": "tweet.read tweet.write users.read media.write offline.access", "refresh_token": "rt-new"}))
    })
    .await;
    let app = OAuthApp {
        client_id: "cid".into(),
        client_secret: Secret::default(), // public client: no Basic header
        redirect_uri: "https://relais.example/oauth/x".into(),
    };
    let pkce = Pkce::generate();
    let u = x::authorize_url(&app, "state-1", &pkce).unwrap();
    assert!(u.contains(&format!("code_challenge={}", pkce.challenge)));
    let t = x::exchange_code(
        &common::loopback_net(),
        &m.base,
        &app,
        "code-1",
        &pkce.verifier,
    )
    .await
    .unwrap();
    assert_eq!(t.refresh_token, Some("rt-new".into()));
    assert!(t.expires_at.unwrap() > chrono::Utc::now().timestamp_millis() + 7_000_000);
    let r = &m.requests()[0];
    assert_eq!(r.header("authorization"), None);
    let f = r.form();
    assert_eq!(f["grant_type"], "authorization_code");
    assert_eq!(f["code"], "code-1");
    assert_eq!(f["redirect_uri"], "https://relais.example/oauth/x");
    assert_eq!(f["code_verifier"], pkce.verifier.expose());
    assert_eq!(f["client_id"], "cid");
}

#[test]
fn validate_uses_weighted_length_and_media_rules() {
    let net = common::loopback_net();
    let x = X::new(net, creds("https://api.x.com", tokens("a", "r")));
    assert!(x.validate(&req(&"a".repeat(280), 0).variant).is_empty());
    assert_eq!(
        x.validate(&req(&"日".repeat(141), 0).variant)[0].code,
        "text_too_long"
    );
    assert_eq!(x.validate(&req("x", 5).variant)[0].code, "too_many_media");
    let bad = XCredentials {
        client_id: String::new(),
        ..creds("https://api.x.com", tokens("a", "r"))
    };
    assert_eq!(bad.check().unwrap_err().field, "client_id");
}
