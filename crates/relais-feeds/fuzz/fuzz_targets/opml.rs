#![no_main]
//! OPML import on any bytes, and export → import of whatever was imported.

use libfuzzer_sys::fuzz_target;
use relais_feeds::opml::{export, import};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = import(data) {
        let again = import(export(&doc).as_bytes()).expect("an export always imports");
        assert_eq!(again.feeds.len(), doc.feeds.len());
    }
});
