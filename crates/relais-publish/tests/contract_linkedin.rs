//! LinkedIn's Posts, Images and Comments APIs cannot be reached from here: a local server plays
//! the documented request/response contract (answers copied from the cited pages).

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::mock::{MemorySink, Mock, Recorded, Reply};
use relais_publish::linkedin::{self, LinkedIn, LinkedInCredentials, MEMBER_SCOPES};
use relais_publish::oauth::{OAuthApp, OAuthTokens};
use relais_publish::{
    Connector, PublishError, PublishRequest, Published, RateScope, ReplyTo, Secret, Variant,
};
use serde_json::json;

const SHARE: &str = "urn:li:share:6844785523593134080";
const ORG: &str = "urn:li:organization:5515715";

fn creds(base: &str, refresh: Option<&str>) -> LinkedInCredentials {
    LinkedInCredentials {
        client_id: "86abc".into(),
        client_secret: Secret::new("li-secret"),
        author: ORG.into(),
        tokens: OAuthTokens {
            access_token: "li-at-1".into(),
            refresh_token: refresh.map(Secret::new),
            ..Default::default()
        },
        api_version: "202605".into(),
        api_base: base.into(),
        oauth_base: format!("{base}/oauth/v2"),
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

fn api(r: &Recorded) -> Reply {
    // The upload URL points back at this server.
    let base = format!("http://{}", r.header("host").unwrap());
    match (r.method.as_str(), r.path.as_str()) {
        // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
        // "A successful response returns a 201 Created HTTP status code and the ID is returned in
        // the x-restli-id response header."
        ("POST", "/rest/posts") => Reply::empty(201).header("x-restli-id", SHARE),
        // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
        // (initializeUpload sample response; the upload URL points at this server)
        ("POST", "/rest/images") => Reply::ok(json!({
            "value": {
                "uploadUrlExpiresAt": 1650567510704u64,
                "uploadUrl": format!("{base}/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploaded-image/0?ca=vector_ads&cn=uploads&m=AQJbrN86Zm265gAAAWemyz2pxPSgONtBiZdchrgG872QltnfYjnMdb2j3A&app=1953784&sync=0&v=beta&ut=2H-IhpbfXrRow1"),
                "image": "urn:li:image:C4E10AQFoyyAjHPMQuQ"
            }
        })),
        ("PUT", p) if p.starts_with("/dms-uploads/") => Reply::empty(201),
        // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api
        ("POST", p) if p.ends_with("/comments") => Reply::json(
            201,
            json!({"actor": ORG, "object": SHARE, "message": {"text": r.json()["message"]["text"]}, "id": "6636062862760562688", "$URN": "urn:li:comment:(urn:li:activity:6636062862760562688,6636062862760562688)"}),
        )
        .header("x-restli-id", "urn:li:comment:(urn:li:activity:6844785523593134080,6636062862760562688)"),
        _ => Reply::json(404, json!({"status": 404, "message": "Not Found"})),
    }
}

#[tokio::test]
async fn posts_with_versioned_headers_little_text_and_images() {
    let m2 = Mock::start(api).await;
    let li = LinkedIn::new(common::loopback_net(), creds(&m2.base, None));
    let p = li
        .publish(&req("Launch day #relais (beta) @team", 0))
        .await
        .unwrap();
    assert_eq!(p.remote_id, SHARE);
    assert_eq!(
        p.url.as_deref(),
        Some("https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080/")
    );
    let r = &m2.requests()[0];
    assert_eq!(r.line(), "POST /rest/posts");
    assert_eq!(r.header("authorization"), Some("Bearer li-at-1"));
    assert_eq!(r.header("linkedin-version"), Some("202605"));
    assert_eq!(r.header("x-restli-protocol-version"), Some("2.0.0"));
    assert_eq!(
        r.json(),
        &json!({
            "author": ORG,
            "commentary": "Launch day {hashtag|\\#|relais} \\(beta\\) \\@team",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false
        })
    );

    m2.clear();
    li.publish(&req("two images", 2)).await.unwrap();
    let rs = m2.requests();
    assert_eq!(
        rs.iter().map(|r| r.method.clone()).collect::<Vec<_>>(),
        ["POST", "PUT", "POST", "PUT", "POST"]
    );
    assert_eq!(
        rs[0].query.get("action").map(String::as_str),
        Some("initializeUpload")
    );
    assert_eq!(
        rs[0].json(),
        &json!({"initializeUploadRequest": {"owner": ORG}})
    );
    assert_eq!(rs[0].header("linkedin-version"), Some("202605"));
    assert_eq!(rs[1].raw(), &common::tiny_png());
    assert_eq!(rs[1].header("authorization"), Some("Bearer li-at-1"));
    assert_eq!(
        rs[4].json()["content"],
        json!({"multiImage": {"images": [
            {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "alt 0"},
            {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "alt 1"}
        ]}})
    );

    m2.clear();
    li.publish(&req("one image", 1)).await.unwrap();
    assert_eq!(
        m2.requests()[2].json()["content"],
        json!({"media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "alt 0"}})
    );

    // A reply is a comment on the parent post.
    m2.clear();
    let mut reply = req("first comment", 0);
    reply.reply_to = Some(ReplyTo {
        root: Published {
            remote_id: SHARE.into(),
            ..Default::default()
        },
        parent: Published {
            remote_id: SHARE.into(),
            ..Default::default()
        },
    });
    let c = li.publish(&reply).await.unwrap();
    assert!(c.remote_id.starts_with("urn:li:comment:"));
    let r = &m2.requests()[0];
    // URNs in paths are URL-encoded (Rest.li 2.0).
    assert_eq!(
        r.path,
        "/rest/socialActions/urn%3Ali%3Ashare%3A6844785523593134080/comments"
    );
    assert_eq!(
        r.json(),
        &json!({"actor": ORG, "object": SHARE, "message": {"text": "first comment"}})
    );
}

#[tokio::test]
async fn expired_token_refreshes_with_the_refresh_token() {
    let m = Mock::start(|r| match r.line().as_str() {
        // https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens
        "POST /oauth/v2/accessToken" => Reply::ok(json!({
            "access_token": "li-at-2", "expires_in": 5184000,
            "refresh_token": "li-rt-2", "refresh_token_expires_in": 525600
        })),
        "POST /rest/posts" if r.header("authorization") == Some("Bearer li-at-1") => Reply::json(
            401,
            // https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling
            json!({"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}),
        ),
        "POST /rest/posts" => Reply::empty(201).header("x-restli-id", SHARE),
        _ => Reply::empty(404),
    })
    .await;
    let sink = Arc::new(MemorySink::default());
    sink.fail.store(true, Ordering::SeqCst); // the first save fails: kept in memory, saved later
    let li = LinkedIn::new(common::loopback_net(), creds(&m.base, Some("li-rt-1")))
        .with_token_sink(sink.clone());
    li.publish(&req("hello", 0)).await.unwrap();
    let f = m.requests()[1].form().clone();
    assert_eq!(f["grant_type"], "refresh_token");
    assert_eq!(f["refresh_token"], "li-rt-1");
    assert_eq!(f["client_id"], "86abc");
    assert_eq!(f["client_secret"], "li-secret");
    assert_eq!(
        m.requests()[2].header("authorization"),
        Some("Bearer li-at-2")
    );
    assert!(sink.saved.lock().unwrap().is_empty());
    sink.fail.store(false, Ordering::SeqCst);
    li.publish(&req("again", 0)).await.unwrap();
    let saved = sink.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 1, "saved again on the next call");
    assert_eq!(saved[0].refresh_token, Some("li-rt-2".into()));
    assert!(saved[0].refresh_expires_at.is_some());

    // Without a refresh token (most apps), an expired token means reconnecting.
    let li = LinkedIn::new(common::loopback_net(), creds(&m.base, None));
    let e = li.publish(&req("hello", 0)).await.unwrap_err();
    assert_eq!(e.code(), "disconnect");
    assert!(e.to_string().contains("connect the channel again"), "{e}");
}

#[tokio::test]
async fn throttling_duplicates_and_permissions() {
    let m = Mock::start(|r| match r.json()["commentary"].as_str().unwrap_or_default() {
        // https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits
        "flood" => Reply::json(
            429,
            json!({"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS", "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}),
        ),
        "dup" => Reply::json(
            422,
            json!({"errorDetailType": "com.linkedin.common.error.BadRequest", "message": "Content is a duplicate of urn:li:share:6844785523593134080", "errorDetails": {}, "status": 422}),
        ),
        "role" => Reply::json(
            403,
            json!({"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED", "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260501"}),
        ),
        _ => Reply::empty(502),
    })
    .await;
    let li = LinkedIn::new(common::loopback_net(), creds(&m.base, None));
    match li.publish(&req("flood", 0)).await.unwrap_err() {
        PublishError::RateLimited {
            retry_after, scope, ..
        } => {
            // Daily limits reset at midnight UTC.
            assert!(retry_after.unwrap().as_secs() <= 86_400);
            assert_eq!(scope, RateScope::Channel);
        }
        e => panic!("{e}"),
    }
    let e = li.publish(&req("dup", 0)).await.unwrap_err();
    assert_eq!(e.code(), "bad_request");
    assert!(e.to_string().contains("duplicate"), "{e}");
    assert_eq!(
        li.publish(&req("role", 0)).await.unwrap_err().code(),
        "disconnect"
    );
    assert_eq!(
        li.publish(&req("gateway", 0)).await.unwrap_err().code(),
        "unknown_outcome"
    );
}

#[tokio::test]
async fn reconcile_finds_the_post_by_its_commentary() {
    let m = Mock::start(|r| {
        assert_eq!(r.line(), "GET /rest/posts");
        assert_eq!(r.header("x-restli-method"), Some("FINDER"));
        // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
        // (find posts by author)
        Reply::ok(json!({
            "paging": {"start": 0, "count": 10, "links": [], "total": 2},
            "elements": [
                {"id": "urn:li:share:1", "author": ORG, "commentary": "older", "lifecycleState": "PUBLISHED", "visibility": "PUBLIC"},
                {"id": SHARE, "author": ORG, "commentary": "Launch day {hashtag|\\#|relais} \\(beta\\)", "lifecycleState": "PUBLISHED", "visibility": "PUBLIC"}
            ]
        }))
    })
    .await;
    let li = LinkedIn::new(common::loopback_net(), creds(&m.base, None));
    let p = li
        .reconcile(&req("Launch day #relais (beta)", 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.remote_id, SHARE);
    assert_eq!(li.reconcile(&req("nope", 0)).await.unwrap(), None);
    let r = &m.requests()[0];
    assert_eq!(r.query.get("author").map(String::as_str), Some(ORG));
    assert_eq!(r.query.get("q").map(String::as_str), Some("author"));
}

#[tokio::test]
async fn oauth_urls_and_code_exchange() {
    let m = Mock::start(|r| {
        assert_eq!(r.line(), "POST /oauth/v2/accessToken");
        // https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
        Reply::ok(json!({"access_token": "AQUvlL_DYEzvT2wz1QJiEPeLioeA", "expires_in": 5184000, "scope": "openid,profile,w_member_social"}))
    })
    .await;
    let app = OAuthApp {
        client_id: "86abc".into(),
        client_secret: Secret::new("li-secret"),
        redirect_uri: "https://relais.example/oauth/linkedin".into(),
    };
    let u = linkedin::authorize_url(linkedin::DEFAULT_OAUTH, &app, "st", MEMBER_SCOPES).unwrap();
    assert!(u.starts_with(
        "https://www.linkedin.com/oauth/v2/authorization?response_type=code&client_id=86abc&"
    ));
    assert!(u.contains("scope=openid+profile+w_member_social"));
    let t = linkedin::exchange_code(
        &common::loopback_net(),
        &format!("{}/oauth/v2", m.base),
        &app,
        "c0de",
    )
    .await
    .unwrap();
    assert_eq!(t.access_token, Secret::new("AQUvlL_DYEzvT2wz1QJiEPeLioeA"));
    assert_eq!(t.refresh_token, None);
    let f = m.requests()[0].form().clone();
    assert_eq!(f["grant_type"], "authorization_code");
    assert_eq!(f["code"], "c0de");
    assert_eq!(f["redirect_uri"], "https://relais.example/oauth/linkedin");
    assert_eq!(f["client_secret"], "li-secret");
}

#[test]
fn check_and_validate() {
    let c = creds("https://api.linkedin.com", None);
    assert!(c.check().is_ok());
    let bad = LinkedInCredentials {
        author: "5515715".into(),
        ..c.clone()
    };
    assert_eq!(bad.check().unwrap_err().field, "author");
    let bad = LinkedInCredentials {
        api_version: "2026-05".into(),
        ..c.clone()
    };
    assert_eq!(bad.check().unwrap_err().field, "api_version");
    let li = LinkedIn::new(common::loopback_net(), c);
    assert_eq!(
        li.validate(&req(&"x".repeat(3001), 0).variant)[0].code,
        "text_too_long"
    );
    assert_eq!(li.validate(&req("x", 10).variant)[0].code, "too_many_media");
}
