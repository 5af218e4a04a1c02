//! Posts and their targets (one per channel). Every state change is a compare-and-set on the
//! current state (and, for claims, the schedule `version`), so two processes can never both
//! publish a target, and a stale job for a rescheduled target does nothing.

use relais_domain::publish::TargetState;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now, random_token, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Post {
    pub id: i64,
    pub workspace_id: i64,
    pub author_id: Option<i64>,
    pub body: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Target {
    pub id: i64,
    pub post_id: i64,
    pub workspace_id: i64,
    pub channel_id: i64,
    pub body: String,
    pub options: serde_json::Value,
    pub state: TargetState,
    pub scheduled_at: Option<i64>,
    pub version: i64,
    /// Sent to the network with every attempt of this target, so a retry is recognised.
    pub idempotency_key: String,
    pub remote_id: Option<String>,
    pub remote_url: Option<String>,
    pub published_at: Option<i64>,
    pub last_error_code: Option<String>,
    pub last_error: Option<String>,
    pub attempts: i64,
    pub updated_at: i64,
}

const T_COLS: &str = "id, post_id, workspace_id, channel_id, body, options, state, scheduled_at, version, idempotency_key, \
                      remote_id, remote_url, published_at, last_error_code, last_error, attempts, updated_at";

fn target_from_row(r: &AnyRow) -> Result<Target> {
    let state: String = r.try_get(6)?;
    let options: String = r.try_get(5)?;
    Ok(Target {
        id: r.try_get(0)?,
        post_id: r.try_get(1)?,
        workspace_id: r.try_get(2)?,
        channel_id: r.try_get(3)?,
        body: r.try_get(4)?,
        options: serde_json::from_str(&options).unwrap_or(serde_json::Value::Null),
        state: TargetState::parse(&state)
            .ok_or(StoreError::Conflict("unknown target state in database"))?,
        scheduled_at: r.try_get(7)?,
        version: r.try_get(8)?,
        idempotency_key: r.try_get(9)?,
        remote_id: r.try_get(10)?,
        remote_url: r.try_get(11)?,
        published_at: r.try_get(12)?,
        last_error_code: r.try_get(13)?,
        last_error: r.try_get(14)?,
        attempts: r.try_get(15)?,
        updated_at: r.try_get(16)?,
    })
}

fn post_from_row(r: &AnyRow) -> Result<Post> {
    let tags: String = r.try_get(4)?;
    Ok(Post {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        author_id: r.try_get(2)?,
        body: r.try_get(3)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
    })
}

pub struct NewTarget<'a> {
    pub channel_id: i64,
    pub body: &'a str,
    pub options: &'a serde_json::Value,
    pub state: TargetState,
    pub scheduled_at: Option<i64>,
}

/// Dedupe key of the publish job of one schedule version of a target (see
/// [`Store::lost_scheduled_targets`], which looks for it).
pub fn publish_job_key(target_id: i64, version: i64) -> String {
    format!("publish:{target_id}:{version}")
}

/// Counts for a health page, per workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PublishingHealth {
    pub workspace_id: i64,
    /// Scheduled and due (should be going out now).
    pub due: i64,
    /// Scheduled and overdue beyond the tolerance: something is wrong.
    pub late: i64,
    pub failed: i64,
    pub unconfirmed: i64,
    pub publishing: i64,
}

/// When a target is planned: its schedule, else the time its post asked for in review, else
/// its last change (drafts).
const WHEN: &str = "COALESCE(scheduled_at, (SELECT p.wanted_at FROM posts p WHERE p.id = targets.post_id), updated_at)";

/// What a target list is filtered on (calendar, list view, health page).
#[derive(Debug, Default, Clone)]
pub struct TargetFilter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub state: Option<TargetState>,
    pub channel_id: Option<i64>,
    /// Posts written by this member.
    pub author_id: Option<i64>,
    /// Posts carrying this tag (as normalised by `relais_domain::tags`).
    pub tag: Option<String>,
}

impl Store {
    pub async fn create_post(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        author_id: i64,
        body: &str,
        tags: &[String],
    ) -> Result<Post> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO posts (workspace_id, author_id, body, tags, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             RETURNING id, workspace_id, author_id, body, tags, created_at, updated_at",
        )
        .bind(workspace_id)
        .bind(author_id)
        .bind(body)
        .bind(serde_json::to_string(tags).unwrap_or_else(|_| "[]".into()))
        .bind(t)
        .fetch_one(conn)
        .await?;
        post_from_row(&row)
    }

    pub async fn post(&self, workspace_id: i64, id: i64) -> Result<Post> {
        let row = sqlx::query("SELECT id, workspace_id, author_id, body, tags, created_at, updated_at FROM posts WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        post_from_row(&row)
    }

    pub async fn add_target(
        &self,
        conn: &mut sqlx::AnyConnection,
        post: &Post,
        t: NewTarget<'_>,
    ) -> Result<Target> {
        let ts = now();
        let key = format!("relais-{}", random_token(18));
        let row = sqlx::query(&format!(
            "INSERT INTO targets (post_id, workspace_id, channel_id, body, options, state, scheduled_at, version, idempotency_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9) RETURNING {T_COLS}"
        ))
        .bind(post.id)
        .bind(post.workspace_id)
        .bind(t.channel_id)
        .bind(t.body)
        .bind(t.options.to_string())
        .bind(t.state.as_str())
        .bind(t.scheduled_at)
        .bind(key)
        .bind(ts)
        .fetch_one(conn)
        .await?;
        target_from_row(&row)
    }

    pub async fn targets_of_post(&self, post_id: i64) -> Result<Vec<Target>> {
        let rows = sqlx::query(&format!(
            "SELECT {T_COLS} FROM targets WHERE post_id = $1 ORDER BY id"
        ))
        .bind(post_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(target_from_row).collect()
    }

    /// A target by id, for workers (no workspace scope: jobs carry ids they created).
    pub async fn target(&self, id: i64) -> Result<Target> {
        let row = sqlx::query(&format!("SELECT {T_COLS} FROM targets WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        target_from_row(&row)
    }

    pub async fn list_targets(&self, workspace_id: i64, f: &TargetFilter) -> Result<Vec<Target>> {
        let rows = sqlx::query(&format!(
            "SELECT {T_COLS} FROM targets WHERE workspace_id = $1 \
             AND {WHEN} >= $2 AND {WHEN} < $3 \
             AND ($4 = '' OR state = $4) AND ($5 = 0 OR channel_id = $5) \
             AND ($6 = 0 OR post_id IN (SELECT id FROM posts WHERE workspace_id = $1 AND author_id = $6)) \
             AND ($7 = '' OR post_id IN (SELECT id FROM posts WHERE workspace_id = $1 AND tags LIKE $7 ESCAPE '\\')) \
             ORDER BY {WHEN}, id LIMIT 5000"
        ))
        .bind(workspace_id)
        .bind(f.from.unwrap_or(i64::MIN))
        .bind(f.to.unwrap_or(i64::MAX))
        .bind(f.state.map(|s| s.as_str()).unwrap_or(""))
        .bind(f.channel_id.unwrap_or(0))
        .bind(f.author_id.unwrap_or(0))
        .bind(f.tag.as_deref().map(crate::post_tags::like_pattern).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(target_from_row).collect()
    }

    /// (state, count) of a workspace's targets, plus how many scheduled ones are overdue.
    pub async fn target_counts(
        &self,
        workspace_id: i64,
        late_before: i64,
    ) -> Result<(Vec<(String, i64)>, i64)> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM targets WHERE workspace_id = $1 GROUP BY state ORDER BY state")
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?;
        let counts = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let late = sqlx::query("SELECT COUNT(*) FROM targets WHERE workspace_id = $1 AND state = 'scheduled' AND scheduled_at < $2")
            .bind(workspace_id)
            .bind(late_before)
            .fetch_one(&self.pool)
            .await?;
        Ok((counts, late.try_get(0)?))
    }

    /// Moves a target from one of `from` to `to`, bumping the version when it becomes scheduled
    /// (older publish jobs for it then do nothing). False when its state was not in `from`.
    pub async fn move_target(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        from: TargetState,
        to: TargetState,
        scheduled_at: Option<i64>,
    ) -> Result<Option<Target>> {
        if !from.can_go(to) {
            return Err(StoreError::Conflict("this state change is not allowed"));
        }
        let bump = i64::from(to == TargetState::Scheduled);
        let row = sqlx::query(&format!(
            "UPDATE targets SET state = $1, scheduled_at = COALESCE($2, scheduled_at), version = version + $3, updated_at = $4 \
             WHERE id = $5 AND state = $6 RETURNING {T_COLS}"
        ))
        .bind(to.as_str())
        .bind(scheduled_at)
        .bind(bump)
        .bind(now())
        .bind(id)
        .bind(from.as_str())
        .fetch_optional(conn)
        .await?;
        row.as_ref().map(target_from_row).transpose()
    }

    /// Claims a scheduled target for publishing: only the job of the current schedule version
    /// wins, and only once.
    pub async fn claim_target(&self, id: i64, version: i64) -> Result<Option<Target>> {
        let row = sqlx::query(&format!(
            "UPDATE targets SET state = 'publishing', attempts = attempts + 1, updated_at = $1 \
             WHERE id = $2 AND state = 'scheduled' AND version = $3 RETURNING {T_COLS}"
        ))
        .bind(now())
        .bind(id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(target_from_row).transpose()
    }

    /// Records success with the remote id in the same statement as the state change.
    pub async fn mark_published(
        &self,
        id: i64,
        remote_id: &str,
        remote_url: Option<&str>,
    ) -> Result<bool> {
        let t = now();
        let n = sqlx::query(
            "UPDATE targets SET state = 'published', remote_id = $1, remote_url = $2, published_at = $3, updated_at = $3, \
             last_error_code = NULL, last_error = NULL WHERE id = $4 AND state IN ('publishing', 'unconfirmed')",
        )
        .bind(remote_id)
        .bind(remote_url)
        .bind(t)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// publishing → failed | unconfirmed | scheduled (retry later), with the network's answer.
    pub async fn settle_attempt(
        &self,
        id: i64,
        to: TargetState,
        code: &str,
        message: &str,
        retry_at: Option<i64>,
    ) -> Result<bool> {
        let mut c = self.pool.acquire().await?;
        let t = self
            .settle_attempt_in(&mut c, id, to, code, message, retry_at)
            .await?;
        Ok(t.is_some())
    }

    /// [`Store::settle_attempt`] in the caller's transaction, so the follow-up job (retry,
    /// reconcile) and the audit entry commit with the state change. Returns the settled target
    /// (its new `version` when it went back to `scheduled`), or None when it was not publishing.
    pub async fn settle_attempt_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        to: TargetState,
        code: &str,
        message: &str,
        retry_at: Option<i64>,
    ) -> Result<Option<Target>> {
        if !TargetState::Publishing.can_go(to) {
            return Err(StoreError::Conflict("this state change is not allowed"));
        }
        let bump = i64::from(to == TargetState::Scheduled);
        let message: String = message.chars().take(1000).collect();
        let row = sqlx::query(&format!(
            "UPDATE targets SET state = $1, last_error_code = $2, last_error = $3, scheduled_at = COALESCE($4, scheduled_at), \
             version = version + $5, updated_at = $6 WHERE id = $7 AND state = 'publishing' RETURNING {T_COLS}"
        ))
        .bind(to.as_str())
        .bind(code)
        .bind(message)
        .bind(retry_at)
        .bind(bump)
        .bind(now())
        .bind(id)
        .fetch_optional(conn)
        .await?;
        row.as_ref().map(target_from_row).transpose()
    }

    /// Re-arms a scheduled target without claiming it: a new `version` (so the jobs of the old
    /// one do nothing) and, when given, a new time. Compare-and-set on `version`: only the job
    /// that still owns the schedule may move it (rate limit wait, lost job found by the sweeper).
    pub async fn reschedule_target(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        version: i64,
        at: Option<i64>,
    ) -> Result<Option<Target>> {
        let row = sqlx::query(&format!(
            "UPDATE targets SET scheduled_at = COALESCE($1, scheduled_at), version = version + 1, updated_at = $2 \
             WHERE id = $3 AND state = 'scheduled' AND version = $4 RETURNING {T_COLS}"
        ))
        .bind(at)
        .bind(now())
        .bind(id)
        .bind(version)
        .fetch_optional(conn)
        .await?;
        row.as_ref().map(target_from_row).transpose()
    }

    /// Records why a target stays where it is (e.g. an unconfirmed target that cannot be read
    /// back), without changing its state; guarded by that state. `updated_at` is kept: it
    /// dates the last attempt (a Mastodon idempotency key expires after about an hour).
    pub async fn note_target_error(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        state: TargetState,
        code: &str,
        message: &str,
    ) -> Result<bool> {
        let message: String = message.chars().take(1000).collect();
        let n = sqlx::query(
            "UPDATE targets SET last_error_code = $1, last_error = $2 WHERE id = $3 AND state = $4",
        )
        .bind(code)
        .bind(message)
        .bind(id)
        .bind(state.as_str())
        .execute(conn)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Scheduled targets due before `before` whose publish job of the current version is not
    /// pending (it went dead or was purged): `(id, version)`, oldest first.
    pub async fn lost_scheduled_targets(&self, before: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT t.id, t.version FROM targets t WHERE t.state = 'scheduled' AND t.scheduled_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.state IN ('queued', 'running') AND \
             j.dedupe_key = 'publish:' || CAST(t.id AS TEXT) || ':' || CAST(t.version AS TEXT)) \
             ORDER BY t.scheduled_at, t.id LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Targets claimed for publishing before `before` and never settled (the worker died).
    pub async fn stale_publishing_targets(&self, before: i64, limit: i64) -> Result<Vec<Target>> {
        let rows = sqlx::query(&format!(
            "SELECT {T_COLS} FROM targets WHERE state = 'publishing' AND updated_at < $1 ORDER BY updated_at, id LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(target_from_row).collect()
    }

    /// Publishing health per workspace (all workspaces when `workspace_id` is None): scheduled
    /// targets due by `now`, those due before `late_before`, and failed / unconfirmed / in-flight.
    pub async fn publishing_health(
        &self,
        workspace_id: Option<i64>,
        now_ms: i64,
        late_before: i64,
    ) -> Result<Vec<PublishingHealth>> {
        let rows = sqlx::query(
            "SELECT workspace_id, \
             COUNT(CASE WHEN state = 'scheduled' AND scheduled_at <= $1 THEN 1 END), \
             COUNT(CASE WHEN state = 'scheduled' AND scheduled_at < $2 THEN 1 END), \
             COUNT(CASE WHEN state = 'failed' THEN 1 END), \
             COUNT(CASE WHEN state = 'unconfirmed' THEN 1 END), \
             COUNT(CASE WHEN state = 'publishing' THEN 1 END) \
             FROM targets WHERE state IN ('scheduled', 'publishing', 'failed', 'unconfirmed') \
             AND ($3 = 0 OR workspace_id = $3) GROUP BY workspace_id ORDER BY workspace_id",
        )
        .bind(now_ms)
        .bind(late_before)
        .bind(workspace_id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PublishingHealth {
                    workspace_id: r.try_get(0)?,
                    due: r.try_get(1)?,
                    late: r.try_get(2)?,
                    failed: r.try_get(3)?,
                    unconfirmed: r.try_get(4)?,
                    publishing: r.try_get(5)?,
                })
            })
            .collect()
    }
}
