//! Crisis freeze: one statement moves every scheduled target of a workspace to `frozen`, so no
//! claim can start after the freeze instant; unfreezing decides what happens to what fell due.

use relais_domain::publish::TargetState;
use sqlx::Row;

use crate::audit::Actor;
use crate::{now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Freeze {
    pub id: i64,
    pub workspace_id: i64,
    pub frozen_at: i64,
    pub frozen_by: String,
    pub reason: String,
}

/// What to do, at unfreeze, with frozen targets whose time passed during the freeze.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Publish them now.
    PublishNow,
    /// Shift them by the length of the freeze.
    Reschedule,
    /// Put them back to draft for a human to look at.
    Drafts,
}

impl Resolution {
    pub fn parse(s: &str) -> Option<Resolution> {
        match s {
            "publish_now" => Some(Resolution::PublishNow),
            "reschedule" => Some(Resolution::Reschedule),
            "drafts" => Some(Resolution::Drafts),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::PublishNow => "publish_now",
            Resolution::Reschedule => "reschedule",
            Resolution::Drafts => "drafts",
        }
    }
}

/// A target that goes back to the schedule at unfreeze (the caller enqueues its publish job).
#[derive(Debug, Clone)]
pub struct Rescheduled {
    pub target_id: i64,
    pub version: i64,
    pub at: i64,
}

impl Store {
    pub async fn active_freeze(&self, workspace_id: i64) -> Result<Option<Freeze>> {
        let row = sqlx::query(
            "SELECT id, workspace_id, frozen_at, frozen_by_label, reason FROM freezes WHERE workspace_id = $1 AND unfrozen_at IS NULL",
        )
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Freeze {
                id: r.try_get(0)?,
                workspace_id: r.try_get(1)?,
                frozen_at: r.try_get(2)?,
                frozen_by: r.try_get(3)?,
                reason: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Freezes the workspace; returns (freeze id, number of targets frozen).
    pub async fn freeze(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        actor: &Actor,
        reason: &str,
    ) -> Result<(i64, u64)> {
        let t = now();
        let active =
            sqlx::query("SELECT id FROM freezes WHERE workspace_id = $1 AND unfrozen_at IS NULL")
                .bind(workspace_id)
                .fetch_optional(&mut *conn)
                .await?;
        if active.is_some() {
            return Err(StoreError::Conflict("already frozen"));
        }
        let row = sqlx::query(
            "INSERT INTO freezes (workspace_id, frozen_at, frozen_by, frozen_by_label, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(workspace_id)
        .bind(t)
        .bind(actor.id)
        .bind(&actor.label)
        .bind(reason)
        .fetch_one(&mut *conn)
        .await?;
        let n = sqlx::query("UPDATE targets SET state = 'frozen', updated_at = $1 WHERE workspace_id = $2 AND state = 'scheduled'")
            .bind(t)
            .bind(workspace_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok((row.try_get(0)?, n))
    }

    /// Ends the freeze. Targets not yet due go back to the schedule at their time; the ones that
    /// fell due follow `resolution`. Returns the targets to enqueue.
    pub async fn unfreeze(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        actor: &Actor,
        resolution: Resolution,
    ) -> Result<Vec<Rescheduled>> {
        let t = now();
        let row = sqlx::query(
            "UPDATE freezes SET unfrozen_at = $1, unfrozen_by_label = $2, resolution = $3 WHERE workspace_id = $4 AND unfrozen_at IS NULL \
             RETURNING frozen_at",
        )
        .bind(t)
        .bind(&actor.label)
        .bind(resolution.as_str())
        .bind(workspace_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::Conflict("not frozen"))?;
        let frozen_at: i64 = row.try_get(0)?;
        let shift = t - frozen_at;
        let due_to_draft = resolution == Resolution::Drafts;
        if due_to_draft {
            sqlx::query("UPDATE targets SET state = 'draft', updated_at = $1 WHERE workspace_id = $2 AND state = 'frozen' AND scheduled_at <= $1")
                .bind(t)
                .bind(workspace_id)
                .execute(&mut *conn)
                .await?;
        }
        let new_time = match resolution {
            Resolution::PublishNow => "CASE WHEN scheduled_at <= $1 THEN $1 ELSE scheduled_at END",
            Resolution::Reschedule => {
                "CASE WHEN scheduled_at <= $1 THEN scheduled_at + $3 ELSE scheduled_at END"
            }
            Resolution::Drafts => "scheduled_at + ($3 * 0)",
        };
        let rows = sqlx::query(&format!(
            "UPDATE targets SET state = 'scheduled', scheduled_at = {new_time}, version = version + 1, updated_at = $1 \
             WHERE workspace_id = $2 AND state = 'frozen' RETURNING id, version, scheduled_at"
        ))
        .bind(t)
        .bind(workspace_id)
        .bind(shift)
        .fetch_all(&mut *conn)
        .await?;
        debug_assert!(
            TargetState::Frozen.can_go(TargetState::Scheduled)
                && TargetState::Frozen.can_go(TargetState::Draft)
        );
        rows.iter()
            .map(|r| {
                Ok(Rescheduled {
                    target_id: r.try_get(0)?,
                    version: r.try_get(1)?,
                    at: r.try_get::<Option<i64>, _>(2)?.unwrap_or(t),
                })
            })
            .collect()
    }
}
