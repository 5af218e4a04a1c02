//! Live listening sources: one row per source (shared by the workspaces that subscribe to it),
//! held by one process at a time through a lease, with its resume cursor and last status.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveSource {
    pub id: i64,
    /// The settings without secrets, canonical: the same source is shared, not duplicated.
    pub source_key: String,
    /// `bluesky_firehose`, `bluesky_jetstream`, `mastodon`, `page_watch`.
    pub kind: String,
    /// relais-sources' `SourceConfig` as JSON, without the token.
    pub config: String,
    pub secret_id: Option<i64>,
    pub cursor: Option<String>,
    /// The last status the runner saw (JSON of relais-sources' `SourceStatus`).
    pub status: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: i64,
}

/// A source to follow: its key (settings without secrets), kind, settings and sealed token.
pub struct NewLiveSource<'a> {
    pub key: &'a str,
    pub kind: &'a str,
    pub config: &'a str,
    pub secret_id: Option<i64>,
}

/// A workspace's subscription, with its source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveSubscription {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub source: LiveSource,
}

const COLS: &str = "s.id, s.source_key, s.kind, s.config, s.secret_id, s.cursor, s.status, s.lease_owner, s.lease_until";

fn source_from_row(r: &AnyRow, at: usize) -> Result<LiveSource> {
    Ok(LiveSource {
        id: r.try_get(at)?,
        source_key: r.try_get(at + 1)?,
        kind: r.try_get(at + 2)?,
        config: r.try_get(at + 3)?,
        secret_id: r.try_get(at + 4)?,
        cursor: r.try_get(at + 5)?,
        status: r.try_get(at + 6)?,
        lease_owner: r.try_get(at + 7)?,
        lease_until: r.try_get(at + 8)?,
    })
}

impl Store {
    /// Subscribes a workspace to a source, creating the source the first time anybody asks for
    /// it (by key). Returns the subscription id; Conflict when the workspace already has it.
    pub async fn subscribe_live(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        name: &str,
        src: NewLiveSource<'_>,
    ) -> Result<i64> {
        let NewLiveSource {
            key,
            kind,
            config,
            secret_id,
        } = src;
        let t = now();
        sqlx::query(
            "INSERT INTO live_sources (source_key, kind, config, secret_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (source_key) DO NOTHING",
        )
        .bind(key)
        .bind(kind)
        .bind(config)
        .bind(secret_id)
        .bind(t)
        .execute(&mut *conn)
        .await?;
        let id: i64 = sqlx::query("SELECT id FROM live_sources WHERE source_key = $1")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let row = sqlx::query(
            "INSERT INTO live_subscriptions (workspace_id, live_source_id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id, live_source_id) DO NOTHING RETURNING id",
        )
        .bind(workspace_id)
        .bind(id)
        .bind(name)
        .bind(t)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::Conflict("live source"))?;
        Ok(row.try_get(0)?)
    }

    pub async fn live_subscriptions(&self, workspace_id: i64) -> Result<Vec<LiveSubscription>> {
        let rows = sqlx::query(&format!(
            "SELECT w.id, w.workspace_id, w.name, {COLS} FROM live_subscriptions w JOIN live_sources s ON s.id = w.live_source_id \
             WHERE w.workspace_id = $1 ORDER BY w.id"
        ))
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LiveSubscription {
                    id: r.try_get(0)?,
                    workspace_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    source: source_from_row(r, 3)?,
                })
            })
            .collect()
    }

    /// Ends a subscription; the source goes when nobody follows it any more.
    pub async fn unsubscribe_live(&self, workspace_id: i64, id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("DELETE FROM live_subscriptions WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        found(n)?;
        sqlx::query(
            "DELETE FROM live_sources WHERE NOT EXISTS (SELECT 1 FROM live_subscriptions w WHERE w.live_source_id = live_sources.id)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every source (the runner decides which to hold).
    pub async fn live_sources(&self) -> Result<Vec<LiveSource>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM live_sources s ORDER BY s.id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| source_from_row(r, 0)).collect()
    }

    /// The workspaces following a source (the audience of its events).
    pub async fn live_audience(&self, source_id: i64) -> Result<Vec<i64>> {
        let rows =
            sqlx::query("SELECT workspace_id FROM live_subscriptions WHERE live_source_id = $1")
                .bind(source_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Takes or renews the lease on a source for `owner` until `until`; false when another
    /// process holds a live lease.
    pub async fn lease_live_source(&self, id: i64, owner: &str, until: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE live_sources SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND (lease_owner = $1 OR lease_until < $4 OR lease_owner IS NULL)",
        )
        .bind(owner)
        .bind(until)
        .bind(id)
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Gives a lease back (shutdown) so another process can take over at once.
    pub async fn release_live_source(&self, id: i64, owner: &str) -> Result<()> {
        sqlx::query("UPDATE live_sources SET lease_until = 0 WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Saves the resume cursor, only while this process holds the lease.
    pub async fn save_live_cursor(&self, id: i64, owner: &str, cursor: &str) -> Result<bool> {
        let n =
            sqlx::query("UPDATE live_sources SET cursor = $1 WHERE id = $2 AND lease_owner = $3")
                .bind(cursor)
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(n == 1)
    }

    pub async fn save_live_status(&self, id: i64, status: &str) -> Result<()> {
        sqlx::query("UPDATE live_sources SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
