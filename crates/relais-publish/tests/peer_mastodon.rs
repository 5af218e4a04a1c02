//! Mastodon against real peers: `mastodon-mock` (state) and Prism with the OpenAPI description
//! (request shapes). Env: MASTODON_URL, MASTODON_TOKEN (start-mastodon-mock.sh);
//! MASTODON_PRISM_URL (start-prism-mastodon.sh).

mod common;

use common::{loopback_net, peer_env, png_media, unique};
use relais_publish::mastodon::{self, Mastodon, MastodonCredentials};
use relais_publish::{Connector, PublishRequest, Secret, Variant};

fn connector(url: &str, token: &str) -> Mastodon {
    Mastodon::new(
        loopback_net(),
        MastodonCredentials {
            instance: url.into(),
            access_token: Secret::new(token),
        },
    )
}

#[tokio::test]
async fn peer_mastodon_mock_status_with_media() {
    let Some(env) = peer_env(
        &["MASTODON_URL", "MASTODON_TOKEN"],
        "start-mastodon-mock.sh",
    ) else {
        return;
    };
    let (url, token) = (&env[0], &env[1]);
    let m = connector(url, token);
    let limits = m.refresh_limits().await.unwrap();
    assert_eq!(limits.max_characters, 500);
    assert_eq!(limits.characters_per_url, 23);

    let text = format!("relais test {} https://example.org/a", unique());
    let req = PublishRequest {
        idempotency_key: unique(),
        variant: Variant {
            text: text.clone(),
            media: vec![png_media("a red pixel")],
            visibility: Some("unlisted".into()),
            language: Some("en".into()),
            spoiler: Some("test".into()),
            ..Default::default()
        },
        reply_to: None,
    };
    assert!(m.validate(&req.variant).is_empty());
    let p = m.publish(&req).await.unwrap();

    // The status really exists, with its media and alt text.
    let net = loopback_net();
    let rb = net
        .get(&format!("{url}/api/v1/statuses/{}", p.remote_id))
        .bearer_auth(token);
    let v: serde_json::Value = serde_json::from_slice(&net.fetch(rb).await.unwrap()).unwrap();
    let media = v["media_attachments"].as_array().unwrap();
    assert_eq!(media.len(), 1, "{v}");
    assert_eq!(media[0]["description"], "a red pixel");
    assert_eq!(v["spoiler_text"], "test");

    // Reconcile finds it by text.
    let found = m
        .reconcile(&req)
        .await
        .unwrap()
        .expect("reconcile finds the status");
    assert_eq!(found.remote_id, p.remote_id);
    let other = PublishRequest {
        variant: Variant {
            text: format!("never posted {}", unique()),
            ..Default::default()
        },
        ..req.clone()
    };
    assert_eq!(m.reconcile(&other).await.unwrap(), None);
}

#[tokio::test]
async fn peer_mastodon_mock_errors_are_classified() {
    let Some(env) = peer_env(
        &["MASTODON_URL", "MASTODON_TOKEN"],
        "start-mastodon-mock.sh",
    ) else {
        return;
    };
    let req = |text: String| PublishRequest {
        idempotency_key: unique(),
        variant: Variant {
            text,
            ..Default::default()
        },
        reply_to: None,
    };
    let bad_token = connector(&env[0], "wrong");
    let e = bad_token.publish(&req("hello".into())).await.unwrap_err();
    assert_eq!(e.code(), "disconnect", "{e}");
    let m = connector(&env[0], &env[1]);
    let e = m.publish(&req("x".repeat(501))).await.unwrap_err();
    assert_eq!(e.code(), "bad_request", "{e}");
    assert!(!m.validate(&req("x".repeat(501)).variant).is_empty());
}

#[tokio::test]
async fn peer_mastodon_mock_app_registration() {
    let Some(env) = peer_env(&["MASTODON_URL"], "start-mastodon-mock.sh") else {
        return;
    };
    let net = loopback_net();
    let app = mastodon::register_app(&net, &env[0], "relais", "urn:ietf:wg:oauth:2.0:oob", None)
        .await
        .unwrap();
    assert!(!app.client_id.is_empty());
    assert!(
        !format!("{app:?}").contains(app.client_secret.expose()),
        "secret must not be logged"
    );
    let u = mastodon::authorize_url(&env[0], &app, "st4te");
    assert!(
        u.contains("response_type=code") && u.contains("state=st4te"),
        "{u}"
    );
    // A made-up code is refused as a bad request (not a crash, not a transient).
    let e = mastodon::exchange_code(&net, &env[0], &app, "not-a-code")
        .await
        .unwrap_err();
    assert!(matches!(e.code(), "bad_request" | "disconnect"), "{e}");
}

/// Prism validates each request against the OpenAPI description; assert it reports no
/// request-side `sl-violations` (its own generated responses may violate the description).
#[tokio::test]
async fn peer_mastodon_prism_contract() {
    let Some(env) = peer_env(&["MASTODON_PRISM_URL"], "start-prism-mastodon.sh") else {
        return;
    };
    let prism = &env[0];
    // A recording proxy in front of Prism collects the sl-violations headers.
    let (base, seen) = common_proxy::start(prism.clone()).await;
    let m = connector(&base, "any-token");
    m.refresh_limits().await.unwrap();
    let text_only = PublishRequest {
        idempotency_key: unique(),
        variant: Variant {
            text: "hello from relais".into(),
            visibility: Some("public".into()),
            language: Some("en".into()),
            spoiler: Some("cw".into()),
            ..Default::default()
        },
        reply_to: None,
    };
    m.publish(&text_only).await.unwrap();
    // Prism answers with generated bodies: only the requests are under test here.
    let _ = m.reconcile(&text_only).await;
    // Media upload alone (a status with text AND media_ids matches both TextStatus and
    // MediaStatus in the description's oneOf, so Prism refuses what real Mastodon accepts).
    let media_only = PublishRequest {
        variant: Variant {
            text: String::new(),
            media: vec![png_media("alt")],
            ..Default::default()
        },
        ..text_only.clone()
    };
    let _ = m.publish(&media_only).await;
    let app = mastodon::register_app(
        &loopback_net(),
        &base,
        "relais",
        "urn:ietf:wg:oauth:2.0:oob",
        None,
    )
    .await
    .unwrap();
    let _ = mastodon::exchange_code(&loopback_net(), &base, &app, "code").await;

    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 5, "requests went through the proxy: {seen:?}");
    for (path, violations) in seen.iter() {
        assert!(!violations.contains("\"request\""), "{path}: {violations}");
    }
}

mod common_proxy {
    use std::sync::{Arc, Mutex};

    use axum::body::{to_bytes, Body};
    use axum::extract::{Request, State};
    use axum::response::Response;

    type Seen = Arc<Mutex<Vec<(String, String)>>>;

    /// Forward everything to `upstream`, recording each answer's `sl-violations`.
    pub async fn start(upstream: String) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let client = super::loopback_net();
        let app =
            axum::Router::new()
                .fallback(forward)
                .with_state((upstream, client, seen.clone()));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        (format!("http://{addr}"), seen)
    }

    async fn forward(
        State((up, net, seen)): State<(String, relais_net::Net, Seen)>,
        req: Request,
    ) -> Response {
        let (parts, body) = req.into_parts();
        let url = format!(
            "{up}{}",
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        );
        let body = to_bytes(body, 1 << 24).await.unwrap();
        let mut rb = net.request(parts.method.clone(), &url).body(body);
        for (k, v) in parts.headers.iter() {
            if k != "host" && k != "content-length" {
                rb = rb.header(k, v);
            }
        }
        let resp = net.send(rb).await.unwrap();
        let status = resp.status();
        let v = resp
            .headers()
            .get("sl-violations")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        seen.lock()
            .unwrap()
            .push((format!("{} {}", parts.method, parts.uri), v));
        let ct = resp.headers().get("content-type").cloned();
        let bytes = resp.bytes().await.unwrap();
        let mut out = Response::builder().status(status.as_u16());
        if let Some(ct) = ct {
            out = out.header("content-type", ct);
        }
        out.body(Body::from(bytes)).unwrap()
    }
}
