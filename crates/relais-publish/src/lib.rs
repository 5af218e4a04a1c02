//! relais-publish: channel connectors (Mastodon, Bluesky, Matrix, webhook, WordPress, Telegram,
//! Discord, newsletter by SMTP) behind one [`Connector`] trait, with errors classified per
//! DESIGN §2 and per-network limits in [`limits`]. Every HTTP call goes through relais-net.

mod connector;
mod error;
mod http;
pub mod limits;
mod types;

pub mod bluesky;
pub mod discord;
pub mod mastodon;
pub mod matrix;
pub mod newsletter;
pub mod telegram;
pub mod webhook;
pub mod wordpress;

pub use connector::Connector;
pub use error::{classify_status, retry_after, PublishError, RateScope};
pub use types::{Media, Problem, PublishRequest, Published, ReplyTo, Secret, Variant};
