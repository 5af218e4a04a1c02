//! Per-network text counting rules (pure functions) and media rules (data), DESIGN §3.

use unicode_segmentation::UnicodeSegmentation;

use crate::{Problem, Variant};

/// Length every network counts a URL as when it shortens links (Mastodon, X).
pub const URL_WEIGHT: usize = 23;

/// Byte ranges of `http://` / `https://` URLs in `text`: up to whitespace, without trailing
/// sentence punctuation (`.`, `,`, `)`…) so that "see https://x.org." links `https://x.org`.
pub fn find_urls(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let Some(pos) = rest.find("http") else { break };
        let start = i + pos;
        let tail = &text[start..];
        let boundary_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if boundary_ok && (tail.starts_with("http://") || tail.starts_with("https://")) {
            let mut end = start + tail.find(char::is_whitespace).unwrap_or(tail.len());
            while end > start {
                let c = text[..end].chars().next_back().unwrap();
                if ".,;:!?\"')]}>".contains(c) {
                    end -= c.len_utf8();
                } else {
                    break;
                }
            }
            let scheme_len = if tail.starts_with("https://") { 8 } else { 7 };
            if end > start + scheme_len {
                out.push((start, end));
                i = end;
                continue;
            }
        }
        i = start + 4;
    }
    out
}

/// Count `text` with each URL replaced by `url_weight` units and the rest counted by `unit`.
fn count_with_urls(text: &str, url_weight: usize, unit: impl Fn(&str) -> usize) -> usize {
    let mut n = 0;
    let mut last = 0;
    for (s, e) in find_urls(text) {
        n += unit(&text[last..s]) + url_weight;
        last = e;
    }
    n + unit(&text[last..])
}

/// Bluesky: extended grapheme clusters (limit 300) — check [`BLUESKY_MAX_BYTES`] too.
pub fn bluesky_graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}
pub const BLUESKY_MAX_GRAPHEMES: usize = 300;
pub const BLUESKY_MAX_BYTES: usize = 3000;

/// Mastodon: grapheme clusters (its StatusLengthValidator counts `each_grapheme_cluster`, so a
/// family emoji is 1), each URL counts `url_weight` (instance setting, 23 by default) and a remote
/// mention `@user@domain` counts as `@user`.
pub fn mastodon_len(text: &str, url_weight: usize) -> usize {
    count_with_urls(text, url_weight, |s| {
        let mut n = 0;
        for word in s.split_inclusive(char::is_whitespace) {
            let w = word.trim_end();
            let ws = word.len() - w.len();
            let counted = match w.strip_prefix('@').and_then(|r| r.split_once('@')) {
                Some((user, domain)) if !user.is_empty() && domain.contains('.') => {
                    1 + user.graphemes(true).count()
                }
                _ => w.graphemes(true).count(),
            };
            n += counted + word[word.len() - ws..].chars().count();
        }
        n
    })
}
pub const MASTODON_DEFAULT_MAX: usize = 500;

mod x_text;

/// X: weighted length per twitter-text v3 (NFC; CJK and emoji weigh 2, an emoji sequence counts
/// once; a URL, with or without `http(s)://`, weighs 23). Limit [`X_MAX`].
pub fn x_weighted_len(text: &str) -> usize {
    x_text::weighted_len(text)
}

/// URLs as X and Threads find them: with or without protocol (`example.com`, `t.co`).
pub fn bare_urls(text: &str) -> Vec<(usize, usize)> {
    x_text::urls(text)
}
pub const X_MAX: usize = 280;

/// Telegram: UTF-16 code units (4,096 for a message, 1,024 for a caption).
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}
pub const TELEGRAM_MAX: usize = 4096;
pub const TELEGRAM_CAPTION_MAX: usize = 1024;

/// Threads: characters, but an emoji counts as its UTF-8 byte length. Limit 500.
pub fn threads_len(text: &str) -> usize {
    text.chars()
        .map(|c| {
            let u = c as u32;
            if u >= 0x1F000 || (0x2600..=0x27BF).contains(&u) || u == 0xFE0F || u == 0x200D {
                c.len_utf8()
            } else {
                1
            }
        })
        .sum()
}
pub const THREADS_MAX: usize = 500;

/// Threads refuses posts with more than this many distinct links (`THREADS_API__LINK_LIMIT_EXCEEDED`).
pub const THREADS_MAX_LINKS: usize = 5;

/// Distinct links in `text` (with or without protocol, compared without scheme and case).
pub fn distinct_links(text: &str) -> usize {
    let mut seen: Vec<String> = bare_urls(text)
        .into_iter()
        .map(|(s, e)| {
            let u = text[s..e].to_lowercase();
            let u = u
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            u.trim_end_matches('/').to_owned()
        })
        .collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

/// `#tag` and `@handle` tokens: the sign at a word start followed by a letter, digit or `_`.
fn sigil_count(text: &str, sigil: char) -> usize {
    let mut n = 0;
    let mut prev: Option<char> = None;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        if c == sigil
            && prev.is_none_or(|p| !p.is_alphanumeric() && p != '_' && p != sigil)
            && it.peek().is_some_and(|x| x.is_alphanumeric() || *x == '_')
        {
            n += 1;
        }
        prev = Some(c);
    }
    n
}

pub fn hashtag_count(text: &str) -> usize {
    sigil_count(text, '#')
}

pub fn mention_count(text: &str) -> usize {
    sigil_count(text, '@')
}

/// Instagram caption: 2,200 characters, at most 20 `@` mentions (API reference, `caption`) and
/// 5 hashtags (Instagram's limit since December 2025; the API reference still says 30).
pub const INSTAGRAM_MAX: usize = 2200;
pub const INSTAGRAM_MAX_HASHTAGS: usize = 5;
pub const INSTAGRAM_MAX_MENTIONS: usize = 20;
pub const FACEBOOK_MAX: usize = 63_206;
pub const LINKEDIN_MAX: usize = 3000;

/// Discord (and most others): Unicode scalar values.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}
pub const DISCORD_MAX: usize = 2000;

/// Networks relais knows limits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Mastodon,
    Bluesky,
    X,
    Threads,
    Instagram,
    Facebook,
    LinkedIn,
    Telegram,
    Discord,
    Matrix,
    WordPress,
    Webhook,
    Newsletter,
}

/// Media rules of a network, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRules {
    /// Most attachments per post (0 = text only).
    pub max_items: usize,
    /// Largest image accepted, in bytes (`None`: no documented limit).
    pub max_image_bytes: Option<u64>,
    /// Accepted MIME types (empty: any).
    pub mimes: &'static [&'static str],
    /// Longest alt text, in characters.
    pub max_alt_chars: Option<usize>,
}

const IMAGES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Media rules per network (Mastodon values are defaults; read the instance for real ones).
pub fn media_rules(network: Network) -> MediaRules {
    let r = |max_items, max_image_bytes, mimes, max_alt_chars| MediaRules {
        max_items,
        max_image_bytes,
        mimes,
        max_alt_chars,
    };
    match network {
        Network::Mastodon => r(4, Some(16 * 1024 * 1024), &[], Some(1500)),
        Network::Bluesky => r(4, Some(1_000_000), IMAGES, Some(2000)),
        // X: 4 images of 5 MB; alt text 1,000 characters (media metadata).
        Network::X => r(4, Some(5 * 1024 * 1024), IMAGES, Some(1000)),
        // Threads: carousel of up to 20, JPEG/PNG up to 8 MB.
        Network::Threads => r(
            20,
            Some(8 * 1024 * 1024),
            &["image/jpeg", "image/png"],
            Some(1000),
        ),
        // Instagram: JPEG only, carousel of up to 10, 8 MB.
        Network::Instagram => r(10, Some(8 * 1024 * 1024), &["image/jpeg"], Some(1000)),
        Network::Facebook => r(10, Some(10 * 1024 * 1024), IMAGES, None),
        // LinkedIn: multiImage takes up to 20, but the feed shows 9; JPEG, PNG, GIF.
        Network::LinkedIn => r(
            9,
            None,
            &["image/jpeg", "image/png", "image/gif"],
            Some(4086),
        ),
        Network::Telegram => r(10, Some(10 * 1024 * 1024), IMAGES, None),
        Network::Discord => r(10, Some(10 * 1024 * 1024), &[], None),
        Network::Matrix => r(1, None, &[], None),
        Network::WordPress => r(1, None, IMAGES, None),
        Network::Webhook | Network::Newsletter => r(0, None, &[], None),
    }
}

/// Text rule of a network: (counted length, limit, unit name).
pub fn text_len(
    network: Network,
    text: &str,
    caption: bool,
) -> Option<(usize, usize, &'static str)> {
    Some(match network {
        Network::Mastodon => (
            mastodon_len(text, URL_WEIGHT),
            MASTODON_DEFAULT_MAX,
            "characters",
        ),
        Network::Bluesky => (bluesky_graphemes(text), BLUESKY_MAX_GRAPHEMES, "graphemes"),
        Network::X => (x_weighted_len(text), X_MAX, "weighted characters"),
        Network::Threads => (threads_len(text), THREADS_MAX, "characters"),
        Network::Instagram => (char_len(text), INSTAGRAM_MAX, "characters"),
        Network::Facebook => (char_len(text), FACEBOOK_MAX, "characters"),
        Network::LinkedIn => (char_len(text), LINKEDIN_MAX, "characters"),
        Network::Telegram if caption => (utf16_len(text), TELEGRAM_CAPTION_MAX, "UTF-16 units"),
        Network::Telegram => (utf16_len(text), TELEGRAM_MAX, "UTF-16 units"),
        Network::Discord => (char_len(text), DISCORD_MAX, "characters"),
        // Matrix events are capped at 64 KiB in total; keep the body well under it.
        Network::Matrix => (text.len(), 60_000, "bytes"),
        Network::WordPress | Network::Webhook | Network::Newsletter => return None,
    })
}

/// Problems of a variant against a text limit and media rules (shared by connectors).
pub fn check(
    text_rule: Option<(usize, usize, &'static str)>,
    rules: MediaRules,
    v: &Variant,
) -> Vec<Problem> {
    let mut out = Vec::new();
    if v.text.trim().is_empty() && v.media.is_empty() && v.html.is_none() {
        out.push(Problem::new("empty", "the post has no text and no media"));
    }
    if let Some((n, max, unit)) = text_rule {
        if n > max {
            out.push(Problem::new(
                "text_too_long",
                format!("{n} {unit}, the limit is {max}"),
            ));
        }
    }
    if v.media.len() > rules.max_items {
        out.push(Problem::new(
            "too_many_media",
            format!("{} attachments, at most {}", v.media.len(), rules.max_items),
        ));
    }
    for m in &v.media {
        if !rules.mimes.is_empty() && !rules.mimes.contains(&m.mime.as_str()) {
            out.push(Problem::new(
                "media_type",
                format!("{}: {} is not accepted", m.filename, m.mime),
            ));
        }
        if let Some(max) = rules.max_image_bytes {
            if m.mime.starts_with("image/") && m.data.len() as u64 > max {
                out.push(Problem::new(
                    "media_too_large",
                    format!("{}: {} bytes, at most {max}", m.filename, m.data.len()),
                ));
            }
        }
        if let (Some(max), Some(alt)) = (rules.max_alt_chars, &m.alt) {
            if alt.chars().count() > max {
                out.push(Problem::new(
                    "alt_too_long",
                    format!("{}: alt text over {max} characters", m.filename),
                ));
            }
        }
    }
    out
}

/// Generic validation for a network with the default limits.
pub fn validate(network: Network, v: &Variant) -> Vec<Problem> {
    let caption = !v.media.is_empty();
    let mut p = check(text_len(network, &v.text, caption), media_rules(network), v);
    if network == Network::Bluesky && v.text.len() > BLUESKY_MAX_BYTES {
        p.push(Problem::new(
            "text_too_long",
            format!("{} bytes, the limit is {BLUESKY_MAX_BYTES}", v.text.len()),
        ));
    }
    let mut over = |code, n: usize, max: usize, what: &str| {
        if n > max {
            p.push(Problem::new(code, format!("{n} {what}, at most {max}")));
        }
    };
    match network {
        Network::Instagram => {
            over(
                "too_many_hashtags",
                hashtag_count(&v.text),
                INSTAGRAM_MAX_HASHTAGS,
                "hashtags",
            );
            over(
                "too_many_mentions",
                mention_count(&v.text),
                INSTAGRAM_MAX_MENTIONS,
                "mentions",
            );
        }
        Network::Threads => {
            over(
                "too_many_links",
                distinct_links(&v.text),
                THREADS_MAX_LINKS,
                "links",
            );
        }
        _ => {}
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = "see https://example.org/a?b=1. and (http://x.io) httpfoo http://";
        let u: Vec<&str> = find_urls(t).into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(u, ["https://example.org/a?b=1", "http://x.io"]);
    }

    #[test]
    fn counting() {
        // A family emoji is one grapheme, 7 scalar values, 25 bytes.
        let fam = "👨‍👩‍👧‍👦";
        assert_eq!(bluesky_graphemes(fam), 1);
        assert_eq!(bluesky_graphemes("é"), 1); // e + combining accent
        assert_eq!(utf16_len("😀a"), 3);
        assert_eq!(x_weighted_len("日本"), 4);
        assert_eq!(
            x_weighted_len("hi https://example.org/a/very/long/path/indeed"),
            3 + 23
        );
        assert_eq!(
            mastodon_len(
                &format!("a {}", "https://e.org/".to_owned() + &"x".repeat(100)),
                23
            ),
            2 + 23
        );
        assert_eq!(mastodon_len("hi @bob@example.social", 23), 3 + 4);
        assert_eq!(threads_len("ab😀"), 2 + 4);
    }

    #[test]
    fn validates() {
        let v = Variant {
            text: "x".repeat(301),
            ..Default::default()
        };
        assert_eq!(validate(Network::Bluesky, &v)[0].code, "text_too_long");
        let v = Variant {
            text: "é".repeat(1600),
            ..Default::default()
        };
        // 1,600 graphemes > 300 and 3,200 bytes > 3,000: two problems.
        assert_eq!(validate(Network::Bluesky, &v).len(), 2);
        let v = Variant {
            text: "x".repeat(1025),
            media: vec![crate::Media {
                mime: "image/png".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(validate(Network::Telegram, &v)[0].code, "text_too_long");
        assert!(validate(
            Network::Discord,
            &Variant {
                text: "ok".into(),
                ..Default::default()
            }
        )
        .is_empty());
    }
}
