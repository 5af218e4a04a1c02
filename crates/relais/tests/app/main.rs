//! The application's integration tests in one binary (one link instead of one per file; the
//! calendar test, which sets the process TZ, and the fault tests, which kill processes, keep
//! their own binaries).

#[path = "../common/mod.rs"]
mod common;
mod nl;

mod accounts;
mod alerts;
mod approval_rules;
mod approvals;
mod blog;
mod browser;
mod browser_compose;
mod channels;
mod checks;
mod cli;
mod compose;
mod compose_api_threads;
mod compose_media;
mod escalation_peers;
mod freeze;
mod listening;
mod live_peers;
mod newsletter;
mod newsletter_input;
mod oauth;
mod workspaces;
