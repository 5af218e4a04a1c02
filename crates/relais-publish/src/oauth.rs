//! OAuth 2.0 for networks reached through the user's own developer app ("bring your own app":
//! X, LinkedIn, Facebook, Instagram, Threads): authorization URLs, code exchange, PKCE, and the
//! [`Session`] that refreshes an access token, hands the new tokens to a [`TokenSink`] to be
//! stored, and never loses the tokens it had when a refresh fails.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::Engine;
use rand::Rng;
use relais_net::Net;
use reqwest::RequestBuilder;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::http::{error_message, send_json, Kind, Reply};
use crate::{ConfigError, PublishError, RateScope, Secret};

/// The developer app the user registered on the network, and the callback registered with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthApp {
    pub client_id: String,
    /// Empty for public clients (X apps of type "native app" have no secret).
    #[serde(default)]
    pub client_secret: Secret,
    pub redirect_uri: String,
}

impl OAuthApp {
    /// Field-by-field check for the connect form.
    pub fn check(&self, needs_secret: bool) -> Result<(), ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::new(
                "client_id",
                "paste the app id / client id shown in your developer app's settings",
            ));
        }
        if needs_secret && self.client_secret.expose().trim().is_empty() {
            return Err(ConfigError::new(
                "client_secret",
                "paste the app secret / client secret shown next to the app id",
            ));
        }
        match url::Url::parse(&self.redirect_uri) {
            Ok(u) if u.scheme() == "https" || u.host_str() == Some("localhost") => Ok(()),
            _ => Err(ConfigError::new(
                "redirect_uri",
                "use the https callback URL of this relais server, registered as-is in the developer app",
            )),
        }
    }
}

/// Tokens of one connected account. Serialized inside the sealed channel credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokens {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// When the access token stops working (unix ms); `None`: not said by the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// When the refresh token stops working (unix ms), where the network says (LinkedIn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl OAuthTokens {
    /// Tokens from a token endpoint answer (`access_token`, `expires_in`, `refresh_token`,
    /// `refresh_token_expires_in`, `scope`). A refresh token missing from the answer is kept
    /// from `previous`: Meta and LinkedIn do not always send one again.
    pub fn from_response(
        v: &Value,
        now_ms: i64,
        previous: Option<&OAuthTokens>,
    ) -> Result<Self, PublishError> {
        let access = v["access_token"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                PublishError::Transient(
                    "the token endpoint answered without an access_token".into(),
                )
            })?;
        let secs = |k: &str| {
            v[k].as_i64()
                .or_else(|| v[k].as_str().and_then(|s| s.parse().ok()))
        };
        let refresh = v["refresh_token"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .or_else(|| previous.and_then(|p| p.refresh_token.clone()));
        let refresh_expires_at = match secs("refresh_token_expires_in") {
            Some(s) => Some(now_ms + s * 1000),
            None => previous.and_then(|p| p.refresh_expires_at),
        };
        Ok(OAuthTokens {
            access_token: Secret::new(access),
            refresh_token: refresh,
            expires_at: secs("expires_in")
                .filter(|s| *s > 0)
                .map(|s| now_ms + s * 1000),
            refresh_expires_at,
            scope: v["scope"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| previous.and_then(|p| p.scope.clone())),
        })
    }

    /// True when the access token expires within `margin_ms` of `now_ms`.
    pub fn expires_within(&self, now_ms: i64, margin_ms: i64) -> bool {
        self.expires_at.is_some_and(|t| t - now_ms <= margin_ms)
    }
}

/// Where refreshed tokens go before they are used: the caller re-seals the channel credentials.
/// An error keeps the new tokens in memory only; saving is tried again on the next call.
#[async_trait::async_trait]
pub trait TokenSink: Send + Sync {
    async fn save(&self, tokens: &OAuthTokens) -> Result<(), String>;
}

/// How a network renews an access token.
#[async_trait::async_trait]
pub trait Refresher: Send + Sync {
    /// New tokens from `current`. On error the caller keeps `current` unchanged.
    async fn refresh(&self, net: &Net, current: &OAuthTokens) -> Result<OAuthTokens, PublishError>;
    /// Refresh this long before the access token expires.
    fn margin_ms(&self) -> i64 {
        60_000
    }
}

/// A PKCE pair (RFC 7636, method `S256`). Keep `verifier` with the `state` until the callback.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
}

impl Pkce {
    /// A fresh random verifier (64 unreserved characters).
    pub fn generate() -> Self {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        let mut rng = rand::thread_rng();
        let v: String = (0..64)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect();
        Self::from_verifier(&v).expect("generated verifier is valid")
    }

    /// The pair for a stored verifier.
    pub fn from_verifier(verifier: &str) -> Result<Self, ConfigError> {
        let ok = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !ok {
            return Err(ConfigError::new(
                "code_verifier",
                "43 to 128 characters among A-Z a-z 0-9 - . _ ~ (start the connection again)",
            ));
        }
        let challenge =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
        Ok(Self {
            verifier: Secret::new(verifier),
            challenge,
        })
    }
}

/// `endpoint?k=v&…` with proper encoding.
pub fn authorize_url(endpoint: &str, pairs: &[(&str, &str)]) -> Result<String, ConfigError> {
    let mut u = url::Url::parse(endpoint)
        .map_err(|_| ConfigError::new("api_base", "use an absolute https URL"))?;
    u.query_pairs_mut().extend_pairs(pairs);
    Ok(u.into())
}

/// Call a token endpoint and read tokens. Refusals of the grant (`invalid_grant`, Meta code 190,
/// 401) mean the user must connect again; the caller's stored tokens are left as they were.
pub(crate) async fn token_call(
    net: &Net,
    rb: RequestBuilder,
    now_ms: i64,
    previous: Option<&OAuthTokens>,
) -> Result<OAuthTokens, PublishError> {
    // Kind::Safe: nothing is published; a lost answer is retried later with the old tokens.
    let r = send_json(net, rb, Kind::Safe).await?;
    if r.status.is_success() {
        return OAuthTokens::from_response(&r.json, now_ms, previous);
    }
    Err(token_error(&r))
}

fn token_error(r: &Reply) -> PublishError {
    let status = r.status.as_u16();
    let msg = match r.json["error"]["message"].as_str() {
        Some(m) => format!("{status}: {m}"),
        None => error_message(status, &r.json),
    };
    match status {
        429 => PublishError::RateLimited {
            retry_after: crate::retry_after(&r.headers),
            scope: RateScope::App,
            message: msg,
        },
        500..=599 => PublishError::Transient(msg),
        // `invalid_grant`, X's `invalid_request` for a spent token, Meta's code 190, a revoked
        // app: whatever the wording, only a new consent fixes it.
        _ => PublishError::Disconnect(format!(
            "the network refused the stored authorization ({msg}): connect the channel again"
        )),
    }
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The tokens of one channel, refreshed when due or refused, shared by concurrent calls.
pub(crate) struct Session {
    tokens: Mutex<OAuthTokens>,
    refresher: Option<Arc<dyn Refresher>>,
    sink: Option<Arc<dyn TokenSink>>,
    unsaved: AtomicBool,
}

impl Session {
    pub fn new(tokens: OAuthTokens, refresher: Option<Arc<dyn Refresher>>) -> Self {
        Self {
            tokens: Mutex::new(tokens),
            refresher,
            sink: None,
            unsaved: AtomicBool::new(false),
        }
    }

    pub fn set_sink(&mut self, sink: Arc<dyn TokenSink>) {
        self.sink = Some(sink);
    }

    pub async fn current(&self) -> OAuthTokens {
        self.tokens.lock().await.clone()
    }

    /// The access token to use now, refreshed first when it expires within the margin. A failed
    /// early refresh keeps the still-valid token.
    pub async fn access(&self, net: &Net) -> Result<Secret, PublishError> {
        let mut t = self.tokens.lock().await;
        if self.unsaved.load(Ordering::Acquire) {
            self.save(&t).await;
        }
        if let Some(r) = &self.refresher {
            let now = now_ms();
            if t.expires_within(now, r.margin_ms()) {
                match self.refresh_locked(net, &mut t).await {
                    Ok(()) => {}
                    Err(e) if !t.expires_within(now, 0) => {
                        tracing::warn!(error = %e, "early token refresh failed; using the current token")
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(t.access_token.clone())
    }

    /// The network refused `used`: refresh once (unless a concurrent call already did) and
    /// return the token to retry with.
    pub async fn after_refusal(&self, net: &Net, used: &Secret) -> Result<Secret, PublishError> {
        let mut t = self.tokens.lock().await;
        if t.access_token != *used {
            return Ok(t.access_token.clone());
        }
        if self.refresher.is_none() {
            return Err(PublishError::Disconnect(
                "the network refused the access token and it cannot be renewed: connect the channel again"
                    .into(),
            ));
        }
        self.refresh_locked(net, &mut t).await?;
        Ok(t.access_token.clone())
    }

    /// Force a refresh now (a periodic job keeps 60-day Meta tokens alive this way).
    pub async fn refresh_now(&self, net: &Net) -> Result<OAuthTokens, PublishError> {
        let mut t = self.tokens.lock().await;
        self.refresh_locked(net, &mut t).await?;
        Ok(t.clone())
    }

    async fn refresh_locked(&self, net: &Net, t: &mut OAuthTokens) -> Result<(), PublishError> {
        let r = self.refresher.as_ref().ok_or_else(|| {
            PublishError::Disconnect(
                "this channel's token cannot be renewed: connect it again".into(),
            )
        })?;
        // On error `t` is untouched: the stored refresh token survives a failed refresh.
        let fresh = r.refresh(net, t).await?;
        *t = fresh;
        self.save(t).await;
        Ok(())
    }

    async fn save(&self, t: &OAuthTokens) {
        let Some(sink) = &self.sink else { return };
        match sink.save(t).await {
            Ok(()) => self.unsaved.store(false, Ordering::Release),
            Err(e) => {
                self.unsaved.store(true, Ordering::Release);
                tracing::warn!(error = %e, "refreshed tokens could not be stored; kept in memory, saving again on next use");
            }
        }
    }

    /// Send with the current token; when `refused` says the token was rejected, refresh once and
    /// send again (the refusal means nothing was created, so a mutation is safe to repeat).
    pub async fn send(
        &self,
        net: &Net,
        kind: Kind,
        refused: impl Fn(&Reply) -> bool,
        build: impl Fn(&str) -> RequestBuilder,
    ) -> Result<Reply, PublishError> {
        let tok = self.access(net).await?;
        let r = send_json(net, build(tok.expose()), kind).await?;
        // Without a way to renew, the caller classifies the refusal with the network's words.
        if !refused(&r) || self.refresher.is_none() {
            return Ok(r);
        }
        let tok2 = self.after_refusal(net, &tok).await?;
        send_json(net, build(tok2.expose()), kind).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pkce_matches_rfc7636_example() {
        // RFC 7636 appendix B.
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(Pkce::from_verifier("short").is_err());
        let g = Pkce::generate();
        assert_eq!(g.verifier.expose().len(), 64);
        assert_ne!(g.verifier, Pkce::generate().verifier);
    }

    #[test]
    fn tokens_keep_the_previous_refresh_token() {
        let prev = OAuthTokens {
            access_token: "a1".into(),
            refresh_token: Some("r1".into()),
            ..Default::default()
        };
        let t = OAuthTokens::from_response(
            &json!({"access_token": "a2", "expires_in": 60}),
            1_000,
            Some(&prev),
        )
        .unwrap();
        assert_eq!(t.refresh_token, Some("r1".into()));
        assert_eq!(t.expires_at, Some(61_000));
        assert!(t.expires_within(1_000, 60_000));
        assert!(!t.expires_within(1_000, 59_000));
        assert!(OAuthTokens::from_response(&json!({}), 0, None).is_err());
        assert!(!format!("{t:?}").contains("a2"));
    }

    #[test]
    fn app_check_names_the_field() {
        let app = OAuthApp {
            client_id: "id".into(),
            client_secret: Secret::default(),
            redirect_uri: "http://relais.example/cb".into(),
        };
        assert_eq!(app.check(false).unwrap_err().field, "redirect_uri");
        let app = OAuthApp {
            redirect_uri: "https://relais.example/cb".into(),
            ..app
        };
        assert!(app.check(false).is_ok());
        assert_eq!(app.check(true).unwrap_err().field, "client_secret");
    }
}
