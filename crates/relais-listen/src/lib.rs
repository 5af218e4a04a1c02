//! relais-listen: social listening — the query language, the matcher and the `listen match`
//! command-line tool (see `docs/listen-queries.md`).

pub mod bench;
pub mod cli;
pub mod fold;
mod hash;
pub mod lang;
pub mod matcher;
pub mod query;

pub use bench::{run_bench, BenchArgs};
pub use cli::{run, run_match, ListenCommand, MatchArgs};
pub use matcher::{Matcher, QueryIdx, Scratch, SharedMatcher};
pub use query::{explain, parse, ErrorCode, ExplainLang, ParseError, Query};
