//! X's weighted length, after twitter-text v3 (config/v3.json): text is NFC-normalized; code
//! points in four ranges weigh 1, every other one 2; an emoji sequence (ZWJ family, skin tone,
//! flag, keycap) weighs 2 as a whole; each URL weighs 23, with or without `http(s)://`.
//! https://github.com/twitter/twitter-text/blob/master/config/v3.json
//! https://docs.x.com/resources/fundamentals/counting-characters

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// `weight: 100` ranges of config v3 (Latin to Georgian, general punctuation blocks).
const LIGHT: [(u32, u32); 4] = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)];
const URL_WEIGHT: usize = 23;

fn weight(c: char) -> usize {
    let u = c as u32;
    if LIGHT.iter().any(|(a, b)| (*a..=*b).contains(&u)) {
        1
    } else {
        2
    }
}

/// Pictographic code points (an approximation of Extended_Pictographic by blocks).
fn pictographic(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
        | 0x2190..=0x21FF | 0x25A0..=0x25FF | 0x2900..=0x297F
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122
        | 0x2139 | 0x24C2)
}

/// A multi-code-point grapheme that is an emoji sequence.
fn emoji_sequence(g: &str) -> bool {
    let mut n = 0;
    let mut emojiish = false;
    for c in g.chars() {
        n += 1;
        let u = c as u32;
        emojiish |= pictographic(c)
            || (0x1F1E6..=0x1F1FF).contains(&u) // regional indicators (flags)
            || u == 0x20E3; // keycap
    }
    n > 1 && emojiish
}

/// Weighted length of `text` as X counts it; the limit is [`super::X_MAX`].
pub fn weighted_len(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut n = 0;
    let mut last = 0;
    for (s, e) in urls(&text) {
        n += plain(&text[last..s]) + URL_WEIGHT;
        last = e;
    }
    n + plain(&text[last..])
}

fn plain(s: &str) -> usize {
    s.graphemes(true)
        .map(|g| {
            if emoji_sequence(g) {
                2
            } else {
                g.chars().map(weight).sum()
            }
        })
        .sum()
}

/// Generic TLDs recognized without `http(s)://` (two-letter country codes are all accepted).
const GTLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "edu", "gov", "mil", "int", "name", "pro", "mobi", "asia",
    "tel", "travel", "jobs", "museum", "aero", "coop", "cat", "app", "dev", "xyz", "online",
    "site", "shop", "store", "tech", "blog", "news", "page", "art", "club", "live", "life",
    "world", "today", "space", "website", "email", "cloud", "design", "studio", "media", "agency",
    "digital", "network", "social", "link", "click", "top", "vip", "work", "wiki", "photo",
    "games", "fun", "one", "love", "eco", "paris", "bzh", "berlin", "london", "nyc",
];

/// Country TLDs that make `name.cc` a URL even with no path (`t.co`).
const SHORT_OK: &[&str] = &["co", "tv"];

/// Byte ranges of URLs as twitter-text extracts them (with or without protocol).
pub fn urls(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev: Option<char> = None;
    while i < text.len() {
        let c = text[i..].chars().next().expect("char boundary");
        if let Some(end) = url_at(text, i, prev) {
            out.push((i, end));
            prev = text[..end].chars().next_back();
            i = end;
            continue;
        }
        prev = Some(c);
        i += c.len_utf8();
    }
    out
}

fn url_at(text: &str, start: usize, prev: Option<char>) -> Option<usize> {
    // Preceded by a letter, digit, `@`, `$` or `#`: part of a word, handle or tag.
    let bad_before = |p: char| p.is_alphanumeric() || "@＠$#＃\u{FFFE}\u{FEFF}\u{FFFF}".contains(p);
    if prev.is_some_and(bad_before) {
        return None;
    }
    let rest = &text[start..];
    let lower: String = rest
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        0
    };
    if scheme == 0
        && (prev.is_some_and(|p| "-_./".contains(p)) || !rest.starts_with(char::is_alphanumeric))
    {
        return None;
    }
    let mut pos = start + scheme;
    if scheme > 0 {
        pos = skip_userinfo(text, pos);
    }
    let (host_end, labels) = host(text, pos, scheme > 0)?;
    if !valid_host(&labels, scheme > 0) {
        return None;
    }
    let mut end = host_end;
    // Port.
    if text[end..].starts_with(':') {
        let digits = text[end + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    let path_start = end;
    if text[end..].starts_with(['/', '?', '#']) {
        end = path_end(text, end);
    }
    if scheme == 0 && end == path_start {
        // `name.cc` without a path is only a link for a few country codes (`t.co`).
        let tld = labels.last().expect("two labels");
        if labels.len() == 2
            && tld.len() == 2
            && !SHORT_OK.contains(&tld.to_ascii_lowercase().as_str())
        {
            return None;
        }
    }
    Some(end)
}

fn skip_userinfo(text: &str, pos: usize) -> usize {
    let stop = text[pos..]
        .find(|c: char| c.is_whitespace() || c == '/')
        .map_or(text.len(), |n| pos + n);
    match text[pos..stop].rfind('@') {
        Some(at)
            if text[pos..pos + at]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:%".contains(c)) =>
        {
            pos + at + 1
        }
        _ => pos,
    }
}

/// The host's end and its labels (a trailing dot is sentence punctuation, not part of it).
/// Without a scheme only ASCII hosts count; with one, IDN hosts (`☃.net`) too.
fn host(text: &str, pos: usize, unicode: bool) -> Option<(usize, Vec<&str>)> {
    let host_char = |c: char| {
        c.is_ascii_alphanumeric()
            || "-_.".contains(c)
            || (unicode && !c.is_ascii() && (c.is_alphanumeric() || pictographic(c)))
    };
    let len = text[pos..]
        .find(|c: char| !host_char(c))
        .unwrap_or(text.len() - pos);
    let h = text[pos..pos + len].trim_end_matches('.');
    let labels: Vec<&str> = h.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    Some((pos + h.len(), labels))
}

fn valid_host(labels: &[&str], with_scheme: bool) -> bool {
    let ipv4 = labels.len() == 4
        && labels
            .iter()
            .all(|l| l.len() <= 3 && l.parse::<u16>().is_ok_and(|n| n <= 255));
    if ipv4 {
        return with_scheme;
    }
    let n = labels.len();
    for (i, l) in labels.iter().enumerate() {
        if l.starts_with('-') || l.ends_with('-') {
            return false;
        }
        // `_` only in subdomains, never in the registered name or the TLD.
        if l.contains('_') && i + 2 >= n {
            return false;
        }
    }
    let tld = labels[n - 1];
    if !tld.chars().all(char::is_alphabetic) || tld.chars().count() < 2 {
        return false;
    }
    if !with_scheme {
        let t = tld.to_ascii_lowercase();
        let known = (t.len() == 2 && t.bytes().all(|b| b.is_ascii_lowercase()))
            || GTLDS.contains(&t.as_str());
        if !known {
            return false;
        }
    }
    // Each label as sent on the wire (punycode) fits in 63 bytes.
    let host = labels.join(".");
    let ascii = url::Url::parse(&format!("http://{host}/")).ok();
    ascii
        .as_ref()
        .and_then(|u| u.host_str())
        .is_some_and(|h| h.split('.').all(|l| !l.is_empty() && l.len() <= 63))
}

fn url_char(c: char) -> bool {
    let u = c as u32;
    c.is_ascii_alphanumeric()
        || "!*';:=+,.$/%#[]-_~&|@?()".contains(c)
        || (0xC0..=0x24F).contains(&u) && u != 0xD7 && u != 0xF7
        || (0x400..=0x4FF).contains(&u)
        || u == 0x2013
}

fn ending_char(c: char) -> bool {
    let u = c as u32;
    c.is_ascii_alphanumeric()
        || "=_#/+-&".contains(c)
        || (0xC0..=0x24F).contains(&u) && u != 0xD7 && u != 0xF7
        || (0x400..=0x4FF).contains(&u)
}

fn path_end(text: &str, pos: usize) -> usize {
    let run = text[pos..]
        .find(|c: char| !url_char(c))
        .unwrap_or(text.len() - pos);
    let mut end = pos + run;
    // Trailing punctuation ends the sentence, not the URL; `)` stays when it closes a `(`.
    while end > pos {
        let c = text[..end].chars().next_back().expect("non-empty");
        let balanced =
            c == ')' && text[pos..end].matches('(').count() >= text[pos..end].matches(')').count();
        if ending_char(c) || balanced {
            break;
        }
        end -= c.len_utf8();
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(t: &str) -> Vec<&str> {
        urls(t).into_iter().map(|(s, e)| &t[s..e]).collect()
    }

    // twitter-text conformance/validate.yml, urls and urls_without_protocol.
    #[test]
    fn conformance_urls() {
        for ok in [
            "http://example.com",
            "https://example.com/path/to/resource?search=foo&lang=en",
            "http://twitter.com/#!/twitter",
            "HTTPS://www.ExaMPLE.COM/index.html",
            "http://user:PASSW0RD@example.com:8080/login.php",
            "http://sports.yahoo.com/nfl/news;_ylt=Aom0;ylu=XyZ?slug=ap-superbowlnotebook",
            "http://192.168.0.1/index.html?src=asdf",
            "http://test_underscore.twitter.com",
            "http://example.com?foo=$bar.;baz?BAZ&c=d-#top/?stories+",
            "http://☃.net/",
            "http://example.com/Русские_слова",
            "https://www.youtube.com/playlist?list=PL0ZPu8XSRTB7wZzn0mLHMvyzVFeRxbWn-",
            "example.com",
            "www.example.com",
            "t.co",
            "foo.co.jp",
            "example.com/path/to/resource?search=foo&lang=en",
        ] {
            assert_eq!(weighted_len(ok), 23, "{ok}");
        }
        for bad in [
            "ftp://www.example.com/",
            "http://domain-dash_2314352345_dfasd.foo-cow_4352.com",
            "http://www.-domain4352.com/",
            "http://www.domain4352-.com/",
            "http://☃-.net/",
            "http://256.1.2.3/",
            "http://test.-twitter.com",
        ] {
            assert_ne!(found(bad).first().copied(), Some(bad), "{bad}");
        }
        assert_eq!(
            found("see https://x.org/a. (and http://y.io/b)"),
            ["https://x.org/a", "http://y.io/b"]
        );
        assert_eq!(found("me@example.com #tag.com"), Vec::<&str>::new());
        assert_eq!(found("ab.cd"), Vec::<&str>::new()); // `name.cc` without path
    }

    // twitter-text conformance/validate.yml, WeightedTweetsWithDiscountedEmojiCounterTest and
    // UnicodeDirectionalMarkerCounterTest (v3 config): text → weightedLength.
    // https://github.com/twitter/twitter-text/blob/master/conformance/validate.yml
    #[test]
    fn conformance_weighted_lengths() {
        let x = "xxxxxxxxxx-";
        let cjk = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。";
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
        let kana = "あいうえおかきくけこ";
        let cases: Vec<(String, usize)> = vec![
            ("Hi http://test.co".into(), 26),
            ("http://test.co".into(), 23),
            (format!("285 chars-{}", x.repeat(25)), 285),
            (format!("285 chars- http://www.twitter.com/jack {}", x.repeat(24)), 299),
            (format!("{} http://www.twitter.com/jack ", x.repeat(24)), 289),
            ("https://www.twitter.com/aloha ".repeat(10), 240),
            (cjk.into(), 320),
            ("😷".repeat(160), 320),
            (format!("the{cjk}"), 323),
            // Á as A + combining acute: NFC makes it one character.
            (format!("282 chars-{}xxxxxA\u{301}x", x.repeat(24)), 281),
            (format!("H🐱☺{family}"), 7),
            ("😷👾😡🔥💩".into(), 10),
            ("🙋🏽👨\u{200D}🎤".into(), 4),
            ("This is a tweet with general punctuation characters: \u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200A}\u{200B} ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷".into(), 110),
            ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com".into(), 68),
            (format!("{} http://{}あいう.com", kana.repeat(12), kana.repeat(5)), 358),
            (format!("{} http://{}あい.com", kana.repeat(12), kana.repeat(5)), 264),
            (family.repeat(140), 280),
            ("Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}".into(), 34),
            ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾".into(), 29),
            ("ABC\u{202A}\u{FFFF}ABC\u{FFFE}".into(), 12),
            ("\u{2066}\u{202A}http://foobar.پاکستان/\u{202C}\u{2069}".into(), 31),
            // validate.yml `lengths`.
            ("This is a test.".into(), 15),
            ("test.com".into(), 23),
            ("Test https://test.com test https://test.com test.com test".into(), 86),
        ];
        for (text, want) in cases {
            assert_eq!(weighted_len(&text), want, "{text}");
        }
    }
}
