//! Crisis freeze of a workspace's publishing (UI button, API, CLI).

use relais_domain::{validate, Code, Permission};
use relais_store::audit::{Actor, NewAudit};
use relais_store::freeze::Resolution;
use relais_store::workspaces::Membership;
use relais_store::StoreError;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// Freezes every scheduled target of the workspace; returns how many were held.
pub async fn freeze(
    state: &AppState,
    actor: &Actor,
    m: &Membership,
    reason: &str,
) -> Result<u64, AppError> {
    require(m, Permission::Freeze)?;
    let reason = validate::display_name("reason", reason).map_err(|e| field("reason", e.code))?;
    let mut tx = state.store.begin().await?;
    let (_, n) = match state
        .store
        .freeze(&mut tx, m.workspace.id, actor, &reason)
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(field("reason", Code::Conflict).into()),
        r => r?,
    };
    let after = format!("{reason} ({n} scheduled targets frozen)");
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor,
        action: "workspace.freeze",
        target: "publishing",
        before: None,
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    Ok(n)
}

/// Ends the freeze; `resolution` is `publish_now`, `reschedule` or `drafts` for what fell due.
pub async fn unfreeze(
    state: &AppState,
    actor: &Actor,
    m: &Membership,
    resolution: &str,
) -> Result<usize, AppError> {
    require(m, Permission::Freeze)?;
    let res =
        Resolution::parse(resolution).ok_or_else(|| field("resolution", Code::InvalidValue))?;
    let mut tx = state.store.begin().await?;
    let back = match state
        .store
        .unfreeze(&mut tx, m.workspace.id, actor, res)
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(field("resolution", Code::Conflict).into()),
        r => r?,
    };
    for r in &back {
        relais_publisher::enqueue_publish(&state.store, &mut tx, r.target_id, r.version, r.at)
            .await?;
    }
    let after = format!(
        "{} ({} targets back on the schedule)",
        res.as_str(),
        back.len()
    );
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor,
        action: "workspace.unfreeze",
        target: "publishing",
        before: None,
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    super::accounts::wake(state);
    Ok(back.len())
}
