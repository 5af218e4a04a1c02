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
