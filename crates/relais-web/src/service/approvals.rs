//! Approvals: a workspace asks for none, one internal stage, or an internal stage then the
//! client's. Decisions (approve, request changes, reject) carry a comment; nobody decides on
//! their own post; every decision is in the audit log. An approved post goes on the schedule at
//! the time its author asked for.

use relais_domain::publish::TargetState;
use relais_domain::{Code, Permission};
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;
use relais_store::StoreError;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

pub const MODES: [&str; 3] = ["none", "internal", "internal_client"];
pub const DECISIONS: [&str; 3] = ["approve", "changes", "reject"];

pub async fn set_mode(
    state: &AppState,
    user: &User,
    m: &Membership,
    mode: &str,
) -> Result<(), AppError> {
    require(m, Permission::ManageWorkspace)?;
    if !MODES.contains(&mode) {
        return Err(field("approval_mode", Code::InvalidValue).into());
    }
    let before = state.store.approval_mode(m.workspace.id).await?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .set_approval_mode(&mut tx, m.workspace.id, mode)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "approval.mode",
        target: "workspace",
        before: Some(&before),
        after: Some(mode),
    };
    super::record(state, tx, entry).await
}

/// The permission a stage needs.
pub fn stage_permission(stage: &str) -> Permission {
    if stage == "client" {
        Permission::ClientReview
    } else {
        Permission::Approve
    }
}

pub async fn decide(
    state: &AppState,
    user: &User,
    m: &Membership,
    post_id: i64,
    decision: &str,
    comment: &str,
) -> Result<(), AppError> {
    let ws = m.workspace.id;
    let (stage, wanted, author) = state.store.review_of(ws, post_id).await?;
    let stage = stage.ok_or_else(|| AppError::from(field("decision", Code::Conflict)))?;
    require(m, stage_permission(&stage))?;
    if author == Some(user.id) {
        return Err(field("decision", Code::OwnPost).into());
    }
    if !DECISIONS.contains(&decision) {
        return Err(field("decision", Code::InvalidValue).into());
    }
    let comment = comment.trim();
    if decision != "approve" && comment.is_empty() {
        return Err(field("comment", Code::Required).into());
    }
    let mode = state.store.approval_mode(ws).await?;
    let targets = state.store.targets_of_post(post_id).await?;
    let mut tx = state.store.begin().await?;
    let nd = relais_store::approvals::NewDecision {
        workspace_id: ws,
        post_id,
        stage: &stage,
        decision,
        comment,
        by_id: Some(user.id),
        by_label: &user.email,
    };
    state.store.record_decision(&mut tx, nd).await?;
    let move_all = |to: TargetState| {
        let ids: Vec<i64> = targets
            .iter()
            .filter(|t| t.state == TargetState::InReview)
            .map(|t| t.id)
            .collect();
        (ids, to)
    };
    match decision {
        "approve" if stage == "internal" && mode == "internal_client" => {
            state
                .store
                .set_review(&mut tx, post_id, Some("client"), wanted)
                .await?;
        }
        "approve" => {
            let (ids, _) = move_all(TargetState::Approved);
            for id in ids {
                state
                    .store
                    .move_target(
                        &mut tx,
                        id,
                        TargetState::InReview,
                        TargetState::Approved,
                        None,
                    )
                    .await?
                    .ok_or(StoreError::Conflict("target"))?;
                if let Some(at) = wanted {
                    relais_publisher::schedule(
                        &state.store,
                        &mut tx,
                        id,
                        TargetState::Approved,
                        at.max(relais_store::now()),
                    )
                    .await?;
                }
            }
            state
                .store
                .set_review(&mut tx, post_id, None, wanted)
                .await?;
        }
        _ => {
            let (ids, to) = move_all(if decision == "reject" {
                TargetState::Cancelled
            } else {
                TargetState::Draft
            });
            for id in ids {
                state
                    .store
                    .move_target(&mut tx, id, TargetState::InReview, to, None)
                    .await?
                    .ok_or(StoreError::Conflict("target"))?;
            }
            state
                .store
                .set_review(&mut tx, post_id, None, wanted)
                .await?;
        }
    }
    let actor = Actor::user(user.id, &user.email);
    let action = format!("approval.{decision}");
    let target = format!("post #{post_id} ({stage})");
    let entry = NewAudit {
        workspace_id: Some(ws),
        actor: &actor,
        action: &action,
        target: &target,
        before: None,
        after: (!comment.is_empty()).then_some(comment),
    };
    super::record(state, tx, entry).await?;
    super::accounts::wake(state);
    Ok(())
}
