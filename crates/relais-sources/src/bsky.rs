//! `app.bsky.feed.post` records → events; shared by the firehose (DAG-CBOR) and Jetstream (JSON).

use serde::Deserialize;

use crate::model::{
    cap_list, cap_text, parse_time, Event, MAX_FIELD, MAX_LANGS, MAX_LINKS, MAX_TEXT,
};

pub(crate) const POST_COLLECTION: &str = "app.bsky.feed.post";
pub(crate) const DEFAULT_POST_URL_BASE: &str = "https://bsky.app";

/// The fields of a post relais reads; the rest is ignored. Lenient on purpose: a field of an
/// unexpected shape inside an embed must not drop the post's text.
#[derive(Debug, Deserialize)]
pub(crate) struct PostRecord {
    #[serde(default)]
    pub text: String,
    #[serde(rename = "createdAt", default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub langs: Option<Vec<String>>,
    #[serde(default)]
    pub facets: Option<Vec<Facet>>,
    #[serde(default)]
    pub embed: Option<Embed>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Facet {
    #[serde(default)]
    pub features: Vec<Feature>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Feature {
    #[serde(rename = "$type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Embed {
    #[serde(default)]
    pub external: Option<External>,
    /// `app.bsky.embed.recordWithMedia`: the media part may be an external link.
    #[serde(default)]
    pub media: Option<Box<Embed>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct External {
    #[serde(default)]
    pub uri: Option<String>,
}

/// DIDs are `did:<method>:<id>` with a restricted alphabet (atproto.com/specs/did).
pub(crate) fn valid_did(did: &str) -> bool {
    did.len() <= MAX_FIELD
        && did.starts_with("did:")
        && did.split(':').count() >= 3
        && did
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:%-".contains(&b))
}

/// Record keys: 1–512 chars of `A-Za-z0-9._:~-`, not `.` or `..` (atproto.com/specs/record-key).
pub(crate) fn valid_rkey(rkey: &str) -> bool {
    (1..=512).contains(&rkey.len())
        && rkey != "."
        && rkey != ".."
        && rkey
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:~-".contains(&b))
}

fn links(rec: &PostRecord) -> Vec<String> {
    let facet_links = rec
        .facets
        .iter()
        .flatten()
        .flat_map(|f| &f.features)
        .filter(|f| f.kind.as_deref() == Some("app.bsky.richtext.facet#link"))
        .filter_map(|f| f.uri.clone());
    let mut embeds = Vec::new();
    let mut e = rec.embed.as_ref();
    // recordWithMedia nests one level; a hostile chain stops at a few.
    for _ in 0..4 {
        let Some(cur) = e else { break };
        if let Some(u) = cur.external.as_ref().and_then(|x| x.uri.clone()) {
            embeds.push(u);
        }
        e = cur.media.as_deref();
    }
    cap_list(
        facet_links
            .chain(embeds)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        MAX_LINKS,
    )
}

/// The event of a post by `did` with record key `rkey`; `None` when the identifiers are invalid.
pub(crate) fn post_event(did: &str, rkey: &str, rec: PostRecord, url_base: &str) -> Option<Event> {
    if !valid_did(did) || !valid_rkey(rkey) {
        return None;
    }
    let links = links(&rec);
    Some(Event {
        guid: format!("at://{did}/{POST_COLLECTION}/{rkey}"),
        url: Some(format!(
            "{}/profile/{did}/post/{rkey}",
            url_base.trim_end_matches('/')
        )),
        author: Some(did.to_owned()),
        title: None,
        text: cap_text(rec.text, MAX_TEXT),
        langs: cap_list(rec.langs.unwrap_or_default(), MAX_LANGS),
        links,
        published_at_ms: rec.created_at.as_deref().and_then(parse_time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_to_event() {
        let rec: PostRecord = serde_json::from_value(serde_json::json!({
            "$type": "app.bsky.feed.post",
            "text": "voir https://example.org/a",
            "createdAt": "2024-01-02T03:04:05.678Z",
            "langs": ["fr", "fr", ""],
            "facets": [
                {"index": {"byteStart": 5, "byteEnd": 26},
                 "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/a"}]},
                {"index": {"byteStart": 0, "byteEnd": 1},
                 "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:x"}]},
                {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "javascript:alert(1)"}]}
            ],
            "embed": {"$type": "app.bsky.embed.recordWithMedia",
                      "record": {"record": {"uri": "at://x", "cid": "y"}},
                      "media": {"$type": "app.bsky.embed.external",
                                "external": {"uri": "https://example.com/b", "title": "B"}}}
        }))
        .unwrap();
        let e = post_event("did:plc:abc", "3kabc", rec, DEFAULT_POST_URL_BASE).unwrap();
        assert_eq!(e.guid, "at://did:plc:abc/app.bsky.feed.post/3kabc");
        assert_eq!(
            e.url.as_deref(),
            Some("https://bsky.app/profile/did:plc:abc/post/3kabc")
        );
        assert_eq!(e.langs, vec!["fr"]);
        assert_eq!(
            e.links,
            vec!["https://example.org/a", "https://example.com/b"]
        );
        assert_eq!(e.published_at_ms, Some(1704164645678));
    }

    #[test]
    fn identifiers_are_checked() {
        assert!(valid_did("did:plc:abc123"));
        assert!(valid_did("did:web:example.com%3A8080"));
        assert!(!valid_did("did:plc"));
        assert!(!valid_did("did:plc:a/b"));
        assert!(!valid_rkey(".."));
        assert!(!valid_rkey("a/b"));
        assert!(valid_rkey("3jui7kd2z2y2a"));
        let rec = || PostRecord {
            text: "x".into(),
            created_at: None,
            langs: None,
            facets: None,
            embed: None,
        };
        assert!(post_event("did:plc:a b", "k", rec(), "").is_none());
        assert!(post_event("did:plc:a", "k/1", rec(), "").is_none());
    }
}
