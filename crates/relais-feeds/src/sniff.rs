//! What is this body? HTML page, XML feed (checked well-formed and complete), JSON, other.
//!
//! The XML pre-scan runs the same reader as feed-rs over the document once, so truncation,
//! nesting depth and stray declarations are reported with a stable code and a line number
//! before feed-rs builds anything.

use quick_xml::errors::{Error as XmlError, IllFormedError};
use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

use crate::error::{line_of, ErrorCode, FeedError};

/// Roots feed-rs understands: RSS 0.9x/2.0, RSS 1.0 (`rdf:RDF`), Atom feed and entry.
const FEED_ROOTS: [&str; 4] = ["rss", "RDF", "feed", "entry"];

/// True when the start of `text` looks like an HTML page rather than XML.
pub(crate) fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    let html = head.find("<!doctype html").or_else(|| head.find("<html"));
    let feed = ["<rss", "<feed", "<rdf:rdf", "<opml"]
        .iter()
        .filter_map(|m| head.find(m))
        .min();
    match (html, feed) {
        (Some(h), Some(f)) => h < f,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Feed URLs an HTML page advertises with `<link rel="alternate" type="application/rss+xml">`
/// (or atom / feed+json), resolved against `base`. Looks at the first 256 KiB only.
pub fn discover_feed_links(html: &str, base: Option<&str>) -> Vec<String> {
    let mut end = html.len().min(256 * 1024);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let head = &html[..end];
    let lower = head.to_ascii_lowercase();
    let base = base.and_then(|b| Url::parse(b).ok());
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<link") {
        let start = from + i;
        let Some(len) = lower[start..].find('>') else {
            break;
        };
        let tag = &head[start..start + len];
        let tag_lower = &lower[start..start + len];
        from = start + len;
        let is_feed = [
            "application/rss+xml",
            "application/atom+xml",
            "application/feed+json",
        ]
        .iter()
        .any(|t| tag_lower.contains(t));
        if !is_feed || !tag_lower.contains("alternate") {
            continue;
        }
        if let Some(href) = attr(tag, tag_lower, "href") {
            let resolved = match &base {
                Some(b) => b.join(href).ok().map(|u| u.to_string()),
                None => Url::parse(href).ok().map(|u| u.to_string()),
            };
            if let Some(u) = resolved.filter(|u| u.starts_with("http")) {
                if !out.contains(&u) {
                    out.push(u);
                }
            }
        }
    }
    out
}

/// Value of attribute `name` in a raw tag (quoted or not).
fn attr<'a>(tag: &'a str, tag_lower: &str, name: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = tag_lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at > 0 && tag_lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = tag_lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let vstart = tag.len() - rest.len() + 1;
        let v = tag[vstart..].trim_start();
        let v_off = tag.len() - v.len();
        return match v.chars().next()? {
            q @ ('"' | '\'') => {
                let close = tag[v_off + 1..].find(q)?;
                Some(&tag[v_off + 1..v_off + 1 + close])
            }
            _ => v.split_whitespace().next(),
        };
    }
    None
}

/// Check an XML document: well-formed, complete, nesting within `max_depth`, a feed root.
/// Returns the root's local name.
pub(crate) fn check_xml(text: &str, max_depth: usize) -> Result<String, FeedError> {
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut root: Option<String> = None;
    let mut first = true;
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => return Err(xml_error(e, text, reader.error_position() as usize)),
        };
        match ev {
            Event::Decl(_) if !first => {
                return Err(FeedError::new(
                    ErrorCode::Malformed,
                    "XML declaration in the middle of the document",
                )
                .at_line(Some(line_of(text.as_bytes(), pos))));
            }
            Event::Start(ref s) | Event::Empty(ref s) => {
                if root.is_none() {
                    let name = s.local_name().as_ref().to_owned();
                    check_root(&name, text, pos)?;
                    root = Some(name);
                } else if depth == 0 {
                    return Err(
                        FeedError::new(ErrorCode::Malformed, "a second root element")
                            .at_line(Some(line_of(text.as_bytes(), pos))),
                    );
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                    if depth > max_depth {
                        return Err(FeedError::new(
                            ErrorCode::Malformed,
                            format!("elements nested deeper than {max_depth}"),
                        )
                        .at_line(Some(line_of(text.as_bytes(), pos))));
                    }
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
        first = false;
    }
    match root {
        None => Err(FeedError::new(ErrorCode::NotAFeed, "no XML element found")),
        Some(_) if depth > 0 => Err(FeedError::new(
            ErrorCode::Truncated,
            format!("the document ends with {depth} element(s) still open"),
        )
        .at_line(Some(line_of(text.as_bytes(), text.len())))),
        Some(r) => Ok(r),
    }
}

fn check_root(name: &str, text: &str, pos: usize) -> Result<(), FeedError> {
    if FEED_ROOTS.contains(&name) {
        return Ok(());
    }
    let what = match name.to_ascii_lowercase().as_str() {
        "html" => "an HTML page".to_owned(),
        "opml" => "an OPML list of feeds (import it instead)".to_owned(),
        _ => format!("an XML document with root <{name}>"),
    };
    Err(
        FeedError::new(ErrorCode::NotAFeed, format!("{what}, not a feed"))
            .at_line(Some(line_of(text.as_bytes(), pos))),
    )
}

pub(crate) fn xml_error(e: XmlError, text: &str, pos: usize) -> FeedError {
    let line = Some(line_of(text.as_bytes(), pos));
    let code = match &e {
        // Every syntax error of a slice reader is "input ended inside a construct".
        XmlError::Syntax(_) | XmlError::IllFormed(IllFormedError::MissingEndTag(_)) => {
            ErrorCode::Truncated
        }
        _ => ErrorCode::Malformed,
    };
    FeedError::new(code, format!("XML: {e}")).at_line(line)
}

/// Classify a JSON body: complete and well-formed (`Ok`), cut short, or malformed.
pub(crate) fn check_json(text: &str) -> Result<(), FeedError> {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let code = if e.is_eof() {
                ErrorCode::Truncated
            } else {
                ErrorCode::Malformed
            };
            Err(FeedError::new(code, format!("JSON: {e}")).at_line(Some(e.line() as u64)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_recognised() {
        assert!(looks_like_html("<!DOCTYPE html><html><body>"));
        assert!(looks_like_html("\n<HTML lang=fr>"));
        assert!(!looks_like_html("<?xml version='1.0'?><rss version='2.0'>"));
        assert!(!looks_like_html("<rss><channel><description>&lt;html&gt;"));
    }

    #[test]
    fn discovers_feed_links() {
        let html = r#"<html><head>
            <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
            <link rel=alternate type=application/atom+xml href=https://ex.org/atom>
            <link rel="stylesheet" href="/s.css">
            </head></html>"#;
        assert_eq!(
            discover_feed_links(html, Some("https://blog.example/post/1")),
            vec!["https://blog.example/feed.xml", "https://ex.org/atom"]
        );
    }

    #[test]
    fn xml_checks() {
        assert_eq!(check_xml("<rss><channel/></rss>", 8).unwrap(), "rss");
        assert_eq!(
            check_xml("<rdf:RDF xmlns:rdf='x'></rdf:RDF>", 8).unwrap(),
            "RDF"
        );
        let e = check_xml("<rss><channel><item><title>Bonj", 8).unwrap_err();
        assert_eq!(e.code, ErrorCode::Truncated, "{e}");
        let e = check_xml("<rss><channel><item><title", 8).unwrap_err();
        assert_eq!(e.code, ErrorCode::Truncated, "{e}");
        let e = check_xml("<rss>\n<a></b></rss>", 8).unwrap_err();
        assert_eq!((e.code, e.line), (ErrorCode::Malformed, Some(2)), "{e}");
        let deep = format!("<rss>{}", "<a>".repeat(100));
        assert_eq!(check_xml(&deep, 50).unwrap_err().code, ErrorCode::Malformed);
        let e = check_xml("<svg></svg>", 8).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotAFeed);
        let e = check_xml("<rss><?xml version='1.0' encoding='latin1'?></rss>", 8).unwrap_err();
        assert_eq!(e.code, ErrorCode::Malformed);
    }

    #[test]
    fn json_checks() {
        assert!(check_json(r#"{"version": "x"}"#).is_ok());
        assert_eq!(
            check_json(r#"{"version": "#).unwrap_err().code,
            ErrorCode::Truncated
        );
        assert_eq!(
            check_json(r#"{"a" 1}"#).unwrap_err().code,
            ErrorCode::Malformed
        );
    }
}
