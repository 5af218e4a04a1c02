//! The body of an issue: Markdown (CommonMark) or HTML in, sanitized HTML and a plain-text part
//! out. Whatever comes in, the HTML that goes out passed through `ammonia` (no script, no
//! event handler, no `javascript:` URL, no relative URL — meaningless in a mail).

use relais_store::newsletter::NewsletterList;

use crate::i18n::Tr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "markdown" | "" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub text: String,
}

fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

/// Sanitized HTML and its text alternative.
pub fn render(body: &str, format: Format) -> Rendered {
    let body = body.replace("\r\n", "\n");
    match format {
        Format::Markdown => {
            use pulldown_cmark::{html, Options, Parser};
            let parser = Parser::new_ext(&body, Options::ENABLE_STRIKETHROUGH);
            let mut out = String::new();
            html::push_html(&mut out, parser);
            let html = sanitize(&out);
            // From the sanitized HTML, so raw HTML inside the Markdown never reaches the text.
            let text = html_to_text(&html);
            Rendered { html, text }
        }
        Format::Html => {
            let html = sanitize(&body);
            let text = html_to_text(&html);
            Rendered { html, text }
        }
    }
}

/// The footer of every issue, in the workspace's language, with the `{{unsubscribe_url}}`
/// slot the sender fills per recipient (in both parts).
pub fn footer(t: Tr, list: &NewsletterList) -> (String, String) {
    let why = t.t("nl.mail.why").replace("{list}", &list.name);
    let unsub = t.t("nl.mail.unsubscribe");
    let line = t
        .t("nl.mail.unsubscribe_line")
        .replace("{url}", "{{unsubscribe_url}}");
    let html = format!(
        "<hr><p style=\"font-size:small;color:#555\">{}<br><a href=\"{{{{unsubscribe_url}}}}\">{}</a></p>",
        escape(&why),
        escape(unsub)
    );
    let text = format!("\n\n-- \n{why}\n{line}\n");
    (html, text)
}

/// A whole mail: the sanitized body inside a minimal document, then the footer.
pub fn document(subject: &str, body_html: &str, footer_html: &str, lang: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.5;max-width:40em;margin:auto;padding:1em\">{body_html}{footer_html}</body></html>",
        escape(subject)
    )
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let i = tag.find(&key)? + key.len();
    let end = tag[i..].find('"')? + i;
    Some(decode_entities(&tag[i..end]))
}

/// Plain text of sanitized HTML (well-formed, attributes double-quoted): blocks become lines,
/// links keep their address in brackets.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut links: Vec<Option<String>> = Vec::new();
    let mut link_text_start = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..i]));
        let Some(end) = rest[i..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[i + 1..i + end];
        rest = &rest[i + end + 1..];
        let lower = tag.to_ascii_lowercase();
        let name: String = lower
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let closing = lower.starts_with('/');
        match (name.as_str(), closing) {
            ("br", _) => out.push('\n'),
            ("li", false) => out.push_str("\n- "),
            ("a", false) => {
                links.push(attr(tag, "href"));
                link_text_start.push(out.len());
            }
            ("a", true) => {
                let href = links.pop().flatten();
                let start = link_text_start.pop().unwrap_or(out.len());
                if let Some(h) = href {
                    if out[start..].trim() != h {
                        out.push_str(&format!(" ({h})"));
                    }
                }
            }
            (
                "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "table"
                | "blockquote" | "pre" | "hr",
                _,
            ) => out.push_str("\n\n"),
            ("tr", true) => out.push('\n'),
            ("td" | "th", true) => out.push('\t'),
            _ => {}
        }
    }
    out.push_str(&decode_entities(rest));
    // Tidy: no trailing spaces, at most one blank line in a row.
    let mut tidy = String::new();
    let mut blank = 0;
    for line in out.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        tidy.push_str(line);
        tidy.push('\n');
    }
    tidy.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_sanitized() {
        let r = render(
            "# News\n\nHello **you** <script>alert(1)</script> [site](https://ex.org) [bad](javascript:alert(1))\n",
            Format::Markdown,
        );
        assert!(r.html.contains("<h1>News</h1>"), "{}", r.html);
        assert!(r.html.contains("<strong>you</strong>"));
        assert!(!r.html.contains("script"));
        assert!(!r.html.contains("javascript"));
        assert!(r.html.contains("href=\"https://ex.org\""));
        assert!(r.text.starts_with("News\n\nHello you"), "{}", r.text);
        assert!(r.text.contains("site (https://ex.org)") && !r.text.contains("alert"));
    }

    #[test]
    fn html_is_sanitized_and_has_a_text_part() {
        let r = render(
            "<h2 onclick=\"x()\">Title &amp; more</h2><p>One<br>two <a href=\"https://ex.org/a?b=1&amp;c=2\">here</a></p><ul><li>a</li><li>b</li></ul><img src=x onerror=alert(1)><a href=\"/rel\">rel</a>",
            Format::Html,
        );
        assert!(!r.html.contains("onclick") && !r.html.contains("onerror"));
        assert!(!r.html.contains("/rel\""), "{}", r.html);
        assert_eq!(
            r.text,
            "Title & more\n\nOne\ntwo here (https://ex.org/a?b=1&c=2)\n\n- a\n- b\n\nrel"
        );
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("a &lt;b&gt; &#233;&#xE9; &bogus; &"),
            "a <b> éé &bogus; &"
        );
    }
}
