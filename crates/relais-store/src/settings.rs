//! Instance-wide key/value settings (setup state, first-start token).

use sqlx::Row;

use crate::{Result, Store};

impl Store {
    pub async fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM instance_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn set_setting(
        &self,
        conn: &mut sqlx::AnyConnection,
        key: &str,
        value: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO instance_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn delete_setting(&self, conn: &mut sqlx::AnyConnection, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM instance_settings WHERE key = $1")
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }
}

impl Store {
    /// The workspace's editorial charter (JSON of relais-guard's `Charter`), if one was saved.
    pub async fn charter(&self, workspace_id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT body FROM charters WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn set_charter(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        body: &str,
        by: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO charters (workspace_id, body, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(workspace_id)
        .bind(body)
        .bind(by)
        .bind(crate::now())
        .execute(conn)
        .await?;
        Ok(())
    }
}

impl Store {
    /// A new secret token for the workspace's calendar feed; the previous one stops working.
    pub async fn renew_ical_token(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
    ) -> Result<String> {
        let token = crate::random_token(24);
        sqlx::query(
            "INSERT INTO ical_feeds (workspace_id, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (workspace_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(workspace_id)
        .bind(crate::hash_token(&token))
        .bind(crate::now())
        .execute(conn)
        .await?;
        Ok(token)
    }

    /// The workspace a calendar token opens, if any.
    pub async fn workspace_for_ical(&self, token: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT workspace_id FROM ical_feeds WHERE token_hash = $1")
            .bind(crate::hash_token(token))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// When the current calendar token was made, if there is one.
    pub async fn ical_created_at(&self, workspace_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT created_at FROM ical_feeds WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}
