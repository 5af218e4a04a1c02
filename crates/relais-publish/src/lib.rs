//! relais-publish: channel connectors (Mastodon, Bluesky, Matrix, webhook, WordPress, Telegram,
//! Discord, newsletter by SMTP, and through the user's own developer app: Facebook Page,
//! Instagram, Threads, LinkedIn, X) behind one [`Connector`] trait, with errors classified per
//! DESIGN §2 and per-network limits in [`limits`]. Every HTTP call goes through relais-net.

mod connector;
mod error;
mod http;
pub mod limits;
mod types;

pub mod bluesky;
pub mod discord;
pub mod facebook;
pub mod instagram;
pub mod linkedin;
pub mod mastodon;
pub mod matrix;
pub mod meta;
pub mod newsletter;
pub mod oauth;
pub mod telegram;
pub mod threads;
pub mod webhook;
pub mod wordpress;
pub mod x;

pub use connector::Connector;
pub use error::{classify_status, retry_after, ConfigError, PublishError, RateScope};
pub use types::{Media, Problem, PublishRequest, Published, ReplyTo, Secret, Variant};
