//! Splits a query into operators, parentheses and patterns, folding words as posts are folded.

use super::{ErrorCode, Mark, ParseError, Pattern};
use crate::fold::fold_tokens;

/// Largest accepted `NEAR/n` distance (posts are short; larger values are typos).
pub const MAX_NEAR: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Near(u32),
    Pat(Pattern),
    Lang(String),
}

#[derive(Debug, Clone)]
pub struct Tok {
    pub kind: Kind,
    /// 1-based column in characters.
    pub col: usize,
    /// Source text, for error messages.
    pub text: String,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '«' | '»')
}

fn err(code: ErrorCode, col: usize, expected: &'static str, found: String) -> ParseError {
    ParseError {
        code,
        column: col,
        expected,
        found,
    }
}

pub fn lex(src: &str) -> Result<Vec<Tok>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            let kind = if c == '(' { Kind::LParen } else { Kind::RParen };
            toks.push(Tok {
                kind,
                col,
                text: c.to_string(),
            });
            i += 1;
        } else if is_quote(c) {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && !is_quote(chars[j]) {
                j += 1;
            }
            if j == chars.len() {
                return Err(err(
                    ErrorCode::UnclosedQuote,
                    col,
                    "a closing '\"' for this phrase",
                    "end of query".into(),
                ));
            }
            let inner: String = chars[start..j].iter().collect();
            // `"service clie*"`: a star ending the phrase makes its last word a prefix.
            let trimmed = inner.trim_end();
            let prefix = trimmed.strip_suffix('*').is_some_and(|b| {
                b.chars()
                    .last()
                    .is_some_and(|c| !fold_tokens(&c.to_string()).is_empty())
            });
            let tokens = fold_tokens(&inner);
            let text: String = chars[i..=j].iter().collect();
            if tokens.is_empty() {
                return Err(err(
                    ErrorCode::NoWord,
                    col,
                    "a phrase containing a letter or digit",
                    text,
                ));
            }
            let pat = Pattern {
                tokens,
                prefix,
                mark: Mark::None,
                quoted: true,
            };
            toks.push(Tok {
                kind: Kind::Pat(pat),
                col,
                text,
            });
            i = j + 1;
        } else {
            let mut j = i;
            while j < chars.len()
                && !chars[j].is_whitespace()
                && !matches!(chars[j], '(' | ')')
                && !is_quote(chars[j])
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            toks.push(Tok {
                kind: word_kind(&word, col)?,
                col,
                text: word,
            });
            i = j;
        }
    }
    Ok(toks)
}

fn word_kind(word: &str, col: usize) -> Result<Kind, ParseError> {
    match word {
        "AND" => return Ok(Kind::And),
        "OR" => return Ok(Kind::Or),
        "NOT" => return Ok(Kind::Not),
        _ => {}
    }
    if word == "NEAR" || word.starts_with("NEAR/") {
        let digits = word.get(5..).unwrap_or("");
        let all_digits = digits.bytes().all(|b| b.is_ascii_digit());
        return match digits.parse::<u32>() {
            Ok(n) if n <= MAX_NEAR && all_digits => Ok(Kind::Near(n)),
            _ => Err(err(
                ErrorCode::BadNear,
                col,
                "NEAR/n with n a number from 0 to 1000",
                word.into(),
            )),
        };
    }
    if word
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case("lang:"))
    {
        return lang_code(&word[5..]).map(Kind::Lang).ok_or_else(|| {
            err(
                ErrorCode::BadLang,
                col,
                "a language code such as lang:fr or lang:en-GB",
                word.into(),
            )
        });
    }
    let (mark, body, body_col) = match word.chars().next() {
        Some('#') => (Mark::Hashtag, &word[1..], col + 1),
        Some('@') => (Mark::Mention, &word[1..], col + 1),
        _ => (Mark::None, word, col),
    };
    let (body, prefix) = match body.strip_suffix('*') {
        Some(b) => (b, true),
        None => (body, false),
    };
    if let Some(pos) = body.chars().position(|c| c == '*') {
        return Err(err(
            ErrorCode::BadWildcard,
            body_col + pos,
            "'*' only at the end of a word (recall*)",
            word.into(),
        ));
    }
    let tokens = fold_tokens(body);
    if tokens.is_empty() {
        let expected = match mark {
            Mark::Hashtag => "a tag name after '#'",
            Mark::Mention => "a handle after '@'",
            Mark::None => "a word containing a letter or digit",
        };
        return Err(err(ErrorCode::NoWord, col, expected, word.into()));
    }
    if prefix {
        // `foo-*` would silently turn into `foo*`: the star must follow a letter or digit.
        let last = body
            .chars()
            .last()
            .map(|c| c.to_string())
            .unwrap_or_default();
        if fold_tokens(&last).is_empty() {
            return Err(err(
                ErrorCode::BadWildcard,
                col + word.chars().count() - 1,
                "'*' right after a letter or digit (recall*)",
                word.into(),
            ));
        }
    }
    Ok(Kind::Pat(Pattern {
        tokens,
        prefix,
        mark,
        quoted: false,
    }))
}

/// `fr`, `EN`, `en-GB`, `pt_BR` → lower case with `-`; None when malformed.
fn lang_code(code: &str) -> Option<String> {
    let code = code.replace('_', "-").to_ascii_lowercase();
    let mut parts = code.split('-');
    let primary = parts.next()?;
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    for p in parts {
        if !(1..=8).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
    }
    Some(code)
}
