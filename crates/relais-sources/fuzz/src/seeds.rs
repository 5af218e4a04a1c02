//! Writes the seed corpus (valid frames of every kind, and their CAR payloads) to corpus/frame.

use relais_sources::firehose::testing::{commit_frame, error_frame, info_frame, other_frame, post};
use serde_json::json;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/frame");
    std::fs::create_dir_all(&dir).unwrap();
    let rich = json!({
        "$type": "app.bsky.feed.post", "text": "voir https://example.org #tag", "langs": ["fr", "en"],
        "createdAt": "2024-01-02T03:04:05.678Z",
        "facets": [{"index": {"byteStart": 5, "byteEnd": 24},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org"}]}],
        "embed": {"$type": "app.bsky.embed.external",
                  "external": {"uri": "https://example.com/a", "title": "A", "description": ""}},
        "reply": {"root": {"uri": "at://did:plc:a/app.bsky.feed.post/1", "cid": "x"},
                  "parent": {"uri": "at://did:plc:a/app.bsky.feed.post/1", "cid": "x"}}
    });
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("commit-one", commit_frame(1, "did:plc:alice", &[("3kone", post("bonjour", &["fr"]))])),
        ("commit-two", commit_frame(2, "did:plc:bob", &[("a", post("a", &[])), ("b", post("b", &["en"]))])),
        ("commit-rich", commit_frame(3, "did:web:example.com", &[("3krich", rich)])),
        ("commit-empty", commit_frame(4, "did:plc:alice", &[])),
        ("info", info_frame("OutdatedCursor", "Requested cursor exceeded limit. Possibly missing events")),
        ("error", error_frame("FutureCursor", "Cursor in the future.")),
        ("identity", other_frame("#identity", 5, "did:plc:alice")),
        ("account", other_frame("#account", 6, "did:plc:alice")),
    ];
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    println!("{} seeds in {}", seeds.len(), dir.display());
}
