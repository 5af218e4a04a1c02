//! relais-sources: live listening sources that push events as they happen.
//!
//! - [`SourceConfig::BlueskyFirehose`]: `com.atproto.sync.subscribeRepos` of a relay or PDS
//!   (DAG-CBOR frames, CAR blocks), resumed from the saved `seq`;
//! - [`SourceConfig::BlueskyJetstream`]: the same posts as JSON, resumed from a time cursor;
//! - [`SourceConfig::Mastodon`]: a public or hashtag timeline by streaming, caught up and backed
//!   up by polling;
//! - [`SourceConfig::PageWatch`]: a page (or a CSS selector of it) checked periodically; a change
//!   is an event whose text is the diff.
//!
//! [`spawn`] runs one source as a task: it sends [`Batch`]es (events + the cursor to save with
//! them) on a channel and publishes a [`SourceStatus`]. Every connection goes through the SSRF
//! guard of the [`relais_net::Net`] it is given (websockets included). Failures reconnect with
//! backoff and jitter; a configuration that cannot work stops the source (state `stopped`,
//! `last_error` says which field). See docs/sources.md.

mod backoff;
mod bsky;
pub mod car;
mod error;
pub mod firehose;
mod html;
pub mod jetstream;
pub mod mastodon;
mod model;
mod output;
pub mod page;
mod status;
mod stream;
mod ws;

use std::time::Duration;

use relais_net::Net;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use backoff::Backoff;
pub use error::{ErrorCode, SourceError};
pub use firehose::FirehoseConfig;
pub use jetstream::JetstreamConfig;
pub use mastodon::{MastodonConfig, MastodonMode, Timeline};
pub use model::{Batch, Event, Secret, SourceKind, SourceRef};
pub use page::{PageConfig, PageState};
pub use status::{Problem, SourceState, SourceStatus};

use output::Output;

/// DNS + TCP + TLS + websocket upgrade.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// One source's settings, as the caller stores them (JSON with a `kind` tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceConfig {
    BlueskyFirehose(FirehoseConfig),
    BlueskyJetstream(JetstreamConfig),
    Mastodon(MastodonConfig),
    PageWatch(PageConfig),
}

impl SourceConfig {
    pub fn kind(&self) -> SourceKind {
        match self {
            SourceConfig::BlueskyFirehose(_) => SourceKind::BlueskyFirehose,
            SourceConfig::BlueskyJetstream(_) => SourceKind::BlueskyJetstream,
            SourceConfig::Mastodon(_) => SourceKind::Mastodon,
            SourceConfig::PageWatch(_) => SourceKind::PageWatch,
        }
    }

    /// Check the settings without any network access (the SSRF guard is applied when
    /// connecting, since names resolve differently over time). The message names the field.
    pub fn validate(&self) -> Result<(), SourceError> {
        match self {
            SourceConfig::BlueskyFirehose(c) => c.validate(),
            SourceConfig::BlueskyJetstream(c) => c.validate(),
            SourceConfig::Mastodon(c) => c.validate(),
            SourceConfig::PageWatch(c) => c.validate(),
        }
    }
}

/// A running source. Dropping it (or [`SourceHandle::stop`]) ends the task; what was sent stays
/// sent, what was not is received again after a restart from the last saved cursor.
pub struct SourceHandle {
    source: SourceRef,
    status: watch::Receiver<SourceStatus>,
    task: JoinHandle<()>,
}

impl SourceHandle {
    pub fn source(&self) -> SourceRef {
        self.source
    }

    /// The current status.
    pub fn status(&self) -> SourceStatus {
        self.status.borrow().clone()
    }

    /// A receiver to await status changes.
    pub fn watch(&self) -> watch::Receiver<SourceStatus> {
        self.status.clone()
    }

    /// True once the task ended (fatal error or receiver dropped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    pub fn stop(self) {}
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start a source. `id` is the caller's id for it (echoed in every batch); `cursor` is the last
/// cursor saved from a [`Batch`] (`None` = start live: for Mastodon the newest page, for a page
/// watch the first check sets a baseline). Must be called inside a tokio runtime.
pub fn spawn(
    net: Net,
    id: i64,
    config: SourceConfig,
    cursor: Option<String>,
    tx: mpsc::Sender<Batch>,
) -> SourceHandle {
    let source = SourceRef {
        id,
        kind: config.kind(),
    };
    let (status_tx, status_rx) = watch::channel(SourceStatus::default());
    let task = tokio::spawn(async move {
        let mut out = Output::new(source, tx, status_tx, None);
        let e = run(&net, &config, cursor, &mut out).await;
        if e.code != ErrorCode::Shutdown {
            out.error(&e);
        }
        out.state(SourceState::Stopped);
    });
    SourceHandle {
        source,
        status: status_rx,
        task,
    }
}

/// Run until a fatal error (returned).
async fn run(
    net: &Net,
    config: &SourceConfig,
    cursor: Option<String>,
    out: &mut Output,
) -> SourceError {
    let policy = net.policy().clone();
    match config {
        SourceConfig::BlueskyFirehose(c) => {
            let mut f = match firehose::Firehose::new(c, CONNECT_TIMEOUT) {
                Ok(f) => f,
                Err(e) => return e,
            };
            let (cursor, warn) = firehose::parse_cursor(cursor);
            warn.inspect(|w| out.notice(w));
            out.reset_cursor(cursor);
            stream::run_ws(&mut f, out, &policy).await
        }
        SourceConfig::BlueskyJetstream(c) => {
            let mut j = match jetstream::Jetstream::new(c, CONNECT_TIMEOUT) {
                Ok(j) => j,
                Err(e) => return e,
            };
            let (cursor, warn) = jetstream::parse_cursor(cursor);
            warn.inspect(|w| out.notice(w));
            j.start_from(cursor.as_deref());
            out.reset_cursor(cursor);
            stream::run_ws(&mut j, out, &policy).await
        }
        SourceConfig::Mastodon(c) => {
            let mut m = match mastodon::Mastodon::new(c, net.clone(), CONNECT_TIMEOUT) {
                Ok(m) => m,
                Err(e) => return e,
            };
            out.reset_cursor(cursor);
            m.run(out).await
        }
        SourceConfig::PageWatch(c) => {
            out.reset_cursor(cursor);
            page::run(net, c, out).await
        }
    }
}
