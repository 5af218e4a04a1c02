//! The sweeper (`publish.sweep`, every 30 s): nothing scheduled is lost silently.
//! - a scheduled target well past due whose publish job is gone (dead, purged) gets a new one;
//! - a target `publishing` for longer than the job lease + margin belongs to a dead worker:
//!   it becomes unconfirmed and is reconciled (never re-sent blindly).

use relais_store::{now, Store, StoreError};

use crate::publish_job::mark_unconfirmed;
use crate::schedule::enqueue_publish;
use crate::{Publisher, JOB_SWEEP};

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub requeued: usize,
    pub unconfirmed: usize,
}

const BATCH: i64 = 500;

pub async fn sweep(p: &Publisher, store: &Store) -> Result<SweepReport, StoreError> {
    let mut r = SweepReport::default();
    let t0 = now();
    for (id, version) in store
        .lost_scheduled_targets(t0 - p.cfg.lost_after_ms, BATCH)
        .await?
    {
        let mut tx = store.begin().await?;
        // A new version: whatever is left of the old job's key cannot block the new one.
        if let Some(t) = store.reschedule_target(&mut tx, id, version, None).await? {
            enqueue_publish(store, &mut tx, id, t.version, now()).await?;
            r.requeued += 1;
        }
        tx.commit().await?;
    }
    let stale_before = t0 - p.cfg.lease_ms - p.cfg.stale_margin_ms;
    for t in store.stale_publishing_targets(stale_before, BATCH).await? {
        let msg = "the publication was interrupted (worker stopped); checking the channel";
        mark_unconfirmed(p, store, &t, "interrupted", msg).await?;
        r.unconfirmed += 1;
    }
    if r != SweepReport::default() {
        tracing::warn!(
            requeued = r.requeued,
            unconfirmed = r.unconfirmed,
            "publish sweep repaired targets"
        );
    }
    Ok(r)
}

/// Declares the recurring sweep (idempotent; call at start-up).
pub async fn install_sweeper(store: &Store) -> Result<(), StoreError> {
    store
        .upsert_recurring(JOB_SWEEP, JOB_SWEEP, &serde_json::json!({}), "every 30s")
        .await
}
