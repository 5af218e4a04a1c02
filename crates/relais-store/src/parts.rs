//! Thread parts and first comments of a target, the progress of a thread being published, and
//! the composer's editing of draft posts (a version per post, so two tabs cannot silently
//! overwrite each other).

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now, random_token, Result, Store, StoreError};

/// A follow-up of a target: a thread part (kind `thread`) or the first comment (`comment`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Part {
    pub id: i64,
    pub target_id: i64,
    /// 1.. in publishing order (the post itself is 0 and lives in `targets`).
    pub position: i64,
    pub kind: String,
    pub body: String,
    pub idempotency_key: String,
    pub remote: Option<Remote>,
}

/// A post that exists on the network (what a reply needs to point at it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Remote {
    pub id: String,
    pub cid: Option<String>,
    pub url: Option<String>,
}

const P_COLS: &str =
    "id, target_id, position, kind, body, idempotency_key, remote_id, remote_cid, remote_url";

fn part_from_row(r: &AnyRow) -> Result<Part> {
    let remote_id: Option<String> = r.try_get(6)?;
    Ok(Part {
        id: r.try_get(0)?,
        target_id: r.try_get(1)?,
        position: r.try_get(2)?,
        kind: r.try_get(3)?,
        body: r.try_get(4)?,
        idempotency_key: r.try_get(5)?,
        remote: match remote_id {
            Some(id) => Some(Remote {
                id,
                cid: r.try_get(7)?,
                url: r.try_get(8)?,
            }),
            None => None,
        },
    })
}

/// The editing state of a post: its version and who changed it last.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PostVersion {
    pub version: i64,
    pub updated_at: i64,
    pub updated_by: Option<String>,
}

/// A post still being written (every target a draft, or none yet).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DraftPost {
    pub id: i64,
    pub body: String,
    pub updated_at: i64,
}

impl Store {
    /// Replaces the follow-ups of a draft target: `(kind, body)` in order.
    pub async fn set_parts(
        &self,
        conn: &mut sqlx::AnyConnection,
        target_id: i64,
        parts: &[(&str, &str)],
    ) -> Result<()> {
        sqlx::query("DELETE FROM target_parts WHERE target_id = $1")
            .bind(target_id)
            .execute(&mut *conn)
            .await?;
        for (i, (kind, body)) in parts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO target_parts (target_id, position, kind, body, idempotency_key) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(target_id)
            .bind(i as i64 + 1)
            .bind(*kind)
            .bind(*body)
            .bind(format!("relais-{}", random_token(18)))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    pub async fn parts(&self, target_id: i64) -> Result<Vec<Part>> {
        let rows = sqlx::query(&format!(
            "SELECT {P_COLS} FROM target_parts WHERE target_id = $1 ORDER BY position"
        ))
        .bind(target_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(part_from_row).collect()
    }

    /// Records that a part is out, once: the remote id lands with the state change, so a
    /// resumed thread skips it and never posts it again.
    pub async fn mark_part_published(&self, part_id: i64, r: &Remote) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE target_parts SET remote_id = $1, remote_cid = $2, remote_url = $3, published_at = $4 \
             WHERE id = $5 AND remote_id IS NULL",
        )
        .bind(&r.id)
        .bind(&r.cid)
        .bind(&r.url)
        .bind(now())
        .bind(part_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records the first post of a thread while the target is still being published.
    pub async fn record_head(&self, target_id: i64, r: &Remote) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE targets SET head_remote_id = $1, head_remote_cid = $2, head_remote_url = $3 \
             WHERE id = $4 AND head_remote_id IS NULL AND state IN ('publishing', 'unconfirmed')",
        )
        .bind(&r.id)
        .bind(&r.cid)
        .bind(&r.url)
        .bind(target_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn target_head(&self, target_id: i64) -> Result<Option<Remote>> {
        let r = sqlx::query(
            "SELECT head_remote_id, head_remote_cid, head_remote_url FROM targets WHERE id = $1",
        )
        .bind(target_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let id: Option<String> = r.try_get(0)?;
        Ok(match id {
            Some(id) => Some(Remote {
                id,
                cid: r.try_get(1)?,
                url: r.try_get(2)?,
            }),
            None => None,
        })
    }

    pub async fn post_version(&self, workspace_id: i64, post_id: i64) -> Result<PostVersion> {
        let r = sqlx::query(
            "SELECT p.version, p.updated_at, u.name FROM posts p LEFT JOIN users u ON u.id = p.updated_by \
             WHERE p.id = $1 AND p.workspace_id = $2",
        )
        .bind(post_id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(PostVersion {
            version: r.try_get(0)?,
            updated_at: r.try_get(1)?,
            updated_by: r.try_get(2)?,
        })
    }

    /// Saves a post's text if nobody else saved it since `version` was read; the new version,
    /// or `None` when someone did (or the post is gone). `tab` names the composer page saving:
    /// when it saved last, a stale version is only its own requests crossing, not a conflict.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_post(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        post_id: i64,
        version: i64,
        tab: Option<&str>,
        body: &str,
        user_id: i64,
    ) -> Result<Option<i64>> {
        let r = sqlx::query(
            "UPDATE posts SET body = $1, version = version + 1, updated_at = $2, updated_by = $3, edit_token = $4 \
             WHERE id = $5 AND workspace_id = $6 AND (version = $7 OR (edit_token IS NOT NULL AND edit_token = $4)) \
             RETURNING version",
        )
        .bind(body)
        .bind(now())
        .bind(user_id)
        .bind(tab)
        .bind(post_id)
        .bind(workspace_id)
        .bind(version)
        .fetch_optional(conn)
        .await?;
        Ok(r.map(|r| r.try_get(0)).transpose()?)
    }

    /// Changes a draft target's text and options (nothing when it left the drafts).
    pub async fn update_draft_target(
        &self,
        conn: &mut sqlx::AnyConnection,
        target_id: i64,
        body: &str,
        options: &serde_json::Value,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE targets SET body = $1, options = $2, updated_at = $3 WHERE id = $4 AND state = 'draft'",
        )
        .bind(body)
        .bind(options.to_string())
        .bind(now())
        .bind(target_id)
        .execute(conn)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Removes a draft target (a channel unticked in the composer).
    pub async fn delete_draft_target(
        &self,
        conn: &mut sqlx::AnyConnection,
        target_id: i64,
    ) -> Result<bool> {
        let n = sqlx::query("DELETE FROM targets WHERE id = $1 AND state = 'draft'")
            .bind(target_id)
            .execute(conn)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// The author's posts still being written, newest first.
    pub async fn draft_posts(
        &self,
        workspace_id: i64,
        author_id: i64,
        limit: i64,
    ) -> Result<Vec<DraftPost>> {
        let rows = sqlx::query(
            "SELECT p.id, p.body, p.updated_at FROM posts p WHERE p.workspace_id = $1 AND p.author_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.post_id = p.id AND t.state <> 'draft') \
             ORDER BY p.updated_at DESC, p.id DESC LIMIT $3",
        )
        .bind(workspace_id)
        .bind(author_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DraftPost {
                    id: r.try_get(0)?,
                    body: r.try_get(1)?,
                    updated_at: r.try_get(2)?,
                })
            })
            .collect()
    }
}
