//! Web page watch: a URL (and optionally a CSS selector) fetched periodically through relais-net
//! with conditional GET; when the normalised text changes, the unified line diff is the event.
//!
//! The cursor is the JSON of [`PageState`]: validators, the hash and the text of the last
//! snapshot (capped), so that a restart compares against what was last delivered.

use std::time::Duration;

use relais_net::header::{self, HeaderValue};
use relais_net::{read_limited, Net, StatusCode};
use scraper::Selector;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backoff::Backoff;
use crate::error::{ErrorCode, SourceError};
use crate::html::{normalize, page_text};
use crate::model::{cap_text, now_ms, Event, MAX_TEXT};
use crate::output::Output;
use crate::status::SourceState;

pub const DEFAULT_INTERVAL_SECS: u64 = 15 * 60;
pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024;
/// Text kept from one snapshot (and compared): a bigger page is compared on its start.
pub const MAX_SNAPSHOT: usize = 256 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
const DIFF_DEADLINE: Duration = Duration::from_secs(1);

/// Settings of a page watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageConfig {
    /// An http(s) URL.
    pub url: String,
    /// Only the text of the elements matching this CSS selector (e.g. `#prices`, `main article`).
    #[serde(default)]
    pub selector: Option<String>,
    /// Seconds between checks (default 900, at least 1).
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Largest page read (default 2 MiB).
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

fn default_interval() -> u64 {
    DEFAULT_INTERVAL_SECS
}

impl PageConfig {
    pub fn new(url: impl Into<String>) -> Self {
        PageConfig {
            url: url.into(),
            selector: None,
            interval_secs: DEFAULT_INTERVAL_SECS,
            max_bytes: None,
        }
    }

    pub fn validate(&self) -> Result<(), SourceError> {
        let u = url::Url::parse(self.url.trim()).map_err(|e| {
            SourceError::config(format!("url: {e} (e.g. https://example.org/prices)"))
        })?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(SourceError::config(
                "url: must start with https:// or http://",
            ));
        }
        self.selector()?;
        if self.interval_secs == 0 {
            return Err(SourceError::config("interval_secs: must be at least 1"));
        }
        Ok(())
    }

    fn selector(&self) -> Result<Option<Selector>, SourceError> {
        match self
            .selector
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(None),
            Some(s) => Selector::parse(s).map(Some).map_err(|e| {
                SourceError::config(format!("selector: {s:?} is not a CSS selector: {e}"))
            }),
        }
    }
}

/// What is kept between checks (the cursor, as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageState {
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// sha-256 (hex) of `text`.
    #[serde(default)]
    pub hash: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The unified diff of two texts, line by line, 2 lines of context, without file headers.
pub(crate) fn line_diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let mut udiff = diff.unified_diff();
    udiff.context_radius(2);
    udiff.to_string()
}

fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let label = content_type
        .and_then(|ct| {
            ct.split(';')
                .find_map(|p| p.trim().strip_prefix("charset="))
        })
        .map(|c| c.trim_matches('"'));
    let enc = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    enc.decode(body).0.into_owned()
}

/// Extract the watched text from a response body.
pub(crate) fn extract(
    body: &[u8],
    content_type: Option<&str>,
    selector: Option<&Selector>,
) -> Result<(String, Option<String>), SourceError> {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let text = decode(body, content_type);
    let looks_html = text.trim_start().starts_with('<');
    let is_html = ct.contains("html") || (ct.is_empty() && looks_html);
    let (text, title) = if is_html {
        if crate::html::too_deep(&text) {
            return Err(SourceError::malformed(format!(
                "the page nests elements deeper than {} levels",
                crate::html::MAX_DEPTH
            )));
        }
        match page_text(&text, selector) {
            (Some(t), title) => (t, title),
            (None, _) => {
                return Err(SourceError::new(
                    ErrorCode::SelectorNoMatch,
                    "no element matches the selector (did the page change its layout?)",
                ))
            }
        }
    } else if ct.is_empty() || ct.starts_with("text/") || ct.contains("json") || ct.contains("xml")
    {
        if text.contains('\u{0}') {
            return Err(SourceError::new(ErrorCode::NotText, "the body is binary"));
        }
        (normalize(&text), None)
    } else {
        return Err(SourceError::new(
            ErrorCode::NotText,
            format!("content type {ct} is not a page"),
        ));
    };
    Ok((cap_text(text, MAX_SNAPSHOT), title))
}

/// One check: fetch, compare, and return the change (if any). `state` is updated in place.
pub async fn check(
    net: &Net,
    cfg: &PageConfig,
    state: &mut PageState,
) -> Result<Option<Event>, SourceError> {
    cfg.validate()?;
    let selector = cfg.selector()?;
    let url = cfg.url.trim();
    let mut rb = net.get(url).timeout(FETCH_TIMEOUT);
    if state.hash.is_some() {
        if let Some(v) = state
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            rb = rb.header(header::IF_NONE_MATCH, v);
        }
        if let Some(v) = state
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            rb = rb.header(header::IF_MODIFIED_SINCE, v);
        }
    }
    let resp = net.send(rb).await?;
    let status = resp.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    let get = |h: header::HeaderName| {
        resp.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, last_modified, ct) = (
        get(header::ETAG),
        get(header::LAST_MODIFIED),
        get(header::CONTENT_TYPE),
    );
    if !status.is_success() {
        return Err(SourceError::http(status.as_u16(), format!("HTTP {status}")));
    }
    let body = read_limited(
        resp,
        cfg.max_bytes.unwrap_or(DEFAULT_MAX_BYTES),
        FETCH_TIMEOUT,
    )
    .await?;
    let sel = selector.clone();
    let (text, title) =
        tokio::task::spawn_blocking(move || extract(&body, ct.as_deref(), sel.as_ref()))
            .await
            .map_err(|_| SourceError::malformed("the page parser failed"))??;
    let hash = sha256_hex(&text);
    let previous = state.hash.replace(hash.clone());
    let old_text = state.text.replace(text.clone());
    state.etag = etag;
    state.last_modified = last_modified;
    match previous {
        // First look: the baseline, not a change.
        None => Ok(None),
        Some(p) if p == hash => Ok(None),
        Some(p) => {
            let old = old_text.unwrap_or_default();
            let diff = tokio::task::spawn_blocking(move || line_diff(&old, &text))
                .await
                .map_err(|_| SourceError::malformed("the diff failed"))?;
            Ok(Some(Event {
                guid: format!("{url}#change={}..{}", &p[..16.min(p.len())], &hash[..16]),
                url: Some(url.to_owned()),
                author: None,
                title,
                text: cap_text(diff, MAX_TEXT),
                langs: Vec::new(),
                links: Vec::new(),
                published_at_ms: Some(now_ms()),
            }))
        }
    }
}

pub(crate) async fn run(net: &Net, cfg: &PageConfig, out: &mut Output) -> SourceError {
    if let Err(e) = cfg.validate() {
        return e;
    }
    let mut state: PageState = match out.cursor().map(serde_json::from_str::<PageState>) {
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            out.notice(&SourceError::new(
                ErrorCode::CursorReset,
                "the saved snapshot is unreadable: this check sets a new baseline",
            ));
            PageState::default()
        }
        None => PageState::default(),
    };
    let interval = Duration::from_secs(cfg.interval_secs.max(1));
    let mut backoff = Backoff::new(
        Duration::from_secs(5),
        interval.max(Duration::from_secs(5)) * 4,
    );
    loop {
        out.state(SourceState::Connected);
        let before = state.clone();
        match check(net, cfg, &mut state).await {
            Ok(ev) => {
                backoff.reset();
                out.healthy();
                if let Some(ev) = ev {
                    out.push(ev);
                }
                if state != before {
                    out.set_cursor(Some(serde_json::to_string(&state).unwrap_or_default()));
                }
                let next_at_ms = now_ms() + interval.as_millis() as i64;
                if let Err(e) = out.wait(interval, SourceState::Idle { next_at_ms }).await {
                    return e;
                }
            }
            Err(e) if e.is_fatal() => return e,
            Err(e) => {
                state = before;
                if let Err(stop) = out.backoff(&e, &mut backoff).await {
                    return stop;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_and_extract() {
        let d = line_diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(
            d.contains("-b\n") && d.contains("+B\n") && d.starts_with("@@"),
            "{d}"
        );
        let (t, _) = extract(b"<p>x</p><p>y</p>", Some("text/html; charset=utf-8"), None).unwrap();
        assert_eq!(t, "x\ny");
        let (t, _) = extract(b"caf\xe9", Some("text/plain; charset=iso-8859-1"), None).unwrap();
        assert_eq!(t, "café");
        assert_eq!(
            extract(b"\x89PNG", Some("image/png"), None)
                .unwrap_err()
                .code,
            ErrorCode::NotText
        );
        let sel = Selector::parse("#gone").unwrap();
        assert_eq!(
            extract(b"<p>x</p>", Some("text/html"), Some(&sel))
                .unwrap_err()
                .code,
            ErrorCode::SelectorNoMatch
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        let mut c = PageConfig::new("ftp://x");
        assert!(c.validate().unwrap_err().message.starts_with("url"));
        c.url = "https://example.org".into();
        c.selector = Some("div[".into());
        assert!(c.validate().unwrap_err().message.starts_with("selector"));
        c.selector = Some("main p".into());
        c.interval_secs = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .message
            .starts_with("interval_secs"));
    }
}
