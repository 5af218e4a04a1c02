//! Tags of posts (a JSON list in `posts.tags`, normalised by `relais_domain::tags`): set them,
//! list the workspace's tags for the calendar filter, read the posts behind a set of targets.

use std::collections::{BTreeSet, HashMap};

use sqlx::Row;

use crate::{found, now, Result, Store};

/// A post as the calendar shows it beside its targets.
#[derive(Debug, Clone, Default)]
pub struct PostMeta {
    pub author_id: Option<i64>,
    pub author: String,
    pub tags: Vec<String>,
    /// When the author wants it published (set while it waits for approval).
    pub wanted_at: Option<i64>,
}

/// `LIKE` pattern matching one tag inside the stored JSON list (`["a","b"]`). Normalised tags
/// hold no quote, backslash or `%`; `_` is escaped.
pub fn like_pattern(tag: &str) -> String {
    format!("%\"{}\"%", tag.replace('_', "\\_"))
}

impl Store {
    /// Replaces a post's tags (already normalised).
    pub async fn set_post_tags(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        post_id: i64,
        tags: &[String],
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE posts SET tags = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4",
        )
        .bind(serde_json::to_string(tags).unwrap_or_else(|_| "[]".into()))
        .bind(now())
        .bind(post_id)
        .bind(workspace_id)
        .execute(conn)
        .await?
        .rows_affected();
        found(n)
    }

    /// Every tag used in the workspace, sorted.
    pub async fn workspace_tags(&self, workspace_id: i64) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT DISTINCT tags FROM posts WHERE workspace_id = $1 AND tags <> '[]'")
                .bind(workspace_id)
                .fetch_all(&self.pool)
                .await?;
        let mut all = BTreeSet::new();
        for r in rows {
            let s: String = r.try_get(0)?;
            all.extend(serde_json::from_str::<Vec<String>>(&s).unwrap_or_default());
        }
        Ok(all.into_iter().collect())
    }

    /// What the calendar shows of the workspace's posts among `ids`: author, tags, the time
    /// asked for while in review.
    pub async fn post_meta(
        &self,
        workspace_id: i64,
        ids: &[i64],
    ) -> Result<HashMap<i64, PostMeta>> {
        let mut out = HashMap::new();
        let mut ids: Vec<i64> = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(200) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT p.id, p.author_id, COALESCE(u.name, ''), p.tags, p.wanted_at FROM posts p \
                 LEFT JOIN users u ON u.id = p.author_id WHERE p.workspace_id = $1 AND p.id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(workspace_id);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                let tags: String = r.try_get(3)?;
                out.insert(
                    r.try_get(0)?,
                    PostMeta {
                        author_id: r.try_get(1)?,
                        author: r.try_get(2)?,
                        tags: serde_json::from_str(&tags).unwrap_or_default(),
                        wanted_at: r.try_get(4)?,
                    },
                );
            }
        }
        Ok(out)
    }
}
