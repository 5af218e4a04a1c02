//! What a connector publishes and what it returns.

use bytes::Bytes;

/// One image (or file) attached to a variant. The caller has already fetched it (via relais-net).
#[derive(Clone, Default)]
pub struct Media {
    pub data: Bytes,
    /// `image/png`, `image/jpeg`, …
    pub mime: String,
    pub filename: String,
    /// Alt text (description for screen readers).
    pub alt: Option<String>,
    /// A public HTTPS URL of the same file. Instagram and Threads fetch media from a URL (they
    /// have no upload endpoint); other networks upload `data`.
    pub url: Option<String>,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("mime", &self.mime)
            .field("filename", &self.filename)
            .field("bytes", &self.data.len())
            .field("alt", &self.alt)
            .field("url", &self.url)
            .finish()
    }
}

/// The content of a post for one channel. Fields a network does not use are ignored.
#[derive(Debug, Clone, Default)]
pub struct Variant {
    /// Plain text (the body of a social post; the text part of a newsletter).
    pub text: String,
    /// Article / newsletter title or subject (WordPress, newsletter, webhook).
    pub title: Option<String>,
    /// HTML body (WordPress content, newsletter HTML part). Falls back to `text`.
    pub html: Option<String>,
    pub media: Vec<Media>,
    /// BCP-47 language code (`fr`, `en`).
    pub language: Option<String>,
    /// Content warning (Mastodon `spoiler_text`).
    pub spoiler: Option<String>,
    /// Mastodon visibility (`public`, `unlisted`, `private`, `direct`); WordPress status
    /// (`publish`, `draft`, `future`, …) goes in `status`.
    pub visibility: Option<String>,
    /// WordPress post status; `publish` when absent.
    pub status: Option<String>,
    /// WordPress tags and categories, by name (resolved or created).
    pub tags: Vec<String>,
    pub categories: Vec<String>,
}

/// A post that exists on the network. Persist it in the same step that marks the target published.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Published {
    /// The network's id (Mastodon status id, `at://` URI, Matrix event id, WordPress post id…).
    pub remote_id: String,
    /// Public URL when the network has one.
    pub url: Option<String>,
    /// Bluesky record CID (needed to reply to this post); `None` elsewhere.
    pub cid: Option<String>,
}

/// The thread a post replies to: `root` is the first post of the thread, `parent` the post answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    pub root: Published,
    pub parent: Published,
}

/// One publication attempt of one target.
#[derive(Debug, Clone, Default)]
pub struct PublishRequest {
    /// Stable per target (the same on every retry of the same target): sent as the network's
    /// idempotency key where it has one. Use an opaque ASCII id (a UUID or ULID).
    pub idempotency_key: String,
    pub variant: Variant,
    pub reply_to: Option<ReplyTo>,
}

/// A reason a variant cannot be published as is (found before sending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable code: `text_too_long`, `too_many_media`, `media_too_large`, `media_type`,
    /// `alt_too_long`, `empty`, `missing_title`.
    pub code: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Wraps a secret so that `Debug` never prints it. Serializes as a plain string (the caller
/// seals the whole credentials record).
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}
