//! Mentions: what the matcher kept, per workspace, with language, sentiment and story
//! (near-duplicate group); filtered and searched in full text (FTS5 on SQLite, French-stemmed
//! `tsvector` on PostgreSQL — the one place besides job claims where the SQL differs).

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Backend, Result, Store};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Mention {
    pub id: i64,
    pub workspace_id: i64,
    pub source_id: Option<i64>,
    pub query_ids: Vec<i64>,
    pub url: Option<String>,
    pub author: Option<String>,
    pub title: Option<String>,
    pub body: String,
    pub lang: Option<String>,
    pub published_at: Option<i64>,
    pub received_at: i64,
    /// `feed`, `bluesky`, `mastodon`, `web`.
    pub origin: String,
    /// `positive`, `neutral`, `negative`.
    pub sentiment: Option<String>,
    /// Thousandths, -1000..=1000.
    pub sentiment_score: Option<i64>,
    pub story_id: Option<i64>,
}

pub struct NewMention<'a> {
    pub workspace_id: i64,
    pub source_id: Option<i64>,
    pub guid: &'a str,
    pub query_ids: &'a [i64],
    pub url: Option<&'a str>,
    pub author: Option<&'a str>,
    pub title: Option<&'a str>,
    pub body: &'a str,
    pub lang: Option<&'a str>,
    pub published_at: Option<i64>,
    pub origin: &'a str,
    pub sentiment: Option<&'a str>,
    pub sentiment_score: Option<i64>,
    pub story_id: Option<i64>,
}

/// What the mentions view asks for; empty strings and zero ids mean "any".
#[derive(Debug, Clone, Default)]
pub struct MentionFilter {
    pub query_id: i64,
    /// Mentions matched by a query with this tag (`brand`, `competitor`, `topic`).
    pub tag: String,
    pub source_id: i64,
    pub origin: String,
    pub lang: String,
    pub sentiment: String,
    /// Received in `[from, to)`; 0 = unbounded.
    pub from: i64,
    pub to: i64,
    /// Only mentions newer than this id (the live stream asks for what came since).
    pub after_id: i64,
    /// Full-text search, in the user's words: terms, "phrases", -excluded, OR.
    pub text: String,
    pub limit: i64,
}

/// Mentions per query and hour, for share-of-voice charts.
#[derive(Debug, Clone, PartialEq)]
pub struct HourCount {
    pub query_id: i64,
    pub hour: i64,
    pub count: i64,
}

/// One closed minute of a query's mentions, for crisis detection.
#[derive(Debug, Clone, PartialEq)]
pub struct MinuteCount {
    pub minute: i64,
    pub count: i64,
    pub negative: i64,
}

fn mention_from_row(r: &AnyRow) -> Result<Mention> {
    let q: String = r.try_get(3)?;
    Ok(Mention {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        source_id: r.try_get(2)?,
        query_ids: serde_json::from_str(&q).unwrap_or_default(),
        url: r.try_get(4)?,
        author: r.try_get(5)?,
        title: r.try_get(6)?,
        body: r.try_get(7)?,
        lang: r.try_get(8)?,
        published_at: r.try_get(9)?,
        received_at: r.try_get(10)?,
        origin: r.try_get(11)?,
        sentiment: r.try_get(12)?,
        sentiment_score: r.try_get(13)?,
        story_id: r.try_get(14)?,
    })
}

const M_COLS: &str = "m.id, m.workspace_id, m.source_id, m.query_ids, m.url, m.author, m.title, m.body, m.lang, m.published_at, m.received_at, m.origin, m.sentiment, m.sentiment_score, m.story_id";

/// The user's search words as an FTS5 query: every term quoted (no operator injection) and
/// prefix-matched (FTS5 has no French stemmer: `livraison*` finds `livraisons`), phrases kept,
/// `-term` excluded, `OR` kept. None when nothing searchable is left.
pub fn fts5_query(text: &str) -> Option<String> {
    let mut must = Vec::new();
    let mut not = Vec::new();
    let mut rest = text.trim();
    // A word the tokenizer splits (`L'Oréal`) becomes a phrase of its parts.
    let word = |w: &str| -> Option<String> {
        let parts: Vec<&str> = w
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then(|| format!("\"{}\"*", parts.join(" ")))
    };
    while !rest.is_empty() {
        let neg = rest.starts_with('-');
        if neg {
            rest = &rest[1..];
        }
        let (piece, next) = if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            let words: Vec<String> = r[..end]
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            let p = (!words.is_empty()).then(|| format!("\"{}\"", words.join(" ")));
            (p, r.get(end + 1..).unwrap_or(""))
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let w = &rest[..end];
            let p = if w == "OR" && !neg {
                Some("OR".to_string())
            } else {
                word(w)
            };
            (p, &rest[end..])
        };
        if let Some(p) = piece {
            if neg {
                not.push(p)
            } else {
                must.push(p)
            }
        }
        rest = next.trim_start();
    }
    // A dangling OR at either end means nothing.
    while must.first().is_some_and(|p| p == "OR") {
        must.remove(0);
    }
    while must.last().is_some_and(|p| p == "OR") {
        must.pop();
    }
    must.dedup_by(|a, b| a == "OR" && b == "OR");
    if must.is_empty() {
        return None;
    }
    let mut q = must.join(" ");
    for n in not {
        q = format!("({q}) NOT {n}");
    }
    Some(q)
}

impl Store {
    /// Stores a mention once per workspace and item; None when it already exists.
    pub async fn insert_mention(
        &self,
        conn: &mut sqlx::AnyConnection,
        m: NewMention<'_>,
    ) -> Result<Option<i64>> {
        Ok(self.insert_mentions(conn, &[m]).await?[0])
    }

    /// Stores mentions once per workspace and item: the id of each, in order, or None for one
    /// that already existed. Rows go in multi-row statements (the ingest path stores thousands
    /// a second; one statement per row costs more than the rows).
    pub async fn insert_mentions(
        &self,
        conn: &mut sqlx::AnyConnection,
        ms: &[NewMention<'_>],
    ) -> Result<Vec<Option<i64>>> {
        const COLS: usize = 15;
        // SQLite looks each `$n` up in a list when binding (quadratic in the statement's
        // parameters): 8 rows of 15 keep that small while saving most round trips.
        const ROWS: usize = 8;
        let received = now();
        let mut ids = vec![None; ms.len()];
        let mut links: Vec<(i64, i64)> = Vec::new();
        for (c, chunk) in ms.chunks(ROWS).enumerate() {
            let base = c * ROWS;
            let sql = format!(
                "INSERT INTO mentions (workspace_id, source_id, guid, query_ids, url, author, title, body, lang, published_at, received_at, origin, sentiment, sentiment_score, story_id) \
                 VALUES {} ON CONFLICT (workspace_id, guid) DO NOTHING RETURNING id, workspace_id, guid",
                placeholders(chunk.len(), COLS)
            );
            let mut q = sqlx::query(&sql);
            for m in chunk {
                q = q
                    .bind(m.workspace_id)
                    .bind(m.source_id)
                    .bind(m.guid)
                    .bind(serde_json::to_string(m.query_ids).unwrap_or_else(|_| "[]".into()))
                    .bind(m.url)
                    .bind(m.author)
                    .bind(m.title)
                    .bind(m.body)
                    .bind(m.lang)
                    .bind(m.published_at)
                    .bind(received)
                    .bind(m.origin)
                    .bind(m.sentiment)
                    .bind(m.sentiment_score)
                    .bind(m.story_id);
            }
            // RETURNING order is not promised: rows are matched back by their key.
            for row in q.fetch_all(&mut *conn).await? {
                let (id, ws, guid): (i64, i64, String) =
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                if let Some(i) = chunk
                    .iter()
                    .position(|m| m.workspace_id == ws && m.guid == guid)
                {
                    ids[base + i] = Some(id);
                    links.extend(chunk[i].query_ids.iter().map(|q| (id, *q)));
                }
            }
        }
        links.sort_unstable();
        links.dedup();
        for chunk in links.chunks(64) {
            let sql = format!(
                "INSERT INTO mention_queries (mention_id, query_id) VALUES {}",
                placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(&sql);
            for (m, qid) in chunk {
                q = q.bind(*m).bind(*qid);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(ids)
    }

    /// Latest mentions of a workspace, optionally for one query, newest first.
    pub async fn mentions(
        &self,
        workspace_id: i64,
        query_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Mention>> {
        let f = MentionFilter {
            query_id: query_id.unwrap_or(0),
            limit,
            ..MentionFilter::default()
        };
        self.search_mentions(workspace_id, &f).await
    }

    /// Mentions that pass every filter, newest first.
    pub async fn search_mentions(
        &self,
        workspace_id: i64,
        f: &MentionFilter,
    ) -> Result<Vec<Mention>> {
        let text = match self.backend() {
            Backend::Sqlite => fts5_query(&f.text),
            Backend::Postgres => Some(f.text.trim().to_string()).filter(|t| !t.is_empty()),
        };
        let search = match (&text, self.backend()) {
            (None, _) => "",
            (Some(_), Backend::Sqlite) => {
                " AND m.id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH $12)"
            }
            (Some(_), Backend::Postgres) => " AND m.search @@ websearch_to_tsquery('french', $12)",
        };
        let sql = format!(
            "SELECT {M_COLS} FROM mentions m WHERE m.workspace_id = $1 AND m.irrelevant = 0 \
             AND ($2 = 0 OR EXISTS (SELECT 1 FROM mention_queries q WHERE q.mention_id = m.id AND q.query_id = $2)) \
             AND ($3 = '' OR EXISTS (SELECT 1 FROM mention_queries mq JOIN queries q ON q.id = mq.query_id WHERE mq.mention_id = m.id AND q.tag = $3)) \
             AND ($4 = 0 OR m.source_id = $4) AND ($5 = '' OR m.origin = $5) \
             AND ($6 = '' OR m.lang = $6) AND ($7 = '' OR m.sentiment = $7) \
             AND ($8 = 0 OR m.received_at >= $8) AND ($9 = 0 OR m.received_at < $9) \
             AND m.id > $10{search} ORDER BY m.received_at DESC, m.id DESC LIMIT $11"
        );
        let mut q = sqlx::query(&sql)
            .bind(workspace_id)
            .bind(f.query_id)
            .bind(&f.tag)
            .bind(f.source_id)
            .bind(&f.origin)
            .bind(&f.lang)
            .bind(&f.sentiment)
            .bind(f.from)
            .bind(f.to)
            .bind(f.after_id)
            .bind(f.limit.clamp(1, 100_000));
        if let Some(t) = &text {
            q = q.bind(t.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(mention_from_row).collect()
    }

    /// A workspace's mentions of one query received after mention `after_id`, oldest first.
    pub async fn mentions_after(
        &self,
        workspace_id: i64,
        query_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<Mention>> {
        let rows = sqlx::query(&format!(
            "SELECT {M_COLS} FROM mentions m JOIN mention_queries q ON q.mention_id = m.id \
             WHERE m.workspace_id = $1 AND q.query_id = $2 AND m.id > $3 AND m.irrelevant = 0 \
             ORDER BY m.id LIMIT $4"
        ))
        .bind(workspace_id)
        .bind(query_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mention_from_row).collect()
    }

    /// Items stored since `from` (ms), each once whatever the number of workspaces that kept
    /// it, oldest first: text, shared URL and event time. Rebuilds the story index at start.
    pub async fn story_members_since(
        &self,
        from: i64,
        limit: i64,
    ) -> Result<Vec<(String, Option<String>, i64)>> {
        let rows = sqlx::query(
            "SELECT m.body, m.url, COALESCE(m.published_at, m.received_at) FROM mentions m \
             WHERE m.id IN (SELECT MIN(id) FROM mentions WHERE received_at >= $1 GROUP BY guid) \
             ORDER BY m.id LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// The highest mention id (alert rules start after it: no alert for the past).
    pub async fn last_mention_id(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM mentions")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Mentions per query and hour since `from` (share of voice); irrelevant ones left out.
    pub async fn mention_hours(&self, workspace_id: i64, from: i64) -> Result<Vec<HourCount>> {
        let rows = sqlx::query(
            "SELECT mq.query_id, m.received_at / 3600000 AS h, COUNT(*) FROM mentions m \
             JOIN mention_queries mq ON mq.mention_id = m.id \
             WHERE m.workspace_id = $1 AND m.received_at >= $2 AND m.irrelevant = 0 \
             GROUP BY mq.query_id, m.received_at / 3600000 ORDER BY h",
        )
        .bind(workspace_id)
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HourCount {
                    query_id: r.try_get(0)?,
                    hour: r.try_get(1)?,
                    count: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Fresh mentions of one query per minute in `[from, to)` (crisis detection). Items
    /// published long before they arrived (a feed's back catalogue) are not a burst.
    pub async fn mention_minutes(
        &self,
        query_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<MinuteCount>> {
        let rows = sqlx::query(
            "SELECT m.received_at / 60000 AS mi, COUNT(*), COUNT(CASE WHEN m.sentiment = 'negative' THEN 1 END) \
             FROM mentions m JOIN mention_queries mq ON mq.mention_id = m.id \
             WHERE mq.query_id = $1 AND m.received_at >= $2 AND m.received_at < $3 AND m.irrelevant = 0 \
             AND (m.published_at IS NULL OR m.published_at >= m.received_at - 3600000) \
             GROUP BY m.received_at / 60000 ORDER BY mi",
        )
        .bind(query_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MinuteCount {
                    minute: r.try_get(0)?,
                    count: r.try_get(1)?,
                    negative: r.try_get(2)?,
                })
            })
            .collect()
    }

    pub async fn mark_irrelevant(&self, workspace_id: i64, id: i64) -> Result<()> {
        let n =
            sqlx::query("UPDATE mentions SET irrelevant = 1 WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(workspace_id)
                .execute(&self.pool)
                .await?
                .rows_affected();
        found(n)
    }
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(super::placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::placeholders(1, 1), "($1)");
    }

    use super::fts5_query;

    #[test]
    fn user_words_become_a_safe_fts5_query() {
        assert_eq!(
            fts5_query("livraison retard").unwrap(),
            "\"livraison\"* \"retard\"*"
        );
        assert_eq!(
            fts5_query("\"service client\"").unwrap(),
            "\"service client\""
        );
        assert_eq!(
            fts5_query("rappel -recette").unwrap(),
            "(\"rappel\"*) NOT \"recette\"*"
        );
        assert_eq!(fts5_query("a OR b").unwrap(), "\"a\"* OR \"b\"*");
        assert_eq!(fts5_query("OR a OR").unwrap(), "\"a\"*");
        // Operators and syntax characters cannot escape the quotes.
        assert_eq!(fts5_query("NEAR(x\" y) *").unwrap(), "\"NEAR x\"* \"y\"*");
        assert_eq!(fts5_query("  ** -- \"\" "), None);
        assert_eq!(fts5_query("L'Oréal").unwrap(), "\"L Oréal\"*");
    }
}
