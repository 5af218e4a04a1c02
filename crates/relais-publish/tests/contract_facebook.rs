//! The Facebook Pages API cannot be reached from here: a local server plays the documented
//! Graph API contract (answers copied from the cited pages).

mod common;

use common::mock::{Mock, Recorded, Reply};
use relais_publish::facebook::{self, Facebook, FacebookCredentials};
use relais_publish::meta::appsecret_proof;
use relais_publish::oauth::OAuthApp;
use relais_publish::{
    Connector, PublishError, PublishRequest, Published, RateScope, ReplyTo, Secret, Variant,
};
use serde_json::json;

const PAGE: &str = "546349135390552";
const POST: &str = "546349135390552_1116692661938920";

fn creds(base: &str, token: &str) -> FacebookCredentials {
    FacebookCredentials {
        app_id: "1234567890".into(),
        app_secret: Secret::new("app-secret"),
        page_id: PAGE.into(),
        page_access_token: Secret::new(token),
        api_base: base.into(),
        graph_version: "v25.0".into(),
    }
}

fn req(text: &str, media: usize) -> PublishRequest {
    PublishRequest {
        idempotency_key: "k".into(),
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

// https://developers.facebook.com/docs/graph-api/guides/error-handling (error shape) and
// https://developers.facebook.com/docs/facebook-login/guides/access-tokens/debugging (code 190/463)
fn expired() -> Reply {
    Reply::json(
        400,
        json!({"error": {"message": "Error validating access token: Session has expired on Wednesday, 14-Feb-18 18:00:00 PST. The current time is Thursday, 15-Feb-18 13:46:35 PST.", "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "H2il2t5bn4e"}}),
    )
}

fn graph(r: &Recorded) -> Reply {
    if r.param("access_token").as_deref() == Some("expired") {
        return expired();
    }
    let msg = r.param("message").unwrap_or_default();
    let photos = format!("/v25.0/{PAGE}/photos");
    let feed = format!("/v25.0/{PAGE}/feed");
    match (r.method.as_str(), r.path.as_str()) {
        // https://developers.facebook.com/docs/pages-api/posts ("On success, your app receives
        // the following response: {"id":"page_post_id"}")
        ("POST", p) if p == feed && msg == "dup" => Reply::json(
            400,
            json!({"error": {"message": "Duplicate status message", "type": "FacebookApiException", "code": 506, "error_subcode": 1455006, "fbtrace_id": "AxA4oE9pIUq"}}),
        ),
        // Page throttling (code 32) with the Business Use Case header:
        // https://developers.facebook.com/docs/graph-api/overview/rate-limiting
        ("POST", p) if p == feed && msg == "busy" => Reply::json(
            400,
            json!({"error": {"message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32, "fbtrace_id": "Fz54k3GZrio"}}),
        )
        .header(
            "x-business-use-case-usage",
            format!(r#"{{"{PAGE}":[{{"type":"pages","call_count":100,"total_cputime":12,"total_time":14,"estimated_time_to_regain_access":7}}]}}"#),
        ),
        ("POST", p) if p == feed => Reply::ok(json!({"id": POST})),
        // https://developers.facebook.com/docs/pages-api/posts#publish-a-photo
        ("POST", p) if p == photos && r.param("published").as_deref() == Some("false") => {
            Reply::ok(json!({"id": "1002088839996"}))
        }
        ("POST", p) if p == photos => Reply::ok(json!({"id": "1002088839997", "post_id": POST})),
        // https://developers.facebook.com/docs/graph-api/reference/object/comments
        ("POST", p) if p == format!("/v25.0/{POST}/comments") => {
            Reply::ok(json!({"id": "1116692661938920_1116693221938864"}))
        }
        ("GET", p) if p == format!("/v25.0/{POST}") => Reply::ok(
            json!({"permalink_url": "https://www.facebook.com/546349135390552/posts/1116692661938920", "id": POST}),
        ),
        // https://developers.facebook.com/docs/graph-api/reference/page/published_posts
        ("GET", p) if p == format!("/v25.0/{PAGE}/published_posts") => Reply::ok(json!({
            "data": [
                {"created_time": "2026-11-20T10:00:00+0000", "message": "older post", "id": "546349135390552_1"},
                {"created_time": "2026-11-21T10:00:00+0000", "message": "Hello Fans!", "permalink_url": "https://www.facebook.com/546349135390552/posts/1116692661938920", "id": POST}
            ],
            "paging": {"cursors": {"before": "b", "after": "a"}}
        })),
        _ => Reply::json(404, json!({"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}})),
    }
}

#[tokio::test]
async fn feed_post_with_link_is_signed() {
    let m = Mock::start(graph).await;
    let fb = Facebook::new(common::loopback_net(), creds(&m.base, "page-token"));
    let p = fb
        .publish(&req("Hello Fans! https://relais.example/blog.", 0))
        .await
        .unwrap();
    assert_eq!(p.remote_id, POST);
    assert_eq!(
        p.url.as_deref(),
        Some("https://www.facebook.com/546349135390552/posts/1116692661938920")
    );
    let rs = m.requests();
    let f = rs[0].form();
    assert_eq!(rs[0].line(), format!("POST /v25.0/{PAGE}/feed"));
    assert_eq!(f["message"], "Hello Fans! https://relais.example/blog.");
    assert_eq!(f["link"], "https://relais.example/blog");
    assert_eq!(f["access_token"], "page-token");
    assert_eq!(
        f["appsecret_proof"],
        appsecret_proof("app-secret", "page-token")
    );
    assert!(rs[0].query.is_empty(), "the token never goes in a POST URL");
    assert_eq!(
        rs[1].query.get("fields").map(String::as_str),
        Some("permalink_url")
    );
}

#[tokio::test]
async fn photos_single_and_multiple_with_alt_text() {
    let m = Mock::start(graph).await;
    let fb = Facebook::new(common::loopback_net(), creds(&m.base, "page-token"));
    let p = fb.publish(&req("one photo", 1)).await.unwrap();
    assert_eq!(p.remote_id, POST);
    let r = &m.requests()[0];
    assert_eq!(r.file("source").data, common::tiny_png());
    assert_eq!(r.file("source").content_type.as_deref(), Some("image/png"));
    assert_eq!(r.param("message").as_deref(), Some("one photo"));
    assert_eq!(r.param("published").as_deref(), Some("true"));
    assert_eq!(r.param("alt_text_custom").as_deref(), Some("alt 0"));
    assert_eq!(r.param("access_token").as_deref(), Some("page-token"));

    m.clear();
    fb.publish(&req("an album", 3)).await.unwrap();
    let rs = m.requests();
    assert_eq!(rs.len(), 5, "{:?}", m.lines());
    for (i, r) in rs[..3].iter().enumerate() {
        assert_eq!(r.param("published").as_deref(), Some("false"));
        assert_eq!(r.param("alt_text_custom"), Some(format!("alt {i}")));
        assert_eq!(r.param("message"), None);
    }
    let f = rs[3].form();
    assert_eq!(f["message"], "an album");
    assert_eq!(f["attached_media[0]"], r#"{"media_fbid":"1002088839996"}"#);
    assert_eq!(f["attached_media[2]"], r#"{"media_fbid":"1002088839996"}"#);
}

#[tokio::test]
async fn first_comment_and_reconcile() {
    let m = Mock::start(graph).await;
    let fb = Facebook::new(common::loopback_net(), creds(&m.base, "page-token"));
    let mut r = req("first comment", 0);
    r.reply_to = Some(ReplyTo {
        root: Published {
            remote_id: POST.into(),
            ..Default::default()
        },
        parent: Published {
            remote_id: POST.into(),
            ..Default::default()
        },
    });
    let c = fb.publish(&r).await.unwrap();
    assert_eq!(c.remote_id, "1116692661938920_1116693221938864");
    assert_eq!(m.requests()[0].form()["message"], "first comment");

    let found = fb
        .reconcile(&req("Hello  Fans!", 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.remote_id, POST);
    assert_eq!(fb.reconcile(&req("not there", 0)).await.unwrap(), None);
    let get = m.requests().pop().unwrap();
    assert_eq!(
        get.query.get("access_token").map(String::as_str),
        Some("page-token")
    );
    assert!(get.query.contains_key("appsecret_proof"));
}

#[tokio::test]
async fn documented_errors_are_classified() {
    let m = Mock::start(graph).await;
    let fb = Facebook::new(common::loopback_net(), creds(&m.base, "page-token"));
    assert_eq!(
        fb.publish(&req("dup", 0)).await.unwrap_err().code(),
        "bad_request"
    );
    match fb.publish(&req("busy", 0)).await.unwrap_err() {
        PublishError::RateLimited {
            retry_after, scope, ..
        } => {
            assert_eq!(retry_after.unwrap().as_secs(), 7 * 60);
            assert_eq!(scope, RateScope::Channel);
        }
        e => panic!("{e}"),
    }
    let fb = Facebook::new(common::loopback_net(), creds(&m.base, "expired"));
    let e = fb.publish(&req("hi", 0)).await.unwrap_err();
    assert_eq!(e.code(), "disconnect");
    assert!(e.to_string().contains("190/463"), "{e}");
    // Page tokens are not refreshed: one call, no retry.
    assert_eq!(
        m.requests()
            .iter()
            .filter(|r| r.param("access_token").as_deref() == Some("expired"))
            .count(),
        1
    );
    // A bad setting is caught before any call.
    let bad = Facebook::new(
        common::loopback_net(),
        FacebookCredentials {
            page_id: "my page".into(),
            ..creds(&m.base, "page-token")
        },
    );
    let e = bad.publish(&req("hi", 0)).await.unwrap_err();
    assert!(e.to_string().contains("page_id"), "{e}");
}

#[tokio::test]
async fn login_code_exchange_and_page_list() {
    let m = Mock::start(|r| match r.line().as_str() {
        // https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#exchangecode
        "GET /v25.0/oauth/access_token" if r.query.contains_key("code") => Reply::ok(
            json!({"access_token": "short-user", "token_type": "bearer", "expires_in": 5183944}),
        ),
        // https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
        "GET /v25.0/oauth/access_token" => Reply::ok(
            json!({"access_token": "long-user", "token_type": "bearer", "expires_in": 5183944}),
        ),
        // https://developers.facebook.com/docs/pages/getting-started (GET /me/accounts)
        "GET /v25.0/me/accounts" => Reply::ok(json!({"data": [{
            "access_token": "page_access_token", "category": "Internet Company",
            "category_list": [{"id": "2256", "name": "Internet Company"}],
            "name": "Name of this Page", "id": PAGE,
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT"],
            "instagram_business_account": {"id": "17841405822304914"}
        }]})),
        _ => Reply::empty(404),
    })
    .await;
    let app = OAuthApp {
        client_id: "1234567890".into(),
        client_secret: Secret::new("app-secret"),
        redirect_uri: "https://relais.example/oauth/facebook".into(),
    };
    let net = common::loopback_net();
    let t = facebook::exchange_code(&net, &m.base, "v25.0", &app, "the-code")
        .await
        .unwrap();
    assert_eq!(t.access_token, Secret::new("long-user"));
    let rs = m.requests();
    assert_eq!(rs[0].query["code"], "the-code");
    assert_eq!(
        rs[0].query["redirect_uri"],
        "https://relais.example/oauth/facebook"
    );
    assert_eq!(rs[1].query["grant_type"], "fb_exchange_token");
    assert_eq!(rs[1].query["fb_exchange_token"], "short-user");
    let pages = facebook::pages(&net, &m.base, "v25.0", &t.access_token)
        .await
        .unwrap();
    assert_eq!(pages[0].id, PAGE);
    assert_eq!(pages[0].access_token, Secret::new("page_access_token"));
    assert_eq!(
        pages[0].instagram_account_id.as_deref(),
        Some("17841405822304914")
    );
    assert!(pages[0].tasks.contains(&"CREATE_CONTENT".to_owned()));
}
