//! OPML import (folders → tags, bad outlines skipped, non-OPML rejected with a line) and export.

use relais_feeds::opml::{export, import, Opml, OpmlFeed};
use relais_feeds::ErrorCode;

const SUBS: &str = include_str!("fixtures/subscriptions.opml");

#[test]
fn imports_nested_folders_as_tags() {
    let doc = import(SUBS.as_bytes()).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Veille & médias"));
    let urls: Vec<&str> = doc.feeds.iter().map(|f| f.xml_url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://www.leprogres.example/rss",
            "https://techdaily.example/feed",
            "https://brulerie.example/feed/",
        ]
    );
    let progres = &doc.feeds[0];
    assert_eq!(progres.tags, ["Presse", "Régionale"]);
    assert_eq!(progres.title.as_deref(), Some("Le Progrès"));
    assert_eq!(
        progres.html_url.as_deref(),
        Some("https://www.leprogres.example/")
    );
    // `category` paths split into tags; the duplicate outline merges its folder in.
    assert_eq!(
        doc.feeds[1].tags,
        ["Presse", "Tech", "Rust", "Veille", "Doublon"]
    );
    // Lower-case `xmlurl`, no folder.
    assert!(doc.feeds[2].tags.is_empty());
    // The javascript: outline is skipped with a warning naming its line.
    assert_eq!(doc.warnings.len(), 1);
    assert!(
        doc.warnings[0].starts_with("line 17:"),
        "{:?}",
        doc.warnings
    );
}

#[test]
fn export_then_import_round_trips() {
    let doc = Opml {
        title: Some("Abonnements <relais>".into()),
        feeds: vec![
            OpmlFeed {
                xml_url: "https://a.example/feed?x=1&y=2".into(),
                html_url: Some("https://a.example/".into()),
                title: Some("L'équipe \"A\"".into()),
                tags: vec!["Presse".into(), "Sport".into()],
            },
            OpmlFeed {
                xml_url: "https://b.example/rss".into(),
                html_url: None,
                title: None,
                tags: vec![],
            },
            OpmlFeed {
                xml_url: "https://c.example/atom".into(),
                html_url: None,
                title: Some("C".into()),
                tags: vec!["Presse".into()],
            },
        ],
        warnings: vec![],
    };
    let xml = export(&doc);
    let back = import(xml.as_bytes()).unwrap();
    assert_eq!(back.title, doc.title);
    assert_eq!(back.feeds.len(), 3);
    let a = back
        .feeds
        .iter()
        .find(|f| f.xml_url.starts_with("https://a."))
        .unwrap();
    assert_eq!(a, &doc.feeds[0]);
    let b = back
        .feeds
        .iter()
        .find(|f| f.xml_url.starts_with("https://b."))
        .unwrap();
    assert_eq!(b.title.as_deref(), Some("https://b.example/rss"));
    assert!(b.tags.is_empty());
    let c = back
        .feeds
        .iter()
        .find(|f| f.xml_url.starts_with("https://c."))
        .unwrap();
    assert_eq!(c.tags, ["Presse"]);
}

#[test]
fn rejects_non_opml_with_a_line() {
    let rss = b"<?xml version=\"1.0\"?>\n<!-- a feed -->\n<rss version=\"2.0\"><channel/></rss>";
    let e = import(rss).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotOpml);
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("<rss>"), "{e}");

    assert_eq!(import(b"").unwrap_err().code, ErrorCode::Empty);
    assert_eq!(
        import(b"name,url\nA,https://a").unwrap_err().code,
        ErrorCode::NotOpml
    );
    assert_eq!(
        import(b"<!DOCTYPE html><html><body>x</body></html>")
            .unwrap_err()
            .code,
        ErrorCode::NotOpml
    );
    let cut = &SUBS.as_bytes()[..SUBS.len() / 2];
    assert_eq!(import(cut).unwrap_err().code, ErrorCode::Truncated);
    let bad = b"<opml>\n<body>\n<outline></body></opml>";
    let e = import(bad).unwrap_err();
    assert_eq!((e.code, e.line), (ErrorCode::Malformed, Some(3)), "{e}");
}

#[test]
fn latin1_opml_and_limits() {
    let body: Vec<u8> = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml><body>\
        <outline text=\"Fran\u{e7}ais\"><outline xmlUrl=\"https://f.example/rss\" text=\"\u{e9}t\u{e9}\"/></outline>\
        </body></opml>"
        .chars()
        .map(|c| c as u32 as u8)
        .collect();
    let doc = import(&body).unwrap();
    assert_eq!(doc.feeds[0].tags, ["Français"]);
    assert_eq!(doc.feeds[0].title.as_deref(), Some("été"));

    let deep = format!("<opml><body>{}", "<outline text=\"x\">".repeat(100));
    assert_eq!(
        import(deep.as_bytes()).unwrap_err().code,
        ErrorCode::Malformed
    );
    let big = vec![b' '; relais_feeds::opml::MAX_OPML_BYTES + 1];
    assert_eq!(import(&big).unwrap_err().code, ErrorCode::TooLarge);
}
