//! Listening: one shared ingest per feed URL (`feeds`), subscribed by workspaces (`sources`),
//! their boolean queries, and the mentions the matcher kept.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Result, Store, StoreError};

pub use crate::mentions::{Mention, NewMention};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Source {
    pub id: i64,
    pub workspace_id: i64,
    pub feed_id: i64,
    pub name: String,
    pub url: String,
    pub last_error: Option<String>,
    pub next_poll_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SavedQuery {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub expression: String,
    /// `brand`, `competitor` or `topic` (share of voice).
    pub tag: String,
}

/// A feed due for polling, with its persisted fetch state (relais-feeds' `FeedState` as JSON).
#[derive(Debug, Clone)]
pub struct DueFeed {
    pub id: i64,
    pub url: String,
    pub state: String,
    /// The lease this claim set; the poll's outcome is recorded only if it is still there.
    pub claimed_until: i64,
}

fn source_from_row(r: &AnyRow) -> Result<Source> {
    Ok(Source {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        feed_id: r.try_get(2)?,
        name: r.try_get(3)?,
        url: r.try_get(4)?,
        last_error: r.try_get(5)?,
        next_poll_at: r.try_get(6)?,
    })
}

fn query_from_row(r: &AnyRow) -> Result<SavedQuery> {
    Ok(SavedQuery {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        name: r.try_get(2)?,
        expression: r.try_get(3)?,
        tag: r.try_get(4)?,
    })
}

const SRC_SELECT: &str = "SELECT s.id, s.workspace_id, s.feed_id, s.name, f.url, f.last_error, f.next_poll_at FROM sources s JOIN feeds f ON f.id = s.feed_id";
impl Store {
    /// Subscribes a workspace to a feed URL, sharing the ingest with other workspaces.
    pub async fn add_source(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        url: &str,
        name: &str,
        initial_state: &str,
    ) -> Result<i64> {
        let t = now();
        let created = sqlx::query("INSERT INTO feeds (url, state, next_poll_at, created_at) VALUES ($1, $2, $3, $3) ON CONFLICT (url) DO NOTHING")
            .bind(url)
            .bind(initial_state)
            .bind(t)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1;
        let feed: i64 = sqlx::query("SELECT id FROM feeds WHERE url = $1")
            .bind(url)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        if !created {
            // A new follower of a known feed sees its current items too: drop the HTTP
            // validators (no 304) and poll now. Mentions stay unique per workspace and item.
            sqlx::query("UPDATE feeds SET state = $1, next_poll_at = $2 WHERE id = $3")
                .bind(initial_state)
                .bind(t)
                .bind(feed)
                .execute(&mut *conn)
                .await?;
        }
        let row = sqlx::query("INSERT INTO sources (workspace_id, feed_id, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(workspace_id)
            .bind(feed)
            .bind(name)
            .bind(t)
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::from)
            .map_err(|e| if e.is_unique_violation() { StoreError::Conflict("source") } else { e })?;
        Ok(row.try_get(0)?)
    }

    pub async fn sources(&self, workspace_id: i64) -> Result<Vec<Source>> {
        let rows = sqlx::query(&format!(
            "{SRC_SELECT} WHERE s.workspace_id = $1 ORDER BY LOWER(s.name), s.id"
        ))
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(source_from_row).collect()
    }

    /// The subscriptions of one feed (which workspaces get its items).
    pub async fn sources_of_feed(&self, feed_id: i64) -> Result<Vec<Source>> {
        let rows = sqlx::query(&format!("{SRC_SELECT} WHERE s.feed_id = $1"))
            .bind(feed_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(source_from_row).collect()
    }

    pub async fn remove_source(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        id: i64,
    ) -> Result<()> {
        let n = sqlx::query("DELETE FROM sources WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(conn)
            .await?
            .rows_affected();
        found(n)
    }

    /// Takes up to `limit` due feeds by pushing their next poll `lease_ms` ahead, so that
    /// two workers never poll one feed at once; the poll then records the real next time.
    pub async fn claim_due_feeds(&self, limit: i64, lease_ms: i64) -> Result<Vec<DueFeed>> {
        let t = now();
        let mut tx = self.begin().await?;
        let lock = if self.backend == crate::Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "UPDATE feeds SET next_poll_at = $1 WHERE id IN (SELECT f.id FROM feeds f WHERE f.next_poll_at <= $2 \
             AND EXISTS (SELECT 1 FROM sources s WHERE s.feed_id = f.id) ORDER BY f.next_poll_at LIMIT $3{lock}) RETURNING id, url, state"
        ))
        .bind(t + lease_ms)
        .bind(t)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(DueFeed {
                    id: r.try_get(0)?,
                    url: r.try_get(1)?,
                    state: r.try_get(2)?,
                    claimed_until: t + lease_ms,
                })
            })
            .collect()
    }

    /// Records a poll's outcome unless the feed was reset meanwhile (a new follower asked for a
    /// fresh fetch): then the reset stands and the feed stays due. False in that case.
    pub async fn record_feed_poll(
        &self,
        id: i64,
        claimed_until: i64,
        state: &str,
        next_poll_at: i64,
        last_error: Option<&str>,
    ) -> Result<bool> {
        let n = sqlx::query("UPDATE feeds SET state = $1, next_poll_at = $2, last_error = $3 WHERE id = $4 AND next_poll_at = $5")
            .bind(state)
            .bind(next_poll_at)
            .bind(last_error)
            .bind(id)
            .bind(claimed_until)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn create_query(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        name: &str,
        expression: &str,
        tag: &str,
    ) -> Result<SavedQuery> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO queries (workspace_id, name, expression, tag, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(expression)
        .bind(tag)
        .bind(t)
        .fetch_one(conn)
        .await?;
        Ok(SavedQuery {
            id: row.try_get(0)?,
            workspace_id,
            name: name.into(),
            expression: expression.into(),
            tag: tag.into(),
        })
    }

    pub async fn delete_query(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        id: i64,
    ) -> Result<()> {
        let n = sqlx::query("DELETE FROM queries WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(conn)
            .await?
            .rows_affected();
        found(n)
    }

    pub async fn queries(&self, workspace_id: i64) -> Result<Vec<SavedQuery>> {
        let rows = sqlx::query("SELECT id, workspace_id, name, expression, tag FROM queries WHERE workspace_id = $1 ORDER BY LOWER(name), id")
            .bind(workspace_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(query_from_row).collect()
    }

    /// Every query of every workspace: the matcher compiles them together.
    pub async fn all_queries(&self) -> Result<Vec<SavedQuery>> {
        let rows =
            sqlx::query("SELECT id, workspace_id, name, expression, tag FROM queries ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(query_from_row).collect()
    }

    /// A fingerprint of the query set (count and last change): the matcher recompiles when it moves.
    pub async fn queries_version(&self) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM queries")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }
}
