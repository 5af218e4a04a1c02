//! OPML subscription lists: import (nested folders and `category` → tags) and export.

use std::collections::HashMap;

use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::encoding::{declared_xml_encoding, to_utf8};
use crate::error::{line_of, ErrorCode, FeedError};
use crate::sniff::{looks_like_html, xml_error};

/// Largest OPML file accepted.
pub const MAX_OPML_BYTES: usize = 5 * 1024 * 1024;
/// Most feeds accepted from one file.
pub const MAX_OPML_FEEDS: usize = 10_000;
const MAX_DEPTH: usize = 64;

/// One subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpmlFeed {
    /// The feed (absolute http(s)).
    pub xml_url: String,
    /// The site.
    pub html_url: Option<String>,
    pub title: Option<String>,
    /// Enclosing folders, outermost first, then `category` entries; no duplicates.
    pub tags: Vec<String>,
}

/// A subscription list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Opml {
    pub title: Option<String>,
    pub feeds: Vec<OpmlFeed>,
    /// Outlines skipped on import (bad URL, over the cap), one line each.
    #[serde(default)]
    pub warnings: Vec<String>,
}

fn not_opml(msg: impl Into<String>) -> FeedError {
    FeedError::new(ErrorCode::NotOpml, msg)
}

fn push_tag(tags: &mut Vec<String>, t: &str) {
    let t = t.trim();
    if !t.is_empty() && !tags.iter().any(|x| x == t) {
        tags.push(t.to_owned());
    }
}

/// Attributes of an outline, names lower-cased (exporters disagree on `xmlUrl` / `xmlurl`).
fn attrs(e: &BytesStart<'_>) -> HashMap<String, String> {
    e.attributes()
        .flatten()
        .map(|a| {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| a.value.to_string());
            (a.key.local_name().as_ref().to_ascii_lowercase(), v)
        })
        .collect()
}

/// Parse an OPML document. Non-OPML input is `not_opml`, naming the line of the offending root.
pub fn import(bytes: &[u8]) -> Result<Opml, FeedError> {
    if bytes.len() > MAX_OPML_BYTES {
        return Err(FeedError::new(
            ErrorCode::TooLarge,
            format!("OPML file larger than {MAX_OPML_BYTES} bytes"),
        ));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FeedError::new(ErrorCode::Empty, "the file is empty"));
    }
    let text = to_utf8(bytes, declared_xml_encoding(bytes))?.text;
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if !text.starts_with('<') {
        return Err(not_opml("not an XML document").at_line(Some(1)));
    }
    if looks_like_html(text) {
        return Err(not_opml("an HTML page, not an OPML file"));
    }
    let mut reader = Reader::from_str(text);
    let mut doc = Opml::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    // One entry per open element: the folder label it contributes, if it is a folder outline.
    let mut stack: Vec<(String, Option<String>)> = Vec::new();
    let mut seen_root = false;
    let mut title_buf: Option<String> = None;
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader
            .read_event()
            .map_err(|e| xml_error(e, text, reader.error_position() as usize))?;
        let line = || Some(line_of(text.as_bytes(), pos));
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name().as_ref().to_owned();
                if !seen_root {
                    if !name.eq_ignore_ascii_case("opml") {
                        return Err(not_opml(format!("root element <{name}>, expected <opml>"))
                            .at_line(line()));
                    }
                    seen_root = true;
                }
                let is_start = matches!(ev, Event::Start(_));
                let mut folder = None;
                if name.eq_ignore_ascii_case("outline") {
                    let a = attrs(e);
                    let label = a
                        .get("title")
                        .or_else(|| a.get("text"))
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty());
                    match a.get("xmlurl").map(|s| s.trim()).filter(|s| !s.is_empty()) {
                        Some(xml_url) => {
                            let mut tags = Vec::new();
                            for (_, f) in &stack {
                                if let Some(f) = f {
                                    push_tag(&mut tags, f);
                                }
                            }
                            for c in a.get("category").into_iter().flat_map(|c| c.split(',')) {
                                c.split('/').for_each(|t| push_tag(&mut tags, t));
                            }
                            let feed = OpmlFeed {
                                xml_url: xml_url.to_owned(),
                                html_url: a.get("htmlurl").and_then(|u| http_url(u)),
                                title: label,
                                tags,
                            };
                            add(&mut doc, &mut index, feed, line());
                        }
                        None if is_start => folder = label,
                        None => {}
                    }
                } else if is_start
                    && name == "title"
                    && stack.last().is_some_and(|(n, _)| n == "head")
                {
                    title_buf = Some(String::new());
                }
                if is_start {
                    stack.push((name, folder));
                    if stack.len() > MAX_DEPTH {
                        return Err(FeedError::new(
                            ErrorCode::Malformed,
                            format!("outlines nested deeper than {MAX_DEPTH}"),
                        )
                        .at_line(line()));
                    }
                }
            }
            Event::End(_) => {
                if let Some((name, _)) = stack.pop() {
                    if name == "title" {
                        if let Some(t) = title_buf.take() {
                            doc.title = Some(t.trim().to_owned()).filter(|t| !t.is_empty());
                        }
                    }
                }
            }
            Event::Text(ref t) => {
                if let Some(buf) = title_buf.as_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(ref t) => {
                if let Some(buf) = title_buf.as_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(ref r) => {
                if let Some(buf) = title_buf.as_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => buf.push(c),
                        _ => buf.push_str(resolve_predefined_entity(r).unwrap_or("")),
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(not_opml("no XML element found"));
    }
    if !stack.is_empty() {
        return Err(FeedError::new(
            ErrorCode::Truncated,
            format!("the file ends with {} element(s) still open", stack.len()),
        )
        .at_line(Some(line_of(text.as_bytes(), text.len()))));
    }
    Ok(doc)
}

fn http_url(u: &str) -> Option<String> {
    Url::parse(u.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.to_string())
}

/// Add a feed, merging tags when the same URL appears in several folders.
fn add(doc: &mut Opml, index: &mut HashMap<String, usize>, feed: OpmlFeed, line: Option<u64>) {
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let Some(url) = http_url(&feed.xml_url) else {
        doc.warnings.push(format!(
            "{at}skipped {:?}: not an http(s) URL",
            feed.xml_url
        ));
        return;
    };
    if let Some(&i) = index.get(&url) {
        let existing = &mut doc.feeds[i];
        for t in feed.tags {
            push_tag(&mut existing.tags, &t);
        }
        return;
    }
    if doc.feeds.len() >= MAX_OPML_FEEDS {
        if doc.feeds.len() == MAX_OPML_FEEDS && !doc.warnings.iter().any(|w| w.contains("cap")) {
            doc.warnings.push(format!(
                "{at}more than {MAX_OPML_FEEDS} feeds: the rest skipped (cap)"
            ));
        }
        return;
    }
    index.insert(url.clone(), doc.feeds.len());
    doc.feeds.push(OpmlFeed {
        xml_url: url,
        ..feed
    });
}

/// XML-safe attribute text: escaped, without the control characters XML 1.0 forbids.
fn attr_text(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|&c| !c.is_control() || c == '\t')
        .collect();
    escape(clean.as_str()).into_owned()
}

/// Write an OPML 2.0 document. Feeds are grouped in one folder per first tag; the other tags go
/// to `category` (with `,` and `/` turned into spaces), so [`import`] gives the tags back.
pub fn export(doc: &Opml) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str("  <head>\n");
    if let Some(t) = &doc.title {
        out.push_str(&format!("    <title>{}</title>\n", attr_text(t)));
    }
    out.push_str("  </head>\n  <body>\n");
    let mut folders: Vec<(Option<&str>, Vec<&OpmlFeed>)> = Vec::new();
    for f in &doc.feeds {
        let key = f.tags.first().map(String::as_str);
        match folders.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(f),
            None => folders.push((key, vec![f])),
        }
    }
    for (folder, feeds) in folders {
        let indent = if folder.is_some() { "      " } else { "    " };
        if let Some(name) = folder {
            let n = attr_text(name);
            out.push_str(&format!("    <outline text=\"{n}\" title=\"{n}\">\n"));
        }
        for f in feeds {
            let title = attr_text(f.title.as_deref().unwrap_or(&f.xml_url));
            out.push_str(&format!(
                "{indent}<outline type=\"rss\" text=\"{title}\" title=\"{title}\" xmlUrl=\"{}\"",
                attr_text(&f.xml_url)
            ));
            if let Some(h) = &f.html_url {
                out.push_str(&format!(" htmlUrl=\"{}\"", attr_text(h)));
            }
            // The folder gives the first tag back; `category` carries the others.
            if f.tags.len() > 1 {
                let tags: Vec<String> = f.tags[1..]
                    .iter()
                    .map(|t| t.replace([',', '/'], " "))
                    .collect();
                out.push_str(&format!(" category=\"{}\"", attr_text(&tags.join(","))));
            }
            out.push_str("/>\n");
        }
        if folder.is_some() {
            out.push_str("    </outline>\n");
        }
    }
    out.push_str("  </body>\n</opml>\n");
    out
}
