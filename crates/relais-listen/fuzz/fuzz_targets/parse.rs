//! Any string: parsing never panics; a parsed query compiles, explains and matches its own text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relais_listen::{explain, parse, ExplainLang, Matcher};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match parse(s) {
        Ok(q) => {
            let _ = explain(&q, ExplainLang::En);
            let m = Matcher::compile(&[((), q)]);
            let mut out = Vec::new();
            m.match_text(s, &["fr"], &mut out);
        }
        Err(e) => assert!(e.column >= 1 && e.column <= s.chars().count() + 1),
    }
});
