//! The query language: AST, parser and plain-words explanation.
//!
//! Grammar (NEAR binds tightest, then NOT, then AND — explicit or implied by juxtaposition —
//! then OR):
//!
//! ```text
//! query   := and ("OR" and)*
//! and     := unary (["AND"] unary)*
//! unary   := "NOT" unary | near
//! near    := primary ["NEAR/" n primary]
//! primary := "(" query ")" | word | "phrase" | word* | #tag | @handle | lang:xx
//! ```

mod error;
mod explain;
mod lexer;
mod parser;

pub use error::{ErrorCode, ParseError};
pub use explain::{explain, ExplainLang};
pub use parser::parse;

/// Which sign, if any, must directly precede the first token of a pattern in the post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    /// Plain word or phrase.
    None,
    /// `#tag`: the token must follow a `#` in the post.
    Hashtag,
    /// `@handle`: the token must follow an `@` in the post.
    Mention,
}

impl Mark {
    /// The token mark byte used by [`crate::fold::Tokens`].
    pub fn as_byte(self) -> u8 {
        match self {
            Mark::None => crate::fold::MARK_NONE,
            Mark::Hashtag => crate::fold::MARK_HASH,
            Mark::Mention => crate::fold::MARK_AT,
        }
    }
}

/// A sequence of consecutive folded tokens: a word, a phrase, a wildcard, a #tag or an @handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// Folded tokens (`[0-9a-z_]+`), never empty.
    pub tokens: Vec<String>,
    /// The last token is a prefix (`recall*`).
    pub prefix: bool,
    /// Required sign before the first token.
    pub mark: Mark,
    /// Written between double quotes (only used to explain the query).
    pub quoted: bool,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Query {
    /// Word, phrase, wildcard, #tag or @handle.
    Pattern(Pattern),
    /// `lang:xx`: the post declares this language (primary subtag, lower case).
    Lang(String),
    /// Negation.
    Not(Box<Query>),
    /// All children match (two or more).
    And(Vec<Query>),
    /// At least one child matches (two or more).
    Or(Vec<Query>),
    /// An occurrence of one left pattern and one right pattern, in either order, with at most
    /// `distance` tokens between them and not overlapping.
    Near {
        /// Alternatives on the left of `NEAR/n`.
        left: Vec<Pattern>,
        /// Alternatives on the right of `NEAR/n`.
        right: Vec<Pattern>,
        /// Maximum number of tokens between the two occurrences.
        distance: u32,
    },
}

#[cfg(test)]
mod tests;
