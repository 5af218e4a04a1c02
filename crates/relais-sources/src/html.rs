//! HTML → plain text: block elements become line breaks, `<script>`/`<style>` and friends are
//! skipped, whitespace is collapsed per line. Output is text, never markup.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

/// Elements whose content is never text a person reads.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "head",
];
/// Elements that start a new line.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "nav",
    "main",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "hr",
    "form",
    "fieldset",
    "details",
    "summary",
    "address",
];

/// Deepest nesting parsed: html5ever's tree building is quadratic in the depth of open
/// elements, so a hostile page of 100,000 nested `<div>` would hold a core for minutes.
pub(crate) const MAX_DEPTH: usize = 512;

/// Elements closed implicitly or never (their open tags do not nest).
const NO_NEST: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot",
    "colgroup", "rb", "rt", "rp", "area", "base", "br", "col", "embed", "hr", "img", "input",
    "link", "meta", "source", "track", "wbr", "param", "keygen",
];

/// A quick upper estimate of the element nesting of `html` (open minus close tags of elements
/// that nest), stopping as soon as it passes `MAX_DEPTH`.
pub(crate) fn too_deep(html: &str) -> bool {
    let b = html.as_bytes();
    let mut depth: usize = 0;
    let mut foreign: usize = 0;
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off + 1;
        let closing = b.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let end = b[start..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .map_or(b.len(), |n| start + n);
        if end == start {
            continue;
        }
        let name = html[start..end].to_ascii_lowercase();
        if NO_NEST.contains(&name.as_str()) {
            continue;
        }
        // `<x/>` only closes itself in SVG and MathML; in HTML the slash is ignored.
        let self_closing = foreign > 0
            && b[end..]
                .iter()
                .position(|&c| c == b'>')
                .is_some_and(|n| n > 0 && b[end + n - 1] == b'/');
        let is_foreign = name == "svg" || name == "math";
        if closing {
            depth = depth.saturating_sub(1);
            if is_foreign {
                foreign = foreign.saturating_sub(1);
            }
        } else if !self_closing {
            depth += 1;
            if is_foreign {
                foreign += 1;
            }
            if depth > MAX_DEPTH {
                return true;
            }
        }
    }
    false
}

/// Append the text under `root` to `out`, one line per block.
fn push_text(root: ElementRef<'_>, out: &mut String) {
    let mut skip_depth = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) if SKIP.contains(&e.name()) => skip_depth += 1,
                Node::Element(e) if skip_depth == 0 && BLOCK.contains(&e.name()) => out.push('\n'),
                // Newlines in markup are spaces; lines come from block elements.
                Node::Text(t) if skip_depth == 0 => {
                    out.extend(t.chars().map(|c| if c.is_whitespace() { ' ' } else { c }))
                }
                _ => {}
            },
            Edge::Close(node) => match node.value() {
                Node::Element(e) if SKIP.contains(&e.name()) => {
                    skip_depth = skip_depth.saturating_sub(1)
                }
                Node::Element(e) if skip_depth == 0 && BLOCK.contains(&e.name()) => out.push('\n'),
                _ => {}
            },
        }
    }
}

/// One line per non-empty line of `s`, inner whitespace collapsed.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let mut first = true;
        for w in line.split_whitespace() {
            if first {
                if !out.is_empty() {
                    out.push('\n');
                }
                first = false;
            } else {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

/// The text of a page, or of the elements matching `selector` (`None` when nothing matches),
/// and the page title.
pub(crate) fn page_text(
    html: &str,
    selector: Option<&Selector>,
) -> (Option<String>, Option<String>) {
    let doc = Html::parse_document(html);
    let title = Selector::parse("title")
        .ok()
        .and_then(|t| {
            doc.select(&t)
                .next()
                .map(|e| normalize(&e.text().collect::<String>()))
        })
        .filter(|t| !t.is_empty());
    let mut raw = String::new();
    match selector {
        Some(sel) => {
            let mut any = false;
            for el in doc.select(sel) {
                any = true;
                push_text(el, &mut raw);
                raw.push('\n');
            }
            if !any {
                return (None, title);
            }
        }
        None => {
            let root = doc.root_element();
            let body = Selector::parse("body")
                .ok()
                .and_then(|b| doc.select(&b).next())
                .unwrap_or(root);
            push_text(body, &mut raw);
        }
    }
    (Some(normalize(&raw)), title)
}

/// The text of an HTML fragment (a Mastodon status), and the `href`s of its links.
pub(crate) fn fragment_text(html: &str) -> (String, Vec<String>) {
    if too_deep(html) {
        // Not worth parsing: keep the characters outside tags.
        let mut t = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => t.push(c),
                _ => {}
            }
        }
        return (normalize(&t), Vec::new());
    }
    let frag = Html::parse_fragment(html);
    let mut raw = String::new();
    push_text(frag.root_element(), &mut raw);
    let links = Selector::parse("a[href]")
        .map(|a| {
            frag.select(&a)
                .filter_map(|e| e.value().attr("href"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    (normalize(&raw), links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_scripts_and_whitespace() {
        let html = "<html><head><title> Prix  </title><style>p{}</style></head><body>\
            <h1>Tarifs</h1><script>var x = 1;</script><p>Offre   de\n base : <b>10 €</b></p>\
            <ul><li>un</li><li>deux</li></ul><div id=price><span>12 €</span></div></body></html>";
        let (t, title) = page_text(html, None);
        assert_eq!(t.unwrap(), "Tarifs\nOffre de base : 10 €\nun\ndeux\n12 €");
        assert_eq!(title.as_deref(), Some("Prix"));
        let sel = Selector::parse("#price").unwrap();
        assert_eq!(page_text(html, Some(&sel)).0.unwrap(), "12 €");
        let none = Selector::parse("#nope").unwrap();
        assert_eq!(page_text(html, Some(&none)).0, None);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| "<div>".repeat(n) + "x" + &"</div>".repeat(n);
        assert!(too_deep(&deep(100_000)));
        assert!(!too_deep(&deep(MAX_DEPTH)));
        let t = std::time::Instant::now();
        assert_eq!(page_text(&deep(MAX_DEPTH), None).0.unwrap(), "x");
        eprintln!("depth {MAX_DEPTH}: {:?}", t.elapsed());
        // Implicitly closed and void elements do not count.
        let flat = "<ul>".to_string() + &"<li><p>a<br><img src=x>".repeat(10_000) + "</ul>";
        assert!(!too_deep(&flat));
        assert!(
            too_deep(&"<div/>".repeat(MAX_DEPTH + 1)),
            "HTML ignores the slash"
        );
        let icons = "<svg>".to_string() + &"<path d=\"M0\"/>".repeat(5000) + "</svg>";
        assert!(!too_deep(&icons));
        assert_eq!(fragment_text(&deep(100_000)).0, "x");
    }

    #[test]
    fn mastodon_fragment() {
        let (t, links) = fragment_text(
            "<p>Hello <a href=\"https://ex.org/tags/rust\" class=\"mention hashtag\">#<span>rust</span></a></p>\
             <p>line<br>two &amp; more</p>",
        );
        assert_eq!(t, "Hello #rust\nline\ntwo & more");
        assert_eq!(links, vec!["https://ex.org/tags/rust"]);
    }
}
