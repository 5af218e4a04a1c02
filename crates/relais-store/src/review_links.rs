//! Client review links: one post, one decision, without an account. The clear token is shown
//! once to the manager who creates the link; only its hash is stored.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, hash_token, now, random_token, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReviewLink {
    pub id: i64,
    pub workspace_id: i64,
    pub post_id: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub used_at: Option<i64>,
    /// "client via link: <name>" once a decision was taken through it.
    pub used_by: Option<String>,
}

const COLS: &str =
    "id, workspace_id, post_id, created_by, created_at, expires_at, revoked_at, used_at, used_by";

fn link_from_row(r: &AnyRow) -> Result<ReviewLink> {
    Ok(ReviewLink {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        post_id: r.try_get(2)?,
        created_by: r.try_get(3)?,
        created_at: r.try_get(4)?,
        expires_at: r.try_get(5)?,
        revoked_at: r.try_get(6)?,
        used_at: r.try_get(7)?,
        used_by: r.try_get(8)?,
    })
}

impl Store {
    /// A new link for `post_id`, valid `ttl_ms`: (clear token, link).
    pub async fn create_review_link(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        post_id: i64,
        created_by: i64,
        ttl_ms: i64,
    ) -> Result<(String, ReviewLink)> {
        let token = random_token(32);
        let t = now();
        let row = sqlx::query(&format!(
            "INSERT INTO review_links (workspace_id, post_id, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLS}"
        ))
        .bind(workspace_id)
        .bind(post_id)
        .bind(hash_token(&token))
        .bind(created_by)
        .bind(t)
        .bind(t + ttl_ms)
        .fetch_one(conn)
        .await?;
        Ok((token, link_from_row(&row)?))
    }

    /// The link a clear token names, whatever its state (the caller explains why it cannot be
    /// used: expired, revoked, already used).
    pub async fn review_link_by_token(&self, token: &str) -> Result<ReviewLink> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM review_links WHERE token_hash = $1"
        ))
        .bind(hash_token(token))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        link_from_row(&row)
    }

    /// Links of a post that can still be used (not revoked, not used, not expired at `at`).
    pub async fn open_review_links(
        &self,
        workspace_id: i64,
        post_id: i64,
        at: i64,
    ) -> Result<Vec<ReviewLink>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM review_links WHERE workspace_id = $1 AND post_id = $2 \
             AND revoked_at IS NULL AND used_at IS NULL AND expires_at > $3 ORDER BY id"
        ))
        .bind(workspace_id)
        .bind(post_id)
        .bind(at)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// Revokes a link of the workspace; NotFound for another workspace's or a spent one.
    pub async fn revoke_review_link(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        id: i64,
    ) -> Result<ReviewLink> {
        let row = sqlx::query(&format!(
            "UPDATE review_links SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 \
             AND revoked_at IS NULL AND used_at IS NULL RETURNING {COLS}"
        ))
        .bind(now())
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(conn)
        .await?;
        row.as_ref()
            .map(link_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Spends a link on a decision (compare-and-set: only one decision per link, never after
    /// it expired or was revoked).
    pub async fn use_review_link(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        by: &str,
    ) -> Result<()> {
        let t = now();
        let n = sqlx::query(
            "UPDATE review_links SET used_at = $1, used_by = $2 WHERE id = $3 \
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(t)
        .bind(by)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
        found(n)
    }
}
