//! The audit log: every state change, per workspace (or instance-wide when workspace is None).

use sqlx::Row;

use crate::{now, Result, Store};

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub workspace_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub at: i64,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Who did it: a user, or the system (a worker, the CLI).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn user(id: i64, email: &str) -> Actor {
        Actor {
            id: Some(id),
            label: email.to_string(),
        }
    }
    pub fn system(label: &str) -> Actor {
        Actor {
            id: None,
            label: label.to_string(),
        }
    }
}

pub struct NewAudit<'a> {
    pub workspace_id: Option<i64>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: Option<i64>,
}

/// Short values only: the log shows "before/after" at a glance, not whole documents.
fn clip(s: Option<&str>) -> Option<String> {
    s.map(|v| {
        if v.chars().count() > 500 {
            v.chars().take(500).collect::<String>() + "…"
        } else {
            v.to_string()
        }
    })
}

impl Store {
    /// Writes an entry in the caller's transaction, so the change and its record commit together.
    pub async fn audit(&self, conn: &mut sqlx::AnyConnection, e: NewAudit<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (workspace_id, actor_id, actor_label, at, action, target, before_value, after_value) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.workspace_id)
        .bind(e.actor.id)
        .bind(&e.actor.label)
        .bind(now())
        .bind(e.action)
        .bind(e.target)
        .bind(clip(e.before))
        .bind(clip(e.after))
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn list_audit(&self, workspace_id: i64, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        // Empty filters bind as wildcards so one SQL text serves every combination.
        let action = f
            .action
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| format!("{s}%"))
            .unwrap_or_else(|| "%".into());
        let actor = f
            .actor
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", s.to_lowercase()))
            .unwrap_or_else(|| "%".into());
        let rows = sqlx::query(
            "SELECT id, workspace_id, actor_id, actor_label, at, action, target, before_value, after_value FROM audit_log \
             WHERE workspace_id = $1 AND action LIKE $2 AND LOWER(actor_label) LIKE $3 AND at >= $4 AND at <= $5 \
             ORDER BY at DESC, id DESC LIMIT $6",
        )
        .bind(workspace_id)
        .bind(action)
        .bind(actor)
        .bind(f.from.unwrap_or(0))
        .bind(f.to.unwrap_or(i64::MAX))
        .bind(f.limit.unwrap_or(500).clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    workspace_id: r.try_get(1)?,
                    actor_id: r.try_get(2)?,
                    actor: r.try_get(3)?,
                    at: r.try_get(4)?,
                    action: r.try_get(5)?,
                    target: r.try_get(6)?,
                    before: r.try_get(7)?,
                    after: r.try_get(8)?,
                })
            })
            .collect()
    }
}
