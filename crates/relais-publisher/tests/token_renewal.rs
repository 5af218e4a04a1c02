//! Renewed tokens are stored before they are used (X rotates its refresh token on every
//! renewal), a refused renewal keeps the stored credentials and marks the channel
//! `needs_reconnect`, a reconnect replaces credentials only once the new ones work, and the daily
//! job renews 60-day Instagram / Threads tokens. Local servers play the documented contracts
//! (pages cited above each answer).

mod common;
#[path = "../../relais-publish/tests/common/mock.rs"]
mod mock;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::env;
use mock::{Mock, Recorded, Reply};
use relais_domain::publish::TargetState as S;
use relais_publish::oauth::OAuthTokens;
use relais_publish::threads::ThreadsCredentials;
use relais_publish::x::XCredentials;
use relais_publish::Secret;
use relais_publisher::channels::load_credentials;
use relais_publisher::oauth_flow::{
    Callback, Endpoints, FlowErrorKind, OAuthFlow, Outcome, StartForm,
};
use relais_publisher::renewal::renew_due_tokens;
use relais_publisher::ChannelCredentials;
use relais_store::audit::Actor;
use relais_store::now;
use serde_json::json;

const DAY: i64 = 24 * 3600 * 1000;

fn x_creds(base: &str, access: &str, refresh: &str, expires_at: i64) -> ChannelCredentials {
    ChannelCredentials::X(XCredentials {
        client_id: "cid".into(),
        client_secret: Secret::new("csecret"),
        user_id: Some("2244994945".into()),
        tokens: OAuthTokens {
            access_token: access.into(),
            refresh_token: Some(refresh.into()),
            expires_at: Some(expires_at),
            ..Default::default()
        },
        api_base: base.into(),
    })
}

fn x_tokens(c: &ChannelCredentials) -> (String, String) {
    let ChannelCredentials::X(x) = c else {
        panic!()
    };
    (
        x.tokens.access_token.expose().into(),
        x.tokens.refresh_token.as_ref().unwrap().expose().into(),
    )
}

/// X with rotating refresh tokens: `rt-N` is good once, for the newest N, and gives `at-N+1` /
/// `rt-N+1` (https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token); any
/// other refresh token gets X's answer to a spent token. Posts need the newest access token, and
/// not one older than `fresh_from` (expired: https://docs.x.com/x-api/posts/creation-of-a-post,
/// 401 problem body).
#[derive(Clone, Default)]
struct XServer {
    generation: Arc<AtomicUsize>,
    fresh_from: Arc<AtomicUsize>,
}

impl XServer {
    fn new() -> Self {
        let s = Self::default();
        s.generation.store(1, Ordering::SeqCst);
        s
    }
    /// The current access token expires (X's 2-hour lifetime).
    fn expire_current(&self) {
        let g = self.generation.load(Ordering::SeqCst);
        self.fresh_from.store(g + 1, Ordering::SeqCst);
    }
    fn handler(&self) -> impl Fn(&Recorded) -> Reply {
        let s = self.clone();
        move |r: &Recorded| {
            let g = s.generation.load(Ordering::SeqCst);
            let fresh = g >= s.fresh_from.load(Ordering::SeqCst);
            match r.line().as_str() {
                "POST /2/oauth2/token" => {
                    if r.form().get("refresh_token") == Some(&format!("rt-{g}")) {
                        let n = g + 1;
                        s.generation.store(n, Ordering::SeqCst);
                        Reply::ok(json!({
                            "token_type": "bearer", "expires_in": 7200, "access_token": format!("at-{n}"),
                            "scope": "tweet.read tweet.write users.read offline.access", "refresh_token": format!("rt-{n}")
                        }))
                    } else {
                        Reply::json(
                            400,
                            json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."}),
                        )
                    }
                }
                "GET /2/users/me" => Reply::ok(
                    json!({"data": {"id": "2244994945", "name": "X Dev", "username": "TwitterDev"}}),
                ),
                "POST /2/tweets"
                    if fresh && r.header("authorization") == Some(&format!("Bearer at-{g}")) =>
                {
                    Reply::json(
                        201,
                        json!({"data": {"id": format!("170000000000000000{g}"), "text": "hello"}}),
                    )
                }
                "POST /2/tweets" => Reply::json(
                    401,
                    json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
                ),
                _ => Reply::json(404, json!({"title": "Not Found"})),
            }
        }
    }
}

fn post(text: &str) -> relais_publish::PublishRequest {
    relais_publish::PublishRequest {
        idempotency_key: text.into(),
        variant: relais_publish::Variant {
            text: text.into(),
            ..Default::default()
        },
        reply_to: None,
    }
}

#[tokio::test]
async fn x_rotated_refresh_token_is_stored_before_use_and_survives_a_restart() {
    let e = env().await;
    let x = XServer::new();
    let m = Mock::start(x.handler()).await;
    let ch = e
        .connect(x_creds(&m.base, "at-1", "rt-1", now() + 3_600_000))
        .await;
    let first_secret = ch.secret_id.unwrap();

    // at-1 expired: the publish is refused once, the token renewed with rt-1, the new pair
    // stored, then the post goes out — through the worker, as in production.
    x.expire_current();
    let t = e.draft(&ch, "hello").await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    e.wait_state(t.id, S::Published, 10).await;
    w.stop().await;
    assert_eq!(
        m.lines()[1..],
        ["POST /2/tweets", "POST /2/oauth2/token", "POST /2/tweets"],
        "refused once, renewed, sent again"
    );

    // The rotated pair is in the database, sealed anew; the replaced secret is gone.
    let ch = e.store.channel_by_id(ch.id).await.unwrap();
    assert_ne!(ch.secret_id, Some(first_secret));
    assert_eq!(ch.status, "connected");
    let stored = load_credentials(&e.store, &e.ring, &ch).await.unwrap();
    assert_eq!(x_tokens(&stored), ("at-2".into(), "rt-2".into()));
    assert!(ch.config["token_expires_at"].as_i64().unwrap() > now() + 7_000_000);
    let old: Option<i64> = relais_store::sqlx::query("SELECT id FROM secrets WHERE id = $1")
        .bind(first_secret)
        .fetch_optional(e.store.pool())
        .await
        .unwrap()
        .map(|r| relais_store::Row::try_get(&r, 0).unwrap());
    assert_eq!(old, None, "the replaced secret is deleted");

    // A restarted process builds its connector from the database: when at-2 expires it renews
    // with rt-2, which X accepts (rt-1 is spent).
    x.expire_current();
    let restarted = relais_publisher::renewal::channel_connector(
        &e.store,
        &e.ring,
        e.net.clone(),
        &ch,
        &stored,
    )
    .unwrap();
    restarted.publish(&post("after restart")).await.unwrap();
    let ch = e.store.channel_by_id(ch.id).await.unwrap();
    let stored = load_credentials(&e.store, &e.ring, &ch).await.unwrap();
    assert_eq!(x_tokens(&stored), ("at-3".into(), "rt-3".into()));

    // A connector built before a reconnect does not overwrite the reconnected credentials.
    let stale = relais_publisher::renewal::channel_connector(
        &e.store,
        &e.ring,
        e.net.clone(),
        &ch,
        &stored,
    )
    .unwrap();
    let fresh = x_creds(&m.base, "at-3", "rt-3", now() + 3_600_000);
    e.svc
        .reconnect(e.workspace_id, ch.id, &fresh, &Actor::system("test"))
        .await
        .unwrap();
    let reconnected = e.store.channel_by_id(ch.id).await.unwrap();
    x.expire_current();
    stale.publish(&post("stale connector")).await.unwrap();
    assert_eq!(
        e.store.channel_by_id(ch.id).await.unwrap().secret_id,
        reconnected.secret_id,
        "the reconnect wins over the stale connector's renewal"
    );
}

#[tokio::test]
async fn a_revoked_token_marks_the_channel_and_keeps_the_stored_refresh_token() {
    let e = env().await;
    // https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token: a revoked
    // grant answers invalid_request on refresh; posts get 401.
    let m = Mock::start(|r: &Recorded| match r.line().as_str() {
        "GET /2/users/me" => Reply::ok(
            json!({"data": {"id": "2244994945", "name": "X Dev", "username": "TwitterDev"}}),
        ),
        "POST /2/oauth2/token" => Reply::json(
            400,
            json!({"error": "invalid_request", "error_description": "Value passed for the token was invalid."}),
        ),
        "POST /2/tweets" => Reply::json(
            401,
            json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
        ),
        _ => Reply::json(404, json!({"title": "Not Found"})),
    })
    .await;
    let ch = e
        .connect(x_creds(&m.base, "at-1", "rt-1", now() + 3_600_000))
        .await;
    let t = e.draft(&ch, "hello").await;
    let t = e.schedule(&t, now()).await;
    let w = e.worker("w1");
    let t = e.wait_state(t.id, S::Failed, 10).await;
    w.stop().await;
    assert_eq!(t.last_error_code.as_deref(), Some("disconnect"));
    let after = e.store.channel_by_id(ch.id).await.unwrap();
    assert_eq!(after.status, "needs_reconnect");
    assert!(
        after
            .status_detail
            .as_deref()
            .unwrap()
            .contains("connect the channel again"),
        "{:?}",
        after.status_detail
    );
    assert_eq!(after.secret_id, ch.secret_id, "credentials untouched");
    let kept = load_credentials(&e.store, &e.ring, &after).await.unwrap();
    assert_eq!(x_tokens(&kept), ("at-1".into(), "rt-1".into()));
    let h = relais_publisher::health::channel_health(&e.store, &after, now())
        .await
        .unwrap();
    assert_eq!(h.status, "needs_reconnect");
}

#[tokio::test]
async fn reconnect_keeps_the_old_credentials_until_the_new_ones_work() {
    let e = env().await;
    let x = XServer::new();
    let m = Mock::start({
        let inner = x.handler();
        move |r: &Recorded| {
            if r.path == "/2/oauth2/token" && r.form().get("grant_type").map(String::as_str) == Some("authorization_code") {
                // https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
                return match r.form()["code"].as_str() {
                    "good" => Reply::ok(json!({"token_type": "bearer", "expires_in": 7200, "access_token": "at-new", "refresh_token": "rt-new", "scope": "tweet.read tweet.write users.read offline.access"})),
                    _ => Reply::json(400, json!({"error": "invalid_request", "error_description": "Value passed for the authorization code was invalid."})),
                };
            }
            inner(r)
        }
    })
    .await;
    let ch = e
        .connect(x_creds(&m.base, "at-1", "rt-1", now() + 3_600_000))
        .await;
    e.store
        .set_channel_status(ch.id, "needs_reconnect", Some("revoked"), None)
        .await
        .unwrap();
    let f = OAuthFlow::new(
        e.store.clone(),
        e.ring.clone(),
        e.net.clone(),
        "https://relais.example",
    )
    .with_endpoints(Endpoints::all_at(&m.base));
    let me = (e.user_id, &Actor::system("test"));
    // Reconnect reuses the channel's app: no field to type again.
    let re = StartForm {
        network: "x".into(),
        channel_id: Some(ch.id),
        ..Default::default()
    };
    let start = || async {
        let s = f.start(e.workspace_id, e.user_id, &re).await.unwrap();
        assert!(s.authorize_url.contains("client_id=cid"));
        url::Url::parse(&s.authorize_url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned()
    };
    let cb = |code: &str, state: String| Callback {
        code: Some(code.into()),
        state: Some(state),
        ..Default::default()
    };

    // The exchange fails: the old credentials stay, the channel still says why it is broken.
    let err = f
        .finish("x", &cb("bad", start().await), me)
        .await
        .unwrap_err();
    assert!(matches!(err.kind, FlowErrorKind::Exchange(_)));
    let same = e.store.channel_by_id(ch.id).await.unwrap();
    assert_eq!(same.secret_id, ch.secret_id);
    assert_eq!(same.status, "needs_reconnect");

    // The new tokens work: they replace the old ones and the channel is connected again.
    let out = f.finish("x", &cb("good", start().await), me).await.unwrap();
    let Outcome::Connected {
        channel,
        reconnected,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert!(reconnected);
    assert_eq!(channel.id, ch.id);
    assert_eq!(channel.status, "connected");
    let now_creds = load_credentials(&e.store, &e.ring, &channel).await.unwrap();
    assert_eq!(x_tokens(&now_creds), ("at-new".into(), "rt-new".into()));
    assert_eq!(e.store.channels(e.workspace_id).await.unwrap().len(), 1);
    assert!(e
        .audit_actions()
        .await
        .contains(&"channel.reconnected".to_string()));
}

/// https://developers.facebook.com/docs/threads/get-started/long-lived-tokens (refresh
/// answer; expired token error code 190) and GET /me of
/// https://developers.facebook.com/docs/threads/threads-profiles.
fn threads_api(refuse: bool) -> impl Fn(&Recorded) -> Reply {
    move |r: &Recorded| match r.path.as_str() {
        "/refresh_access_token" if refuse => Reply::json(
            400,
            json!({"error": {"message": "Error validating access token: Session has expired.", "type": "OAuthException", "code": 190, "fbtrace_id": "AbD"}}),
        ),
        "/refresh_access_token" => {
            assert_eq!(r.query["grant_type"], "th_refresh_token");
            Reply::ok(
                json!({"access_token": "THQVJ-renewed", "token_type": "bearer", "expires_in": 5183944}),
            )
        }
        "/v1.0/me" => Reply::ok(json!({"id": "1234567890", "username": "relais"})),
        _ => Reply::json(
            404,
            json!({"error": {"message": "Unknown path", "code": 803}}),
        ),
    }
}

fn threads_creds(base: &str, expires_at: i64) -> ChannelCredentials {
    ChannelCredentials::Threads(ThreadsCredentials {
        app_id: "990602627938098".into(),
        app_secret: Secret::new("th-secret"),
        threads_user_id: "1234567890".into(),
        access_token: Secret::new("THQVJ-old"),
        expires_at: Some(expires_at),
        api_base: base.into(),
        api_version: "v1.0".into(),
    })
}

/// A channel stored as is (connecting through the service would renew a due token at once).
async fn stored(e: &common::Env, creds: &ChannelCredentials) -> relais_store::channels::Channel {
    let mut tx = e.store.begin().await.unwrap();
    let sid = e
        .store
        .put_secret(
            &mut tx,
            &e.ring,
            relais_publisher::CREDENTIALS_PURPOSE,
            &serde_json::to_vec(creds).unwrap(),
        )
        .await
        .unwrap();
    let ch = e
        .store
        .create_channel(
            &mut tx,
            relais_store::channels::NewChannel {
                workspace_id: e.workspace_id,
                network: creds.network(),
                name: "Threads",
                config: &creds.public_config(),
                secret_id: Some(sid),
                limits: &json!({}),
                created_by: e.user_id,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ch
}

#[tokio::test]
async fn connecting_a_token_due_for_renewal_stores_the_renewed_one() {
    let e = env().await;
    let m = Mock::start(threads_api(false)).await;
    let ch = e.connect(threads_creds(&m.base, now() + 3 * DAY)).await;
    let ChannelCredentials::Threads(c) = load_credentials(&e.store, &e.ring, &ch).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(c.access_token.expose(), "THQVJ-renewed");
    assert!(ch.config["token_expires_at"].as_i64().unwrap() > now() + 59 * DAY);
}

#[tokio::test]
async fn the_daily_job_renews_threads_tokens_due_within_a_week() {
    let e = env().await;
    let m = Mock::start(threads_api(false)).await;
    let due = stored(&e, &threads_creds(&m.base, now() + 3 * DAY)).await;
    let later = stored(&e, &threads_creds(&m.base, now() + 40 * DAY)).await;
    let r = renew_due_tokens(&e.store, &e.ring, &e.net, now())
        .await
        .unwrap();
    assert_eq!((r.renewed, r.disconnected, r.failed), (1, 0, 0));
    let refreshed: Vec<_> = m
        .requests()
        .into_iter()
        .filter(|r| r.path == "/refresh_access_token")
        .collect();
    assert_eq!(refreshed.len(), 1);
    assert_eq!(refreshed[0].query["access_token"], "THQVJ-old");
    let ch = e.store.channel_by_id(due.id).await.unwrap();
    let ChannelCredentials::Threads(c) = load_credentials(&e.store, &e.ring, &ch).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(c.access_token.expose(), "THQVJ-renewed");
    assert!(c.expires_at.unwrap() > now() + 59 * DAY);
    assert_eq!(ch.config["token_expires_at"], json!(c.expires_at.unwrap()));
    let h = relais_publisher::health::channel_health(&e.store, &ch, now())
        .await
        .unwrap();
    assert!(!h.token_expiring);
    assert_eq!((h.quota, h.quota_left()), (Some((0, 250)), Some(250)));
    let untouched = e.store.channel_by_id(later.id).await.unwrap();
    assert_eq!(untouched.secret_id, later.secret_id);
    // Run again: nothing is due any more.
    let r = renew_due_tokens(&e.store, &e.ring, &e.net, now())
        .await
        .unwrap();
    assert_eq!(r.renewed, 0);
}

#[tokio::test]
async fn a_refused_renewal_keeps_the_token_and_asks_for_a_reconnect() {
    let e = env().await;
    let m = Mock::start(threads_api(true)).await;
    let mut ch = stored(&e, &threads_creds(&m.base, now() + 2 * DAY)).await;
    ch.config["token_expires_at"] = json!(now() + 2 * DAY);
    let h = relais_publisher::health::channel_health(&e.store, &ch, now())
        .await
        .unwrap();
    assert!(h.token_expiring, "expires within the week: shown");
    let r = renew_due_tokens(&e.store, &e.ring, &e.net, now())
        .await
        .unwrap();
    assert_eq!((r.renewed, r.disconnected), (0, 1));
    let after = e.store.channel_by_id(ch.id).await.unwrap();
    assert_eq!(after.status, "needs_reconnect");
    assert!(after
        .status_detail
        .as_deref()
        .unwrap()
        .contains("Session has expired"));
    assert_eq!(after.secret_id, ch.secret_id);
    let ChannelCredentials::Threads(c) = load_credentials(&e.store, &e.ring, &after).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(c.access_token.expose(), "THQVJ-old");
    // A channel that needs reconnecting is not tried again.
    let r = renew_due_tokens(&e.store, &e.ring, &e.net, now())
        .await
        .unwrap();
    assert_eq!(r.disconnected, 0);
}
