//! Scheduling = a state change and its job, in the caller's transaction: a target is
//! `scheduled` if and only if a publish job for its current version exists.

use relais_domain::publish::TargetState;
use relais_store::jobs::NewJob;
use relais_store::posts::{publish_job_key, Target};
use relais_store::{AnyConnection, Store, StoreError};
use serde_json::json;

use crate::{JOB_PUBLISH, JOB_RECONCILE};

/// Moves `target_id` from `from` to `scheduled` at `at_ms` (a new version) and enqueues
/// `publish.target {target_id, version}` to run at `at_ms`. Conflict when the target is no
/// longer in `from` (someone else changed it). The caller commits.
pub async fn schedule(
    store: &Store,
    conn: &mut AnyConnection,
    target_id: i64,
    from: TargetState,
    at_ms: i64,
) -> Result<Target, StoreError> {
    let t = store
        .move_target(conn, target_id, from, TargetState::Scheduled, Some(at_ms))
        .await?
        .ok_or(StoreError::Conflict(
            "the target changed meanwhile: reload it",
        ))?;
    enqueue_publish(store, conn, t.id, t.version, at_ms).await?;
    Ok(t)
}

/// "Publish now": [`schedule`] at the current instant.
pub async fn publish_now(
    store: &Store,
    conn: &mut AnyConnection,
    target_id: i64,
    from: TargetState,
) -> Result<Target, StoreError> {
    schedule(store, conn, target_id, from, relais_store::now()).await
}

/// Moves an already scheduled target to another time. `version` is the one the user saw:
/// the jobs of older versions then do nothing.
pub async fn reschedule(
    store: &Store,
    conn: &mut AnyConnection,
    target_id: i64,
    version: i64,
    at_ms: i64,
) -> Result<Target, StoreError> {
    let t = store
        .reschedule_target(conn, target_id, version, Some(at_ms))
        .await?
        .ok_or(StoreError::Conflict(
            "the target changed meanwhile: reload it",
        ))?;
    enqueue_publish(store, conn, t.id, t.version, at_ms).await?;
    Ok(t)
}

/// Enqueues the publish job of one schedule version (deduplicated per version). For callers
/// that moved a target to `scheduled` themselves, e.g. an unfreeze, in the same transaction.
pub async fn enqueue_publish(
    store: &Store,
    conn: &mut AnyConnection,
    target_id: i64,
    version: i64,
    run_at: i64,
) -> Result<(), StoreError> {
    let job = NewJob {
        kind: JOB_PUBLISH.into(),
        payload: json!({ "target_id": target_id, "version": version }),
        run_at,
        // The handler only fails on database errors; publishing retries are new versions.
        max_attempts: 8,
        dedupe_key: Some(publish_job_key(target_id, version)),
    };
    store.enqueue(conn, &job).await?;
    Ok(())
}

pub(crate) async fn enqueue_reconcile(
    store: &Store,
    conn: &mut AnyConnection,
    target_id: i64,
    version: i64,
    run_at: i64,
    max_attempts: i64,
) -> Result<(), StoreError> {
    let job = NewJob {
        kind: JOB_RECONCILE.into(),
        payload: json!({ "target_id": target_id, "version": version }),
        run_at,
        max_attempts,
        dedupe_key: Some(format!("reconcile:{target_id}:{version}")),
    };
    store.enqueue(conn, &job).await?;
    Ok(())
}
