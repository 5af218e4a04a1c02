//! Matched terms highlighted in a mention's text: the words, phrases and wildcards a query
//! asks for (not those under NOT) are wrapped in `<mark>`, with the same folding as the
//! matcher (case, accents, œ). Everything else is escaped: the result is safe HTML.

use relais_listen::query::{Pattern, Query};

/// The positive patterns of a query (those that can make it match).
pub fn positive_patterns(q: &Query, out: &mut Vec<Pattern>) {
    match q {
        Query::Pattern(p) => out.push(p.clone()),
        Query::And(v) | Query::Or(v) => v.iter().for_each(|c| positive_patterns(c, out)),
        Query::Near { left, right, .. } => out.extend(left.iter().chain(right).cloned()),
        Query::Not(_) | Query::Lang(_) => {}
    }
}

/// Words of the original text: byte span and the folded tokens it holds.
fn words(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    let flush = |s: usize, e: usize, out: &mut Vec<(usize, usize, String)>| {
        for t in relais_listen::fold::fold_tokens(&text[s..e]) {
            out.push((s, e, t));
        }
    };
    for (i, c) in text.char_indices() {
        let word = c.is_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                flush(s, i, &mut out);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        flush(s, text.len(), &mut out);
    }
    out
}

fn token_matches(p: &Pattern, k: usize, token: &str) -> bool {
    let want = &p.tokens[k];
    if p.prefix && k + 1 == p.tokens.len() {
        token.starts_with(want.as_str())
    } else {
        token == want
    }
}

/// `text` as HTML with every occurrence of the patterns marked.
pub fn highlight(text: &str, patterns: &[Pattern]) -> String {
    let ws = words(text);
    let mut marked: Vec<(usize, usize)> = Vec::new();
    for p in patterns {
        let n = p.tokens.len();
        if n == 0 || n > ws.len() {
            continue;
        }
        for i in 0..=ws.len() - n {
            if (0..n).all(|k| token_matches(p, k, &ws[i + k].2)) {
                marked.push((ws[i].0, ws[i + n - 1].1));
            }
        }
    }
    marked.sort_unstable();
    let mut out = String::with_capacity(text.len() + 32);
    let mut at = 0;
    for (s, e) in marked {
        if s < at {
            // Overlaps the previous mark: extend it instead of nesting.
            if e > at {
                out.truncate(out.len() - "</mark>".len());
                out.push_str(&askama_escape(&text[at..e]));
                out.push_str("</mark>");
                at = e;
            }
            continue;
        }
        out.push_str(&askama_escape(&text[at..s]));
        out.push_str("<mark>");
        out.push_str(&askama_escape(&text[s..e]));
        out.push_str("</mark>");
        at = e;
    }
    out.push_str(&askama_escape(&text[at..]));
    out
}

/// HTML-escapes text (element content and quoted attributes).
pub fn askama_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hl(text: &str, q: &str) -> String {
        let mut p = Vec::new();
        positive_patterns(&relais_listen::parse(q).unwrap(), &mut p);
        highlight(text, &p)
    }

    #[test]
    fn marks_folded_words_phrases_and_wildcards() {
        assert_eq!(
            hl("Le rappel de la Citroën C3 !", "citroen AND rappel*"),
            "Le <mark>rappel</mark> de la <mark>Citroën</mark> C3 !"
        );
        assert_eq!(
            hl("Service client: nul. SERVICE CLIENT", "\"service client\""),
            "<mark>Service client</mark>: nul. <mark>SERVICE CLIENT</mark>"
        );
        // NOT terms are not highlighted; overlapping patterns give one mark.
        assert_eq!(
            hl("acme recette acme", "acme NOT recette"),
            "<mark>acme</mark> recette <mark>acme</mark>"
        );
        assert_eq!(hl("a b c", "\"a b\" OR \"b c\""), "<mark>a b c</mark>");
    }

    #[test]
    fn hostile_text_is_escaped() {
        let out = hl("<script>alert('acme')</script> & acme", "acme");
        assert_eq!(
            out,
            "&lt;script&gt;alert(&#39;<mark>acme</mark>&#39;)&lt;/script&gt; &amp; <mark>acme</mark>"
        );
        assert!(!out.contains("<script"));
    }
}
