//! One conditional GET of a feed: through the SSRF-guarded client, within a size cap and a time
//! budget that covers headers *and* body (a trickling or endless body stops with `timeout`).

use std::time::Duration;

use bytes::Bytes;

use relais_net::header::{self, HeaderMap, HeaderValue};
use relais_net::{read_limited, snippet, Net, StatusCode};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FeedError};
use crate::model::ParsedFeed;
use crate::parse::{parse, ParseOptions};
use crate::schedule::{parse_max_age, parse_retry_after};
use crate::state::FeedState;

/// What feeds are asked for (servers that negotiate pick a feed over a page).
const ACCEPT_FEEDS: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
     application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.7, \
     */*;q=0.5";

/// Limits of one fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Body cap, after decompression (gzip bombs stop here too).
    pub max_body: u64,
    /// Whole download: connect, headers and body. Parsing is not counted (bounded by `max_body`).
    pub time_budget: Duration,
    pub parse: ParseOptions,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_body: 10 * 1024 * 1024,
            time_budget: Duration::from_secs(30),
            parse: ParseOptions::default(),
        }
    }
}

/// What the server said besides the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMeta {
    pub status: u16,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    /// `Retry-After`, as a delay from the response.
    pub retry_after_secs: Option<u64>,
    /// `Cache-Control: max-age`.
    pub max_age_secs: Option<u64>,
    /// URL after redirects.
    pub final_url: String,
}

impl ResponseMeta {
    fn new(status: StatusCode, headers: &HeaderMap, final_url: String) -> Self {
        let get = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        ResponseMeta {
            status: status.as_u16(),
            etag: get(header::ETAG),
            last_modified: get(header::LAST_MODIFIED),
            content_type: get(header::CONTENT_TYPE),
            retry_after_secs: get(header::RETRY_AFTER)
                .and_then(|v| parse_retry_after(&v, chrono::Utc::now()))
                .map(|d| d.as_secs()),
            max_age_secs: get(header::CACHE_CONTROL)
                .and_then(|v| parse_max_age(&v))
                .map(|d| d.as_secs()),
            final_url,
        }
    }
}

/// The result of one fetch; fold it into the state with [`FeedState::record`].
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// 2xx and a feed.
    Updated {
        feed: ParsedFeed,
        meta: ResponseMeta,
    },
    /// 304: nothing new since the stored ETag / Last-Modified.
    NotModified { meta: ResponseMeta },
    /// `meta` is there when the server answered (an HTTP error, a bad body).
    Failed {
        error: FeedError,
        meta: Option<ResponseMeta>,
    },
}

impl FetchOutcome {
    pub fn error(&self) -> Option<&FeedError> {
        match self {
            FetchOutcome::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    pub fn meta(&self) -> Option<&ResponseMeta> {
        match self {
            FetchOutcome::Updated { meta, .. } | FetchOutcome::NotModified { meta } => Some(meta),
            FetchOutcome::Failed { meta, .. } => meta.as_ref(),
        }
    }
}

/// Fetch `state.url` with the default limits.
pub async fn fetch(net: &Net, state: &FeedState) -> FetchOutcome {
    fetch_with(net, state, &FetchOptions::default()).await
}

/// Fetch `state.url`, sending the stored validators, and parse the body.
pub async fn fetch_with(net: &Net, state: &FeedState, opts: &FetchOptions) -> FetchOutcome {
    let mut meta = None;
    let budget = opts.time_budget;
    let downloaded = tokio::time::timeout(budget, download(net, state, opts, &mut meta)).await;
    let (meta, body) = match downloaded {
        // `download` always sets `meta` before returning `Ok`.
        Ok(Ok(body)) => match meta {
            Some(meta) => (meta, body),
            None => return no_response(),
        },
        Ok(Err(error)) => return FetchOutcome::Failed { error, meta },
        Err(_) => {
            let what = if meta.is_some() {
                "the body"
            } else {
                "a response"
            };
            let error = FeedError::new(
                ErrorCode::Timeout,
                format!("{what} did not complete within {budget:?}"),
            );
            return FetchOutcome::Failed { error, meta };
        }
    };
    let Some(body) = body else {
        return FetchOutcome::NotModified { meta };
    };
    let (ct, base, popts) = (
        meta.content_type.clone(),
        meta.final_url.clone(),
        opts.parse.clone(),
    );
    // Parsing a few MB is CPU work: keep it off the async workers.
    let parsed =
        tokio::task::spawn_blocking(move || parse(&body, ct.as_deref(), Some(&base), &popts)).await;
    match parsed {
        Ok(Ok(feed)) => FetchOutcome::Updated { feed, meta },
        Ok(Err(error)) => FetchOutcome::Failed {
            error,
            meta: Some(meta),
        },
        Err(_) => FetchOutcome::Failed {
            error: FeedError::new(ErrorCode::Malformed, "the parser task failed"),
            meta: Some(meta),
        },
    }
}

fn no_response() -> FetchOutcome {
    FetchOutcome::Failed {
        error: FeedError::new(ErrorCode::Request, "no response"),
        meta: None,
    }
}

/// `Ok(None)` is a 304. `meta_out` is filled as soon as headers arrive, so a timeout while
/// reading the body still reports what the server said.
async fn download(
    net: &Net,
    state: &FeedState,
    opts: &FetchOptions,
    meta_out: &mut Option<ResponseMeta>,
) -> Result<Option<Bytes>, FeedError> {
    let mut rb = net
        .get(&state.url)
        .timeout(opts.time_budget)
        .header(header::ACCEPT, ACCEPT_FEEDS);
    // A stored validator that is not a valid header value is skipped, not fatal.
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
    let resp = net.send(rb).await?;
    let status = resp.status();
    *meta_out = Some(ResponseMeta::new(
        status,
        resp.headers(),
        resp.url().to_string(),
    ));
    if status == StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    if !status.is_success() {
        let body = read_limited(resp, 4096, opts.time_budget)
            .await
            .map(|b| snippet(&b[..b.len().min(300)]))
            .unwrap_or_default();
        let mut e = FeedError::new(
            ErrorCode::HttpStatus,
            format!("HTTP {status}: {}", body.trim()),
        );
        e.status = Some(status.as_u16());
        return Err(e);
    }
    Ok(Some(
        read_limited(resp, opts.max_body, opts.time_budget).await?,
    ))
}
