//! relais-publisher: turns scheduled targets into posts, exactly once as far as the networks
//! allow (DESIGN §2). Pieces:
//!
//! - [`credentials`]: per-network credentials (sealed in `secrets`) and [`connector_for`];
//! - [`channels`]: [`ChannelService`] to connect / reconnect a channel after checking it;
//! - [`schedule()`]: move a target to `scheduled` and enqueue its publish job, atomically;
//! - [`register`]: the `publish.target`, `publish.reconcile` and `publish.sweep` job handlers;
//! - [`health`]: due / late / failed / unconfirmed counts per workspace, and each channel's
//!   health (connection, wait, token expiry, daily quota);
//! - [`renewal`]: renewed OAuth tokens stored before use, daily renewal of 60-day tokens;
//! - [`oauth_flow`]: "Connect with <network>" (authorization code, PKCE, pending state);
//! - [`bench`]: `relais bench publish`.

pub mod bench;
pub mod channels;
pub mod credentials;
mod handlers;
pub mod health;
pub mod oauth_flow;
mod outcome;
mod publish_job;
mod publisher;
mod reconcile_job;
pub mod renewal;
pub mod schedule;
pub mod sink;
mod sweep;
mod thread;
mod verify;

pub use channels::{ChannelError, ChannelService};
pub use credentials::{connector_for, ChannelCredentials, CREDENTIALS_PURPOSE};
pub use handlers::register;
pub use publish_job::NOTIFY_JOB;
pub use publisher::{Publisher, PublisherConfig};
pub use schedule::{enqueue_publish, publish_now, reschedule, schedule};
pub use sweep::{install_sweeper, sweep, SweepReport};

/// Job kinds.
pub const JOB_PUBLISH: &str = "publish.target";
pub const JOB_RECONCILE: &str = "publish.reconcile";
pub const JOB_SWEEP: &str = "publish.sweep";
