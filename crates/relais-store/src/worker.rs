//! The worker: claims due jobs, runs their handlers with bounded concurrency, keeps leases
//! alive, enqueues recurring jobs, and on shutdown returns the leases it still holds.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::jobs::Job;
use crate::Store;

/// What a handler reports: `Retry` backs off and tries again; `Permanent` parks the job as dead.
#[derive(Debug)]
pub enum JobError {
    Retry(String),
    Permanent(String),
}

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = Arc<dyn Fn(Store, Job, String) -> JobFuture + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    pub fn new() -> Registry {
        let mut r = Registry::default();
        // The probe proves the queue works end to end (`relais admin queue-check`, tests).
        r.register("system.probe", |store, job, worker| {
            Box::pin(async move {
                if let Some(ms) = job.payload.get("sleep_ms").and_then(|v| v.as_u64()) {
                    tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
                }
                store
                    .record_probe_run(job.id, &worker)
                    .await
                    .map_err(|e| JobError::Retry(e.to_string()))?;
                match job.payload.get("fail").and_then(|v| v.as_str()) {
                    Some("retry") => Err(JobError::Retry("probe asked to fail".into())),
                    Some("permanent") => Err(JobError::Permanent(
                        "probe asked to fail permanently".into(),
                    )),
                    _ => Ok(()),
                }
            })
        });
        r.register("system.housekeeping", |store, _job, _worker| {
            Box::pin(async move {
                store
                    .purge_expired()
                    .await
                    .map_err(|e| JobError::Retry(e.to_string()))?;
                store
                    .purge_done_jobs(7 * 24 * 3600 * 1000)
                    .await
                    .map_err(|e| JobError::Retry(e.to_string()))?;
                Ok(())
            })
        });
        r
    }

    pub fn register<F>(&mut self, kind: &str, f: F)
    where
        F: Fn(Store, Job, String) -> JobFuture + Send + Sync + 'static,
    {
        self.handlers.insert(kind.to_string(), Arc::new(f));
    }

    pub fn kinds(&self) -> Vec<&str> {
        self.handlers.keys().map(String::as_str).collect()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub id: String,
    pub concurrency: usize,
    pub poll: Duration,
    pub lease: Duration,
    /// How long shutdown waits for running jobs before returning their leases.
    pub grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            id: default_worker_id(),
            concurrency: 8,
            poll: Duration::from_millis(250),
            lease: Duration::from_secs(60),
            grace: Duration::from_secs(10),
        }
    }
}

pub fn default_worker_id() -> String {
    format!(
        "{}-{}-{}",
        hostname(),
        std::process::id(),
        crate::random_token(4)
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}

pub struct Worker {
    store: Store,
    registry: Arc<Registry>,
    cfg: WorkerConfig,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(store: Store, registry: Registry, cfg: WorkerConfig) -> Worker {
        Worker {
            store,
            registry: Arc::new(registry),
            cfg,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Poke this to make the worker look for jobs now (after a local enqueue).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let id = self.cfg.id.clone();
        tracing::info!(worker = %id, concurrency = self.cfg.concurrency, "worker started");
        let slots = Arc::new(Semaphore::new(self.cfg.concurrency));
        let mut running: JoinSet<()> = JoinSet::new();
        let lease_ms = self.cfg.lease.as_millis() as i64;
        let mut heartbeat = tokio::time::interval(self.cfg.lease / 3);
        let mut recurring = tokio::time::interval(Duration::from_secs(1));
        loop {
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                _ = shutdown.changed() => continue,
                _ = heartbeat.tick() => {
                    if let Err(e) = self.store.extend_leases(&id, lease_ms).await {
                        tracing::warn!(error = %e, "could not extend leases");
                    }
                    continue;
                }
                _ = recurring.tick() => {
                    if let Err(e) = self.store.enqueue_due_recurring().await {
                        tracing::warn!(error = %e, "could not enqueue recurring jobs");
                    }
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.cfg.poll) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
            while running.try_join_next().is_some() {}
            let free = slots.available_permits();
            if free == 0 {
                continue;
            }
            let jobs = match self.store.claim_jobs(&id, free as i64, lease_ms).await {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim jobs; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            for job in jobs {
                let permit = slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed");
                let (store, registry, wid) =
                    (self.store.clone(), self.registry.clone(), id.clone());
                running.spawn(async move {
                    run_one(store, registry, job, wid).await;
                    drop(permit);
                });
            }
        }
        tracing::info!(worker = %id, running = running.len(), "worker stopping");
        let drained = tokio::time::timeout(self.cfg.grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.abort_all();
        }
        match self.store.release_jobs(&id).await {
            Ok(n) if n > 0 => {
                tracing::info!(worker = %id, released = n, "returned leases of unfinished jobs")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not return leases; they will expire"),
        }
    }
}

async fn run_one(store: Store, registry: Arc<Registry>, job: Job, worker: String) {
    let outcome = if job.attempts > job.max_attempts {
        Err(JobError::Permanent(
            "the job's lease expired on every attempt (worker crashes?)".into(),
        ))
    } else if let Some(h) = registry.handlers.get(&job.kind) {
        h(store.clone(), job.clone(), worker.clone()).await
    } else {
        Err(JobError::Permanent(format!(
            "no handler for job kind {:?} in this relais version",
            job.kind
        )))
    };
    let res = match outcome {
        Ok(()) => store.complete_job(job.id, &worker).await.map(|kept| {
            if !kept {
                tracing::warn!(job = job.id, "job finished after its lease was taken over");
            }
        }),
        Err(JobError::Retry(e)) => {
            tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed, will retry");
            store.fail_job(&job, &worker, &e, false).await
        }
        Err(JobError::Permanent(e)) => {
            tracing::error!(job = job.id, kind = %job.kind, error = %e, "job failed permanently");
            store.fail_job(&job, &worker, &e, true).await
        }
    };
    if let Err(e) = res {
        tracing::error!(job = job.id, error = %e, "could not record the job's outcome; its lease will expire");
    }
}
