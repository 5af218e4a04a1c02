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
    pub async fn set_review(
        &self,
        conn: &mut sqlx::AnyConnection,
        post_id: i64,
        stage: Option<&str>,
        wanted_at: Option<i64>,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE posts SET review_stage = $1, wanted_at = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(stage)
        .bind(wanted_at)
        .bind(now())
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
}
