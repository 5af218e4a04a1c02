//! Reading the QUERIES file and POSTS lines, with errors that name the line and the fix.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::query::{parse, Query};

/// Errors of `relais listen match`.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A bad line in QUERIES.
    #[error("{path}:{line}: {message}")]
    Query {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A bad line in POSTS.
    #[error("{path}:{line}: {message}")]
    Post {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the post index in the output is `line - 1`).
        line: u64,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl ListenError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ListenError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Parsed QUERIES file: ids and queries in file order.
#[derive(Debug, Default)]
pub struct QueryFile {
    /// Query ids.
    pub ids: Vec<String>,
    /// Parsed queries (same order as `ids`).
    pub queries: Vec<Query>,
}

/// Parse a QUERIES file: `ID<TAB>EXPRESSION` per line; blank lines and lines starting with `#`
/// are comments.
pub fn parse_queries(path: &Path, content: &[u8]) -> Result<QueryFile, ListenError> {
    let mut out = QueryFile::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let err = |line: usize, message: String| ListenError::Query {
        path: path.to_owned(),
        line,
        message,
    };
    // Editors on Windows may start the file with a byte-order mark.
    let content = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
    for (i, raw) in content.split(|&b| b == b'\n').enumerate() {
        let lineno = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw).map_err(|e| {
            err(
                lineno,
                format!(
                    "invalid UTF-8 at byte {}; fix: save the file as UTF-8",
                    e.valid_up_to() + 1
                ),
            )
        })?;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((id, expr)) = line.split_once('\t') else {
            return Err(err(
                lineno,
                "no TAB between the id and the expression; fix: write ID<TAB>EXPRESSION \
                 (or start the line with # to make it a comment)"
                    .into(),
            ));
        };
        let id_trim = id.trim();
        if id_trim.is_empty() {
            return Err(err(
                lineno,
                "empty query id; fix: write ID<TAB>EXPRESSION".into(),
            ));
        }
        if let Some(first) = seen.get(id_trim) {
            return Err(err(
                lineno,
                format!("duplicate query id {id_trim:?} (first on line {first}); fix: give every query its own id"),
            ));
        }
        let q = parse(expr).map_err(|e| {
            let col = id.chars().count() + 1 + e.column;
            err(
                lineno,
                format!(
                    "column {col}: invalid query: expected {}, found {} [{}]",
                    e.expected,
                    e.found,
                    e.code.as_str()
                ),
            )
        })?;
        seen.insert(id_trim.to_owned(), lineno);
        out.ids.push(id_trim.to_owned());
        out.queries.push(q);
    }
    Ok(out)
}

/// One POSTS line; unknown fields are ignored, strings are borrowed when unescaped.
#[derive(Debug, Deserialize)]
pub struct PostLine<'a> {
    /// The text to match.
    #[serde(borrow)]
    pub text: Cow<'a, str>,
    /// Declared language, e.g. `fr`.
    #[serde(borrow, default)]
    pub lang: Option<Cow<'a, str>>,
    /// Declared languages.
    #[serde(borrow, default)]
    pub langs: Option<Vec<Cow<'a, str>>>,
}

/// Parse one POSTS line (without its newline).
pub fn parse_post(line: &[u8]) -> Result<PostLine<'_>, String> {
    serde_json::from_slice(line).map_err(|e| {
        let mut msg = e.to_string();
        if let Some(i) = msg.rfind(" at line ") {
            msg.truncate(i);
        }
        format!(
            "invalid post at column {}: {msg}; fix: each line must be one JSON object with a \
             string field \"text\" (optional \"lang\" string or \"langs\" array of strings)",
            e.column()
        )
    })
}
