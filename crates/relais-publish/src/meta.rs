//! What Facebook Pages, Instagram and Threads share: the Graph API error shape and rate-limit
//! headers, app secret proofs, form calls with the token in the body, and container polling.
//! Error shape: https://developers.facebook.com/docs/graph-api/guides/error-handling
//! Rate limits: https://developers.facebook.com/docs/graph-api/overview/rate-limiting

use std::time::Duration;

use hmac::{Hmac, Mac};
use relais_net::header::HeaderMap;
use relais_net::Net;
use reqwest::multipart::Form;
use serde_json::Value;
use sha2::Sha256;

use crate::http::{join, Kind, Reply};
use crate::oauth::Session;
use crate::{PublishError, RateScope, Secret};

/// Graph API version used when the channel does not set one.
pub const DEFAULT_GRAPH_VERSION: &str = "v25.0";

/// How long to wait for a media container (Instagram, Threads) to be processed.
#[derive(Debug, Clone, Copy)]
pub struct Poll {
    pub interval: Duration,
    /// Past this, the attempt ends as `transient` (nothing was published; a new container is
    /// made on retry). Keep it well under the publisher's lease.
    pub max_wait: Duration,
}

impl Default for Poll {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            max_wait: Duration::from_secs(20),
        }
    }
}

/// `hex(HMAC-SHA256(app_secret, access_token))`, sent as `appsecret_proof` so a stolen token
/// is useless without the app secret ("Require App Secret" in the app settings).
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(access_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The network's own words: `error_user_msg` or `message`, with code and subcode.
fn message(r: &Reply) -> String {
    let e = &r.json["error"];
    let text = e["error_user_msg"]
        .as_str()
        .or(e["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| crate::http::error_message(r.status.as_u16(), &r.json));
    match (e["code"].as_i64(), e["error_subcode"].as_i64()) {
        (Some(c), Some(s)) => format!("{} code {c}/{s}: {text}", r.status.as_u16()),
        (Some(c), None) => format!("{} code {c}: {text}", r.status.as_u16()),
        _ => text,
    }
}

/// The token was refused (expired, revoked, password changed): code 190 or 102.
pub(crate) fn token_refused(r: &Reply) -> bool {
    !r.status.is_success() && matches!(r.json["error"]["code"].as_i64(), Some(190) | Some(102))
}

/// Minutes to wait from `X-Business-Use-Case-Usage` / `X-Ad-Account-Usage`
/// (`estimated_time_to_regain_access`), else `Retry-After`.
pub(crate) fn usage_wait(headers: &HeaderMap) -> Option<Duration> {
    let mut best: Option<u64> = None;
    for name in ["x-business-use-case-usage", "x-ad-account-usage"] {
        let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<Value>(v) else {
            continue;
        };
        let mut visit = |o: &Value| {
            if let Some(m) = o["estimated_time_to_regain_access"].as_u64() {
                best = Some(best.map_or(m, |b| b.max(m)));
            }
        };
        visit(&json);
        for per_id in json.as_object().into_iter().flat_map(|o| o.values()) {
            for item in per_id.as_array().into_iter().flatten() {
                visit(item);
            }
        }
    }
    match best {
        Some(m) if m > 0 => Some(Duration::from_secs(m * 60)),
        _ => crate::retry_after(headers),
    }
}

/// Classify a Graph API failure. `kind` says whether a maybe-applied failure of this request
/// could have published something (Meta's code 1/2 errors sometimes do).
pub(crate) fn classify(r: &Reply, kind: Kind) -> PublishError {
    let e = &r.json["error"];
    let code = e["code"].as_i64();
    let sub = e["error_subcode"].as_i64();
    let msg = message(r);
    let transient = |m: String| {
        if kind == Kind::Mutation {
            PublishError::UnknownOutcome(m)
        } else {
            PublishError::Transient(m)
        }
    };
    let rate = |scope, m| PublishError::RateLimited {
        retry_after: usage_wait(&r.headers),
        scope,
        message: m,
    };
    match code {
        Some(190) | Some(102) => PublishError::Disconnect(format!(
            "{msg} (the access token expired or was revoked: connect the channel again)"
        )),
        Some(10) | Some(200..=299) => PublishError::Disconnect(format!(
            "{msg} (a permission is missing: connect the channel again and grant every permission asked)"
        )),
        // Application-level throttling: every channel of this app waits.
        Some(4) | Some(341) => rate(RateScope::App, msg),
        // User / Page / business use case throttling.
        Some(17) | Some(32) | Some(613) | Some(80001..=80014) => rate(RateScope::Channel, msg),
        // Instagram: "the account has reached its publishing limit" (50 API posts / 24 h).
        Some(9) if sub == Some(2207042) => PublishError::RateLimited {
            retry_after: usage_wait(&r.headers).or(Some(Duration::from_secs(3600))),
            scope: RateScope::Channel,
            message: msg,
        },
        // Graph "unknown"/"service" errors; Instagram's -1 (server error) and -2 (media download
        // timed out): the docs say try again.
        Some(1) | Some(2) | Some(-1) | Some(-2) => transient(msg),
        _ if e["is_transient"] == true => transient(msg),
        // "Temporarily blocked for policies violations": the docs say wait and retry.
        Some(368) => PublishError::Transient(msg),
        _ => match r.status.as_u16() {
            401 => PublishError::Disconnect(msg),
            429 => rate(RateScope::Channel, msg),
            502 | 504 => transient(msg),
            500..=599 => PublishError::Transient(msg),
            _ => PublishError::BadRequest(msg),
        },
    }
}

/// A Graph API host for one account: base URL with version, token session, optional app
/// secret proof. POST parameters (and the token) go in the form body, never in the URL.
pub(crate) struct Graph {
    pub net: Net,
    /// `https://graph.facebook.com/v25.0`
    pub base: String,
    pub app_secret: Option<Secret>,
    pub session: Session,
}

type Params<'a> = &'a [(&'a str, String)];

impl Graph {
    pub fn url(&self, path: &str) -> String {
        join(&self.base, path)
    }

    fn with_auth(&self, tok: &str, params: Params<'_>) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        v.push(("access_token".into(), tok.to_owned()));
        if let Some(s) = self.app_secret.as_ref().filter(|s| !s.expose().is_empty()) {
            v.push(("appsecret_proof".into(), appsecret_proof(s.expose(), tok)));
        }
        v
    }

    fn done(r: Reply, kind: Kind) -> Result<Value, PublishError> {
        if r.status.is_success() && r.json.get("error").is_none() {
            return Ok(r.json);
        }
        Err(classify(&r, kind))
    }

    pub async fn get(&self, path: &str, params: Params<'_>) -> Result<Value, PublishError> {
        let url = self.url(path);
        let r = self
            .session
            .send(&self.net, Kind::Safe, token_refused, |tok| {
                self.net.get(&url).query(&self.with_auth(tok, params))
            })
            .await?;
        Self::done(r, Kind::Safe)
    }

    pub async fn post(
        &self,
        path: &str,
        params: Params<'_>,
        kind: Kind,
    ) -> Result<Value, PublishError> {
        let url = self.url(path);
        let r = self
            .session
            .send(&self.net, kind, token_refused, |tok| {
                self.net.post(&url).form(&self.with_auth(tok, params))
            })
            .await?;
        Self::done(r, kind)
    }

    /// POST multipart (a file upload); `form` builds the parts without the token.
    pub async fn post_multipart(
        &self,
        path: &str,
        form: impl Fn() -> Result<Form, PublishError>,
        kind: Kind,
    ) -> Result<Value, PublishError> {
        let url = self.url(path);
        // Build once up front so a bad MIME type is reported before any call.
        form()?;
        let r = self
            .session
            .send(&self.net, kind, token_refused, |tok| {
                let mut f = form().expect("checked above");
                for (k, v) in self.with_auth(tok, &[]) {
                    f = f.text(k, v);
                }
                self.net.post(&url).multipart(f)
            })
            .await?;
        Self::done(r, kind)
    }

    /// Wait until a media container is ready: `field` is `status_code` (Instagram) or
    /// `status` (Threads); `detail` the field explaining an error.
    pub async fn wait_ready(
        &self,
        container: &str,
        field: &str,
        detail: &str,
        poll: Poll,
    ) -> Result<(), PublishError> {
        let started = tokio::time::Instant::now();
        loop {
            let v = self
                .get(
                    &format!("/{container}"),
                    &[("fields", format!("{field},{detail}"))],
                )
                .await?;
            let why = v[detail].as_str().unwrap_or_default();
            match v[field].as_str().unwrap_or_default() {
                "FINISHED" => return Ok(()),
                "PUBLISHED" => {
                    return Err(PublishError::UnknownOutcome(
                        "the media container is already published".into(),
                    ))
                }
                "ERROR" => {
                    return Err(PublishError::BadRequest(format!(
                        "the network could not process the media: {why}"
                    )))
                }
                "EXPIRED" => {
                    return Err(PublishError::Transient(
                        "the media container expired before publication".into(),
                    ))
                }
                _ => {}
            }
            if started.elapsed() >= poll.max_wait {
                return Err(PublishError::Transient(format!(
                    "the media is still being processed after {:?}; trying again later",
                    poll.max_wait
                )));
            }
            tokio::time::sleep(poll.interval).await;
        }
    }
}

/// Long-lived Instagram Login and Threads tokens (60 days): renewed with the token itself,
/// `GET {url}?grant_type=…&access_token=…`, once at least a day old and before expiry.
pub(crate) struct LongLivedRefresh {
    /// `https://graph.instagram.com/refresh_access_token`
    pub url: String,
    /// `ig_refresh_token` or `th_refresh_token`
    pub grant_type: &'static str,
}

#[async_trait::async_trait]
impl crate::oauth::Refresher for LongLivedRefresh {
    async fn refresh(
        &self,
        net: &Net,
        current: &crate::oauth::OAuthTokens,
    ) -> Result<crate::oauth::OAuthTokens, PublishError> {
        let rb = net.get(&self.url).query(&[
            ("grant_type", self.grant_type),
            ("access_token", current.access_token.expose()),
        ]);
        crate::oauth::token_call(net, rb, crate::oauth::now_ms(), Some(current)).await
    }

    /// A week ahead: channels that publish rarely still renew in time.
    fn margin_ms(&self) -> i64 {
        7 * 24 * 3600 * 1000
    }
}

/// The id in a `{"id": "…"}` answer.
pub(crate) fn id_of(v: &Value, what: &str) -> Result<String, PublishError> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| v["id"].as_u64().map(|n| n.to_string()))
        .ok_or_else(|| PublishError::Transient(format!("no id in the {what} answer")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relais_net::header::HeaderValue;
    use relais_net::StatusCode;
    use serde_json::json;

    fn reply(status: u16, json: Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            json,
        }
    }

    #[test]
    fn proof_is_hmac_sha256_hex() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231-style vector.
        assert_eq!(
            appsecret_proof("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn classifies_documented_codes() {
        let err = |code: i64, sub: Option<i64>| {
            let mut e = json!({"error": {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "x"}});
            if let Some(s) = sub {
                e["error"]["error_subcode"] = json!(s);
            }
            e
        };
        let c = |status, v, kind| classify(&reply(status, v), kind).code();
        assert_eq!(c(400, err(190, Some(463)), Kind::Safe), "disconnect");
        assert_eq!(c(403, err(10, None), Kind::Safe), "disconnect");
        assert_eq!(c(400, err(4, None), Kind::Safe), "rate_limited");
        assert_eq!(c(400, err(32, None), Kind::Safe), "rate_limited");
        assert_eq!(c(400, err(613, None), Kind::Safe), "rate_limited");
        assert_eq!(c(400, err(9, Some(2207042)), Kind::Safe), "rate_limited");
        assert_eq!(c(500, err(2, None), Kind::Safe), "transient");
        assert_eq!(c(500, err(1, None), Kind::Mutation), "unknown_outcome");
        assert_eq!(c(400, err(100, Some(33)), Kind::Mutation), "bad_request");
        assert_eq!(c(400, err(506, None), Kind::Mutation), "bad_request");
        // Instagram error codes page: 36000/2207004 image too large; -2/2207003 download timeout.
        assert_eq!(c(400, err(36000, Some(2207004)), Kind::Safe), "bad_request");
        assert_eq!(c(400, err(-2, Some(2207003)), Kind::Safe), "transient");
        match classify(&reply(400, err(4, None)), Kind::Safe) {
            PublishError::RateLimited { scope, .. } => assert_eq!(scope, RateScope::App),
            e => panic!("{e}"),
        }
        assert!(token_refused(&reply(400, err(190, None))));
        assert!(!token_refused(&reply(400, err(100, None))));
    }

    #[test]
    fn reads_business_use_case_wait() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static(
                r#"{"112233":[{"type":"pages","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":19}]}"#,
            ),
        );
        assert_eq!(usage_wait(&h), Some(Duration::from_secs(19 * 60)));
    }
}
