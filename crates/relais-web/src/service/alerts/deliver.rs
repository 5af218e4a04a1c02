//! Delivering an alert: in the app and by email to the workspace's owners and managers, and —
//! for rules that escalate — to the escalation targets (email, Matrix room, signed webhook).
//! One job per alert; each target's outcome is recorded and a retry skips targets already
//! served (Matrix and webhooks also get the alert's idempotency key).

use relais_domain::Permission;
use relais_publish::{Connector, PublishRequest, Secret, Variant};
use relais_store::alerts::{Alert, EscalationTarget};
use relais_store::jobs::NewJob;
use relais_store::worker::{JobError, Registry};
use relais_store::StoreError;

use super::brief::{self, Brief};
use super::TargetSecret;
use crate::i18n::Tr;
use crate::AppState;

pub const DELIVER_JOB: &str = "alerts.deliver";

pub fn register(registry: &mut Registry, state: AppState) {
    registry.register(DELIVER_JOB, move |_store, job, _worker| {
        let state = state.clone();
        Box::pin(async move {
            let id = job.payload["alert_id"].as_i64().unwrap_or_default();
            deliver(&state, id).await.map_err(JobError::Retry)
        })
    });
}

/// Enqueues the delivery in the transaction that raised the alert.
pub async fn enqueue(
    state: &AppState,
    conn: &mut relais_store::AnyConnection,
    alert_id: i64,
) -> Result<(), StoreError> {
    let mut job = NewJob::now(DELIVER_JOB, serde_json::json!({ "alert_id": alert_id }));
    job.dedupe_key = Some(format!("alert-{alert_id}"));
    state.store.enqueue(conn, &job).await?;
    Ok(())
}

async fn deliver(state: &AppState, alert_id: i64) -> Result<(), String> {
    let alert = state
        .store
        .alert_by_id(alert_id)
        .await
        .map_err(|e| e.to_string())?;
    let done: Vec<String> = state
        .store
        .alert_deliveries(alert.id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|d| d.status == "sent")
        .map(|d| d.target)
        .collect();
    let w = state
        .store
        .workspace(alert.workspace_id)
        .await
        .map_err(|e| e.to_string())?;
    let b: Brief = serde_json::from_str(&alert.brief).unwrap_or_default();
    let link = format!("/w/{}/alerts/{}", alert.workspace_id, alert.id);
    let escalate = match alert.rule_id {
        Some(r) => state
            .store
            .alert_rules(alert.workspace_id)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .any(|x| x.id == r && x.escalate),
        None => false,
    };
    let mut failures = Vec::new();
    // Members who manage listening: in the app, and by email, in their language.
    if !done.iter().any(|d| d == "members") {
        match members(state, &alert, &b, &link).await {
            Ok(()) => record(state, alert.id, "members", Ok(())).await,
            Err(e) => failures.push(e.to_string()),
        }
    }
    if escalate {
        let targets = state
            .store
            .escalation_targets(alert.workspace_id)
            .await
            .map_err(|e| e.to_string())?;
        for target in targets {
            let key = format!("{}:{}", target.kind, target.id);
            if done.contains(&key) {
                continue;
            }
            let t = Tr(w.lang);
            let r = send(state, &alert, &b, &target, t, &link).await;
            if let Err(e) = &r {
                failures.push(format!("{key}: {e}"));
            }
            record(state, alert.id, &key, r).await;
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

async fn record(state: &AppState, alert_id: i64, target: &str, r: Result<(), String>) {
    let (status, detail) = match &r {
        Ok(()) => ("sent", None),
        Err(e) => ("failed", Some(e.as_str())),
    };
    if let Err(e) = state
        .store
        .record_alert_delivery(alert_id, target, status, detail)
        .await
    {
        tracing::warn!(alert = alert_id, error = %e, "could not record an alert delivery");
    }
}

async fn members(state: &AppState, alert: &Alert, b: &Brief, link: &str) -> Result<(), StoreError> {
    let w = state.store.workspace(alert.workspace_id).await?;
    let members = state.store.members(alert.workspace_id).await?;
    // Users are read before the write transaction (see service::notify).
    let mut users = Vec::new();
    for m in members
        .iter()
        .filter(|m| m.role.allows(Permission::ManageListening))
    {
        users.push(state.store.user_by_id(m.user_id).await?);
    }
    let mut tx = state.store.begin().await?;
    for user in users {
        let t = Tr(user.lang.unwrap_or(w.lang));
        let message = format!("{} — {}", w.name, alert.title);
        state
            .store
            .notify(
                &mut tx,
                user.id,
                Some(alert.workspace_id),
                &format!("alert.{}", alert.kind),
                &message,
                Some(link),
            )
            .await?;
        let body = format!("{message}\n\n{}\n{}\n", brief::text(b, t), state.link(link));
        let subject = format!("[relais] {}", alert.title);
        crate::service::mailjob::enqueue(state, &mut tx, &user.email, &subject, &body)
            .await
            .map_err(|_| StoreError::Conflict("mail"))?;
    }
    tx.commit().await?;
    crate::service::accounts::wake(state);
    Ok(())
}

async fn send(
    state: &AppState,
    alert: &Alert,
    b: &Brief,
    target: &EscalationTarget,
    t: Tr,
    link: &str,
) -> Result<(), String> {
    let text = format!(
        "🚨 {}\n\n{}\n{}",
        alert.title,
        brief::text(b, t),
        state.link(link)
    );
    let secret = || async {
        let id = target.secret_id.ok_or("credentials are missing")?;
        let raw = state
            .store
            .get_secret(&state.keyring, id)
            .await
            .map_err(|e| e.to_string())?;
        serde_json::from_slice::<TargetSecret>(&raw)
            .map_err(|_| "credentials are unreadable".to_string())
    };
    let req = PublishRequest {
        idempotency_key: format!("relais-alert-{}", alert.id),
        variant: Variant {
            text: text.clone(),
            title: Some(alert.title.clone()),
            ..Variant::default()
        },
        reply_to: None,
    };
    match target.kind.as_str() {
        "email" => {
            let mut tx = state.store.begin().await.map_err(|e| e.to_string())?;
            crate::service::mailjob::enqueue(
                state,
                &mut tx,
                &target.address,
                &format!("[relais] {}", alert.title),
                &text,
            )
            .await
            .map_err(|_| "mail could not be queued".to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            crate::service::accounts::wake(state);
            Ok(())
        }
        "matrix" => {
            let s = secret().await?;
            let creds = relais_publish::matrix::MatrixCredentials {
                homeserver: s.homeserver,
                access_token: Secret::new(s.token),
                room: target.address.clone(),
            };
            relais_publish::matrix::Matrix::new(state.net.clone(), creds)
                .publish(&req)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        "webhook" => {
            let s = secret().await?;
            let cfg = relais_publish::webhook::WebhookConfig {
                url: target.address.clone(),
                secret: Secret::new(s.token),
            };
            relais_publish::webhook::Webhook::new(state.net.clone(), cfg)
                .publish(&req)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        other => Err(format!("unknown target kind {other}")),
    }
}
