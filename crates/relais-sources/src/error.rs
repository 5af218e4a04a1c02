//! One error type for every live source, with stable codes the caller stores and shows.

use relais_net::NetError;
use serde::{Deserialize, Serialize};

/// Stable machine code of a [`SourceError`] (`as_str()` is what gets stored and shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The configuration cannot work (bad URL, selector, hashtag): the source stops until fixed.
    InvalidConfig,
    /// The destination, or every address its name resolves to, is refused by the SSRF guard.
    SsrfBlocked,
    /// DNS, TCP or TLS failed.
    Connect,
    /// Connecting, the handshake, a request or a silent stream passed its deadline.
    Timeout,
    /// The server answered the websocket upgrade or a request with a non-success status.
    HttpStatus,
    /// The stream ended (closed by the server, reset, cut mid-frame).
    Closed,
    /// A frame, message or body went past its size cap.
    TooLarge,
    /// A frame, record or body could not be decoded; it is skipped.
    Malformed,
    /// The relay sent an error frame (`FutureCursor`, `ConsumerTooSlow`, …).
    RelayError,
    /// The saved cursor is older than the server keeps: events in between may be missing.
    CursorTooOld,
    /// The server no longer knows the saved cursor (reset relay): resumed from the live head.
    CursorReset,
    /// Mastodon streaming refused or unavailable: the timeline is polled instead.
    StreamingUnavailable,
    /// The page has no element matching the CSS selector.
    SelectorNoMatch,
    /// The page is not text (an image, a binary download).
    NotText,
    /// The receiver of events was dropped: the source stops.
    Shutdown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::SsrfBlocked => "ssrf_blocked",
            ErrorCode::Connect => "connect",
            ErrorCode::Timeout => "timeout",
            ErrorCode::HttpStatus => "http_status",
            ErrorCode::Closed => "closed",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Malformed => "malformed",
            ErrorCode::RelayError => "relay_error",
            ErrorCode::CursorTooOld => "cursor_too_old",
            ErrorCode::CursorReset => "cursor_reset",
            ErrorCode::StreamingUnavailable => "streaming_unavailable",
            ErrorCode::SelectorNoMatch => "selector_no_match",
            ErrorCode::NotText => "not_text",
            ErrorCode::Shutdown => "shutdown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a source could not connect, read or decode. Never carries tokens; URLs only without
/// their query (Mastodon tokens, private page tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{code}: {message}")]
pub struct SourceError {
    pub code: ErrorCode,
    pub message: String,
    /// HTTP status for `http_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl SourceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        SourceError {
            code,
            message: message.into(),
            status: None,
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        SourceError::new(ErrorCode::InvalidConfig, message)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        SourceError::new(ErrorCode::Malformed, message)
    }

    pub fn http(status: u16, message: impl Into<String>) -> Self {
        SourceError {
            status: Some(status),
            ..SourceError::new(ErrorCode::HttpStatus, message)
        }
    }

    /// True when retrying cannot help: the source stops and waits for a new configuration.
    pub fn is_fatal(&self) -> bool {
        matches!(self.code, ErrorCode::InvalidConfig | ErrorCode::Shutdown)
    }
}

impl From<NetError> for SourceError {
    fn from(e: NetError) -> Self {
        let code = match &e {
            NetError::InvalidUrl(_) | NetError::Config(_) => ErrorCode::InvalidConfig,
            NetError::SsrfBlocked(_) => ErrorCode::SsrfBlocked,
            NetError::Connect(_) => ErrorCode::Connect,
            NetError::Timeout { .. } => ErrorCode::Timeout,
            NetError::Request(_) | NetError::Redirects => ErrorCode::Closed,
            NetError::TooLarge { .. } => ErrorCode::TooLarge,
            NetError::Decode(_) => ErrorCode::Malformed,
            NetError::HttpStatus { status, body } => {
                return SourceError::http(*status, format!("HTTP {status}: {}", body.trim()))
            }
        };
        SourceError::new(code, e.to_string())
    }
}

/// `scheme://host[:port]/path` without query or fragment, for messages.
pub(crate) fn redact(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}
