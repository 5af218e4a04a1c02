//! relais-enrich: enrichment of matched posts, as a pure library (no async, no database; the
//! only IO is reading a user lexicon file and, in [`bench`], the thread's CPU clock) — see
//! `docs/enrich.md`.
//!
//! - [`Sentiment`]: French/English sentiment from a built-in lexicon (or a user TSV file).
//! - [`StoryIndex`]: near-duplicate grouping ("500 shares of one article = one story").
//! - [`Detector`]: per-query crisis detection on 1-minute buckets, and [`Brief`] for the alert.

pub mod bench;
pub mod crisis;
pub mod fold;
pub mod sentiment;
pub mod story;

pub use crisis::brief::{Brief, BriefMention, BriefOptions, SentimentSplit, SeriesPoint, TopPost};
pub use crisis::{Config, Detector, Trigger, TriggerKind};
pub use sentiment::{Lexicon, LexiconError, Sentiment, SentimentLabel, SentimentScore};
pub use story::{canonical_url, StoryId, StoryIndex, StoryOptions};
