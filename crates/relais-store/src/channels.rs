//! Channels: connected accounts on a network, per workspace. Credentials are a sealed secret
//! (see `secrets`); `config` holds what is not secret (instance URL, handle, room, chat id…).

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Channel {
    pub id: i64,
    pub workspace_id: i64,
    pub network: String,
    pub name: String,
    pub config: serde_json::Value,
    #[serde(skip)]
    pub secret_id: Option<i64>,
    /// `connected`, `needs_reconnect` or `rate_limited`.
    pub status: String,
    pub status_detail: Option<String>,
    pub rate_limited_until: Option<i64>,
    /// Limits read from the network (e.g. a Mastodon instance's max characters).
    pub limits: serde_json::Value,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}

pub struct NewChannel<'a> {
    pub workspace_id: i64,
    pub network: &'a str,
    pub name: &'a str,
    pub config: &'a serde_json::Value,
    pub secret_id: Option<i64>,
    pub limits: &'a serde_json::Value,
    pub created_by: i64,
}

const COLS: &str = "id, workspace_id, network, name, config, secret_id, status, status_detail, rate_limited_until, limits, created_at, archived_at";

fn json(s: String) -> serde_json::Value {
    serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)
}

fn from_row(r: &AnyRow) -> Result<Channel> {
    Ok(Channel {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        network: r.try_get(2)?,
        name: r.try_get(3)?,
        config: json(r.try_get(4)?),
        secret_id: r.try_get(5)?,
        status: r.try_get(6)?,
        status_detail: r.try_get(7)?,
        rate_limited_until: r.try_get(8)?,
        limits: json(r.try_get(9)?),
        created_at: r.try_get(10)?,
        archived_at: r.try_get(11)?,
    })
}

impl Store {
    pub async fn create_channel(
        &self,
        conn: &mut sqlx::AnyConnection,
        c: NewChannel<'_>,
    ) -> Result<Channel> {
        let t = now();
        let row = sqlx::query(&format!(
            "INSERT INTO channels (workspace_id, network, name, config, secret_id, status, limits, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'connected', $6, $7, $8, $8) RETURNING {COLS}"
        ))
        .bind(c.workspace_id)
        .bind(c.network)
        .bind(c.name)
        .bind(c.config.to_string())
        .bind(c.secret_id)
        .bind(c.limits.to_string())
        .bind(c.created_by)
        .bind(t)
        .fetch_one(conn)
        .await?;
        from_row(&row)
    }

    /// Active channels of a workspace.
    pub async fn channels(&self, workspace_id: i64) -> Result<Vec<Channel>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM channels WHERE workspace_id = $1 AND archived_at IS NULL ORDER BY LOWER(name), id"
        ))
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// One channel, scoped to its workspace (NotFound across workspaces).
    pub async fn channel(&self, workspace_id: i64, id: i64) -> Result<Channel> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM channels WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn set_channel_status(
        &self,
        id: i64,
        status: &str,
        detail: Option<&str>,
        rate_limited_until: Option<i64>,
    ) -> Result<()> {
        sqlx::query("UPDATE channels SET status = $1, status_detail = $2, rate_limited_until = $3, updated_at = $4 WHERE id = $5")
            .bind(status)
            .bind(detail)
            .bind(rate_limited_until)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_channel_limits(&self, id: i64, limits: &serde_json::Value) -> Result<()> {
        sqlx::query("UPDATE channels SET limits = $1, updated_at = $2 WHERE id = $3")
            .bind(limits.to_string())
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces the credentials (reconnect). The old secret is deleted in the same transaction,
    /// so a failed reconnect leaves the previous credentials in place.
    pub async fn replace_channel_secret(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        secret_id: i64,
    ) -> Result<()> {
        let old = sqlx::query("SELECT secret_id FROM channels WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        let old: Option<i64> = old.try_get(0)?;
        sqlx::query("UPDATE channels SET secret_id = $1, status = 'connected', status_detail = NULL, updated_at = $2 WHERE id = $3")
            .bind(secret_id)
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        if let Some(old) = old.filter(|o| *o != secret_id) {
            self.delete_secret(conn, old).await?;
        }
        Ok(())
    }

    /// A channel by id alone, for workers (jobs carry ids they created).
    pub async fn channel_by_id(&self, id: i64) -> Result<Channel> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM channels WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// Replaces the non-secret configuration and limits read from the network (reconnect).
    pub async fn update_channel_config(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        config: &serde_json::Value,
        limits: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query("UPDATE channels SET config = $1, limits = $2, updated_at = $3 WHERE id = $4")
            .bind(config.to_string())
            .bind(limits.to_string())
            .bind(now())
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// The network asked us to wait until `until`. A channel that needs reconnecting keeps that
    /// status (the more urgent one); the wait is recorded either way.
    pub async fn mark_channel_rate_limited(&self, id: i64, until: i64, detail: &str) -> Result<()> {
        sqlx::query(
            "UPDATE channels SET status = CASE WHEN status = 'needs_reconnect' THEN status ELSE 'rate_limited' END, \
             status_detail = CASE WHEN status = 'needs_reconnect' THEN status_detail ELSE $1 END, \
             rate_limited_until = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(detail)
        .bind(until)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Back to `connected` after a successful call, if the channel was only rate limited.
    pub async fn clear_channel_rate_limit(&self, id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE channels SET status = 'connected', status_detail = NULL, rate_limited_until = NULL, updated_at = $1 \
             WHERE id = $2 AND status = 'rate_limited'",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn archive_channel(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        id: i64,
    ) -> Result<()> {
        let n = sqlx::query("UPDATE channels SET archived_at = $1, updated_at = $1 WHERE id = $2 AND workspace_id = $3 AND archived_at IS NULL")
            .bind(now())
            .bind(id)
            .bind(workspace_id)
            .execute(conn)
            .await?
            .rows_affected();
        found(n)
    }
}
