//! Publishing health for the health page: per workspace, targets due, late (due for more than
//! [`LATE_AFTER_MS`]: the worker is down or behind), failed and unconfirmed (need a human).

use relais_store::posts::PublishingHealth;
use relais_store::{now, Store, StoreError};

pub const LATE_AFTER_MS: i64 = 2 * 60 * 1000;

/// Counts for one workspace, or for all (`None`, instance health); workspaces with nothing
/// pending are omitted.
pub async fn health(
    store: &Store,
    workspace_id: Option<i64>,
) -> Result<Vec<PublishingHealth>, StoreError> {
    let t = now();
    store
        .publishing_health(workspace_id, t, t - LATE_AFTER_MS)
        .await
}
