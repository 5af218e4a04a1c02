//! "Connect with <network>" for the networks reached through the user's developer app. They
//! cannot be reached from here: a local server plays each network's documented contract (the
//! page is cited above each answer; the same bodies as relais-publish's contract tests). The
//! flow runs for real: pending state in the database, code exchange, account check, sealed
//! credentials, channel created or reconnected.

mod common;
#[path = "../../relais-publish/tests/common/mock.rs"]
mod mock;

use base64::Engine;
use common::env;
use mock::{Mock, Recorded, Reply};
use relais_publisher::channels::load_credentials;
use relais_publisher::oauth_flow::{
    Callback, Endpoints, FlowErrorKind, OAuthFlow, Outcome, StartForm,
};
use relais_publisher::ChannelCredentials;
use relais_store::audit::Actor;
use serde_json::json;
use sha2::Digest;

const PUBLIC: &str = "https://relais.example";

fn flow(e: &common::Env, m: &Mock) -> OAuthFlow {
    OAuthFlow::new(e.store.clone(), e.ring.clone(), e.net.clone(), PUBLIC)
        .with_endpoints(Endpoints::all_at(&m.base))
}

fn form(network: &str, id: &str, secret: &str) -> StartForm {
    StartForm {
        network: network.into(),
        name: format!("{network} brand"),
        client_id: id.into(),
        client_secret: secret.into(),
        ..Default::default()
    }
}

fn query(url: &str, k: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn back(code: &str, state: &str) -> Callback {
    Callback {
        code: Some(code.into()),
        state: Some(state.into()),
        ..Default::default()
    }
}

fn actor() -> Actor {
    Actor::system("test")
}

/// X: https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (token
/// answers) and https://docs.x.com/x-api/users/lookup/introduction (GET /2/users/me).
fn x_api(r: &Recorded) -> Reply {
    match r.line().as_str() {
        "POST /2/oauth2/token" => match r.form().get("code").map(String::as_str) {
            Some("good-code") => Reply::ok(json!({
                "token_type": "bearer", "expires_in": 7200, "access_token": "at-1",
                "scope": "tweet.read tweet.write users.read media.write offline.access",
                "refresh_token": "rt-1"
            })),
            _ => Reply::json(
                400,
                json!({"error": "invalid_request", "error_description": "Value passed for the authorization code was invalid."}),
            ),
        },
        "GET /2/users/me" => Reply::ok(
            json!({"data": {"id": "2244994945", "name": "X Dev", "username": "TwitterDev"}}),
        ),
        _ => Reply::json(404, json!({"title": "Not Found"})),
    }
}

#[tokio::test]
async fn x_connects_with_pkce_and_the_state_works_once() {
    let e = env().await;
    let m = Mock::start(x_api).await;
    let f = flow(&e, &m);
    let s = f
        .start(e.workspace_id, e.user_id, &form("x", "cid", "csecret"))
        .await
        .unwrap();
    assert_eq!(s.redirect_uri, "https://relais.example/oauth/callback/x");
    assert!(s
        .authorize_url
        .starts_with("https://x.com/i/oauth2/authorize?"));
    assert_eq!(query(&s.authorize_url, "redirect_uri"), s.redirect_uri);
    assert_eq!(query(&s.authorize_url, "code_challenge_method"), "S256");
    let state = query(&s.authorize_url, "state");
    assert!(state.len() >= 40, "a long random state");

    let out = f
        .finish("x", &back("good-code", &state), (e.user_id, &actor()))
        .await
        .unwrap();
    let Outcome::Connected {
        channel,
        reconnected,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert!(!reconnected);
    assert_eq!(channel.name, "x brand");
    assert_eq!(channel.config["account"], "@TwitterDev");
    assert!(channel.config["token_expires_at"].as_i64().unwrap() > relais_store::now());

    // The verifier sent at the exchange is the one the challenge was made from.
    let tok = m
        .requests()
        .into_iter()
        .find(|r| r.path == "/2/oauth2/token")
        .unwrap();
    let verifier = tok.form()["code_verifier"].clone();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    assert_eq!(challenge, query(&s.authorize_url, "code_challenge"));
    assert_eq!(tok.form()["redirect_uri"], s.redirect_uri);
    assert!(tok.header("authorization").unwrap().starts_with("Basic "));

    let creds = load_credentials(&e.store, &e.ring, &channel).await.unwrap();
    let ChannelCredentials::X(x) = creds else {
        panic!()
    };
    assert_eq!(x.user_id.as_deref(), Some("2244994945"));
    assert_eq!(x.tokens.refresh_token.unwrap().expose(), "rt-1");
    assert_eq!(x.api_base, m.base);

    // Single use: the same state again is refused and nothing more is created.
    let again = f
        .finish("x", &back("good-code", &state), (e.user_id, &actor()))
        .await
        .unwrap_err();
    assert!(matches!(again.kind, FlowErrorKind::UnknownState), "{again}");
    assert_eq!(again.code(), "unknown_state");
    assert_eq!(e.store.channels(e.workspace_id).await.unwrap().len(), 1);
    // Nothing of the pending state is left.
    let left: i64 = relais_store::Row::try_get(
        &relais_store::sqlx::query("SELECT COUNT(*) FROM oauth_states")
            .fetch_one(e.store.pool())
            .await
            .unwrap(),
        0,
    )
    .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn wrong_expired_foreign_and_declined_states_change_nothing() {
    let e = env().await;
    let m = Mock::start(x_api).await;
    let f = flow(&e, &m);
    let start = || async {
        let s = f
            .start(e.workspace_id, e.user_id, &form("x", "cid", ""))
            .await
            .unwrap();
        query(&s.authorize_url, "state")
    };
    let me = (e.user_id, &actor());

    // A forged state.
    let err = f
        .finish("x", &back("good-code", "forged"), me)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::UnknownState));
    assert_eq!(err.workspace_id, None);
    // No state at all.
    let err = f.finish("x", &Callback::default(), me).await.unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::UnknownState));

    // Another user's state: refused (and spent).
    let st = start().await;
    let err = f
        .finish("x", &back("good-code", &st), (e.user_id + 1000, &actor()))
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::UnknownState));
    let err = f
        .finish("x", &back("good-code", &st), me)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::UnknownState));

    // Another network's callback.
    let st = start().await;
    let err = f
        .finish("linkedin", &back("good-code", &st), me)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::UnknownState));

    // Expired (10 minutes passed): said so, with the workspace to go back to.
    let st = start().await;
    relais_store::sqlx::query("UPDATE oauth_states SET expires_at = 1")
        .execute(e.store.pool())
        .await
        .unwrap();
    let err = f
        .finish("x", &back("good-code", &st), me)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::ExpiredState), "{err}");
    assert_eq!(err.workspace_id, Some(e.workspace_id));

    // Consent declined on the network (X / RFC 6749 §4.1.2.1 error redirect).
    let st = start().await;
    let declined = Callback {
        state: Some(st),
        error: Some("access_denied".into()),
        error_description: Some("The user denied the request".into()),
        ..Default::default()
    };
    let err = f.finish("x", &declined, me).await.unwrap_err();
    assert!(matches!(&err.kind, FlowErrorKind::Denied(d) if d.contains("denied")));
    assert_eq!(err.workspace_id, Some(e.workspace_id));

    // The network refuses the code.
    let st = start().await;
    let err = f
        .finish("x", &back("stale-code", &st), me)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::Exchange(_)), "{err}");

    assert!(e.store.channels(e.workspace_id).await.unwrap().is_empty());
    assert!(
        !m.lines().iter().any(|l| l == "GET /2/users/me"),
        "no account read without a token"
    );
}

#[tokio::test]
async fn the_start_form_names_the_field_to_fix() {
    let e = env().await;
    let m = Mock::start(x_api).await;
    let f = flow(&e, &m);
    let field = |r: Result<_, relais_publisher::oauth_flow::FlowError>| match r {
        Err(e) => match e.kind {
            FlowErrorKind::Field { field, .. } => field,
            k => panic!("{k:?}"),
        },
        Ok(_) => panic!("accepted"),
    };
    let (ws, u) = (e.workspace_id, e.user_id);
    assert_eq!(field(f.start(ws, u, &form("x", "", "")).await), "client_id");
    assert_eq!(
        field(f.start(ws, u, &form("facebook", "12a", "s")).await),
        "client_id"
    );
    assert_eq!(
        field(f.start(ws, u, &form("threads", "123", "")).await),
        "client_secret"
    );
    assert_eq!(
        field(f.start(ws, u, &form("myspace", "1", "s")).await),
        "network"
    );
    let nameless = StartForm {
        name: " ".into(),
        ..form("x", "cid", "")
    };
    assert_eq!(field(f.start(ws, u, &nameless).await), "name");
    let mastodon = StartForm {
        instance: "ftp://example.org/x".into(),
        ..form("mastodon", "", "")
    };
    assert_eq!(field(f.start(ws, u, &mastodon).await), "instance");
    // An http public address cannot be a redirect URI.
    let plain = OAuthFlow::new(
        e.store.clone(),
        e.ring.clone(),
        e.net.clone(),
        "http://relais.example",
    );
    assert_eq!(
        field(plain.start(ws, u, &form("x", "cid", "")).await),
        "redirect_uri"
    );
}

/// Facebook Login: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#exchangecode,
/// https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived,
/// https://developers.facebook.com/docs/pages/getting-started (GET /me/accounts),
/// https://developers.facebook.com/docs/graph-api/reference/page (GET /{page-id}).
fn facebook_api(r: &Recorded) -> Reply {
    match r.line().as_str() {
        "GET /v25.0/oauth/access_token" if r.query.contains_key("code") => Reply::ok(
            json!({"access_token": "short-user", "token_type": "bearer", "expires_in": 5183944}),
        ),
        "GET /v25.0/oauth/access_token" => Reply::ok(
            json!({"access_token": "long-user", "token_type": "bearer", "expires_in": 5183944}),
        ),
        "GET /v25.0/me/accounts" => Reply::ok(json!({"data": [
            {"access_token": "page-token-1", "category": "Internet Company", "name": "Relais Café", "id": "546349135390552",
             "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"]},
            {"access_token": "page-token-2", "category": "Brand", "name": "Relais Bistro", "id": "1067280970047460",
             "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT"]},
            {"access_token": "page-token-3", "category": "Brand", "name": "Read only", "id": "99",
             "tasks": ["ANALYZE"]}
        ], "paging": {"cursors": {"before": "QVFIUk", "after": "QVFIUl"}}})),
        "GET /v25.0/546349135390552" => {
            Reply::ok(json!({"name": "Relais Café", "id": "546349135390552"}))
        }
        "GET /v25.0/1067280970047460" => {
            Reply::ok(json!({"name": "Relais Bistro", "id": "1067280970047460"}))
        }
        _ => Reply::json(
            404,
            json!({"error": {"message": "Unknown path", "code": 803}}),
        ),
    }
}

#[tokio::test]
async fn facebook_lists_the_pages_and_connects_the_one_chosen() {
    let e = env().await;
    let m = Mock::start(facebook_api).await;
    let f = flow(&e, &m);
    let me = (e.user_id, &actor());
    let s = f
        .start(
            e.workspace_id,
            e.user_id,
            &form("facebook", "1234567890", "app-secret"),
        )
        .await
        .unwrap();
    assert!(s
        .authorize_url
        .starts_with("https://www.facebook.com/v25.0/dialog/oauth?client_id=1234567890&"));
    let state = query(&s.authorize_url, "state");
    let out = f
        .finish("facebook", &back("fb-code", &state), me)
        .await
        .unwrap();
    let Outcome::Pick { token, choices, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(
        choices,
        [
            "Relais Café (546349135390552)",
            "Relais Bistro (1067280970047460)"
        ],
        "pages the account cannot publish on are not offered"
    );
    // The choice is bound to the workspace and single use.
    let err = f
        .pick(e.workspace_id + 1, "facebook", &token, 1, me)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::UnknownState));

    let s = f
        .start(
            e.workspace_id,
            e.user_id,
            &form("facebook", "1234567890", "app-secret"),
        )
        .await
        .unwrap();
    let state = query(&s.authorize_url, "state");
    let Outcome::Pick { token, .. } = f
        .finish("facebook", &back("fb-code", &state), me)
        .await
        .unwrap()
    else {
        panic!()
    };
    let out = f
        .pick(e.workspace_id, "facebook", &token, 1, me)
        .await
        .unwrap();
    let Outcome::Connected { channel, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(channel.config["account"], "Relais Bistro");
    let ChannelCredentials::Facebook(c) =
        load_credentials(&e.store, &e.ring, &channel).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(c.page_id, "1067280970047460");
    assert_eq!(c.page_access_token.expose(), "page-token-2");
    // The account check signs its call with the app secret.
    let check = m
        .requests()
        .into_iter()
        .find(|r| r.path == "/v25.0/1067280970047460")
        .unwrap();
    assert_eq!(
        check.query["appsecret_proof"],
        relais_publish::meta::appsecret_proof("app-secret", "page-token-2")
    );

    // A Page id given in the form connects it directly.
    let given = StartForm {
        page_id: "546349135390552".into(),
        ..form("facebook", "1234567890", "app-secret")
    };
    let s = f.start(e.workspace_id, e.user_id, &given).await.unwrap();
    let state = query(&s.authorize_url, "state");
    let out = f
        .finish("facebook", &back("fb-code", &state), me)
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Connected { .. }), "{out:?}");
    // A Page the account cannot publish on is refused with the reason.
    let given = StartForm {
        page_id: "99".into(),
        ..form("facebook", "1234567890", "app-secret")
    };
    let s = f.start(e.workspace_id, e.user_id, &given).await.unwrap();
    let state = query(&s.authorize_url, "state");
    let err = f
        .finish("facebook", &back("fb-code", &state), me)
        .await
        .unwrap_err();
    assert!(matches!(&err.kind, FlowErrorKind::NoAccount(m) if m.contains("99")));
}

/// LinkedIn: https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow
/// (token answer), https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
/// (GET /v2/userinfo), https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-access-control-by-role
/// (GET /rest/organizationAcls?q=roleAssignee).
fn linkedin_api(r: &Recorded) -> Reply {
    match r.line().as_str() {
        "POST /oauth/v2/accessToken" => Reply::ok(json!({
            "access_token": "AQUvlL_DYEzvT2wz1QJiEPeLioeA", "expires_in": 5184000,
            "scope": "openid,profile,w_member_social"
        })),
        "GET /v2/userinfo" => Reply::ok(json!({
            "sub": "782bbtaQ", "name": "John Doe", "given_name": "John", "family_name": "Doe",
            "picture": "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/", "locale": "en-US"
        })),
        "GET /rest/organizationAcls" => Reply::ok(json!({
            "paging": {"count": 10, "start": 0, "links": []},
            "elements": [
                {"role": "ADMINISTRATOR", "organization": "urn:li:organization:2414183", "state": "APPROVED", "roleAssignee": "urn:li:person:782bbtaQ"},
                {"role": "ADMINISTRATOR", "organization": "urn:li:organization:5515715", "state": "APPROVED", "roleAssignee": "urn:li:person:782bbtaQ"}
            ]
        })),
        _ => Reply::json(404, json!({"message": "Not found", "status": 404})),
    }
}

#[tokio::test]
async fn linkedin_member_and_organization() {
    let e = env().await;
    let m = Mock::start(linkedin_api).await;
    let f = flow(&e, &m);
    let me = (e.user_id, &actor());
    let s = f
        .start(
            e.workspace_id,
            e.user_id,
            &form("linkedin", "86abc", "li-secret"),
        )
        .await
        .unwrap();
    assert_eq!(
        query(&s.authorize_url, "scope"),
        "openid profile w_member_social"
    );
    let state = query(&s.authorize_url, "state");
    let Outcome::Connected { channel, .. } = f
        .finish("linkedin", &back("c0de", &state), me)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(channel.config["account"], "John Doe");
    assert_eq!(channel.config["author"], "urn:li:person:782bbtaQ");

    let org = StartForm {
        organization: "organization".into(),
        ..form("linkedin", "86abc", "li-secret")
    };
    let s = f.start(e.workspace_id, e.user_id, &org).await.unwrap();
    assert!(query(&s.authorize_url, "scope").contains("w_organization_social"));
    let state = query(&s.authorize_url, "state");
    let Outcome::Pick { token, choices, .. } = f
        .finish("linkedin", &back("c0de", &state), me)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        choices,
        ["urn:li:organization:2414183", "urn:li:organization:5515715"]
    );
    let Outcome::Connected { channel, .. } = f
        .pick(e.workspace_id, "linkedin", &token, 0, me)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(channel.config["author"], "urn:li:organization:2414183");
    let acl = m
        .requests()
        .into_iter()
        .find(|r| r.path == "/rest/organizationAcls")
        .unwrap();
    assert_eq!(acl.header("x-restli-protocol-version"), Some("2.0.0"));
    assert_eq!(acl.header("linkedin-version"), Some("202605"));
}

/// Instagram Login: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
/// (code → short-lived token in `data[0]`, then `ig_exchange_token` → 60 days) and
/// https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user (GET /{ig-user-id}).
fn instagram_api(r: &Recorded) -> Reply {
    match r.line().as_str() {
        "POST /oauth/access_token" => Reply::ok(
            json!({"data": [{"access_token": "IGAA-short", "user_id": "17841405822304914", "permissions": "instagram_business_basic,instagram_business_content_publish"}]}),
        ),
        "GET /access_token" => Reply::ok(
            json!({"access_token": "IGAA-long", "token_type": "bearer", "expires_in": 5183944}),
        ),
        "GET /v25.0/17841405822304914" => {
            Reply::ok(json!({"id": "17841405822304914", "username": "relais.cafe"}))
        }
        _ => Reply::json(
            404,
            json!({"error": {"message": "Unknown path", "code": 803}}),
        ),
    }
}

/// Threads: https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions,
/// https://developers.facebook.com/docs/threads/get-started/long-lived-tokens and GET /me of
/// https://developers.facebook.com/docs/threads/threads-profiles.
fn threads_api(r: &Recorded) -> Reply {
    match r.line().as_str() {
        "POST /oauth/access_token" => {
            Reply::ok(json!({"access_token": "THQVJ-short", "user_id": 1234567890u64}))
        }
        "GET /access_token" => Reply::ok(
            json!({"access_token": "THQVJ-long", "token_type": "bearer", "expires_in": 5183944}),
        ),
        "GET /v1.0/me" => Reply::ok(json!({"id": "1234567890", "username": "relais"})),
        _ => Reply::json(
            404,
            json!({"error": {"message": "Unknown path", "code": 803}}),
        ),
    }
}

#[tokio::test]
async fn instagram_and_threads_connect_with_60_day_tokens() {
    let e = env().await;
    let me = (e.user_id, &actor());
    for (network, handler, account) in [
        (
            "instagram",
            instagram_api as fn(&Recorded) -> Reply,
            "relais.cafe",
        ),
        ("threads", threads_api, "relais"),
    ] {
        let m = Mock::start(handler).await;
        let f = flow(&e, &m);
        let s = f
            .start(
                e.workspace_id,
                e.user_id,
                &form(network, "990602627938098", "secret"),
            )
            .await
            .unwrap();
        assert_eq!(
            query(&s.authorize_url, "redirect_uri"),
            format!("https://relais.example/oauth/callback/{network}")
        );
        let state = query(&s.authorize_url, "state");
        let out = f.finish(network, &back("AQBx", &state), me).await.unwrap();
        let Outcome::Connected { channel, .. } = out else {
            panic!("{out:?}")
        };
        assert_eq!(channel.config["account"], account, "{network}");
        let exp = channel.config["token_expires_at"].as_i64().unwrap();
        assert!(
            exp > relais_store::now() + 59 * 24 * 3600 * 1000,
            "{network}"
        );
        let ex = m.requests()[0].clone();
        assert_eq!(ex.form()["grant_type"], "authorization_code");
        assert_eq!(ex.form()["redirect_uri"], s.redirect_uri);
        let creds = load_credentials(&e.store, &e.ring, &channel).await.unwrap();
        assert_eq!(creds.token_expires_at(), Some(exp));
    }
}
