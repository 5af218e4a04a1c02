//! Newsletter issues and their deliveries. A recipient is *claimed* by inserting the unique
//! `(issue, subscriber)` delivery row in state `sending` (committed before the SMTP call), then
//! the outcome is written with a compare-and-set on `sending`. So a recipient is sent an issue at
//! most once: a crash between the claim and the outcome leaves `sending`, which the next run turns
//! into `unknown` (maybe delivered) and never sends again.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{sub_from_row, Subscriber, S_COLS};
use crate::{now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Issue {
    pub id: i64,
    pub workspace_id: i64,
    pub list_id: i64,
    pub post_id: Option<i64>,
    pub subject: String,
    /// Sanitized HTML body (without the footer).
    pub html: String,
    pub text: String,
    /// `sending`, `sent` or `failed` (the SMTP server refused the settings; resumable).
    pub state: String,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

pub struct NewIssue<'a> {
    pub workspace_id: i64,
    pub list_id: i64,
    pub post_id: Option<i64>,
    pub subject: &'a str,
    pub html: &'a str,
    pub text: &'a str,
    pub created_by: i64,
}

/// Deliveries of an issue per state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryCounts {
    pub sending: i64,
    pub sent: i64,
    pub deferred: i64,
    pub failed: i64,
    pub bounced: i64,
    pub unknown: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub subscriber_id: i64,
    pub email: String,
    pub state: String,
    pub attempts: i64,
    pub smtp_code: Option<String>,
    pub error: Option<String>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Bounce {
    pub email: String,
    pub list_name: String,
    pub issue_id: i64,
    pub subject: String,
    pub smtp_code: Option<String>,
    pub error: Option<String>,
    pub at: i64,
    pub subscriber_state: String,
    pub bounces: i64,
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        message_id: String,
    },
    /// Refused for now (4xx): definitely not delivered, tried again later.
    Deferred {
        code: Option<String>,
        error: String,
    },
    /// Refused for good, not by the recipient's mailbox (e.g. the message could not be built).
    Failed {
        code: Option<String>,
        error: String,
    },
    /// Hard bounce: 5xx for this recipient.
    Bounced {
        code: Option<String>,
        error: String,
    },
    /// The server may or may not have accepted it (timeout, connection lost): never re-sent.
    Unknown {
        error: String,
    },
}

impl Outcome {
    fn parts(&self) -> (&'static str, Option<&str>, Option<&str>, Option<&str>) {
        match self {
            Outcome::Sent { message_id } => ("sent", Some(message_id), None, None),
            Outcome::Deferred { code, error } => ("deferred", None, code.as_deref(), Some(error)),
            Outcome::Failed { code, error } => ("failed", None, code.as_deref(), Some(error)),
            Outcome::Bounced { code, error } => ("bounced", None, code.as_deref(), Some(error)),
            Outcome::Unknown { error } => ("unknown", None, None, Some(error)),
        }
    }
}

const I_COLS: &str = "id, workspace_id, list_id, post_id, subject, html, text, state, last_error, created_by, created_at, finished_at";

fn issue_from_row(r: &AnyRow) -> Result<Issue> {
    Ok(Issue {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        list_id: r.try_get(2)?,
        post_id: r.try_get(3)?,
        subject: r.try_get(4)?,
        html: r.try_get(5)?,
        text: r.try_get(6)?,
        state: r.try_get(7)?,
        last_error: r.try_get(8)?,
        created_by: r.try_get(9)?,
        created_at: r.try_get(10)?,
        finished_at: r.try_get(11)?,
    })
}

fn clip(s: &str) -> String {
    s.chars().take(1000).collect()
}

impl Store {
    pub async fn create_issue(
        &self,
        conn: &mut sqlx::AnyConnection,
        i: NewIssue<'_>,
    ) -> Result<Issue> {
        let row = sqlx::query(&format!(
            "INSERT INTO newsletter_issues (workspace_id, list_id, post_id, subject, html, text, state, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'sending', $7, $8) RETURNING {I_COLS}"
        ))
        .bind(i.workspace_id)
        .bind(i.list_id)
        .bind(i.post_id)
        .bind(i.subject)
        .bind(i.html)
        .bind(i.text)
        .bind(i.created_by)
        .bind(now())
        .fetch_one(conn)
        .await?;
        issue_from_row(&row)
    }

    /// One issue, scoped to its workspace.
    pub async fn issue(&self, ws: i64, id: i64) -> Result<Issue> {
        let row = sqlx::query(&format!(
            "SELECT {I_COLS} FROM newsletter_issues WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id)
        .bind(ws)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        issue_from_row(&row)
    }

    /// One issue by id alone (the sending job).
    pub async fn issue_by_id(&self, id: i64) -> Result<Issue> {
        let row = sqlx::query(&format!(
            "SELECT {I_COLS} FROM newsletter_issues WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        issue_from_row(&row)
    }

    pub async fn issues(&self, ws: i64, limit: i64) -> Result<Vec<Issue>> {
        let rows = sqlx::query(&format!(
            "SELECT {I_COLS} FROM newsletter_issues WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(ws)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(issue_from_row).collect()
    }

    pub async fn delivery_counts(&self, issue_id: i64) -> Result<DeliveryCounts> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) FROM newsletter_deliveries WHERE issue_id = $1 GROUP BY state",
        )
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await?;
        let mut c = DeliveryCounts::default();
        for r in rows {
            let (state, n): (String, i64) = (r.try_get(0)?, r.try_get(1)?);
            match state.as_str() {
                "sending" => c.sending = n,
                "sent" => c.sent = n,
                "deferred" => c.deferred = n,
                "failed" => c.failed = n,
                "bounced" => c.bounced = n,
                "unknown" => c.unknown = n,
                _ => {}
            }
        }
        Ok(c)
    }

    /// Deliveries of an issue, problems first.
    pub async fn deliveries(&self, ws: i64, issue_id: i64, limit: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT d.id, d.subscriber_id, s.email, d.state, d.attempts, d.smtp_code, d.error, d.updated_at \
             FROM newsletter_deliveries d JOIN newsletter_subscribers s ON s.id = d.subscriber_id \
             WHERE d.workspace_id = $1 AND d.issue_id = $2 \
             ORDER BY CASE d.state WHEN 'sent' THEN 1 ELSE 0 END, d.id LIMIT $3",
        )
        .bind(ws)
        .bind(issue_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.try_get(0)?,
                    subscriber_id: r.try_get(1)?,
                    email: r.try_get(2)?,
                    state: r.try_get(3)?,
                    attempts: r.try_get(4)?,
                    smtp_code: r.try_get(5)?,
                    error: r.try_get(6)?,
                    updated_at: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// Confirmed subscribers of the issue's list who have no delivery row for it yet.
    pub async fn next_recipients(&self, issue: &Issue, limit: i64) -> Result<Vec<Subscriber>> {
        let cols = S_COLS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols} FROM newsletter_subscribers s WHERE s.list_id = $1 AND s.state = 'confirmed' \
             AND NOT EXISTS (SELECT 1 FROM newsletter_deliveries d WHERE d.issue_id = $2 AND d.subscriber_id = s.id) \
             ORDER BY s.id LIMIT $3"
        ))
        .bind(issue.list_id)
        .bind(issue.id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sub_from_row).collect()
    }

    /// Claims a recipient: inserts its delivery row in state `sending` if the subscriber is still
    /// confirmed and has none. Returns the delivery id, or None (already claimed, or no longer
    /// confirmed): the caller must not send.
    pub async fn claim_delivery(&self, issue: &Issue, subscriber_id: i64) -> Result<Option<i64>> {
        let t = now();
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO newsletter_deliveries (issue_id, subscriber_id, workspace_id, state, attempts, created_at, updated_at) \
             SELECT $1, s.id, s.workspace_id, 'sending', 1, $2, $2 FROM newsletter_subscribers s \
             WHERE s.id = $3 AND s.list_id = $4 AND s.state = 'confirmed' \
             ON CONFLICT (issue_id, subscriber_id) DO NOTHING RETURNING id",
        )
        .bind(issue.id)
        .bind(t)
        .bind(subscriber_id)
        .bind(issue.list_id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|r| r.try_get(0).map_err(StoreError::from))
            .transpose()
    }

    /// Deferred deliveries a run may try again: deferred before `before` (the start of this run,
    /// so a recipient deferred now waits for the next run), attempts left, subscriber still
    /// confirmed. Take each with [`Store::retake_deferred`] before sending.
    pub async fn deferred_due(
        &self,
        issue_id: i64,
        max_attempts: i64,
        before: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Subscriber)>> {
        let cols = S_COLS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT d.id, {cols} FROM newsletter_deliveries d JOIN newsletter_subscribers s ON s.id = d.subscriber_id \
             WHERE d.issue_id = $1 AND d.state = 'deferred' AND d.attempts < $2 AND s.state = 'confirmed' AND d.updated_at < $3 \
             ORDER BY d.id LIMIT $4"
        ))
        .bind(issue_id)
        .bind(max_attempts)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get(0)?;
                // The subscriber's columns follow the delivery id.
                let sub = Subscriber {
                    id: r.try_get(1)?,
                    list_id: r.try_get(2)?,
                    workspace_id: r.try_get(3)?,
                    email: r.try_get(4)?,
                    name: r.try_get(5)?,
                    state: super::SubState::Confirmed,
                    consent: r.try_get(7)?,
                    unsub_nonce: r.try_get(8)?,
                    bounces: r.try_get(9)?,
                    created_at: r.try_get(10)?,
                    confirmed_at: r.try_get(11)?,
                    unsubscribed_at: r.try_get(12)?,
                };
                Ok((id, sub))
            })
            .collect()
    }

    /// Takes a deferred delivery back for one more attempt (`deferred` → `sending`). False when
    /// another run took it.
    pub async fn retake_deferred(&self, delivery_id: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'sending', attempts = attempts + 1, updated_at = $1 \
             WHERE id = $2 AND state = 'deferred'",
        )
        .bind(now())
        .bind(delivery_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records the outcome of a claimed delivery and, for a hard bounce, counts it on the
    /// subscriber (who becomes `bounced` at `bounce_limit`), in one transaction. Returns false
    /// when the delivery was no longer `sending` (another run settled it).
    pub async fn settle_delivery(
        &self,
        delivery_id: i64,
        outcome: &Outcome,
        bounce_limit: i64,
    ) -> Result<bool> {
        let t = now();
        let (state, mid, code, error) = outcome.parts();
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE newsletter_deliveries SET state = $1, message_id = $2, smtp_code = $3, error = $4, updated_at = $5 \
             WHERE id = $6 AND state = 'sending'",
        )
        .bind(state)
        .bind(mid)
        .bind(code)
        .bind(error.map(clip))
        .bind(t)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            match outcome {
                Outcome::Bounced { .. } => {
                    sqlx::query(
                        "UPDATE newsletter_subscribers SET bounces = bounces + 1, updated_at = $1, \
                         state = CASE WHEN bounces + 1 >= $2 AND state = 'confirmed' THEN 'bounced' ELSE state END \
                         WHERE id = (SELECT subscriber_id FROM newsletter_deliveries WHERE id = $3)",
                    )
                    .bind(t)
                    .bind(bounce_limit.max(1))
                    .bind(delivery_id)
                    .execute(&mut *tx)
                    .await?;
                }
                // Bounces count while consecutive: a delivered issue proves the mailbox works.
                Outcome::Sent { .. } => {
                    sqlx::query(
                        "UPDATE newsletter_subscribers SET bounces = 0 WHERE bounces > 0 \
                         AND id = (SELECT subscriber_id FROM newsletter_deliveries WHERE id = $1)",
                    )
                    .bind(delivery_id)
                    .execute(&mut *tx)
                    .await?;
                }
                _ => {}
            }
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Removes a claim whose message was definitely not sent (the server could not be reached
    /// at all), so a later run sends it.
    pub async fn release_delivery(&self, delivery_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM newsletter_deliveries WHERE id = $1 AND state = 'sending'")
            .bind(delivery_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Claims left `sending` by a run that died: the message may have gone out, so it is never
    /// sent again; they become `unknown`.
    pub async fn orphaned_deliveries_unknown(&self, issue_id: i64) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'unknown', error = 'interrupted while sending: not sent again', updated_at = $1 \
             WHERE issue_id = $2 AND state = 'sending'",
        )
        .bind(now())
        .bind(issue_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Deferred deliveries that a later run will try again.
    pub async fn reclaimable_deferred(&self, issue_id: i64, max_attempts: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM newsletter_deliveries d JOIN newsletter_subscribers s ON s.id = d.subscriber_id \
             WHERE d.issue_id = $1 AND d.state = 'deferred' AND d.attempts < $2 AND s.state = 'confirmed'",
        )
        .bind(issue_id)
        .bind(max_attempts)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Deferred deliveries out of attempts (or whose subscriber left) become `failed`.
    pub async fn give_up_deferred(&self, issue_id: i64, max_attempts: i64) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE newsletter_deliveries SET state = 'failed', updated_at = $1 WHERE issue_id = $2 AND state = 'deferred' \
             AND (attempts >= $3 OR subscriber_id IN (SELECT id FROM newsletter_subscribers WHERE state <> 'confirmed'))",
        )
        .bind(now())
        .bind(issue_id)
        .bind(max_attempts)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Sets the issue's state (`sending`, `sent`, `failed`) and its last error.
    pub async fn set_issue_state(
        &self,
        issue_id: i64,
        state: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let t = now();
        let finished = (state != "sending").then_some(t);
        sqlx::query(
            "UPDATE newsletter_issues SET state = $1, last_error = $2, finished_at = $3 WHERE id = $4",
        )
        .bind(state)
        .bind(error.map(clip))
        .bind(finished)
        .bind(issue_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The workspace's latest posts (id, text), to offer as issues.
    pub async fn recent_posts(&self, ws: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, body FROM posts WHERE workspace_id = $1 AND body <> '' ORDER BY id DESC LIMIT $2",
        )
        .bind(ws)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Hard bounces of the workspace, latest first.
    pub async fn newsletter_bounces(&self, ws: i64, limit: i64) -> Result<Vec<Bounce>> {
        let rows = sqlx::query(
            "SELECT s.email, l.name, i.id, i.subject, d.smtp_code, d.error, d.updated_at, s.state, s.bounces \
             FROM newsletter_deliveries d JOIN newsletter_subscribers s ON s.id = d.subscriber_id \
             JOIN newsletter_issues i ON i.id = d.issue_id JOIN newsletter_lists l ON l.id = s.list_id \
             WHERE d.workspace_id = $1 AND d.state = 'bounced' ORDER BY d.updated_at DESC, d.id DESC LIMIT $2",
        )
        .bind(ws)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Bounce {
                    email: r.try_get(0)?,
                    list_name: r.try_get(1)?,
                    issue_id: r.try_get(2)?,
                    subject: r.try_get(3)?,
                    smtp_code: r.try_get(4)?,
                    error: r.try_get(5)?,
                    at: r.try_get(6)?,
                    subscriber_state: r.try_get(7)?,
                    bounces: r.try_get(8)?,
                })
            })
            .collect()
    }
}
