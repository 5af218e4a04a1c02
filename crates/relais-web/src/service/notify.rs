//! Telling people: a publication that failed or is unconfirmed reaches the workspace's owners
//! and managers and the post's author, in the app and by email, in their language.

use relais_domain::Permission;
use relais_store::worker::{JobError, Registry};
use relais_store::StoreError;

use crate::i18n::Tr;
use crate::AppState;

pub fn register(registry: &mut Registry, state: AppState) {
    registry.register(relais_publisher::NOTIFY_JOB, move |_store, job, _worker| {
        let state = state.clone();
        Box::pin(async move {
            publish_problem(&state, &job.payload)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))
        })
    });
}

async fn publish_problem(state: &AppState, p: &serde_json::Value) -> Result<(), StoreError> {
    let ws = p["workspace_id"].as_i64().unwrap_or_default();
    let post = p["post_id"].as_i64().unwrap_or_default();
    let action = p["action"].as_str().unwrap_or("publish.failed");
    let detail = p["message"].as_str().unwrap_or("");
    let w = state.store.workspace(ws).await?;
    let author = state
        .store
        .post(ws, post)
        .await
        .ok()
        .and_then(|p| p.author_id);
    let members = state.store.members(ws).await?;
    let link = format!("/w/{ws}/posts");
    // Read before the write transaction: a transaction waiting for a second pool connection
    // while writers queue behind its lock starves the pool (SQLite "database is locked").
    let mut users = Vec::new();
    for m in members
        .iter()
        .filter(|m| m.role.allows(Permission::ManageChannels) || Some(m.user_id) == author)
    {
        users.push(state.store.user_by_id(m.user_id).await?);
    }
    let mut tx = state.store.begin().await?;
    for user in users {
        let t = Tr(user.lang.unwrap_or(w.lang));
        let key = if action == "publish.unconfirmed" {
            "notify.unconfirmed"
        } else {
            "notify.failed"
        };
        let message = format!("{} « {} » : {detail}", t.t(key), w.name);
        state
            .store
            .notify(&mut tx, user.id, Some(ws), action, &message, Some(&link))
            .await?;
        let body = format!("{message}\n\n{}\n", state.link(&link));
        super::mailjob::enqueue(state, &mut tx, &user.email, t.t(key), &body)
            .await
            .map_err(|_| StoreError::Conflict("mail"))?;
    }
    tx.commit().await?;
    super::accounts::wake(state);
    Ok(())
}
