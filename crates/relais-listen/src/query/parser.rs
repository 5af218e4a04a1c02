//! Recursive-descent parser over the lexer's tokens.

use super::lexer::{lex, Kind, Tok};
use super::{ErrorCode, ParseError, Pattern, Query};

/// Nesting limit for parentheses and NOT chains (keeps recursion bounded on hostile input).
const MAX_DEPTH: usize = 64;

const OPERAND: &str = "a word, \"phrase\", #tag, @handle, lang:xx, NOT or '('";

/// Parse a query. Errors carry a stable code, a 1-based column and what was expected.
pub fn parse(src: &str) -> Result<Query, ParseError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(ParseError {
            code: ErrorCode::EmptyQuery,
            column: 1,
            expected: OPERAND,
            found: "an empty query".into(),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        end_col: src.chars().count() + 1,
    };
    let q = p.or()?;
    if let Some(t) = p.peek() {
        // Only a stray ')' can stop the top-level OR before the end.
        return Err(ParseError {
            code: ErrorCode::UnexpectedParen,
            column: t.col,
            expected: "an operator or the end of the query (this ')' has no matching '(')",
            found: t.text.clone(),
        });
    }
    Ok(q)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    end_col: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn error_here(&self, code: ErrorCode, expected: &'static str) -> ParseError {
        match self.peek() {
            Some(t) => ParseError {
                code,
                column: t.col,
                expected,
                found: t.text.clone(),
            },
            None => ParseError {
                code,
                column: self.end_col,
                expected,
                found: "end of query".into(),
            },
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(ErrorCode::TooDeep, "at most 64 nested '(' or NOT"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Query, ParseError> {
        let mut items = vec![self.and()?];
        while matches!(self.peek().map(|t| &t.kind), Some(Kind::Or)) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Query::Or(Vec::new()))
        } else {
            Query::Or(items)
        })
    }

    fn and(&mut self) -> Result<Query, ParseError> {
        let mut items = vec![self.unary()?];
        loop {
            match self.peek().map(|t| &t.kind) {
                None | Some(Kind::Or) | Some(Kind::RParen) => break,
                Some(Kind::And) => {
                    self.pos += 1;
                    items.push(self.unary()?);
                }
                // Juxtaposition is an implicit AND, as in search boxes.
                Some(_) => items.push(self.unary()?),
            }
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Query::And(Vec::new()))
        } else {
            Query::And(items)
        })
    }

    fn unary(&mut self) -> Result<Query, ParseError> {
        if matches!(self.peek().map(|t| &t.kind), Some(Kind::Not)) {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Query::Not(Box::new(inner)));
        }
        self.near()
    }

    fn near(&mut self) -> Result<Query, ParseError> {
        let left_col = self.peek().map_or(self.end_col, |t| t.col);
        let left = self.primary()?;
        let Some(Kind::Near(distance)) = self.peek().map(|t| t.kind.clone()) else {
            return Ok(left);
        };
        self.pos += 1;
        let left = spans(left).ok_or_else(|| near_operand(left_col, "the left operand"))?;
        let right_col = self.peek().map_or(self.end_col, |t| t.col);
        let right = self.primary()?;
        let right = spans(right).ok_or_else(|| near_operand(right_col, "the right operand"))?;
        if let Some(t) = self.peek() {
            if matches!(t.kind, Kind::Near(_)) {
                return Err(ParseError {
                    code: ErrorCode::NearOperand,
                    column: t.col,
                    expected: "one NEAR/n per group: write (a NEAR/2 b) AND (b NEAR/2 c)",
                    found: t.text.clone(),
                });
            }
        }
        Ok(Query::Near {
            left,
            right,
            distance,
        })
    }

    fn primary(&mut self) -> Result<Query, ParseError> {
        let Some(t) = self.peek() else {
            return Err(self.error_here(ErrorCode::ExpectedOperand, OPERAND));
        };
        match &t.kind {
            Kind::Pat(p) => {
                let q = Query::Pattern(p.clone());
                self.pos += 1;
                Ok(q)
            }
            Kind::Lang(l) => {
                let q = Query::Lang(l.clone());
                self.pos += 1;
                Ok(q)
            }
            Kind::LParen => {
                self.pos += 1;
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Tok {
                        kind: Kind::RParen, ..
                    }) => Ok(inner),
                    _ => Err(ParseError {
                        code: ErrorCode::UnclosedParen,
                        column: self.end_col,
                        expected: "')' to close an open '('",
                        found: "end of query".into(),
                    }),
                }
            }
            Kind::RParen => Err(self.error_here(ErrorCode::ExpectedOperand, OPERAND)),
            _ => Err(self.error_here(ErrorCode::ExpectedOperand, OPERAND)),
        }
    }
}

fn near_operand(col: usize, which: &str) -> ParseError {
    ParseError {
        code: ErrorCode::NearOperand,
        column: col,
        expected: "a word, \"phrase\", wildcard, #tag, @handle or (a OR b) of them around NEAR/n",
        found: format!("{which} is not one of them"),
    }
}

/// A NEAR operand: a pattern or an OR (possibly nested) of patterns.
fn spans(q: Query) -> Option<Vec<Pattern>> {
    match q {
        Query::Pattern(p) => Some(vec![p]),
        Query::Or(items) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(spans(i)?);
            }
            Some(out)
        }
        _ => None,
    }
}
