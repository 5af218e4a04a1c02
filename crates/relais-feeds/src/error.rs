//! Per-feed errors with stable codes: what the caller persists in `FeedState::last_error` and shows.

use relais_net::NetError;
use serde::{Deserialize, Serialize};

/// Stable machine code of a [`FeedError`] (`as_str()` is what gets stored and shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The feed URL is not absolute http(s).
    InvalidUrl,
    /// The destination, a redirect hop or a DNS answer is a forbidden address.
    SsrfBlocked,
    /// DNS, TCP or TLS failed.
    Connect,
    /// The time budget passed (slow server, a body that trickles or never ends).
    Timeout,
    /// The connection broke mid-way, or the body could not be decompressed.
    Request,
    /// The body went past the size cap; reading stopped there.
    TooLarge,
    /// A non-success HTTP status (see `FeedError::status`).
    HttpStatus,
    TooManyRedirects,
    /// An empty (or whitespace-only) body.
    Empty,
    /// The body is something else: an HTML page, an unknown XML or JSON document, plain text.
    NotAFeed,
    /// The document stops before its end (unclosed elements, cut JSON).
    Truncated,
    /// Not well-formed XML or JSON, or beyond the parser's limits (nesting).
    Malformed,
    /// The bytes cannot be decoded with the declared or any plausible encoding.
    Encoding,
    /// An OPML import that is not an OPML document.
    NotOpml,
    /// Client misconfiguration.
    Config,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidUrl => "invalid_url",
            ErrorCode::SsrfBlocked => "ssrf_blocked",
            ErrorCode::Connect => "connect",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Request => "request",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::HttpStatus => "http_status",
            ErrorCode::TooManyRedirects => "too_many_redirects",
            ErrorCode::Empty => "empty",
            ErrorCode::NotAFeed => "not_a_feed",
            ErrorCode::Truncated => "truncated",
            ErrorCode::Malformed => "malformed",
            ErrorCode::Encoding => "encoding",
            ErrorCode::NotOpml => "not_opml",
            ErrorCode::Config => "config",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one feed (or one OPML file) could not be read. Never carries the feed URL: URLs may hold
/// secrets (private feed tokens) and the caller knows which feed it asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{code}: {message}")]
pub struct FeedError {
    pub code: ErrorCode,
    pub message: String,
    /// HTTP status for `http_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// 1-based line of the document where the problem was found, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl FeedError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        FeedError {
            code,
            message: message.into(),
            status: None,
            line: None,
        }
    }

    pub(crate) fn at_line(mut self, line: Option<u64>) -> Self {
        self.line = line;
        if let Some(l) = line {
            self.message = format!("line {l}: {}", self.message);
        }
        self
    }

    /// Stable code, e.g. `"not_a_feed"`.
    pub fn code_str(&self) -> &'static str {
        self.code.as_str()
    }
}

impl From<NetError> for FeedError {
    fn from(e: NetError) -> Self {
        let code = match &e {
            NetError::InvalidUrl(_) => ErrorCode::InvalidUrl,
            NetError::SsrfBlocked(_) => ErrorCode::SsrfBlocked,
            NetError::Connect(_) => ErrorCode::Connect,
            NetError::Timeout { .. } => ErrorCode::Timeout,
            NetError::TooLarge { .. } => ErrorCode::TooLarge,
            NetError::HttpStatus { .. } => ErrorCode::HttpStatus,
            NetError::Redirects => ErrorCode::TooManyRedirects,
            NetError::Config(_) => ErrorCode::Config,
            NetError::Request(_) | NetError::Decode(_) => ErrorCode::Request,
        };
        let status = match &e {
            NetError::HttpStatus { status, .. } => Some(*status),
            _ => None,
        };
        FeedError {
            code,
            message: e.to_string(),
            status,
            line: None,
        }
    }
}

/// 1-based line number of byte offset `pos` in `text`.
pub(crate) fn line_of(text: &[u8], pos: usize) -> u64 {
    let end = pos.min(text.len());
    text[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}
