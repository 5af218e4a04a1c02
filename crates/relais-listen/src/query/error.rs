//! Parse errors with a stable code, a 1-based column and what was expected.

use std::fmt;

/// Stable error codes (the UI translates them; never renumber or rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The query is empty or only blanks.
    EmptyQuery,
    /// An operand (word, phrase, `(`…) was expected.
    ExpectedOperand,
    /// A `)` is missing.
    UnclosedParen,
    /// A `)` has no matching `(`.
    UnexpectedParen,
    /// A `"phrase` has no closing quote.
    UnclosedQuote,
    /// A word, phrase, tag or handle contains no letter or digit.
    NoWord,
    /// `NEAR` without a valid `/n` distance.
    BadNear,
    /// A `NEAR/n` operand is not a word, phrase, wildcard, tag, handle or `(… OR …)` of them.
    NearOperand,
    /// `lang:` without a valid language code.
    BadLang,
    /// `*` elsewhere than at the end of a word.
    BadWildcard,
    /// Parentheses or NOTs nested too deeply.
    TooDeep,
}

impl ErrorCode {
    /// The stable string form, e.g. `listen.query.expected_operand`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::EmptyQuery => "listen.query.empty",
            ErrorCode::ExpectedOperand => "listen.query.expected_operand",
            ErrorCode::UnclosedParen => "listen.query.unclosed_paren",
            ErrorCode::UnexpectedParen => "listen.query.unexpected_paren",
            ErrorCode::UnclosedQuote => "listen.query.unclosed_quote",
            ErrorCode::NoWord => "listen.query.no_word",
            ErrorCode::BadNear => "listen.query.bad_near",
            ErrorCode::NearOperand => "listen.query.near_operand",
            ErrorCode::BadLang => "listen.query.bad_lang",
            ErrorCode::BadWildcard => "listen.query.bad_wildcard",
            ErrorCode::TooDeep => "listen.query.too_deep",
        }
    }
}

/// A query parse error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// Stable code.
    pub code: ErrorCode,
    /// 1-based column, in characters, where the problem starts.
    pub column: usize,
    /// What the parser expected, in plain English.
    pub expected: &'static str,
    /// What it found instead (`end of query` at the end).
    pub found: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "column {}: expected {}, found {} [{}]",
            self.column,
            self.expected,
            self.found,
            self.code.as_str()
        )
    }
}
