//! Renders a parsed query in plain words for the query editor, in English or French.

use super::{Mark, Pattern, Query};

/// Language of the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainLang {
    /// English.
    En,
    /// French.
    Fr,
}

/// Explain `q` in plain words, e.g. `Posts with the word "apple" and without the word "job"`.
pub fn explain(q: &Query, lang: ExplainLang) -> String {
    let body = render(q, lang, false);
    match lang {
        ExplainLang::En => format!("Posts with {body}"),
        ExplainLang::Fr => format!("Posts avec {body}"),
    }
}

fn quote(s: &str, lang: ExplainLang) -> String {
    match lang {
        ExplainLang::En => format!("\"{s}\""),
        ExplainLang::Fr => format!("« {s} »"),
    }
}

fn pattern(p: &Pattern, lang: ExplainLang) -> String {
    let text = p.tokens.join(" ");
    let en = lang == ExplainLang::En;
    match (p.mark, p.prefix, p.tokens.len() > 1) {
        (Mark::Hashtag, ..) => {
            let star = if p.prefix { "*" } else { "" };
            let t = format!("#{}{star}", p.tokens.join("_"));
            if en {
                format!("the hashtag {t}")
            } else {
                format!("le hashtag {t}")
            }
        }
        (Mark::Mention, ..) => {
            let star = if p.prefix { "*" } else { "" };
            let t = format!("@{}{star}", p.tokens.join("."));
            if en {
                format!("the handle {t}")
            } else {
                format!("la mention {t}")
            }
        }
        (Mark::None, true, false) => {
            let t = quote(&text, lang);
            if en {
                format!("a word starting with {t}")
            } else {
                format!("un mot commençant par {t}")
            }
        }
        (Mark::None, true, true) => {
            let t = quote(&text, lang);
            if en {
                format!("the words {t} in a row, the last one as a prefix")
            } else {
                format!("les mots {t} à la suite, le dernier comme début de mot")
            }
        }
        (Mark::None, false, true) => {
            let t = quote(&text, lang);
            if en {
                format!("the phrase {t}")
            } else {
                format!("l'expression {t}")
            }
        }
        (Mark::None, false, false) => {
            let t = quote(&text, lang);
            if en {
                format!("the word {t}")
            } else {
                format!("le mot {t}")
            }
        }
    }
}

fn lang_name(code: &str, lang: ExplainLang) -> String {
    let primary = code.split('-').next().unwrap_or(code);
    let names: &[(&str, &str, &str)] = &[
        ("fr", "French", "français"),
        ("en", "English", "anglais"),
        ("de", "German", "allemand"),
        ("es", "Spanish", "espagnol"),
        ("it", "Italian", "italien"),
        ("pt", "Portuguese", "portugais"),
        ("nl", "Dutch", "néerlandais"),
    ];
    match names.iter().find(|(c, ..)| *c == primary) {
        Some((_, en, fr)) => {
            let n = if lang == ExplainLang::En { en } else { fr };
            format!("{n} ({code})")
        }
        None => code.to_string(),
    }
}

fn alternatives(ps: &[Pattern], lang: ExplainLang) -> String {
    let sep = if lang == ExplainLang::En {
        " or "
    } else {
        " ou "
    };
    let parts: Vec<String> = ps.iter().map(|p| pattern(p, lang)).collect();
    if parts.len() > 1 {
        format!("({})", parts.join(sep))
    } else {
        parts.join(sep)
    }
}

/// `nested`: wrap compound expressions in parentheses to keep precedence visible.
fn render(q: &Query, lang: ExplainLang, nested: bool) -> String {
    let en = lang == ExplainLang::En;
    let wrap = |s: String| if nested { format!("({s})") } else { s };
    match q {
        Query::Pattern(p) => pattern(p, lang),
        Query::Lang(code) => {
            let n = lang_name(code, lang);
            if en {
                format!("the language {n} declared")
            } else {
                format!("la langue {n} déclarée")
            }
        }
        Query::Not(inner) => {
            let i = render(inner, lang, true);
            if en {
                format!("without {i}")
            } else {
                format!("sans {i}")
            }
        }
        Query::And(items) => {
            let sep = if en { " and " } else { " et " };
            let parts: Vec<String> = items.iter().map(|i| render(i, lang, true)).collect();
            wrap(parts.join(sep))
        }
        Query::Or(items) => {
            let sep = if en { " or " } else { " ou " };
            let parts: Vec<String> = items.iter().map(|i| render(i, lang, true)).collect();
            wrap(parts.join(sep))
        }
        Query::Near {
            left,
            right,
            distance,
        } => {
            let (l, r) = (alternatives(left, lang), alternatives(right, lang));
            let s = if en {
                format!("{l} at most {distance} words away from {r}")
            } else {
                format!("{l} à {distance} mots au plus de {r}")
            };
            wrap(s)
        }
    }
}
