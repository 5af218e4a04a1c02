//! Approvals: the workspace's mode, posts waiting in a review stage, and the decisions taken.

use sqlx::Row;

use crate::{found, now, Result, Store};

/// A post waiting for a decision.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pending {
    pub post_id: i64,
    pub author_id: Option<i64>,
    pub author: String,
    pub body: String,
    pub stage: String,
    pub wanted_at: Option<i64>,
    pub updated_at: i64,
}

/// A decision to record.
pub struct NewDecision<'a> {
    pub workspace_id: i64,
    pub post_id: i64,
    pub stage: &'a str,
    pub decision: &'a str,
    pub comment: &'a str,
    pub by_id: Option<i64>,
    pub by_label: &'a str,
}

/// How a workspace approves: the mode, the members named as approvers, and the expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApprovalSettings {
    /// `none`, `internal` or `internal_client`.
    pub mode: String,
    /// Members who may decide at the internal stage besides the approving roles.
    pub approvers: Vec<i64>,
    /// Only the named approvers decide at the internal stage (not the roles).
    pub named_only: bool,
    /// A pending approval goes back to draft after this many days (None: never).
    pub expiry_days: Option<i64>,
}

/// A review that waited longer than its workspace allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredReview {
    pub post_id: i64,
    pub workspace_id: i64,
    pub author_id: Option<i64>,
    pub stage: String,
    /// When the post entered its stage.
    pub since: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    pub stage: String,
    pub decision: String,
    pub comment: String,
    pub by: String,
    pub at: i64,
}

impl Store {
    pub async fn approval_mode(&self, workspace_id: i64) -> Result<String> {
        let row = sqlx::query("SELECT approval_mode FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn set_approval_mode(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        mode: &str,
    ) -> Result<()> {
        let n =
            sqlx::query("UPDATE workspaces SET approval_mode = $1, updated_at = $2 WHERE id = $3")
                .bind(mode)
                .bind(now())
                .bind(workspace_id)
                .execute(conn)
                .await?
                .rows_affected();
        found(n)
    }

    /// Puts a post in a review stage (or out of review with `None`), keeping the time the author
    /// wants it published.
    /// Entering a stage starts its clock (`review_since`, for expiry).
    pub async fn set_review(
        &self,
        conn: &mut sqlx::AnyConnection,
        post_id: i64,
        stage: Option<&str>,
        wanted_at: Option<i64>,
    ) -> Result<()> {
        let t = now();
        let n = sqlx::query(
            "UPDATE posts SET review_stage = $1, wanted_at = $2, updated_at = $3, review_since = $4 WHERE id = $5",
        )
        .bind(stage)
        .bind(wanted_at)
        .bind(t)
        .bind(stage.map(|_| t))
        .bind(post_id)
        .execute(conn)
        .await?
        .rows_affected();
        found(n)
    }

    /// (stage, wanted_at, author_id) of a post of the workspace.
    pub async fn review_of(
        &self,
        workspace_id: i64,
        post_id: i64,
    ) -> Result<(Option<String>, Option<i64>, Option<i64>)> {
        let row = sqlx::query("SELECT review_stage, wanted_at, author_id FROM posts WHERE id = $1 AND workspace_id = $2")
            .bind(post_id)
            .bind(workspace_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
    }

    pub async fn pending_reviews(&self, workspace_id: i64) -> Result<Vec<Pending>> {
        let rows = sqlx::query(
            "SELECT p.id, p.author_id, COALESCE(u.name, ''), p.body, p.review_stage, p.wanted_at, p.updated_at FROM posts p \
             LEFT JOIN users u ON u.id = p.author_id WHERE p.workspace_id = $1 AND p.review_stage IS NOT NULL ORDER BY p.updated_at, p.id",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Pending {
                    post_id: r.try_get(0)?,
                    author_id: r.try_get(1)?,
                    author: r.try_get(2)?,
                    body: r.try_get(3)?,
                    stage: r.try_get(4)?,
                    wanted_at: r.try_get(5)?,
                    updated_at: r.try_get(6)?,
                })
            })
            .collect()
    }

    pub async fn record_decision(
        &self,
        conn: &mut sqlx::AnyConnection,
        d: NewDecision<'_>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO approvals (post_id, workspace_id, stage, decision, comment, decided_by, decided_by_label, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(d.post_id)
        .bind(d.workspace_id)
        .bind(d.stage)
        .bind(d.decision)
        .bind(d.comment)
        .bind(d.by_id)
        .bind(d.by_label)
        .bind(now())
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn decisions(&self, post_id: i64) -> Result<Vec<Decision>> {
        let rows = sqlx::query("SELECT stage, decision, comment, decided_by_label, at FROM approvals WHERE post_id = $1 ORDER BY at, id")
            .bind(post_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Decision {
                    stage: r.try_get(0)?,
                    decision: r.try_get(1)?,
                    comment: r.try_get(2)?,
                    by: r.try_get(3)?,
                    at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The approval settings; named approvers who left the workspace are not listed.
    pub async fn approval_settings(&self, workspace_id: i64) -> Result<ApprovalSettings> {
        let row = sqlx::query(
            "SELECT approval_mode, approvers_replace_role, approval_expiry_days FROM workspaces WHERE id = $1",
        )
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(crate::StoreError::NotFound)?;
        let rows = sqlx::query(
            "SELECT a.user_id FROM workspace_approvers a JOIN memberships m \
             ON m.workspace_id = a.workspace_id AND m.user_id = a.user_id WHERE a.workspace_id = $1 ORDER BY a.user_id",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(ApprovalSettings {
            mode: row.try_get(0)?,
            named_only: row.try_get::<i64, _>(1)? != 0,
            expiry_days: row.try_get(2)?,
            approvers: rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, sqlx::Error>>()?,
        })
    }

    /// Replaces the approval settings (mode, named approvers, expiry) in the caller's
    /// transaction.
    pub async fn set_approval_settings(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        s: &ApprovalSettings,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE workspaces SET approval_mode = $1, approvers_replace_role = $2, approval_expiry_days = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&s.mode)
        .bind(i64::from(s.named_only))
        .bind(s.expiry_days)
        .bind(now())
        .bind(workspace_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        found(n)?;
        sqlx::query("DELETE FROM workspace_approvers WHERE workspace_id = $1")
            .bind(workspace_id)
            .execute(&mut *conn)
            .await?;
        for uid in &s.approvers {
            sqlx::query("INSERT INTO workspace_approvers (workspace_id, user_id) VALUES ($1, $2)")
                .bind(workspace_id)
                .bind(uid)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Posts whose review waited past their workspace's expiry at `now_ms` (archived
    /// workspaces change nothing), oldest first.
    pub async fn expired_reviews(&self, now_ms: i64, limit: i64) -> Result<Vec<ExpiredReview>> {
        let rows = sqlx::query(
            "SELECT p.id, p.workspace_id, p.author_id, p.review_stage, COALESCE(p.review_since, p.updated_at) \
             FROM posts p JOIN workspaces w ON w.id = p.workspace_id \
             WHERE p.review_stage IS NOT NULL AND w.approval_expiry_days > 0 AND w.archived_at IS NULL \
             AND COALESCE(p.review_since, p.updated_at) + w.approval_expiry_days * 86400000 <= $1 \
             ORDER BY p.id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExpiredReview {
                    post_id: r.try_get(0)?,
                    workspace_id: r.try_get(1)?,
                    author_id: r.try_get(2)?,
                    stage: r.try_get(3)?,
                    since: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Takes a post out of review if it is still at `stage` since `since` (compare-and-set: a
    /// decision taken meanwhile wins). False when it changed.
    pub async fn end_review_if(
        &self,
        conn: &mut sqlx::AnyConnection,
        post_id: i64,
        stage: &str,
        since: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE posts SET review_stage = NULL, review_since = NULL, updated_at = $1 \
             WHERE id = $2 AND review_stage = $3 AND COALESCE(review_since, updated_at) = $4",
        )
        .bind(now())
        .bind(post_id)
        .bind(stage)
        .bind(since)
        .execute(conn)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
