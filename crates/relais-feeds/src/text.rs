//! HTML → plain text for summaries: tags dropped, `<script>`/`<style>` bodies skipped, entities
//! decoded, whitespace collapsed. Not a sanitizer: the output is text, never markup.

/// Latin-1 entity names, code points 160..=255 in order.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

const OTHERS: [(&str, u32); 23] = [
    ("amp", 38),
    ("lt", 60),
    ("gt", 62),
    ("quot", 34),
    ("apos", 39),
    ("OElig", 338),
    ("oelig", 339),
    ("Yuml", 376),
    ("ensp", 8194),
    ("emsp", 8195),
    ("thinsp", 8201),
    ("ndash", 8211),
    ("mdash", 8212),
    ("lsquo", 8216),
    ("rsquo", 8217),
    ("sbquo", 8218),
    ("ldquo", 8220),
    ("rdquo", 8221),
    ("bdquo", 8222),
    ("bull", 8226),
    ("hellip", 8230),
    ("euro", 8364),
    ("trade", 8482),
];

fn named_entity(name: &str) -> Option<char> {
    if let Some(i) = LATIN1.iter().position(|&n| n == name) {
        return char::from_u32(160 + i as u32);
    }
    OTHERS
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|&(_, c)| char::from_u32(c))
}

/// Decode the entity starting after `&` in `s`; returns the char and the bytes consumed
/// (including the `;`).
fn entity(s: &str) -> Option<(char, usize)> {
    let end = s.as_bytes().iter().take(12).position(|&b| b == b';')?;
    let name = &s[..end];
    let c = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(code).filter(|&c| c != '\0')?
    } else {
        named_entity(name)?
    };
    Some((c, end + 1))
}

/// Push `c`, folding whitespace runs into one space. Returns false once `max_chars` is reached.
fn push(out: &mut String, count: &mut usize, c: char, max_chars: usize) -> bool {
    if c.is_whitespace() || c == '\u{a0}' {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
            *count += 1;
        }
    } else if !c.is_control() {
        out.push(c);
        *count += 1;
    }
    *count < max_chars
}

/// Plain text of an HTML fragment, at most `max_chars` characters (then `…`).
pub fn html_to_text(html: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    let mut rest = html;
    let mut full = false;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let lower: String = rest
                    .chars()
                    .take(8)
                    .collect::<String>()
                    .to_ascii_lowercase();
                // Skip the bodies of elements whose content is not text.
                let skip_to = ["script", "style", "template"]
                    .into_iter()
                    .find(|t| lower[1..].starts_with(t))
                    .map(|t| format!("</{t}"));
                let close = match &skip_to {
                    Some(end_tag) => {
                        find_ci(rest, end_tag).and_then(|i| rest[i..].find('>').map(|j| i + j))
                    }
                    None => rest.find('>'),
                };
                match close {
                    Some(i) => rest = &rest[i + 1..],
                    None => break, // an unclosed tag: the rest is markup
                }
                // Tags separate words (`<p>a</p><p>b</p>` is "a b").
                if !push(&mut out, &mut count, ' ', max_chars) {
                    full = true;
                    break;
                }
                continue;
            }
            '&' => {
                if let Some((ch, used)) = entity(&rest[1..]) {
                    rest = &rest[1 + used..];
                    if !push(&mut out, &mut count, ch, max_chars) {
                        full = !rest.trim().is_empty();
                        break;
                    }
                    continue;
                }
            }
            _ => {}
        }
        rest = &rest[c.len_utf8()..];
        if !push(&mut out, &mut count, c, max_chars) {
            full = !rest.trim().is_empty();
            break;
        }
    }
    let mut out = out.trim().to_owned();
    if full {
        out.push('…');
    }
    out
}

/// Case-insensitive ASCII find.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    hay.as_bytes()
        .windows(n.len())
        .position(|w| w.eq_ignore_ascii_case(n))
}

/// Collapse whitespace of plain text and cap its length.
pub fn clean_text(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    let mut full = false;
    let mut chars = text.chars();
    for c in chars.by_ref() {
        if !push(&mut out, &mut count, c, max_chars) {
            full = true;
            break;
        }
    }
    if full && chars.any(|c| !c.is_whitespace()) {
        let mut t = out.trim().to_owned();
        t.push('…');
        return t;
    }
    out.trim().to_owned()
}

/// Cut `s` to at most `max_bytes` on a char boundary.
pub(crate) fn cap_bytes(mut s: String, max_bytes: usize) -> String {
    if s.len() > max_bytes {
        let mut i = max_bytes;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        s.truncate(i);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes_entities() {
        let html = "<p>Caf&eacute; <b>cr&egrave;me</b>&nbsp;&amp; th&#233; &#x2014; ok</p>\
                    <script>alert('x')</script><style>p{}</style><p>fin</p>";
        assert_eq!(html_to_text(html, 100), "Café crème & thé — ok fin");
    }

    #[test]
    fn unknown_entities_and_broken_markup_survive() {
        assert_eq!(html_to_text("a &bogus; b &", 100), "a &bogus; b &");
        assert_eq!(html_to_text("a <b unclosed", 100), "a");
        assert_eq!(html_to_text("&#0; &#xFFFFFFFF;", 100), "&#0; &#xFFFFFFFF;");
    }

    #[test]
    fn caps_length() {
        let t = html_to_text(&"mot ".repeat(1000), 20);
        assert!(t.chars().count() <= 21, "{t}");
        assert!(t.ends_with('…'));
        assert_eq!(html_to_text("court", 20), "court");
        assert_eq!(clean_text("  a \n\t b  ", 20), "a b");
        assert_eq!(clean_text("abcdef", 3), "abc…");
        assert_eq!(cap_bytes("été".into(), 2), "é");
    }
}
