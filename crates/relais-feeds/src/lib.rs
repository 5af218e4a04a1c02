//! relais-feeds: fetch, parse and schedule RSS / Atom / JSON Feed sources; OPML import/export.
//!
//! - [`fetch`]: conditional GET through `relais-net` (SSRF guard), size cap, time budget;
//! - [`parse`]: any feed format → [`ParsedFeed`] of normalised [`Item`]s, errors with stable codes;
//! - [`schedule`]: polite adaptive polling (item rate, backoff, `Retry-After`, `max-age`);
//! - [`new_items`]: dedup across restarts against the guids the caller stored;
//! - [`opml`]: import and export of subscription lists.
//!
//! See docs/feeds.md.

mod dedup;
mod encoding;
mod error;
mod fetch;
mod model;
pub mod opml;
mod parse;
pub mod schedule;
mod sniff;
mod state;
mod text;

pub use dedup::{new_items, new_items_by};
pub use error::{ErrorCode, FeedError};
pub use fetch::{fetch, fetch_with, FetchOptions, FetchOutcome, ResponseMeta};
pub use model::{FeedFormat, Item, ParsedFeed};
pub use parse::{parse, ParseOptions};
pub use schedule::PollPolicy;
pub use sniff::discover_feed_links;
pub use state::{FeedState, LastError};
pub use text::{clean_text, html_to_text};
