//! Alerts: rules per query (each new mention, digest, threshold, crisis), the workspace's
//! escalation targets (email, Matrix room, webhook), the alerts raised (once per rule and
//! trigger) and each delivery's outcome.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct AlertRule {
    pub id: i64,
    pub workspace_id: i64,
    pub query_id: i64,
    /// `each`, `digest`, `threshold`, `crisis`.
    pub mode: String,
    pub threshold: i64,
    pub window_minutes: i64,
    /// Crisis sensitivity, 1 (only big bursts) to 5 (small ones too).
    pub sensitivity: i64,
    pub cooldown_minutes: i64,
    /// Also deliver to the workspace's escalation targets.
    pub escalate: bool,
    /// Last mention id handled (each/digest/threshold) or last closed minute (crisis).
    pub cursor: i64,
    /// Mode state as JSON (detector baseline, digest start).
    pub state: String,
    pub last_fired_at: Option<i64>,
    pub created_at: i64,
}

pub struct NewAlertRule<'a> {
    pub workspace_id: i64,
    pub query_id: i64,
    pub mode: &'a str,
    pub threshold: i64,
    pub window_minutes: i64,
    pub sensitivity: i64,
    pub cooldown_minutes: i64,
    pub escalate: bool,
    pub cursor: i64,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EscalationTarget {
    pub id: i64,
    pub workspace_id: i64,
    /// `email`, `matrix`, `webhook`.
    pub kind: String,
    pub label: String,
    /// Email address, Matrix room, or webhook URL.
    pub address: String,
    /// Sealed credentials (Matrix homeserver + token, webhook secret).
    pub secret_id: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Alert {
    pub id: i64,
    pub workspace_id: i64,
    pub rule_id: Option<i64>,
    pub query_id: Option<i64>,
    pub kind: String,
    pub title: String,
    /// The brief as JSON (chart series, top posts, terms, sentiment split).
    pub brief: String,
    pub detected_at: i64,
    pub created_at: i64,
}

pub struct NewAlert<'a> {
    pub workspace_id: i64,
    pub rule_id: i64,
    pub query_id: i64,
    pub kind: &'a str,
    pub title: &'a str,
    pub brief: &'a str,
    pub detected_at: i64,
    /// One alert per rule and trigger: a retried evaluation raises nothing new.
    pub dedup: &'a str,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub target: String,
    pub status: String,
    pub detail: Option<String>,
    pub delivered_at: Option<i64>,
}

const RULE_COLS: &str = "id, workspace_id, query_id, mode, threshold, window_minutes, sensitivity, cooldown_minutes, escalate, cursor, state, last_fired_at, created_at";
const ALERT_COLS: &str =
    "id, workspace_id, rule_id, query_id, kind, title, brief, detected_at, created_at";

fn rule_from_row(r: &AnyRow) -> Result<AlertRule> {
    Ok(AlertRule {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        query_id: r.try_get(2)?,
        mode: r.try_get(3)?,
        threshold: r.try_get(4)?,
        window_minutes: r.try_get(5)?,
        sensitivity: r.try_get(6)?,
        cooldown_minutes: r.try_get(7)?,
        escalate: r.try_get::<i64, _>(8)? != 0,
        cursor: r.try_get(9)?,
        state: r.try_get(10)?,
        last_fired_at: r.try_get(11)?,
        created_at: r.try_get(12)?,
    })
}

fn alert_from_row(r: &AnyRow) -> Result<Alert> {
    Ok(Alert {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        rule_id: r.try_get(2)?,
        query_id: r.try_get(3)?,
        kind: r.try_get(4)?,
        title: r.try_get(5)?,
        brief: r.try_get(6)?,
        detected_at: r.try_get(7)?,
        created_at: r.try_get(8)?,
    })
}

impl Store {
    /// Creates a rule on one of the workspace's own queries (NotFound otherwise).
    pub async fn create_alert_rule(&self, r: NewAlertRule<'_>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO alert_rules (workspace_id, query_id, mode, threshold, window_minutes, sensitivity, cooldown_minutes, escalate, cursor, created_by, created_at) \
             SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM queries WHERE id = $2 AND workspace_id = $1 RETURNING id",
        )
        .bind(r.workspace_id)
        .bind(r.query_id)
        .bind(r.mode)
        .bind(r.threshold)
        .bind(r.window_minutes)
        .bind(r.sensitivity)
        .bind(r.cooldown_minutes)
        .bind(r.escalate as i64)
        .bind(r.cursor)
        .bind(r.created_by)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(row.try_get(0)?)
    }

    pub async fn alert_rules(&self, workspace_id: i64) -> Result<Vec<AlertRule>> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLS} FROM alert_rules WHERE workspace_id = $1 ORDER BY id"
        ))
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    /// Every rule of every workspace (the evaluation job).
    pub async fn all_alert_rules(&self) -> Result<Vec<AlertRule>> {
        let rows = sqlx::query(&format!("SELECT {RULE_COLS} FROM alert_rules ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rule_from_row).collect()
    }

    pub async fn delete_alert_rule(&self, workspace_id: i64, id: i64) -> Result<()> {
        let n = sqlx::query("DELETE FROM alert_rules WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        found(n)
    }

    /// Moves a rule's progress forward if nobody else did (compare-and-set on the cursor);
    /// false when another evaluation got there first.
    pub async fn advance_alert_rule(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        expect_cursor: i64,
        cursor: i64,
        state: &str,
        fired_at: Option<i64>,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE alert_rules SET cursor = $1, state = $2, last_fired_at = COALESCE($3, last_fired_at) \
             WHERE id = $4 AND cursor = $5",
        )
        .bind(cursor)
        .bind(state)
        .bind(fired_at)
        .bind(id)
        .bind(expect_cursor)
        .execute(conn)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn add_escalation_target(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        kind: &str,
        label: &str,
        address: &str,
        secret_id: Option<i64>,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO escalation_targets (workspace_id, kind, label, address, secret_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(workspace_id)
        .bind(kind)
        .bind(label)
        .bind(address)
        .bind(secret_id)
        .bind(now())
        .fetch_one(conn)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn escalation_targets(&self, workspace_id: i64) -> Result<Vec<EscalationTarget>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, kind, label, address, secret_id FROM escalation_targets WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EscalationTarget {
                    id: r.try_get(0)?,
                    workspace_id: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    label: r.try_get(3)?,
                    address: r.try_get(4)?,
                    secret_id: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Removes a target and its sealed credentials together.
    pub async fn delete_escalation_target(&self, workspace_id: i64, id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "DELETE FROM escalation_targets WHERE id = $1 AND workspace_id = $2 RETURNING secret_id",
        )
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        if let Some(secret) = row.try_get::<Option<i64>, _>(0)? {
            self.delete_secret(&mut tx, secret).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Raises an alert once per dedup key; None when it was already raised.
    pub async fn insert_alert(
        &self,
        conn: &mut sqlx::AnyConnection,
        a: NewAlert<'_>,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "INSERT INTO alerts (workspace_id, rule_id, query_id, kind, title, brief, detected_at, created_at, dedup) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (workspace_id, dedup) DO NOTHING RETURNING id",
        )
        .bind(a.workspace_id)
        .bind(a.rule_id)
        .bind(a.query_id)
        .bind(a.kind)
        .bind(a.title)
        .bind(a.brief)
        .bind(a.detected_at)
        .bind(now())
        .bind(a.dedup)
        .fetch_optional(conn)
        .await?;
        row.map(|r| r.try_get(0).map_err(Into::into)).transpose()
    }

    pub async fn alerts(&self, workspace_id: i64, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(workspace_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    pub async fn alert(&self, workspace_id: i64, id: i64) -> Result<Alert> {
        let row = sqlx::query(&format!(
            "SELECT {ALERT_COLS} FROM alerts WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        alert_from_row(&row)
    }

    /// An alert by id alone (the delivery job; the alert tells its workspace).
    pub async fn alert_by_id(&self, id: i64) -> Result<Alert> {
        let row = sqlx::query(&format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        alert_from_row(&row)
    }

    /// Records one delivery attempt's outcome (`sent` or `failed`) for one target.
    pub async fn record_alert_delivery(
        &self,
        alert_id: i64,
        target: &str,
        status: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO alert_deliveries (alert_id, target, status, detail, delivered_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(alert_id)
        .bind(target)
        .bind(status)
        .bind(detail)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn alert_deliveries(&self, alert_id: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT target, status, detail, delivered_at FROM alert_deliveries WHERE alert_id = $1 ORDER BY id",
        )
        .bind(alert_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    target: r.try_get(0)?,
                    status: r.try_get(1)?,
                    detail: r.try_get(2)?,
                    delivered_at: r.try_get(3)?,
                })
            })
            .collect()
    }
}
