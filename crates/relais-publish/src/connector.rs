//! The trait every channel connector implements.

use crate::{Problem, PublishError, PublishRequest, Published, Variant};

/// A connected channel on one network. Object-safe: the scheduler holds `Box<dyn Connector>`.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// Network name (`mastodon`, `bluesky`, …), stable.
    fn network(&self) -> &'static str;

    /// Problems that would make the network refuse this variant (pure; no IO).
    fn validate(&self, variant: &Variant) -> Vec<Problem>;

    /// Publish. On `Err(UnknownOutcome)` the caller marks the target `unconfirmed` and calls
    /// [`Connector::reconcile`] later instead of publishing again.
    async fn publish(&self, req: &PublishRequest) -> Result<Published, PublishError>;

    /// Read the channel to learn whether a post whose outcome is unknown did appear.
    /// `Ok(None)`: it did not (safe to publish again with the same idempotency key).
    async fn reconcile(&self, req: &PublishRequest) -> Result<Option<Published>, PublishError>;
}
