//! relais domain: types and rules shared by every surface. No IO here: the store, the web layer
//! and the workers depend on this crate, never the other way round.

pub mod calendar;
pub mod cron;
pub mod error;
pub mod ical;
pub mod lang;
pub mod media;
pub mod publish;
pub mod role;
pub mod slots;
pub mod tags;
pub mod thread;
pub mod validate;

pub use error::{Code, FieldError};
pub use lang::Lang;
pub use role::{Permission, Role};

/// Milliseconds since the Unix epoch, UTC. Every instant relais stores is one of these, so the
/// process time zone can never shift a post (the workspace's IANA zone is stored beside it).
pub type Millis = i64;

pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}
