//! Approvals: a workspace asks for none, one internal stage, or an internal stage then the
//! client's. The internal stage is decided by the approving roles and/or members named as
//! approvers; the client stage by a client member or through a review link. Decisions
//! (approve, request changes, reject) carry a comment; nobody decides on their own post; every
//! decision is in the audit log and tells the author. An approved post goes on the schedule at
//! the time its author asked for.

use relais_domain::publish::TargetState;
use relais_domain::{Code, Permission};
use relais_store::approvals::ApprovalSettings;
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;
use relais_store::StoreError;

use super::field;
use crate::auth::require;
use crate::i18n::Tr;
use crate::{AppError, AppState};

pub const MODES: [&str; 3] = ["none", "internal", "internal_client"];
pub const DECISIONS: [&str; 3] = ["approve", "changes", "reject"];
pub const MAX_EXPIRY_DAYS: i64 = 365;

/// The approval settings form. Without `full` only the mode changes (older clients).
#[derive(Debug, Default, Clone)]
pub struct SettingsForm {
    pub mode: String,
    pub full: bool,
    pub approvers: Vec<i64>,
    pub named_only: bool,
    /// Days, or empty for "never".
    pub expiry_days: String,
}

fn summary(s: &ApprovalSettings) -> String {
    let named: Vec<String> = s.approvers.iter().map(|id| format!("#{id}")).collect();
    format!(
        "{}; approvers: {}{}; expiry: {}",
        s.mode,
        if named.is_empty() {
            "-".into()
        } else {
            named.join(" ")
        },
        if s.named_only { " (only)" } else { "" },
        s.expiry_days.map_or("never".into(), |d| format!("{d} d"))
    )
}

pub async fn set_settings(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: &SettingsForm,
) -> Result<(), AppError> {
    require(m, Permission::ManageWorkspace)?;
    let ws = m.workspace.id;
    if !MODES.contains(&f.mode.as_str()) {
        return Err(field("approval_mode", Code::InvalidValue).into());
    }
    let before = state.store.approval_settings(ws).await?;
    let mut next = ApprovalSettings {
        mode: f.mode.clone(),
        ..before.clone()
    };
    if f.full {
        // Named approvers are members of the workspace, clients excepted (they have their stage).
        let members = state.store.members(ws).await?;
        next.approvers = members
            .iter()
            .filter(|mb| f.approvers.contains(&mb.user_id))
            .filter(|mb| mb.role != relais_domain::Role::Client)
            .map(|mb| mb.user_id)
            .collect();
        next.named_only = f.named_only;
        if next.named_only && next.approvers.is_empty() {
            return Err(field("approvers", Code::Required).into());
        }
        next.expiry_days = match f.expiry_days.trim() {
            "" | "0" => None,
            s => match s.parse::<i64>() {
                Ok(d) if (1..=MAX_EXPIRY_DAYS).contains(&d) => Some(d),
                _ => return Err(field("approval_expiry_days", Code::InvalidDays).into()),
            },
        };
    }
    if next == before {
        return Ok(());
    }
    let mut tx = state.store.begin().await?;
    state
        .store
        .set_approval_settings(&mut tx, ws, &next)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let (b, a) = (summary(&before), summary(&next));
    let entry = NewAudit {
        workspace_id: Some(ws),
        actor: &actor,
        action: if f.full {
            "approval.settings"
        } else {
            "approval.mode"
        },
        target: "workspace",
        before: Some(&b),
        after: Some(&a),
    };
    super::record(state, tx, entry).await
}

/// Whether a member may decide at `stage`: the client stage is the clients'; the internal
/// stage is the named approvers' and, unless the workspace names only them, the approving
/// roles'. (Own posts are refused separately, with their own message.)
pub fn may_decide(m: &Membership, user_id: i64, stage: &str, s: &ApprovalSettings) -> bool {
    if stage == "client" {
        return m.role.allows(Permission::ClientReview);
    }
    let named = s.approvers.contains(&user_id);
    let only_named = s.named_only && !s.approvers.is_empty();
    named || (!only_named && m.role.allows(Permission::Approve))
}

/// Who decides, for the records: a member, or a client through a review link.
pub struct By<'a> {
    pub user_id: Option<i64>,
    /// The member's email, or "client via link: <name>".
    pub label: &'a str,
    /// The review link spent on this decision (compare-and-set in the same transaction).
    pub link_id: Option<i64>,
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
    let settings = state.store.approval_settings(ws).await?;
    let (stage, _, author) = state.store.review_of(ws, post_id).await?;
    let stage = stage.ok_or_else(|| AppError::from(field("decision", Code::Conflict)))?;
    if !may_decide(m, user.id, &stage, &settings) {
        return Err(AppError::forbidden());
    }
    if m.workspace.archived_at.is_some() {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            Code::Archived,
        ));
    }
    if author == Some(user.id) {
        return Err(field("decision", Code::OwnPost).into());
    }
    let by = By {
        user_id: Some(user.id),
        label: &user.email,
        link_id: None,
    };
    apply(state, ws, post_id, &stage, decision, comment, by).await
}

/// Records a decision at `stage` on a post of workspace `ws` and moves its publications:
/// to the client stage, to the schedule, back to draft, or cancelled. Everything (decision,
/// state changes, spent link, audit entry, the author's notification) commits together.
pub async fn apply(
    state: &AppState,
    ws: i64,
    post_id: i64,
    stage: &str,
    decision: &str,
    comment: &str,
    by: By<'_>,
) -> Result<(), AppError> {
    if !DECISIONS.contains(&decision) {
        return Err(field("decision", Code::InvalidValue).into());
    }
    let comment = comment.trim();
    if decision != "approve" && comment.is_empty() {
        return Err(field("comment", Code::Required).into());
    }
    let (current, wanted, author) = state.store.review_of(ws, post_id).await?;
    if current.as_deref() != Some(stage) {
        return Err(field("decision", Code::Conflict).into());
    }
    let mode = state.store.approval_mode(ws).await?;
    let in_review: Vec<i64> = state
        .store
        .targets_of_post(post_id)
        .await?
        .iter()
        .filter(|t| t.state == TargetState::InReview)
        .map(|t| t.id)
        .collect();
    let mut tx = state.store.begin().await?;
    if let Some(link) = by.link_id {
        state
            .store
            .use_review_link(&mut tx, link, by.label)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::from(field("token", Code::LinkUsed)),
                e => e.into(),
            })?;
    }
    let nd = relais_store::approvals::NewDecision {
        workspace_id: ws,
        post_id,
        stage,
        decision,
        comment,
        by_id: by.user_id,
        by_label: by.label,
    };
    state.store.record_decision(&mut tx, nd).await?;
    let conflict = || StoreError::Conflict("the publication changed meanwhile: reload it");
    match decision {
        "approve" if stage == "internal" && mode == "internal_client" => {
            state
                .store
                .set_review(&mut tx, post_id, Some("client"), wanted)
                .await?;
        }
        "approve" => {
            for id in in_review {
                let (from, to) = (TargetState::InReview, TargetState::Approved);
                state
                    .store
                    .move_target(&mut tx, id, from, to, None)
                    .await?
                    .ok_or_else(conflict)?;
                if let Some(at) = wanted {
                    let at = at.max(relais_store::now());
                    relais_publisher::schedule(&state.store, &mut tx, id, to, at).await?;
                }
            }
            state
                .store
                .set_review(&mut tx, post_id, None, wanted)
                .await?;
        }
        _ => {
            let to = if decision == "reject" {
                TargetState::Cancelled
            } else {
                TargetState::Draft
            };
            for id in in_review {
                state
                    .store
                    .move_target(&mut tx, id, TargetState::InReview, to, None)
                    .await?
                    .ok_or_else(conflict)?;
            }
            state
                .store
                .set_review(&mut tx, post_id, None, wanted)
                .await?;
        }
    }
    if let Some(author) = author {
        tell_author(
            state, &mut tx, ws, author, post_id, decision, by.label, comment,
        )
        .await?;
    }
    let actor = Actor {
        id: by.user_id,
        label: by.label.to_string(),
    };
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

/// The author learns the decision in the app (top bar), in their language.
#[allow(clippy::too_many_arguments)]
async fn tell_author(
    state: &AppState,
    tx: &mut relais_store::AnyConnection,
    ws: i64,
    author: i64,
    post_id: i64,
    decision: &str,
    by: &str,
    comment: &str,
) -> Result<(), AppError> {
    let user = state.store.user_by_id(author).await?;
    let w = state.store.workspace(ws).await?;
    let t = Tr(user.lang.unwrap_or(w.lang));
    let mut message = format!(
        "{} (#{post_id}, {}) — {by}",
        t.t(&format!("notify.decision.{decision}")),
        w.name
    );
    if !comment.is_empty() {
        message.push_str(&match t.0 {
            relais_domain::Lang::Fr => format!(" : « {comment} »"),
            relais_domain::Lang::En => format!(": “{comment}”"),
        });
    }
    let link = format!("/w/{ws}/calendar?view=list");
    let kind = format!("approval.{decision}");
    state
        .store
        .notify(tx, author, Some(ws), &kind, &message, Some(&link))
        .await?;
    Ok(())
}
