//! Publishing errors, classified per DESIGN §2 so the scheduler knows what to do next.

use std::time::Duration;

use relais_net::{header::HeaderMap, NetError, StatusCode};

/// Whose quota a rate limit is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateScope {
    /// This account / channel / chat.
    Channel,
    /// The whole app (all channels sharing a client id or IP).
    App,
}

/// A channel setting that cannot work, found before any call. `field` is the setting's name as
/// in the credentials record; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<ConfigError> for PublishError {
    /// A misconfigured channel cannot publish until someone fixes its settings.
    fn from(e: ConfigError) -> Self {
        PublishError::Disconnect(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The access token expired: refresh it, then retry once.
    #[error("token expired: {0}")]
    RefreshToken(String),
    /// Credentials are refused or the channel is misconfigured: reconnect; do not retry.
    #[error("channel needs reconnecting: {0}")]
    Disconnect(String),
    /// Retry after `retry_after` (when the network says).
    #[error("rate limited ({scope:?}, retry after {retry_after:?}): {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        scope: RateScope,
        message: String,
    },
    /// The content is refused (too long, bad media…): fix it; no retry.
    #[error("refused by the network: {0}")]
    BadRequest(String),
    /// A temporary failure before anything was created: retry with backoff.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The request may have been received (timeout or reset after sending): mark the target
    /// `unconfirmed` and call `reconcile`; never blindly retry.
    #[error("outcome unknown: {0}")]
    UnknownOutcome(String),
}

impl PublishError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            PublishError::RefreshToken(_) => "refresh_token",
            PublishError::Disconnect(_) => "disconnect",
            PublishError::RateLimited { .. } => "rate_limited",
            PublishError::BadRequest(_) => "bad_request",
            PublishError::Transient(_) => "transient",
            PublishError::UnknownOutcome(_) => "unknown_outcome",
        }
    }

    /// Classify a transport error. `mutation`: the request creates something (a post), so a
    /// maybe-sent failure is an unknown outcome rather than a transient one.
    pub fn from_net(e: NetError, mutation: bool) -> PublishError {
        match e {
            NetError::SsrfBlocked(_) | NetError::InvalidUrl(_) | NetError::Config(_) => {
                PublishError::Disconnect(e.to_string())
            }
            e if e.maybe_sent() && mutation => PublishError::UnknownOutcome(e.to_string()),
            e => PublishError::Transient(e.to_string()),
        }
    }
}

/// Classify a non-success HTTP answer. `idempotent`: the request carried an idempotency key (or
/// is naturally idempotent), so a gateway error after sending is safe to retry.
pub fn classify_status(
    status: StatusCode,
    headers: &HeaderMap,
    message: String,
    idempotent: bool,
) -> PublishError {
    match status.as_u16() {
        401 => PublishError::Disconnect(message),
        403 => PublishError::Disconnect(message),
        429 => PublishError::RateLimited {
            retry_after: retry_after(headers),
            scope: RateScope::Channel,
            message,
        },
        408 => PublishError::Transient(message),
        // A gateway gave up waiting: the backend may have created the post.
        502 | 504 if !idempotent => PublishError::UnknownOutcome(message),
        500..=599 => PublishError::Transient(message),
        _ => PublishError::BadRequest(message),
    }
}

/// How long to wait, from the headers networks use: `Retry-After` (seconds or HTTP date),
/// `X-RateLimit-Reset-After` (Discord, seconds), `RateLimit-Reset` (Bluesky, unix seconds) and
/// `X-RateLimit-Reset` (Mastodon ISO 8601 date, or unix seconds).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let now = chrono::Utc::now();
    let until =
        |t: chrono::DateTime<chrono::Utc>| Some((t - now).to_std().unwrap_or(Duration::ZERO));
    if let Some(v) = get("retry-after") {
        if let Ok(s) = v.parse::<f64>() {
            return Some(Duration::from_secs_f64(s.max(0.0)));
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc2822(v) {
            return until(t.into());
        }
    }
    if let Some(s) = get("x-ratelimit-reset-after").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64(s.max(0.0)));
    }
    for name in ["ratelimit-reset", "x-ratelimit-reset"] {
        if let Some(v) = get(name) {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
                return until(t.into());
            }
            if let Ok(n) = v.parse::<i64>() {
                // Large values are unix timestamps, small ones are deltas.
                if n > 1_000_000_000 {
                    return chrono::DateTime::from_timestamp(n, 0).and_then(until);
                }
                return Some(Duration::from_secs(n.max(0) as u64));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use relais_net::header::HeaderValue;

    #[test]
    fn parses_retry_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let mut h = HeaderMap::new();
        let later = chrono::Utc::now() + chrono::Duration::seconds(100);
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&later.to_rfc3339()).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(d.as_secs() >= 98 && d.as_secs() <= 100, "{d:?}");
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset-after", HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn classifies() {
        let h = HeaderMap::new();
        let c = |s: u16, idem| {
            classify_status(StatusCode::from_u16(s).unwrap(), &h, "m".into(), idem).code()
        };
        assert_eq!(c(401, true), "disconnect");
        assert_eq!(c(422, true), "bad_request");
        assert_eq!(c(429, true), "rate_limited");
        assert_eq!(c(500, true), "transient");
        assert_eq!(c(504, true), "transient");
        assert_eq!(c(504, false), "unknown_outcome");
    }
}
