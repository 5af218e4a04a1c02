#![no_main]
//! Any bytes through the whole parse path (decode, sniff, pre-scan, feed-rs, normalise): Ok or a
//! coded error, never a panic, never unbounded time or memory.

use libfuzzer_sys::fuzz_target;
use relais_feeds::{parse, ParseOptions};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the declared HTTP charset, to exercise the encoding fallbacks.
    let (ct, body) = match data.split_first() {
        Some((b, rest)) => match b % 4 {
            0 => (None, rest),
            1 => (Some("application/rss+xml; charset=utf-8"), rest),
            2 => (Some("text/xml; charset=iso-8859-1"), rest),
            _ => (Some("text/xml; charset=shift_jis"), rest),
        },
        None => (None, data),
    };
    if let Ok(feed) = parse(
        body,
        ct,
        Some("https://fuzz.example/feed"),
        &ParseOptions::default(),
    ) {
        for item in &feed.items {
            assert!(!item.guid.is_empty());
        }
    }
});
