//! One error type for every outbound fetch, with stable machine codes.

use std::time::Duration;

/// An outbound HTTP failure. `code()` is stable and safe to persist or show.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The URL is not absolute http(s) or cannot be parsed.
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    /// The destination (or a redirect hop, or a DNS answer) is a forbidden address.
    #[error("destination refused by the SSRF guard: {0}")]
    SsrfBlocked(String),
    /// Connecting failed (DNS, refused, TLS handshake): the request was not sent.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The deadline passed. `maybe_sent` is true unless it expired while connecting.
    #[error("timed out after {after:?}")]
    Timeout { after: Duration, maybe_sent: bool },
    /// The connection broke after the request may have been written (reset, closed early).
    #[error("request failed: {0}")]
    Request(String),
    /// The body went past the configured limit; reading stopped there.
    #[error("response body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// A non-success status, with the start of the body for diagnostics.
    #[error("http status {status}: {body}")]
    HttpStatus { status: u16, body: String },
    /// Too many redirects.
    #[error("too many redirects")]
    Redirects,
    /// The body could not be decoded (JSON, UTF-8).
    #[error("could not decode the response: {0}")]
    Decode(String),
    /// Building the client failed (TLS provider, bad configuration).
    #[error("client configuration error: {0}")]
    Config(String),
}

impl NetError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            NetError::InvalidUrl(_) => "invalid_url",
            NetError::SsrfBlocked(_) => "ssrf_blocked",
            NetError::Connect(_) => "connect",
            NetError::Timeout { .. } => "timeout",
            NetError::Request(_) => "request",
            NetError::TooLarge { .. } => "too_large",
            NetError::HttpStatus { .. } => "http_status",
            NetError::Redirects => "too_many_redirects",
            NetError::Decode(_) => "decode",
            NetError::Config(_) => "config",
        }
    }

    /// True when the server may have received (and acted on) the request: the caller must not
    /// blindly retry a mutation but reconcile (DESIGN §2).
    pub fn maybe_sent(&self) -> bool {
        match self {
            NetError::Timeout { maybe_sent, .. } => *maybe_sent,
            NetError::Request(_) | NetError::Decode(_) | NetError::TooLarge { .. } => true,
            _ => false,
        }
    }
}

pub(crate) const TOO_MANY_REDIRECTS: &str = "too many redirects";

/// Marker error carried through reqwest's error chain by the resolver and redirect policy.
#[derive(Debug)]
pub(crate) struct Blocked(pub String);

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
impl std::error::Error for Blocked {}

fn find_blocked(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<Blocked>() {
            return Some(b.0.clone());
        }
        cur = err.source();
    }
    None
}

fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        out.push_str(": ");
        out.push_str(&err.to_string());
        cur = err.source();
    }
    out
}

impl NetError {
    /// Classify a reqwest error. `timeout` is the configured total timeout, for the message.
    pub(crate) fn from_reqwest(e: reqwest::Error, timeout: Duration) -> NetError {
        // URLs may carry secrets (Telegram bot tokens, Discord webhook tokens): never in messages.
        let e = e.without_url();
        if let Some(msg) = find_blocked(&e) {
            if msg == TOO_MANY_REDIRECTS {
                return NetError::Redirects;
            }
            return NetError::SsrfBlocked(msg);
        }
        if e.is_timeout() {
            return NetError::Timeout {
                after: timeout,
                maybe_sent: !e.is_connect(),
            };
        }
        if e.is_connect() {
            return NetError::Connect(chain_text(&e));
        }
        if e.is_redirect() {
            return NetError::Redirects;
        }
        if e.is_decode() {
            return NetError::Decode(chain_text(&e));
        }
        if e.is_builder() {
            return NetError::InvalidUrl(chain_text(&e));
        }
        NetError::Request(chain_text(&e))
    }
}
