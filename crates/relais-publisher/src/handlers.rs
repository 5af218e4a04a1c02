//! Job handlers, registered on the store's `Registry`. Thin: parse the payload, call the logic.

use std::sync::Arc;

use relais_store::jobs::Job;
use relais_store::worker::{JobError, Registry};
use relais_store::StoreError;

use crate::{Publisher, JOB_PUBLISH, JOB_RECONCILE, JOB_SWEEP};

/// Registers `publish.target`, `publish.reconcile` and `publish.sweep`. Also call
/// [`crate::install_sweeper`] once at start so the sweep runs every 30 s.
pub fn register(registry: &mut Registry, publisher: Arc<Publisher>) {
    let p = publisher.clone();
    registry.register(JOB_PUBLISH, move |store, job, _worker| {
        let p = p.clone();
        Box::pin(async move {
            let (id, version) = payload(&job)?;
            crate::publish_job::run(&p, &store, id, version, job.attempts).await
        })
    });
    let p = publisher.clone();
    registry.register(JOB_RECONCILE, move |store, job, _worker| {
        let p = p.clone();
        Box::pin(async move {
            let (id, version) = payload(&job)?;
            crate::reconcile_job::run(&p, &store, id, version).await
        })
    });
    registry.register(JOB_SWEEP, move |store, _job, _worker| {
        let p = publisher.clone();
        Box::pin(async move {
            crate::sweep(&p, &store).await.map_err(retry)?;
            Ok(())
        })
    });
}

fn payload(job: &Job) -> Result<(i64, i64), JobError> {
    let get = |k: &str| job.payload.get(k).and_then(|v| v.as_i64());
    match (get("target_id"), get("version")) {
        (Some(id), Some(v)) => Ok((id, v)),
        _ => Err(JobError::Permanent(format!(
            "malformed {} payload: {}",
            job.kind, job.payload
        ))),
    }
}

/// Database trouble: the queue retries the job with backoff.
pub(crate) fn retry(e: StoreError) -> JobError {
    JobError::Retry(e.to_string())
}
