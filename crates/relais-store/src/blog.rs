//! Owned media first: a workspace's blog feeds, turned into posts from a template. Each
//! article is recorded once per feed (unique guid) in the same transaction as the post made
//! from it, so restarts and concurrent pollers never post an article twice.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct BlogFeed {
    pub id: i64,
    pub workspace_id: i64,
    pub url: String,
    pub name: String,
    pub channels: Vec<i64>,
    /// `{title} {url}`; also `{summary}`.
    pub template: String,
    /// `draft` or `queue` (each channel's next free slot).
    pub action: String,
    /// Repeat each article every N days (0 = never).
    pub evergreen_days: i64,
    pub created_by: Option<i64>,
    /// relais-feeds' `FeedState` as JSON.
    pub state: String,
    /// The first successful poll only records what is already there.
    pub seeded: bool,
    pub next_poll_at: i64,
    pub last_error: Option<String>,
}

pub struct NewBlogFeed<'a> {
    pub workspace_id: i64,
    pub url: &'a str,
    pub name: &'a str,
    pub channels: &'a [i64],
    pub template: &'a str,
    pub action: &'a str,
    pub evergreen_days: i64,
    pub created_by: i64,
    pub state: &'a str,
}

#[derive(Debug, Clone)]
pub struct BlogItem {
    pub id: i64,
    pub blog_feed_id: i64,
    pub guid: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub post_id: Option<i64>,
    pub evergreen_next_at: Option<i64>,
    pub evergreen_count: i64,
}

const FEED_COLS: &str = "id, workspace_id, url, name, channels, template, action, evergreen_days, created_by, state, seeded, next_poll_at, last_error";
const ITEM_COLS: &str =
    "id, blog_feed_id, guid, title, url, post_id, evergreen_next_at, evergreen_count";

fn feed_from_row(r: &AnyRow) -> Result<BlogFeed> {
    let ch: String = r.try_get(4)?;
    Ok(BlogFeed {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        url: r.try_get(2)?,
        name: r.try_get(3)?,
        channels: serde_json::from_str(&ch).unwrap_or_default(),
        template: r.try_get(5)?,
        action: r.try_get(6)?,
        evergreen_days: r.try_get(7)?,
        created_by: r.try_get(8)?,
        state: r.try_get(9)?,
        seeded: r.try_get::<i64, _>(10)? != 0,
        next_poll_at: r.try_get(11)?,
        last_error: r.try_get(12)?,
    })
}

fn item_from_row(r: &AnyRow) -> Result<BlogItem> {
    Ok(BlogItem {
        id: r.try_get(0)?,
        blog_feed_id: r.try_get(1)?,
        guid: r.try_get(2)?,
        title: r.try_get(3)?,
        url: r.try_get(4)?,
        post_id: r.try_get(5)?,
        evergreen_next_at: r.try_get(6)?,
        evergreen_count: r.try_get(7)?,
    })
}

impl Store {
    pub async fn add_blog_feed(&self, f: NewBlogFeed<'_>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO blog_feeds (workspace_id, url, name, channels, template, action, evergreen_days, created_by, state, next_poll_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (workspace_id, url) DO NOTHING RETURNING id",
        )
        .bind(f.workspace_id)
        .bind(f.url)
        .bind(f.name)
        .bind(serde_json::to_string(f.channels).unwrap_or_else(|_| "[]".into()))
        .bind(f.template)
        .bind(f.action)
        .bind(f.evergreen_days)
        .bind(f.created_by)
        .bind(f.state)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::Conflict("blog feed"))?;
        Ok(row.try_get(0)?)
    }

    pub async fn blog_feeds(&self, workspace_id: i64) -> Result<Vec<BlogFeed>> {
        let rows = sqlx::query(&format!(
            "SELECT {FEED_COLS} FROM blog_feeds WHERE workspace_id = $1 ORDER BY id"
        ))
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(feed_from_row).collect()
    }

    pub async fn delete_blog_feed(&self, workspace_id: i64, id: i64) -> Result<()> {
        let n = sqlx::query("DELETE FROM blog_feeds WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        found(n)
    }

    /// Claims up to `limit` due blog feeds for `lease_ms` (next_poll_at moves forward, so a
    /// second poller skips them); the poll records the real next time.
    pub async fn claim_due_blog_feeds(&self, limit: i64, lease_ms: i64) -> Result<Vec<BlogFeed>> {
        let t = now();
        let due = sqlx::query(&format!(
            "SELECT {FEED_COLS} FROM blog_feeds WHERE next_poll_at <= $1 ORDER BY next_poll_at LIMIT $2"
        ))
        .bind(t)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &due {
            let mut f = feed_from_row(r)?;
            let n = sqlx::query(
                "UPDATE blog_feeds SET next_poll_at = $1 WHERE id = $2 AND next_poll_at = $3",
            )
            .bind(t + lease_ms)
            .bind(f.id)
            .bind(f.next_poll_at)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if n == 1 {
                f.next_poll_at = t + lease_ms;
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Records a poll's outcome (state, next time, error) and whether the feed is seeded.
    pub async fn record_blog_poll(
        &self,
        id: i64,
        state: &str,
        next_poll_at: i64,
        error: Option<&str>,
        seeded: bool,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE blog_feeds SET state = $1, next_poll_at = $2, last_error = $3, seeded = $4 WHERE id = $5",
        )
        .bind(state)
        .bind(next_poll_at)
        .bind(error)
        .bind(seeded as i64)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records an article once; None when it was already seen.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_blog_item(
        &self,
        conn: &mut sqlx::AnyConnection,
        feed_id: i64,
        guid: &str,
        title: Option<&str>,
        url: Option<&str>,
        evergreen_next_at: Option<i64>,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "INSERT INTO blog_items (blog_feed_id, guid, title, url, evergreen_next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (blog_feed_id, guid) DO NOTHING RETURNING id",
        )
        .bind(feed_id)
        .bind(guid)
        .bind(title)
        .bind(url)
        .bind(evergreen_next_at)
        .bind(now())
        .fetch_optional(conn)
        .await?;
        row.map(|r| r.try_get(0).map_err(Into::into)).transpose()
    }

    pub async fn set_blog_item_post(
        &self,
        conn: &mut sqlx::AnyConnection,
        item_id: i64,
        post_id: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE blog_items SET post_id = $1 WHERE id = $2")
            .bind(post_id)
            .bind(item_id)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Articles whose evergreen repeat is due.
    pub async fn due_evergreen(&self, at: i64, limit: i64) -> Result<Vec<BlogItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLS} FROM blog_items WHERE evergreen_next_at IS NOT NULL AND evergreen_next_at <= $1 ORDER BY evergreen_next_at LIMIT $2"
        ))
        .bind(at)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from_row).collect()
    }

    /// Moves an article's next repeat forward if nobody did (compare-and-set).
    pub async fn advance_evergreen(
        &self,
        conn: &mut sqlx::AnyConnection,
        item_id: i64,
        expect: i64,
        next: Option<i64>,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE blog_items SET evergreen_next_at = $1, evergreen_count = evergreen_count + 1 WHERE id = $2 AND evergreen_next_at = $3",
        )
        .bind(next)
        .bind(item_id)
        .bind(expect)
        .execute(conn)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn blog_items(&self, feed_id: i64, limit: i64) -> Result<Vec<BlogItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLS} FROM blog_items WHERE blog_feed_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(feed_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from_row).collect()
    }

    pub async fn blog_feed_by_id(&self, id: i64) -> Result<BlogFeed> {
        let row = sqlx::query(&format!("SELECT {FEED_COLS} FROM blog_feeds WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        feed_from_row(&row)
    }
}
