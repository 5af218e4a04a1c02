//! Parsing real-looking and hostile documents: normalised items, stable error codes, no panic.

use std::time::{Duration, Instant};

use relais_feeds::{parse, ErrorCode, FeedFormat, ParseOptions, ParsedFeed};

const RSS_FR: &str = include_str!("fixtures/rss2_fr.xml");
const ATOM_EN: &str = include_str!("fixtures/atom_en.xml");
const JSON_FEED: &str = include_str!("fixtures/feed.json");
const RSS1: &str = include_str!("fixtures/rss1.xml");
const RSS091: &str = include_str!("fixtures/rss091.xml");
const LAUGHS: &str = include_str!("fixtures/billion_laughs.xml");

fn ok(body: &[u8]) -> ParsedFeed {
    parse(
        body,
        None,
        Some("https://brulerie.example/feed/"),
        &ParseOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn err(body: &[u8]) -> relais_feeds::FeedError {
    parse(body, None, None, &ParseOptions::default()).expect_err("should fail")
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

#[test]
fn rss2_french_blog() {
    let f = ok(RSS_FR.as_bytes());
    assert_eq!(f.format, FeedFormat::Rss2);
    assert_eq!(f.title.as_deref(), Some("Le blog de la Brûlerie"));
    assert_eq!(f.site_url.as_deref(), Some("https://brulerie.example/"));
    assert_eq!(f.language.as_deref(), Some("fr-FR"));
    assert_eq!(f.items.len(), 3);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);

    let a = &f.items[0];
    assert_eq!(a.guid, "https://brulerie.example/?p=412");
    assert_eq!(
        a.title.as_deref(),
        Some("Nouvel arrivage : Éthiopie Guji & Kenya AA")
    );
    assert_eq!(
        a.url.as_deref(),
        Some("https://brulerie.example/2026/11/17/arrivage-ethiopie/")
    );
    assert_eq!(a.author.as_deref(), Some("Élodie Martin"));
    assert_eq!(a.published_at, Some(ms("2026-11-17T08:30:00Z")));
    assert_eq!(a.language.as_deref(), Some("fr-FR"));
    assert_eq!(
        a.summary_text,
        "Deux cafés d\u{2019}exception arrivent cette semaine : notes de pêche blanche et de cassis."
    );
    // Raw content: the caller sanitizes it for display.
    let html = a.content_html.as_deref().unwrap();
    assert!(html.contains("<img") && html.contains("<script>"), "{html}");

    // No guid: the (resolved) link is the id.
    let b = &f.items[1];
    assert_eq!(
        b.url.as_deref(),
        Some("https://brulerie.example/2026/11/10/atelier-degustation/")
    );
    assert_eq!(b.guid, b.url.clone().unwrap());
    // No content:encoded: the description (HTML in RSS) is the content.
    assert_eq!(
        b.content_html.as_deref(),
        Some("Inscrivez-vous à l'atelier de samedi : 12 places.")
    );
    assert_eq!(
        b.summary_text,
        "Inscrivez-vous à l'atelier de samedi : 12 places."
    );

    // Neither guid nor link: a hash of title + date, the same on every parse.
    let c = &f.items[2];
    assert!(c.guid.starts_with("sha256:"), "{}", c.guid);
    assert_eq!(ok(RSS_FR.as_bytes()).items[2].guid, c.guid);
    let renamed = RSS_FR.replace("Horaires de Noël", "Horaires des fêtes");
    assert_ne!(ok(renamed.as_bytes()).items[2].guid, c.guid);
}

#[test]
fn atom_english_blog() {
    let f = ok(ATOM_EN.as_bytes());
    assert_eq!(f.format, FeedFormat::Atom);
    assert_eq!(f.site_url.as_deref(), Some("https://eng.harbor.example/"));
    let a = &f.items[0];
    assert_eq!(a.guid, "tag:eng.harbor.example,2026:cli-v2");
    assert_eq!(a.title.as_deref(), Some("Shipping v2.0 of the CLI"));
    assert_eq!(
        a.url.as_deref(),
        Some("https://eng.harbor.example/posts/cli-v2")
    );
    assert_eq!(a.author.as_deref(), Some("Dana Lee"));
    assert_eq!(a.published_at, Some(ms("2026-11-18T12:00:00Z")));
    assert_eq!(
        a.summary_text,
        "Faster installs, a new config format and fewer surprises."
    );
    assert!(a
        .content_html
        .as_deref()
        .unwrap()
        .contains("<strong>v2.0</strong>"));

    let b = &f.items[1];
    // No author on the entry: the feed's.
    assert_eq!(b.author.as_deref(), Some("Harbor Engineering"));
    // feed-rs reads xml:lang on the feed only.
    assert_eq!(b.language.as_deref(), Some("en"));
    // No published date: updated.
    assert_eq!(b.published_at, Some(ms("2026-11-16T09:00:00Z")));
    assert_eq!(
        b.summary_text,
        "A misconfigured load balancer dropped 3% of requests."
    );
}

#[test]
fn json_feed() {
    let f = ok(JSON_FEED.as_bytes());
    assert_eq!(f.format, FeedFormat::JsonFeed);
    assert_eq!(f.title.as_deref(), Some("Notes de terrain"));
    assert_eq!(f.items.len(), 2);
    let a = &f.items[0];
    assert_eq!(a.guid, "2026-11-19-marche");
    assert_eq!(a.summary_text, "Rendez-vous place Bellecour dès 10 h.");
    assert_eq!(a.published_at, Some(ms("2026-11-19T07:00:00Z")));
    assert_eq!(a.language.as_deref(), Some("fr"));
    let b = &f.items[1];
    assert_eq!(
        b.summary_text,
        "Nouvelle piste cyclable quai Claude-Bernard."
    );
    // feed-rs maps the feed's language, not the item's (JSON Feed 1.1).
    assert_eq!(b.language.as_deref(), Some("fr"));
}

#[test]
fn rss1_and_rss091() {
    let f = ok(RSS1.as_bytes());
    assert_eq!(f.format, FeedFormat::Rss1);
    assert_eq!(f.items[0].guid, "https://old.example/1");
    assert_eq!(f.items[0].published_at, Some(ms("2026-10-01T10:00:00Z")));
    let f = ok(RSS091.as_bytes());
    assert_eq!(f.format, FeedFormat::Rss0);
    assert_eq!(f.items[0].title.as_deref(), Some("Netscape era"));
}

#[test]
fn billion_laughs_does_not_expand() {
    let t = Instant::now();
    let f = ok(LAUGHS.as_bytes());
    assert!(t.elapsed() < Duration::from_secs(2));
    // Custom entities are left as written, never expanded.
    let title = f.items[0].title.clone().unwrap();
    assert_eq!(title, "&lol9;");
    assert!(f.items[0].summary_text.len() < 100);
}

#[test]
fn latin1_declared_but_utf8() {
    let body = RSS_FR.replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
    let f = ok(body.as_bytes());
    assert_eq!(f.title.as_deref(), Some("Le blog de la Brûlerie"));
    assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(c as u32).expect("latin-1"))
        .collect()
}

#[test]
fn utf8_declared_but_latin1() {
    let body = latin1(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
         <title>Café crème</title><item><title>Crème brûlée</title><guid>1</guid></item>\
         </channel></rss>",
    );
    let f = ok(&body);
    assert_eq!(f.title.as_deref(), Some("Café crème"));
    assert_eq!(f.items[0].title.as_deref(), Some("Crème brûlée"));
    assert!(f.warnings[0].contains("windows-1252"), "{:?}", f.warnings);
    // Declared correctly: no warning.
    let ok_decl = latin1(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel>\
         <title>Café</title></channel></rss>",
    );
    assert!(ok(&ok_decl).warnings.is_empty());
}

#[test]
fn utf16_feed() {
    let mut body = vec![0xff, 0xfe];
    body.extend(RSS_FR.encode_utf16().flat_map(|u| u.to_le_bytes()));
    assert_eq!(ok(&body).items.len(), 3);
}

#[test]
fn undecodable_is_encoding() {
    let body = b"<?xml version=\"1.0\" encoding=\"x-klingon\"?><rss version=\"2.0\">\xe9</rss>";
    assert_eq!(err(body).code, ErrorCode::Encoding);
}

#[test]
fn truncated_documents() {
    let cut = &RSS_FR.as_bytes()[..RSS_FR.len() / 2];
    let e = err(cut);
    assert_eq!(e.code, ErrorCode::Truncated, "{e}");
    assert!(e.line.is_some());
    let cut = &JSON_FEED.as_bytes()[..JSON_FEED.len() / 2];
    assert_eq!(err(cut).code, ErrorCode::Truncated);
    // Cut inside a tag.
    let e = err(b"<rss version=\"2.0\"><channel><item><tit");
    assert_eq!(e.code, ErrorCode::Truncated, "{e}");
}

#[test]
fn not_feeds() {
    let page = br#"<!DOCTYPE html><html><head><title>Blog</title>
        <link rel="alternate" type="application/rss+xml" href="/feed/"></head><body>Bonjour</body></html>"#;
    let e = parse(
        page,
        None,
        Some("https://brulerie.example/blog/"),
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotAFeed);
    assert!(e.message.contains("https://brulerie.example/feed/"), "{e}");

    assert_eq!(err(b"").code, ErrorCode::Empty);
    assert_eq!(err(b" \n\t ").code, ErrorCode::Empty);
    assert_eq!(err(b"hello world").code, ErrorCode::NotAFeed);
    assert_eq!(err(b"<svg xmlns='x'><g/></svg>").code, ErrorCode::NotAFeed);
    assert_eq!(
        err(b"<opml version='2.0'><body/></opml>").code,
        ErrorCode::NotAFeed
    );
    assert_eq!(err(b"{\"hello\": 1}").code, ErrorCode::NotAFeed);
    assert_eq!(err(b"[1,2]").code, ErrorCode::NotAFeed);
    assert_eq!(
        err(b"<rss version=\"9.9\"><channel/></rss>").code,
        ErrorCode::NotAFeed
    );
    assert_eq!(
        err(b"<rss><channel></item></rss>").code,
        ErrorCode::Malformed
    );
}

#[test]
fn deep_nesting_is_refused_quickly() {
    let depth = 200_000;
    let mut doc = String::from("<rss version=\"2.0\"><channel><item><description>");
    doc.push_str(&"<div>".repeat(depth));
    let t = Instant::now();
    assert_eq!(err(doc.as_bytes()).code, ErrorCode::Malformed);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn item_cap_keeps_the_newest() {
    let mut doc = String::from("<rss version=\"2.0\"><channel><title>t</title>");
    for i in 0..50 {
        doc.push_str(&format!(
            "<item><guid>g{i}</guid><pubDate>{}</pubDate></item>",
            chrono::DateTime::from_timestamp(1_700_000_000 + i * 3600, 0)
                .unwrap()
                .to_rfc2822()
        ));
    }
    doc.push_str("</channel></rss>");
    let opts = ParseOptions {
        max_items: 10,
        ..ParseOptions::default()
    };
    let f = parse(doc.as_bytes(), None, None, &opts).unwrap();
    assert_eq!(f.items.len(), 10);
    assert_eq!(f.items[0].guid, "g40");
    assert_eq!(f.warnings.len(), 1);
}

#[test]
fn long_content_is_capped() {
    let big = "é".repeat(400_000);
    let doc = format!(
        "<rss version=\"2.0\"><channel><item><guid>1</guid><description>{big}</description></item></channel></rss>"
    );
    let f = ok(doc.as_bytes());
    let it = &f.items[0];
    assert!(it.content_html.as_ref().unwrap().len() <= 512 * 1024);
    assert!(it.summary_text.chars().count() <= 1001);
}

/// A small deterministic fuzz: mutations of every fixture must give Ok or a coded error.
#[test]
fn mutations_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let interesting: [&[u8]; 10] = [
        b"<",
        b">",
        b"&",
        b"]]>",
        b"<![CDATA[",
        b"<?xml encoding='utf-16'?>",
        b"\xff\xfe",
        b"\0",
        b"&#x0;",
        b"\"",
    ];
    for fixture in [RSS_FR, ATOM_EN, JSON_FEED, RSS1, RSS091, LAUGHS] {
        let base = fixture.as_bytes();
        for _ in 0..300 {
            let mut doc = base.to_vec();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % (doc.len() + 1);
                match next() % 4 {
                    0 => doc.truncate(at),
                    1 => {
                        let ins = interesting[(next() as usize) % interesting.len()];
                        doc.splice(at..at, ins.iter().copied());
                    }
                    2 if at < doc.len() => doc[at] = next() as u8,
                    _ => {
                        let end = (at + (next() as usize) % 64).min(doc.len());
                        doc.drain(at..end);
                    }
                }
            }
            let _ = parse(
                &doc,
                Some("text/xml; charset=utf-8"),
                Some("https://x.example/"),
                &ParseOptions::default(),
            );
        }
    }
}

/// Nesting just under the limit, where feed-rs walks unknown or XHTML elements: parses, and
/// does not exhaust a 2 MiB test-thread stack (debug build).
#[test]
fn nesting_at_the_limit_parses() {
    let n = ParseOptions::default().max_depth - 6;
    let nest = |tag: &str| {
        format!(
            "{}x{}",
            format!("<{tag}>").repeat(n),
            format!("</{tag}>").repeat(n)
        )
    };
    let docs = [
        format!("<rss version=\"2.0\"><channel>{}<item><guid>1</guid></item></channel></rss>", nest("ext")),
        format!("<rss version=\"2.0\"><channel><item><guid>1</guid>{}</item></channel></rss>", nest("ext")),
        format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id><content type=\"xhtml\">{}</content></entry></feed>",
            nest("div")
        ),
    ];
    for d in docs {
        let f = ok(d.as_bytes());
        assert_eq!(f.items.len(), 1);
    }
}
