//! Bytes → [`ParsedFeed`]: decode, classify, pre-scan, feed-rs, normalise.

use std::panic::{catch_unwind, AssertUnwindSafe};

use feed_rs::model::{Entry, Feed, FeedType, Link, Text};
use feed_rs::parser::{Builder, ParseErrorKind, ParseFeedError};
use sha2::{Digest, Sha256};
use url::Url;

use crate::encoding::{charset_of, declared_xml_encoding, rewrite_xml_decl, to_utf8};
use crate::error::{ErrorCode, FeedError};
use crate::model::{FeedFormat, Item, ParsedFeed};
use crate::sniff::{check_json, check_xml, discover_feed_links, looks_like_html};
use crate::text::{cap_bytes, clean_text, html_to_text};

/// Limits applied while parsing; the defaults suit listening and blog import.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Items kept per document (the newest by date).
    pub max_items: usize,
    /// Characters of `Item::summary_text`.
    pub max_summary_chars: usize,
    /// Bytes of `Item::content_html`.
    pub max_content_bytes: usize,
    /// Element nesting accepted in XML (deeper documents are `malformed`).
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_items: 1000,
            max_summary_chars: 1000,
            max_content_bytes: 512 * 1024,
            max_depth: 128,
        }
    }
}

/// Longest guid kept as is; longer ones are hashed (some feeds put whole URLs with tracking).
const MAX_GUID: usize = 512;

/// Parse a feed document. `content_type` is the HTTP header (for its charset), `base_url` the
/// feed's URL (relative links are resolved against it). Never panics; errors carry stable codes.
pub fn parse(
    body: &[u8],
    content_type: Option<&str>,
    base_url: Option<&str>,
    opts: &ParseOptions,
) -> Result<ParsedFeed, FeedError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FeedError::new(ErrorCode::Empty, "the body is empty"));
    }
    let declared = declared_xml_encoding(body).or_else(|| content_type.and_then(charset_of));
    let decoded = to_utf8(body, declared)?;
    let warnings: Vec<String> = decoded.warning.into_iter().collect();
    let text = decoded.text;
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let is_json = match start.chars().next() {
        None => return Err(FeedError::new(ErrorCode::Empty, "the body is empty")),
        Some('{') => true,
        Some('<') => false,
        Some('[') => return Err(not_a_feed("a JSON array, not a feed")),
        Some(_) => return Err(not_a_feed("plain text, not a feed")),
    };
    let xml;
    let doc: &str = if is_json {
        check_json(start)?;
        start
    } else {
        if looks_like_html(start) {
            let mut msg = "an HTML page, not a feed".to_owned();
            if let Some(link) = discover_feed_links(start, base_url).first() {
                msg.push_str(&format!("; the page advertises a feed at {link}"));
            }
            return Err(not_a_feed(msg));
        }
        xml = rewrite_xml_decl(start.to_owned());
        check_xml(&xml, opts.max_depth)?;
        &xml
    };

    let base = base_url.and_then(|b| Url::parse(b).ok());
    let parser = Builder::new()
        .base_uri(base.as_ref().map(|u| u.as_str()))
        // An empty id tells us the document had none (feed-rs would otherwise invent one).
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build();
    let feed = catch_unwind(AssertUnwindSafe(|| parser.parse(doc.as_bytes())))
        .map_err(|_| {
            FeedError::new(
                ErrorCode::Malformed,
                "the feed parser failed on this document",
            )
        })?
        .map_err(map_feed_rs)?;
    Ok(normalise(feed, base.as_ref(), opts, warnings))
}

fn not_a_feed(msg: impl Into<String>) -> FeedError {
    FeedError::new(ErrorCode::NotAFeed, msg)
}

fn map_feed_rs(e: ParseFeedError) -> FeedError {
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            not_a_feed("no RSS, Atom or JSON Feed root (or an unsupported RSS version)")
        }
        ParseFeedError::JsonUnsupportedVersion(v) => {
            not_a_feed(format!("JSON document, not a JSON Feed (version {v:?})"))
        }
        ParseFeedError::JsonSerde(e) => not_a_feed(format!("JSON document, not a JSON Feed: {e}")),
        other => FeedError::new(ErrorCode::Malformed, other.to_string()),
    }
}

fn normalise(
    feed: Feed,
    base: Option<&Url>,
    opts: &ParseOptions,
    mut warnings: Vec<String>,
) -> ParsedFeed {
    let format = match feed.feed_type {
        FeedType::Atom => FeedFormat::Atom,
        FeedType::JSON => FeedFormat::JsonFeed,
        FeedType::RSS0 => FeedFormat::Rss0,
        FeedType::RSS1 => FeedFormat::Rss1,
        FeedType::RSS2 => FeedFormat::Rss2,
    };
    let feed_lang = feed.language.as_deref().and_then(normalise_lang);
    let feed_lang = feed_lang.as_deref();
    let feed_author = feed
        .authors
        .iter()
        .find_map(|p| nonempty(p.name.as_deref()));
    let mut items: Vec<Item> = feed
        .entries
        .iter()
        .map(|e| item(e, base, feed_lang, feed_author.as_deref(), opts))
        .collect();
    if items.len() > opts.max_items {
        warnings.push(format!(
            "{} items, only the newest {} kept",
            items.len(),
            opts.max_items
        ));
        // Keep the newest by date; undated items rank by document order (feeds list newest first).
        let mut idx: Vec<usize> = (0..items.len()).collect();
        idx.sort_by_key(|&i| (std::cmp::Reverse(items[i].published_at), i));
        let mut keep = vec![false; items.len()];
        for &i in idx.iter().take(opts.max_items) {
            keep[i] = true;
        }
        let mut k = keep.into_iter();
        items.retain(|_| k.next().unwrap_or(false));
    }
    ParsedFeed {
        format,
        title: feed
            .title
            .as_ref()
            .map(|t| text_of(t, 300))
            .filter(|t| !t.is_empty()),
        site_url: pick_link(&feed.links, base),
        language: feed_lang.map(str::to_owned),
        items,
        warnings,
    }
}

/// `fr`, `fr-FR`, `en-GB` whatever the feed wrote (`FR_fr`, `en-gb`); `None` when blank.
fn normalise_lang(l: &str) -> Option<String> {
    let l = l.trim().replace('_', "-");
    if l.is_empty() || l.len() > 35 {
        return None;
    }
    let mut parts = l.split('-');
    let mut out = parts.next()?.to_ascii_lowercase();
    for p in parts {
        out.push('-');
        if p.len() == 2 {
            out.push_str(&p.to_ascii_uppercase());
        } else {
            out.push_str(&p.to_ascii_lowercase());
        }
    }
    Some(out)
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn is_html(t: &Text) -> bool {
    t.content_type.to_string().contains("html")
}

/// Plain text of a feed-rs text construct.
fn text_of(t: &Text, max: usize) -> String {
    if is_html(t) {
        html_to_text(&t.content, max)
    } else {
        clean_text(&t.content, max)
    }
}

/// The item's page: a plain or `alternate` link first, resolved, http(s) only.
fn pick_link(links: &[Link], base: Option<&Url>) -> Option<String> {
    let preferred = links
        .iter()
        .filter(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .chain(links.iter());
    preferred.filter_map(|l| absolute(&l.href, base)).next()
}

fn absolute(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    let u = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

fn item(
    e: &Entry,
    base: Option<&Url>,
    feed_lang: Option<&str>,
    feed_author: Option<&str>,
    opts: &ParseOptions,
) -> Item {
    let url = pick_link(&e.links, base);
    let title = e
        .title
        .as_ref()
        .map(|t| text_of(t, 500))
        .filter(|t| !t.is_empty());
    let content_raw = e.content.as_ref().and_then(|c| c.body.as_deref());
    let summary_text = match (&e.summary, content_raw) {
        (Some(s), _) if !s.content.trim().is_empty() => text_of(s, opts.max_summary_chars),
        (_, Some(c)) => html_to_text(c, opts.max_summary_chars),
        _ => String::new(),
    };
    let content_html = content_raw
        .or_else(|| {
            e.summary
                .as_ref()
                .filter(|s| is_html(s))
                .map(|s| s.content.as_str())
        })
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| cap_bytes(c.to_owned(), opts.max_content_bytes));
    let published_at = e.published.or(e.updated).map(|d| d.timestamp_millis());
    let guid = guid(
        &e.id,
        url.as_deref(),
        title.as_deref(),
        published_at,
        &summary_text,
    );
    Item {
        guid,
        url,
        title,
        summary_text,
        content_html,
        author: e
            .authors
            .iter()
            .find_map(|p| nonempty(p.name.as_deref()))
            .or_else(|| feed_author.map(str::to_owned)),
        published_at,
        language: e
            .language
            .as_deref()
            .and_then(normalise_lang)
            .or_else(|| feed_lang.map(str::to_owned)),
    }
}

fn sha(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    format!("sha256:{}", hex::encode(&h.finalize()[..16]))
}

/// Stable id of an item across fetches (and restarts): never random.
fn guid(
    id: &str,
    url: Option<&str>,
    title: Option<&str>,
    published_at: Option<i64>,
    summary: &str,
) -> String {
    let id = id.trim();
    let chosen = if !id.is_empty() {
        id
    } else if let Some(u) = url {
        u
    } else {
        let date = published_at.map(|d| d.to_string()).unwrap_or_default();
        let t = title.unwrap_or_default();
        // Neither title nor date: the text is all that identifies the item.
        let s = if t.is_empty() && date.is_empty() {
            summary
        } else {
            ""
        };
        return sha(&[t, &date, s]);
    };
    if chosen.len() > MAX_GUID {
        sha(&[chosen])
    } else {
        chosen.to_owned()
    }
}
