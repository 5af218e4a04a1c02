//! X through the user's own developer app: OAuth 2.0 user context (authorization code + PKCE,
//! 2-hour access tokens renewed with rotating refresh tokens).
//! - `POST /2/tweets` with `media.media_ids` and `reply.in_reply_to_tweet_id`.
//!   https://docs.x.com/x-api/posts/creation-of-a-post
//! - Media: `POST /2/media/upload` (multipart), alt text with `POST /2/media/metadata`.
//!   https://docs.x.com/x-api/media/upload-media, https://docs.x.com/x-api/media/create-media-metadata
//! - OAuth: https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
//! - Rate limits: 429 with `x-rate-limit-reset` (unix seconds), 24-hour caps in
//!   `x-user-limit-24hour-*` / `x-app-limit-24hour-*`.
//!   https://docs.x.com/x-api/fundamentals/rate-limits
//!
//! No idempotency key: `reconcile` reads the account's latest posts.

use std::sync::Arc;
use std::time::Duration;

use relais_net::header::HeaderMap;
use relais_net::Net;
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{check_base, join, required, Kind, Reply};
use crate::limits::{self, Network};
use crate::mastodon::norm;
use crate::oauth::{
    authorize_url as build_url, now_ms, token_call, OAuthApp, OAuthTokens, Pkce, Refresher,
    Session, TokenSink,
};
use crate::{
    ConfigError, Connector, Problem, PublishError, PublishRequest, Published, RateScope, Secret,
    Variant,
};

pub const DEFAULT_API: &str = "https://api.x.com";
pub const AUTHORIZE: &str = "https://x.com/i/oauth2/authorize";
/// Read and write posts, read the account, upload media, and get a refresh token.
pub const SCOPES: &str = "tweet.read tweet.write users.read media.write offline.access";

fn default_api() -> String {
    DEFAULT_API.into()
}

/// What an X channel stores (sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XCredentials {
    /// OAuth 2.0 Client ID (Developer Console → app → Keys and tokens).
    pub client_id: String,
    /// OAuth 2.0 Client Secret; empty for a public ("native app") client.
    #[serde(default)]
    pub client_secret: Secret,
    /// Filled when connecting (`/2/users/me`); used by `reconcile`.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(flatten)]
    pub tokens: OAuthTokens,
    #[serde(default = "default_api")]
    pub api_base: String,
}

impl XCredentials {
    pub fn check(&self) -> Result<(), ConfigError> {
        required(
            "client_id",
            &self.client_id,
            "the OAuth 2.0 Client ID from the X Developer Console (Keys and tokens)",
        )?;
        required(
            "access_token",
            self.tokens.access_token.expose(),
            "connect the X account (the token is stored for you)",
        )?;
        check_base("api_base", &self.api_base)
    }

    pub fn with_tokens(&self, t: &OAuthTokens) -> Self {
        Self {
            tokens: t.clone(),
            ..self.clone()
        }
    }
}

/// Authorization URL with PKCE (keep `pkce.verifier` with `state` until the callback).
pub fn authorize_url(app: &OAuthApp, state: &str, pkce: &Pkce) -> Result<String, ConfigError> {
    app.check(false)?;
    build_url(
        AUTHORIZE,
        &[
            ("response_type", "code"),
            ("client_id", &app.client_id),
            ("redirect_uri", &app.redirect_uri),
            ("scope", SCOPES),
            ("state", state),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// Token endpoint request: confidential clients authenticate with Basic, public ones send
/// `client_id` in the form.
fn token_request(
    net: &Net,
    api_base: &str,
    client_id: &str,
    client_secret: &Secret,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    form.push(("client_id", client_id));
    let rb = net.post(&join(api_base, "/2/oauth2/token")).form(&form);
    if client_secret.expose().is_empty() {
        rb
    } else {
        rb.basic_auth(client_id, Some(client_secret.expose()))
    }
}

/// Code + PKCE verifier → tokens.
pub async fn exchange_code(
    net: &Net,
    api_base: &str,
    app: &OAuthApp,
    code: &str,
    verifier: &Secret,
) -> Result<OAuthTokens, PublishError> {
    let rb = token_request(
        net,
        api_base,
        &app.client_id,
        &app.client_secret,
        &[
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", &app.redirect_uri),
            ("code_verifier", verifier.expose()),
        ],
    );
    token_call(net, rb, now_ms(), None).await
}

struct Refresh {
    api_base: String,
    client_id: String,
    client_secret: Secret,
}

#[async_trait::async_trait]
impl Refresher for Refresh {
    async fn refresh(&self, net: &Net, cur: &OAuthTokens) -> Result<OAuthTokens, PublishError> {
        let Some(rt) = &cur.refresh_token else {
            return Err(PublishError::Disconnect(
                "the X token expired and no refresh token was granted (offline.access): connect the channel again"
                    .into(),
            ));
        };
        let rb = token_request(
            net,
            &self.api_base,
            &self.client_id,
            &self.client_secret,
            &[
                ("refresh_token", rt.expose()),
                ("grant_type", "refresh_token"),
            ],
        );
        token_call(net, rb, now_ms(), Some(cur)).await
    }
}

/// Seconds until `name` (unix seconds) from now.
fn reset_in(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let t: i64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    let now = chrono::Utc::now().timestamp();
    Some(Duration::from_secs((t - now).max(0) as u64))
}

fn header_is_zero(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0")
}

/// Problem details (`title`, `detail`, `type`) or v1.1-style `errors[]`.
fn fail(r: &Reply, kind: Kind) -> PublishError {
    let status = r.status.as_u16();
    let j = &r.json;
    let detail = j["detail"]
        .as_str()
        .or(j["errors"][0]["message"].as_str())
        .or(j["title"].as_str())
        .unwrap_or_default();
    let kind_s = j["type"].as_str().unwrap_or_default();
    let details: Vec<&str> = j["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str())
        .filter(|m| *m != detail)
        .collect();
    let msg = if details.is_empty() {
        format!("{status}: {detail}")
    } else {
        format!("{status}: {detail} ({})", details.join("; "))
    };
    let h = &r.headers;
    match status {
        401 => PublishError::Disconnect(format!("{msg} (connect the X channel again)")),
        429 => {
            // A spent 24-hour app cap stops every channel of the app.
            let app_cap = header_is_zero(h, "x-app-limit-24hour-remaining");
            let user_cap = header_is_zero(h, "x-user-limit-24hour-remaining");
            let retry_after = if app_cap {
                reset_in(h, "x-app-limit-24hour-reset")
            } else if user_cap {
                reset_in(h, "x-user-limit-24hour-reset")
            } else {
                reset_in(h, "x-rate-limit-reset").or_else(|| crate::retry_after(h))
            };
            let scope = if app_cap || kind_s.ends_with("usage-capped") {
                RateScope::App
            } else {
                RateScope::Channel
            };
            PublishError::RateLimited {
                retry_after,
                scope,
                message: msg,
            }
        }
        403 if kind_s.ends_with("client-forbidden")
            || kind_s.ends_with("unsupported-authentication")
            || detail.contains("oauth1-permissions") =>
        {
            PublishError::Disconnect(format!(
                "{msg} (the app's project, access level or permissions do not allow posting)"
            ))
        }
        // Duplicate content, reply restrictions, length: the content is refused.
        403 => PublishError::BadRequest(msg),
        _ => crate::classify_status(r.status, h, msg, kind != Kind::Mutation),
    }
}

/// Text compared by `reconcile`: X replaces links with t.co and escapes `& < >`.
fn comparable(text: &str) -> String {
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in limits::find_urls(&text) {
        out.push_str(&text[last..s]);
        last = e;
    }
    out.push_str(&text[last..]);
    norm(&out)
}

/// An X channel.
pub struct X {
    net: Net,
    creds: XCredentials,
    session: Session,
}

impl X {
    pub fn new(net: Net, creds: XCredentials) -> Self {
        let refresher: Arc<dyn Refresher> = Arc::new(Refresh {
            api_base: creds.api_base.clone(),
            client_id: creds.client_id.clone(),
            client_secret: creds.client_secret.clone(),
        });
        let session = Session::new(creds.tokens.clone(), Some(refresher));
        Self {
            net,
            creds,
            session,
        }
    }

    /// Store rotated tokens through `sink` before they are used: X invalidates the old
    /// refresh token as soon as it hands out a new one.
    pub fn with_token_sink(mut self, sink: Arc<dyn TokenSink>) -> Self {
        self.session.set_sink(sink);
        self
    }

    /// The tokens in use (renewed ones included).
    pub async fn tokens(&self) -> OAuthTokens {
        self.session.current().await
    }

    fn url(&self, path: &str) -> String {
        join(&self.creds.api_base, path)
    }

    async fn call(
        &self,
        kind: Kind,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, PublishError> {
        let r = self
            .session
            .send(
                &self.net,
                kind,
                |r| r.status.as_u16() == 401,
                |tok| build().bearer_auth(tok),
            )
            .await?;
        if r.status.is_success() {
            Ok(r.json)
        } else {
            Err(fail(&r, kind))
        }
    }

    /// The account behind the token: `(id, username)`.
    pub async fn account(&self) -> Result<(String, String), PublishError> {
        self.creds.check()?;
        let url = self.url("/2/users/me");
        let v = self.call(Kind::Safe, || self.net.get(&url)).await?;
        let id = v["data"]["id"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() {
            return Err(PublishError::Transient("no id in /2/users/me".into()));
        }
        Ok((
            id,
            v["data"]["username"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ))
    }

    async fn upload(&self, m: &crate::Media) -> Result<String, PublishError> {
        let url = self.url("/2/media/upload");
        let category = if m.mime == "image/gif" {
            "tweet_gif"
        } else {
            "tweet_image"
        };
        let part = || {
            Part::bytes(m.data.to_vec())
                .file_name(m.filename.clone())
                .mime_str(&m.mime)
        };
        part().map_err(|e| PublishError::BadRequest(format!("media type {}: {e}", m.mime)))?;
        let v = self
            .call(Kind::Safe, || {
                let form = Form::new()
                    .part("media", part().expect("checked"))
                    .text("media_category", category)
                    .text("media_type", m.mime.clone());
                self.net.post(&url).multipart(form)
            })
            .await?;
        let id = v["data"]["id"]
            .as_str()
            .ok_or_else(|| PublishError::Transient("no media id in /2/media/upload".into()))?
            .to_owned();
        if let Some(alt) = m.alt.as_ref().filter(|a| !a.is_empty()) {
            let meta = self.url("/2/media/metadata");
            let body = json!({ "id": id, "metadata": { "alt_text": { "text": alt } } });
            self.call(Kind::Safe, || self.net.post(&meta).json(&body))
                .await?;
        }
        Ok(id)
    }
}

#[async_trait::async_trait]
impl Connector for X {
    fn network(&self) -> &'static str {
        "x"
    }

    fn validate(&self, v: &Variant) -> Vec<Problem> {
        limits::validate(Network::X, v)
    }

    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError> {
        self.creds.check()?;
        let v = &req.variant;
        let mut body = json!({ "text": v.text });
        if !v.media.is_empty() {
            let mut ids = Vec::new();
            for m in &v.media {
                ids.push(self.upload(m).await?);
            }
            body["media"] = json!({ "media_ids": ids });
        }
        if let Some(r) = &req.reply_to {
            body["reply"] = json!({ "in_reply_to_tweet_id": r.parent.remote_id });
        }
        let url = self.url("/2/tweets");
        let v = self
            .call(Kind::Mutation, || self.net.post(&url).json(&body))
            .await?;
        let id = v["data"]["id"].as_str().ok_or_else(|| {
            PublishError::UnknownOutcome("X accepted the post without returning its id".into())
        })?;
        Ok(Published {
            remote_id: id.to_owned(),
            url: Some(format!("https://x.com/i/web/status/{id}")),
            cid: None,
        })
    }

    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError> {
        self.creds.check()?;
        let user = match &self.creds.user_id {
            Some(id) if !id.is_empty() => id.clone(),
            _ => self.account().await?.0,
        };
        let url = self.url(&format!(
            "/2/users/{user}/tweets?max_results=20&tweet.fields=created_at"
        ));
        let v = self.call(Kind::Safe, || self.net.get(&url)).await?;
        let want = comparable(&req.variant.text);
        for t in v["data"].as_array().into_iter().flatten() {
            if comparable(t["text"].as_str().unwrap_or_default()) == want {
                let id = t["id"].as_str().unwrap_or_default();
                return Ok(Some(Published {
                    remote_id: id.to_owned(),
                    url: Some(format!("https://x.com/i/web/status/{id}")),
                    cid: None,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_ignores_tco_and_entities() {
        assert_eq!(
            comparable("Salt &amp; pepper https://t.co/abc123"),
            comparable("Salt & pepper https://example.org/recipe")
        );
    }

    #[test]
    fn authorize_has_pkce_and_scopes() {
        let app = OAuthApp {
            client_id: "cid".into(),
            client_secret: Secret::default(),
            redirect_uri: "https://relais.example/oauth/x".into(),
        };
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let u = authorize_url(&app, "st", &p).unwrap();
        assert!(u.starts_with("https://x.com/i/oauth2/authorize?response_type=code&client_id=cid&"));
        assert!(u.contains("code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(u.contains("code_challenge_method=S256"));
        assert!(u.contains("scope=tweet.read+tweet.write+users.read+media.write+offline.access"));
    }
}
