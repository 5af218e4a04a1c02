//! The job queue, in the database. Jobs are enqueued inside the caller's transaction (so a job
//! exists if and only if the change that needs it committed), claimed with a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the claim runs in a `BEGIN IMMEDIATE`
//! transaction, which serialises claimers), retried with exponential backoff, and parked as
//! `dead` after `max_attempts` for an admin to inspect and retry. A lease that expires (a
//! worker died) makes the job claimable again.

use relais_domain::cron::Schedule;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Backend, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: i64,
    pub max_attempts: i64,
    /// When set, a second job with the same key is not enqueued (returns None).
    pub dedupe_key: Option<String>,
}

impl NewJob {
    pub fn now(kind: &str, payload: serde_json::Value) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            run_at: now(),
            max_attempts: 8,
            dedupe_key: None,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
    pub done: i64,
    /// Age in ms of the oldest due job not yet claimed (0 when none is waiting).
    pub lag_ms: i64,
}

const JOB_COLS: &str =
    "id, kind, payload, state, run_at, attempts, max_attempts, last_error, locked_by, created_at";

fn job_from_row(r: &AnyRow) -> Result<Job> {
    let payload: String = r.try_get(2)?;
    Ok(Job {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        state: r.try_get(3)?,
        run_at: r.try_get(4)?,
        attempts: r.try_get(5)?,
        max_attempts: r.try_get(6)?,
        last_error: r.try_get(7)?,
        locked_by: r.try_get(8)?,
        created_at: r.try_get(9)?,
    })
}

/// Backoff before attempt `attempts + 1`: 5 s, 10 s, 20 s … capped at one hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    (5_000i64 << exp).min(3_600_000)
}

impl Store {
    /// Enqueues in the caller's transaction. Returns the id, or None when deduplicated.
    pub async fn enqueue(
        &self,
        conn: &mut sqlx::AnyConnection,
        job: &NewJob,
    ) -> Result<Option<i64>> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts, dedupe_key, created_at, updated_at) \
             VALUES ($1, $2, 'queued', $3, 0, $4, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(job.run_at)
        .bind(job.max_attempts.max(1))
        .bind(&job.dedupe_key)
        .bind(t)
        .fetch_optional(conn)
        .await?;
        row.map(|r| r.try_get(0).map_err(StoreError::from))
            .transpose()
    }

    /// Claims up to `limit` due jobs for `worker` until `now + lease_ms`.
    pub async fn claim_jobs(&self, worker: &str, limit: i64, lease_ms: i64) -> Result<Vec<Job>> {
        let t = now();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= $3) \
                          OR (state = 'running' AND locked_until < $3) ORDER BY run_at, id LIMIT $4{lock}) \
             RETURNING {JOB_COLS}"
        );
        let mut tx = self.begin().await?;
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(t + lease_ms)
            .bind(t)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Extends the lease of the jobs this worker still runs.
    pub async fn extend_leases(&self, worker: &str, lease_ms: i64) -> Result<u64> {
        let t = now();
        Ok(sqlx::query(
            "UPDATE jobs SET locked_until = $1 WHERE locked_by = $2 AND state = 'running'",
        )
        .bind(t + lease_ms)
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Marks a job done. Guarded by the lease owner: a worker whose lease was taken over
    /// cannot overwrite the new owner's state. Returns false when the lease was lost.
    pub async fn complete_job(&self, id: i64, worker: &str) -> Result<bool> {
        let t = now();
        let n = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $1, updated_at = $1, locked_by = NULL, locked_until = NULL, last_error = NULL \
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(t)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records a failure: back to `queued` after a backoff, or `dead` when `permanent` or out
    /// of attempts.
    pub async fn fail_job(
        &self,
        job: &Job,
        worker: &str,
        error: &str,
        permanent: bool,
    ) -> Result<()> {
        let t = now();
        let dead = permanent || job.attempts >= job.max_attempts;
        let error: String = error.chars().take(2000).collect();
        sqlx::query(
            "UPDATE jobs SET state = $1, run_at = $2, last_error = $3, updated_at = $4, locked_by = NULL, locked_until = NULL, \
             finished_at = $5 WHERE id = $6 AND locked_by = $7 AND state = 'running'",
        )
        .bind(if dead { "dead" } else { "queued" })
        .bind(if dead { job.run_at } else { t + backoff_ms(job.attempts) })
        .bind(error)
        .bind(t)
        .bind(if dead { Some(t) } else { None })
        .bind(job.id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns this worker's leases (graceful shutdown): the jobs are claimable at once and the
    /// interrupted attempt does not count.
    pub async fn release_jobs(&self, worker: &str) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'queued', locked_by = NULL, locked_until = NULL, attempts = attempts - 1, updated_at = $1 \
             WHERE locked_by = $2 AND state = 'running'",
        )
        .bind(now())
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    pub async fn list_jobs(&self, state: &str, limit: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE state = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"))
            .bind(state)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    pub async fn job(&self, id: i64) -> Result<Job> {
        let row = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        job_from_row(&row)
    }

    /// Puts a dead job back in the queue with fresh attempts.
    pub async fn retry_dead_job(&self, id: i64) -> Result<()> {
        let t = now();
        let n = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL WHERE id = $2 AND state = 'dead'",
        )
        .bind(t)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        found(n)
    }

    pub async fn queue_stats(&self) -> Result<QueueStats> {
        let t = now();
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut s = QueueStats::default();
        for r in rows {
            let state: String = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            match state.as_str() {
                "queued" => s.queued = n,
                "running" => s.running = n,
                "dead" => s.dead = n,
                "done" => s.done = n,
                _ => {}
            }
        }
        let row =
            sqlx::query("SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1")
                .bind(t)
                .fetch_one(&self.pool)
                .await?;
        s.lag_ms = row.try_get::<Option<i64>, _>(0)?.map_or(0, |m| t - m);
        Ok(s)
    }

    /// Deletes finished jobs older than `age_ms` (dead ones are kept for the admin).
    pub async fn purge_done_jobs(&self, age_ms: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1")
                .bind(now() - age_ms)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Declares a recurring job (idempotent: keeps the next run when the schedule is unchanged).
    pub async fn upsert_recurring(
        &self,
        name: &str,
        kind: &str,
        payload: &serde_json::Value,
        schedule: &str,
    ) -> Result<()> {
        let parsed = Schedule::parse(schedule).map_err(|e| StoreError::Config(e.to_string()))?;
        let next = parsed.next_after(now());
        sqlx::query(
            "INSERT INTO recurring_jobs (name, kind, payload, schedule, next_run_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, \
             next_run_at = CASE WHEN recurring_jobs.schedule = excluded.schedule THEN recurring_jobs.next_run_at ELSE excluded.next_run_at END, \
             schedule = excluded.schedule",
        )
        .bind(name)
        .bind(kind)
        .bind(payload.to_string())
        .bind(schedule)
        .bind(next)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Enqueues the recurring jobs that are due. Each occurrence is taken by exactly one process:
    /// the compare-and-set on `next_run_at` and the enqueue commit together.
    pub async fn enqueue_due_recurring(&self) -> Result<usize> {
        let t = now();
        let due = sqlx::query("SELECT name, kind, payload, schedule, next_run_at FROM recurring_jobs WHERE next_run_at <= $1")
            .bind(t)
            .fetch_all(&self.pool)
            .await?;
        let mut n = 0;
        for r in due {
            let (name, kind, payload, schedule, at): (String, String, String, String, i64) = (
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
            );
            let Ok(parsed) = Schedule::parse(&schedule) else {
                continue;
            };
            // Skip missed occurrences (the process was down): run once, then follow the schedule.
            let mut next = parsed.next_after(at);
            while next <= t {
                next = parsed.next_after(next);
            }
            let mut tx = self.begin().await?;
            let won = sqlx::query(
                "UPDATE recurring_jobs SET next_run_at = $1 WHERE name = $2 AND next_run_at = $3",
            )
            .bind(next)
            .bind(&name)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if won {
                let payload = serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null);
                let job = NewJob {
                    dedupe_key: Some(format!("recurring:{name}:{at}")),
                    ..NewJob::now(&kind, payload)
                };
                self.enqueue(&mut tx, &job).await?;
                n += 1;
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    /// Side effect of the `system.probe` job: one row per execution, so tests and the
    /// queue self-check can prove that no job ran twice.
    pub async fn record_probe_run(&self, job_id: i64, worker: &str) -> Result<()> {
        sqlx::query("INSERT INTO job_probe_runs (job_id, worker, at) VALUES ($1, $2, $3)")
            .bind(job_id)
            .bind(worker)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// (executions, distinct jobs, distinct workers) of probe jobs.
    pub async fn probe_run_counts(&self) -> Result<(i64, i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*), COUNT(DISTINCT job_id), COUNT(DISTINCT worker) FROM job_probe_runs",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(super::backoff_ms(1), 5_000);
        assert_eq!(super::backoff_ms(2), 10_000);
        assert_eq!(super::backoff_ms(30), 3_600_000);
    }
}
