//! The media library of a workspace (rows; the files are in [`crate::blobs`]) and the media
//! attached to targets. A row is written only after its file is complete on disk.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Media {
    pub id: i64,
    pub workspace_id: i64,
    pub sha256: String,
    pub mime: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The name it was uploaded with (shown; never used as a path).
    pub filename: String,
    pub alt: String,
    /// `local` (or another backend's name) and the key there.
    pub storage: String,
    pub storage_key: String,
    pub created_at: i64,
}

const M_COLS: &str = "id, workspace_id, sha256, mime, bytes, width, height, filename, alt, storage, storage_key, created_at";

fn media_from_row(r: &AnyRow) -> Result<Media> {
    Ok(Media {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        sha256: r.try_get(2)?,
        mime: r.try_get(3)?,
        bytes: r.try_get(4)?,
        width: r.try_get(5)?,
        height: r.try_get(6)?,
        filename: r.try_get(7)?,
        alt: r.try_get(8)?,
        storage: r.try_get(9)?,
        storage_key: r.try_get(10)?,
        created_at: r.try_get(11)?,
    })
}

pub struct NewMedia<'a> {
    pub workspace_id: i64,
    pub sha256: &'a str,
    pub mime: &'a str,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub filename: &'a str,
    pub alt: &'a str,
    pub storage: &'a str,
    pub storage_key: &'a str,
    pub created_by: i64,
}

/// Target states in which attached media must stay: the post is still to go out.
pub const PENDING_STATES: &str =
    "'in_review', 'approved', 'scheduled', 'publishing', 'unconfirmed', 'frozen'";

impl Store {
    /// Adds a file to the library; the same content uploaded again in the same workspace gives
    /// back the existing row (`false`: not new).
    pub async fn insert_media(
        &self,
        conn: &mut sqlx::AnyConnection,
        m: NewMedia<'_>,
    ) -> Result<(Media, bool)> {
        let t = now();
        let row = sqlx::query(&format!(
            "INSERT INTO media (workspace_id, sha256, mime, bytes, width, height, filename, alt, storage, storage_key, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             ON CONFLICT (workspace_id, sha256) DO NOTHING RETURNING {M_COLS}"
        ))
        .bind(m.workspace_id)
        .bind(m.sha256)
        .bind(m.mime)
        .bind(m.bytes)
        .bind(m.width)
        .bind(m.height)
        .bind(m.filename)
        .bind(m.alt)
        .bind(m.storage)
        .bind(m.storage_key)
        .bind(m.created_by)
        .bind(t)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = row {
            return Ok((media_from_row(&r)?, true));
        }
        let r = sqlx::query(&format!(
            "SELECT {M_COLS} FROM media WHERE workspace_id = $1 AND sha256 = $2"
        ))
        .bind(m.workspace_id)
        .bind(m.sha256)
        .fetch_one(&mut *conn)
        .await?;
        Ok((media_from_row(&r)?, false))
    }

    /// One media of a workspace; another workspace's id is `NotFound`.
    pub async fn media(&self, workspace_id: i64, id: i64) -> Result<Media> {
        let r = sqlx::query(&format!(
            "SELECT {M_COLS} FROM media WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        media_from_row(&r)
    }

    /// A file of the library by its storage key (`<ws>/<sha256>`): the public URL networks
    /// such as Instagram fetch. NotFound when no library entry has that content.
    pub async fn media_by_storage_key(&self, key: &str) -> Result<Media> {
        let r = sqlx::query(&format!(
            "SELECT {M_COLS} FROM media WHERE storage_key = $1 ORDER BY id LIMIT 1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        media_from_row(&r)
    }

    pub async fn list_media(&self, workspace_id: i64) -> Result<Vec<Media>> {
        let rows = sqlx::query(&format!(
            "SELECT {M_COLS} FROM media WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT 500"
        ))
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(media_from_row).collect()
    }

    pub async fn set_media_alt(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        id: i64,
        alt: &str,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE media SET alt = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4",
        )
        .bind(alt)
        .bind(now())
        .bind(id)
        .bind(workspace_id)
        .execute(conn)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Deletes a media unless a post that is still to go out uses it (one statement, so a
    /// schedule cannot slip in between the check and the delete). Drafts and published posts
    /// lose the attachment. `Conflict` when in use.
    pub async fn delete_media(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        id: i64,
    ) -> Result<Media> {
        let m = self.media(workspace_id, id).await?;
        let n = sqlx::query(&format!(
            "DELETE FROM media WHERE id = $1 AND workspace_id = $2 AND NOT EXISTS (\
             SELECT 1 FROM target_media tm JOIN targets t ON t.id = tm.target_id \
             WHERE tm.media_id = $1 AND t.state IN ({PENDING_STATES}))"
        ))
        .bind(id)
        .bind(workspace_id)
        .execute(conn)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(
                "the media is used by a scheduled post",
            ));
        }
        Ok(m)
    }

    /// Replaces the media of one part of a target (position 0 = the post itself).
    pub async fn set_target_media(
        &self,
        conn: &mut sqlx::AnyConnection,
        target_id: i64,
        position: i64,
        media_ids: &[i64],
    ) -> Result<()> {
        sqlx::query("DELETE FROM target_media WHERE target_id = $1 AND position = $2")
            .bind(target_id)
            .bind(position)
            .execute(&mut *conn)
            .await?;
        for (ord, id) in media_ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO target_media (target_id, position, ord, media_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(target_id)
            .bind(position)
            .bind(ord as i64)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// The media of a target, `(position, media)` in order.
    pub async fn target_media(&self, target_id: i64) -> Result<Vec<(i64, Media)>> {
        let cols = M_COLS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT tm.position, {cols} FROM target_media tm JOIN media m ON m.id = tm.media_id \
             WHERE tm.target_id = $1 ORDER BY tm.position, tm.ord"
        ))
        .bind(target_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let pos: i64 = r.try_get(0)?;
                Ok((pos, media_from_offset(r)?))
            })
            .collect()
    }
}

fn media_from_offset(r: &AnyRow) -> Result<Media> {
    Ok(Media {
        id: r.try_get(1)?,
        workspace_id: r.try_get(2)?,
        sha256: r.try_get(3)?,
        mime: r.try_get(4)?,
        bytes: r.try_get(5)?,
        width: r.try_get(6)?,
        height: r.try_get(7)?,
        filename: r.try_get(8)?,
        alt: r.try_get(9)?,
        storage: r.try_get(10)?,
        storage_key: r.try_get(11)?,
        created_at: r.try_get(12)?,
    })
}
