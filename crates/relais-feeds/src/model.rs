//! The normalised feed model handed to callers.

use serde::{Deserialize, Serialize};

/// Which syntax the document used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedFormat {
    /// RSS 0.91 / 0.92.
    Rss0,
    /// RSS 1.0 (RDF).
    Rss1,
    Rss2,
    Atom,
    JsonFeed,
}

/// One entry of a feed, normalised across formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id: the feed's guid/id, else the item's link, else `sha256:` of title + date.
    pub guid: String,
    /// Absolute http(s) link to the item.
    pub url: Option<String>,
    /// Plain-text title.
    pub title: Option<String>,
    /// Plain text of the summary (or of the content when there is no summary), capped.
    pub summary_text: String,
    /// Raw HTML of the content (or of the summary): NOT sanitized, the caller sanitizes for display.
    pub content_html: Option<String>,
    pub author: Option<String>,
    /// Publication (else update) instant, UTC milliseconds.
    pub published_at: Option<i64>,
    /// Declared language of the item (else of the feed), as written (`fr`, `en-US`).
    pub language: Option<String>,
}

/// A parsed feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedFeed {
    pub format: FeedFormat,
    pub title: Option<String>,
    /// The site the feed belongs to (its HTML page).
    pub site_url: Option<String>,
    pub language: Option<String>,
    /// Items in document order (at most `ParseOptions::max_items`, the newest kept).
    pub items: Vec<Item>,
    /// Problems that were worked around (wrong declared encoding, items dropped over the cap).
    pub warnings: Vec<String>,
}
