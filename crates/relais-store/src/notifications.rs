//! In-app notifications, per user.

use sqlx::Row;

use crate::{now, Result, Store};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Notification {
    pub id: i64,
    pub workspace_id: Option<i64>,
    pub kind: String,
    pub message: String,
    pub link: Option<String>,
    pub created_at: i64,
    pub read: bool,
}

impl Store {
    pub async fn notify(
        &self,
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        workspace_id: Option<i64>,
        kind: &str,
        message: &str,
        link: Option<&str>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO notifications (user_id, workspace_id, kind, message, link, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(user_id)
            .bind(workspace_id)
            .bind(kind)
            .bind(message)
            .bind(link)
            .bind(now())
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn notifications(&self, user_id: i64, limit: i64) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, kind, message, link, created_at, read_at FROM notifications WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: r.try_get(0)?,
                    workspace_id: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    message: r.try_get(3)?,
                    link: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                    read: r.try_get::<Option<i64>, _>(6)?.is_some(),
                })
            })
            .collect()
    }

    pub async fn unread_notifications(&self, user_id: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn mark_notifications_read(&self, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
