//! Client review through a link, without an account (docs/decisions/client-review-links.md). A manager makes a
//! link for one post waiting at the client stage; whoever holds it sees that post read-only
//! and takes one decision, signed with a name. The token is stored hashed, expires (7 days by
//! default), can be revoked, and is spent by the decision.

use axum::http::StatusCode;
use relais_domain::{Code, Permission};
use relais_store::audit::{Actor, NewAudit};
use relais_store::posts::{Post, Target};
use relais_store::review_links::ReviewLink;
use relais_store::users::User;
use relais_store::workspaces::{Membership, Workspace};
use relais_store::StoreError;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// Lifetimes a manager may give a link, in days.
pub const TTL_CHOICES: [i64; 5] = [1, 3, 7, 14, 30];
pub const DEFAULT_TTL_DAYS: i64 = 7;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Makes a link for a post at the client stage; returns its address (shown once).
pub async fn create(
    state: &AppState,
    user: &User,
    m: &Membership,
    post_id: i64,
    days: &str,
) -> Result<String, AppError> {
    require(m, Permission::ManageWorkspace)?;
    let ws = m.workspace.id;
    let (stage, _, _) = state.store.review_of(ws, post_id).await?;
    if stage.as_deref() != Some("client") {
        return Err(field("decision", Code::Conflict).into());
    }
    let days = match days.trim() {
        "" => DEFAULT_TTL_DAYS,
        s => s
            .parse::<i64>()
            .ok()
            .filter(|d| TTL_CHOICES.contains(d))
            .ok_or_else(|| AppError::from(field("days", Code::InvalidDays)))?,
    };
    let mut tx = state.store.begin().await?;
    let (token, link) = state
        .store
        .create_review_link(&mut tx, ws, post_id, user.id, days * DAY_MS)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("post #{post_id}");
    let after = format!("link #{} for {days} d", link.id);
    let entry = NewAudit {
        workspace_id: Some(ws),
        actor: &actor,
        action: "review_link.create",
        target: &target,
        before: None,
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    Ok(state.link(&format!("/review/{post_id}/{token}")))
}

pub async fn revoke(
    state: &AppState,
    user: &User,
    m: &Membership,
    link_id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageWorkspace)?;
    let mut tx = state.store.begin().await?;
    let link = state
        .store
        .revoke_review_link(&mut tx, m.workspace.id, link_id)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("post #{}", link.post_id);
    let before = format!("link #{link_id}");
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "review_link.revoke",
        target: &target,
        before: Some(&before),
        after: None,
    };
    super::record(state, tx, entry).await
}

/// What a valid link opens.
pub struct Opened {
    pub link: ReviewLink,
    pub workspace: Workspace,
    pub post: Post,
    pub targets: Vec<Target>,
    /// The post still waits at the client stage (otherwise it is shown, without the form).
    pub pending: bool,
    pub wanted_at: Option<i64>,
}

/// Opens the link `token` for `post_id`, or says why it cannot be used: unknown, for another
/// post or revoked (404), expired or already used (410).
pub async fn open(state: &AppState, post_id: i64, token: &str) -> Result<Opened, AppError> {
    let invalid = || AppError::new(StatusCode::NOT_FOUND, Code::TokenInvalid);
    let link = match state.store.review_link_by_token(token).await {
        Ok(l) => l,
        Err(StoreError::NotFound) => return Err(invalid()),
        Err(e) => return Err(e.into()),
    };
    if link.post_id != post_id || link.revoked_at.is_some() {
        return Err(invalid());
    }
    if link.used_at.is_some() {
        return Err(AppError::new(StatusCode::GONE, Code::LinkUsed));
    }
    if link.expires_at <= relais_store::now() {
        return Err(AppError::new(StatusCode::GONE, Code::TokenExpired));
    }
    let workspace = state.store.workspace(link.workspace_id).await?;
    if workspace.archived_at.is_some() {
        return Err(AppError::new(StatusCode::CONFLICT, Code::Archived));
    }
    let post = state.store.post(workspace.id, post_id).await?;
    let targets = state.store.targets_of_post(post_id).await?;
    let (stage, wanted_at, _) = state.store.review_of(workspace.id, post_id).await?;
    Ok(Opened {
        link,
        workspace,
        post,
        targets,
        pending: stage.as_deref() == Some("client"),
        wanted_at,
    })
}

/// The client's decision through the link, signed with their name.
pub async fn decide(
    state: &AppState,
    post_id: i64,
    token: &str,
    name: &str,
    decision: &str,
    comment: &str,
) -> Result<(), AppError> {
    let o = open(state, post_id, token).await?;
    let name = relais_domain::validate::display_name("name", name)?;
    if !o.pending {
        return Err(field("decision", Code::Conflict).into());
    }
    let label = format!("client via link: {name}");
    let by = super::approvals::By {
        user_id: None,
        label: &label,
        link_id: Some(o.link.id),
    };
    super::approvals::apply(
        state,
        o.workspace.id,
        post_id,
        "client",
        decision,
        comment,
        by,
    )
    .await
}
