//! Any bytes as a firehose frame, and as a CAR file: decoding never panics, never hangs, and
//! whatever decodes yields well-formed events.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use relais_sources::car::read_car;
use relais_sources::firehose::{commit_events, decode_frame, Frame};

fuzz_target!(|data: &[u8]| {
    if let Ok(Frame::Commit(c)) = decode_frame(data) {
        let (events, _errors) = commit_events(&c, &HashSet::new(), "https://bsky.app");
        for e in events {
            assert!(e.guid.starts_with("at://did:"));
            assert!(e.text.len() <= 16 * 1024);
            assert!(e.langs.len() <= 8 && e.links.len() <= 32);
        }
    }
    if let Ok(car) = read_car(data) {
        for root in &car.roots {
            let _ = car.get(root);
        }
    }
});
