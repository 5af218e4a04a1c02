//! Workspaces, members and invitations.

use relais_domain::{validate, Code, Lang, Permission, Role};
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::{Invitation, Membership, Workspace};
use relais_store::StoreError;

use super::accounts::{wake, NewAccount};
use super::field;
use crate::auth::require;
use crate::i18n::Tr;
use crate::{AppError, AppState};

fn actor(u: &User) -> Actor {
    Actor::user(u.id, &u.email)
}

pub struct WorkspaceForm<'a> {
    pub name: &'a str,
    pub time_zone: &'a str,
    pub lang: &'a str,
}

fn validate_ws(f: &WorkspaceForm) -> Result<(String, String, Lang), AppError> {
    let name = validate::workspace_name("name", f.name)?;
    let tz = validate::time_zone("time_zone", f.time_zone)?;
    let lang = validate::lang("lang", f.lang)?;
    Ok((name, tz.name().to_string(), lang))
}

pub async fn create(
    state: &AppState,
    user: &User,
    f: WorkspaceForm<'_>,
) -> Result<Workspace, AppError> {
    let (name, tz, lang) = validate_ws(&f)?;
    let mut tx = state.store.begin().await?;
    let w = state
        .store
        .create_workspace(&mut tx, &name, &tz, lang, user.id)
        .await?;
    let after = format!("{name} ({tz}, {})", lang.as_str());
    let entry = NewAudit {
        workspace_id: Some(w.id),
        actor: &actor(user),
        action: "workspace.create",
        target: "workspace",
        before: None,
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    Ok(w)
}

pub async fn update(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: WorkspaceForm<'_>,
) -> Result<(), AppError> {
    require(m, Permission::ManageWorkspace)?;
    if m.workspace.archived_at.is_some() {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            Code::Archived,
        ));
    }
    let (name, tz, lang) = validate_ws(&f)?;
    let w = &m.workspace;
    let before = format!("{} ({}, {})", w.name, w.time_zone, w.lang.as_str());
    let after = format!("{name} ({tz}, {})", lang.as_str());
    if before == after {
        return Ok(());
    }
    let mut tx = state.store.begin().await?;
    state
        .store
        .update_workspace(&mut tx, w.id, &name, &tz, lang)
        .await?;
    let entry = NewAudit {
        workspace_id: Some(w.id),
        actor: &actor(user),
        action: "workspace.update",
        target: "workspace",
        before: Some(&before),
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    Ok(())
}

pub async fn set_archived(
    state: &AppState,
    user: &User,
    m: &Membership,
    archived: bool,
) -> Result<(), AppError> {
    require(m, Permission::ManageWorkspace)?;
    if m.workspace.archived_at.is_some() == archived {
        return Ok(());
    }
    let mut tx = state.store.begin().await?;
    state
        .store
        .set_workspace_archived(&mut tx, m.workspace.id, archived)
        .await?;
    let action = if archived {
        "workspace.archive"
    } else {
        "workspace.unarchive"
    };
    state
        .store
        .audit(
            &mut tx,
            NewAudit {
                workspace_id: Some(m.workspace.id),
                actor: &actor(user),
                action,
                target: "workspace",
                before: None,
                after: None,
            },
        )
        .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Invites `email` with `role`; the email with the link leaves through the job queue.
pub async fn invite(
    state: &AppState,
    user: &User,
    m: &Membership,
    email: &str,
    role: &str,
) -> Result<i64, AppError> {
    require(m, Permission::ManageMembers)?;
    let email = validate::email("email", email)?;
    let role = validate::role("role", role)?;
    if !m.role.may_assign(role) {
        return Err(field("role", Code::Forbidden).into());
    }
    if state
        .store
        .members(m.workspace.id)
        .await?
        .iter()
        .any(|x| x.email == email)
    {
        return Err(field("email", Code::AlreadyMember).into());
    }
    let invitee_lang = state
        .store
        .user_by_email(&email)
        .await?
        .and_then(|u| u.lang)
        .unwrap_or(m.workspace.lang);
    let t = Tr(invitee_lang);
    let mut tx = state.store.begin().await?;
    let (token, id) = state
        .store
        .create_invitation(&mut tx, m.workspace.id, &email, role, user.id)
        .await?;
    let after = format!("{email} as {}", role.as_str());
    state
        .store
        .audit(
            &mut tx,
            NewAudit {
                workspace_id: Some(m.workspace.id),
                actor: &actor(user),
                action: "member.invite",
                target: &email,
                before: None,
                after: Some(&after),
            },
        )
        .await?;
    let body = t
        .t("mail.invite_body")
        .replace("{who}", &user.name)
        .replace("{ws}", &m.workspace.name)
        .replace("{role}", t.role(&role))
        .replace("{link}", &state.link(&format!("/invite/{token}")));
    super::mailjob::enqueue(state, &mut tx, &email, t.t("mail.invite_subject"), &body).await?;
    tx.commit().await.map_err(StoreError::from)?;
    wake(state);
    Ok(id)
}

pub async fn revoke_invitation(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageMembers)?;
    let mut tx = state.store.begin().await?;
    let email = state
        .store
        .revoke_invitation(&mut tx, m.workspace.id, id)
        .await?;
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor(user),
        action: "member.invite_revoke",
        target: &email,
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await?;
    Ok(())
}

/// The invitation behind a link, if it can still be accepted.
pub async fn open_invitation(state: &AppState, token: &str) -> Result<Invitation, AppError> {
    let inv = match state.store.invitation_by_token(token).await {
        Err(StoreError::NotFound) => return Err(field("token", Code::TokenInvalid).into()),
        r => r?,
    };
    if inv.accepted_at.is_some() || inv.revoked_at.is_some() {
        return Err(field("token", Code::InvitationUsed).into());
    }
    if inv.expires_at < relais_store::now() {
        return Err(field("token", Code::InvitationExpired).into());
    }
    Ok(inv)
}

/// Accepts an invitation as `user` (signed in), or creates the account first (`new_account`).
pub async fn accept(
    state: &AppState,
    token: &str,
    user: Option<&User>,
    new_account: Option<NewAccount<'_>>,
) -> Result<(User, i64), AppError> {
    let inv = open_invitation(state, token).await?;
    let mut tx = state.store.begin().await?;
    let user = match (user, new_account) {
        (Some(u), _) => {
            if u.email != inv.email {
                return Err(field("token", Code::Forbidden).into());
            }
            u.clone()
        }
        (None, Some(a)) => {
            let email = validate::email("email", a.email)?;
            if email != inv.email {
                return Err(field("email", Code::InvalidValue).into());
            }
            let name = validate::display_name("name", a.name)?;
            let pw = validate::password_pair(
                "password",
                a.password,
                "password_confirm",
                a.password_confirm,
            )?;
            let hash = relais_store::password::hash(&pw);
            let nu = relais_store::users::NewUser {
                email: &email,
                name: &name,
                password_hash: &hash,
                lang: a.lang,
                is_admin: false,
            };
            match state.store.create_user(&mut tx, nu).await {
                Err(StoreError::Conflict("email")) => {
                    return Err(field("email", Code::DuplicateEmail).into())
                }
                r => r?,
            }
        }
        (None, None) => return Err(AppError::unauthenticated()),
    };
    if state
        .store
        .accept_invitation(&mut tx, inv.id)
        .await
        .is_err()
    {
        return Err(field("token", Code::InvitationUsed).into());
    }
    match state
        .store
        .add_member(&mut tx, inv.workspace_id, user.id, inv.role)
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(field("token", Code::AlreadyMember).into()),
        r => r?,
    }
    let after = format!("{} as {}", user.email, inv.role.as_str());
    let entry = NewAudit {
        workspace_id: Some(inv.workspace_id),
        actor: &actor(&user),
        action: "member.join",
        target: &user.email,
        before: None,
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    Ok((user, inv.workspace_id))
}

/// Changes a member's role. Only owners touch owners; the last owner stays owner.
pub async fn change_role(
    state: &AppState,
    user: &User,
    m: &Membership,
    target: i64,
    role: &str,
) -> Result<(), AppError> {
    require(m, Permission::ManageMembers)?;
    let role = validate::role("role", role)?;
    let members = state.store.members(m.workspace.id).await?;
    let current = members
        .iter()
        .find(|x| x.user_id == target)
        .ok_or_else(AppError::not_found)?;
    if current.role == role {
        return Ok(());
    }
    if !m.role.may_assign(current.role) || !m.role.may_assign(role) {
        return Err(field("role", Code::Forbidden).into());
    }
    let mut tx = state.store.begin().await?;
    if current.role == Role::Owner && state.store.count_owners(&mut tx, m.workspace.id).await? <= 1
    {
        return Err(field("role", Code::LastOwner).into());
    }
    state
        .store
        .set_member_role(&mut tx, m.workspace.id, target, role)
        .await?;
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor(user),
        action: "member.role",
        target: &current.email,
        before: Some(current.role.as_str()),
        after: Some(role.as_str()),
    };
    super::record(state, tx, entry).await?;
    Ok(())
}

pub async fn remove_member(
    state: &AppState,
    user: &User,
    m: &Membership,
    target: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageMembers)?;
    let members = state.store.members(m.workspace.id).await?;
    let current = members
        .iter()
        .find(|x| x.user_id == target)
        .ok_or_else(AppError::not_found)?;
    if !m.role.may_assign(current.role) {
        return Err(field("user_id", Code::Forbidden).into());
    }
    let mut tx = state.store.begin().await?;
    if current.role == Role::Owner && state.store.count_owners(&mut tx, m.workspace.id).await? <= 1
    {
        return Err(field("user_id", Code::LastOwner).into());
    }
    state
        .store
        .remove_member(&mut tx, m.workspace.id, target)
        .await?;
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor(user),
        action: "member.remove",
        target: &current.email,
        before: Some(current.role.as_str()),
        after: None,
    };
    super::record(state, tx, entry).await?;
    Ok(())
}
