//! Workspace pages: the list, creation, overview, settings, members, audit log.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use chrono::TimeZone;
use relais_domain::{Permission, Role};
use relais_store::audit::AuditFilter;

use super::{base, form_answer, html, see_other};
use crate::auth::{Member, Viewer};
use crate::csrf::CsrfToken;
use crate::service::workspaces::{self as ws, WorkspaceForm};
use crate::view::{
    AuditPage, Errs, HomePage, MembersPage, OverviewPage, WorkspaceSettingsPage, ZONES,
};
use crate::{AppError, AppState};

#[derive(serde::Deserialize, Default)]
pub struct WsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    lang: String,
}

impl WsForm {
    fn form(&self) -> WorkspaceForm<'_> {
        WorkspaceForm {
            name: &self.name,
            time_zone: &self.time_zone,
            lang: &self.lang,
        }
    }
}

async fn home_page(
    state: &AppState,
    v: &Viewer,
    csrf: &CsrfToken,
    errs: Errs,
    f: WsForm,
) -> Result<Response, AppError> {
    let b = base(state, v, csrf, v.t.t("home.title"), None).await?;
    let memberships = state.store.memberships(v.user.id).await?;
    let form_tz = if f.time_zone.is_empty() {
        "Europe/Paris".to_string()
    } else {
        f.time_zone
    };
    html(HomePage {
        b,
        errs,
        memberships,
        zones: ZONES,
        form_name: f.name,
        form_tz,
    })
}

pub async fn home(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    home_page(&state, &v, &csrf, Errs::none(), WsForm::default()).await
}

pub async fn create(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<WsForm>,
) -> Result<Response, AppError> {
    let r = ws::create(&state, &v.user, f.form()).await;
    let to = r
        .as_ref()
        .map(|w| format!("/w/{}", w.id))
        .unwrap_or_default();
    form_answer(r, to, v.t, |errs| home_page(&state, &v, &csrf, errs, f)).await
}

async fn overview_page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
) -> Result<Response, AppError> {
    let b = base(state, &mb.viewer, csrf, &mb.m.workspace.name, Some(&mb.m)).await?;
    let frozen = state.store.active_freeze(mb.id()).await?.is_some();
    let can_freeze = mb.m.role.allows(Permission::Freeze) && mb.m.workspace.archived_at.is_none();
    html(OverviewPage {
        b,
        m: mb.m.clone(),
        errs,
        frozen,
        can_freeze,
    })
}

pub async fn overview(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    overview_page(&state, &mb, &csrf, Errs::none()).await
}

#[derive(serde::Deserialize)]
pub struct FreezeForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    resolution: String,
}

async fn freeze_outcome<T>(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    r: Result<T, AppError>,
) -> Result<Response, AppError> {
    let to = format!("/w/{}", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        overview_page(state, mb, csrf, errs)
    })
    .await
}

pub async fn freeze(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<FreezeForm>,
) -> Result<Response, AppError> {
    let actor = relais_store::audit::Actor::user(mb.viewer.user.id, &mb.viewer.user.email);
    let r = crate::service::freeze::freeze(&state, &actor, &mb.m, &f.reason).await;
    freeze_outcome(&state, &mb, &csrf, r).await
}

pub async fn unfreeze(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<FreezeForm>,
) -> Result<Response, AppError> {
    let actor = relais_store::audit::Actor::user(mb.viewer.user.id, &mb.viewer.user.email);
    let r = crate::service::freeze::unfreeze(&state, &actor, &mb.m, &f.resolution).await;
    freeze_outcome(&state, &mb, &csrf, r).await
}

pub(super) async fn settings_page(
    state: &AppState,
    mb: Member,
    csrf: &CsrfToken,
    errs: Errs,
    saved: bool,
) -> Result<Response, AppError> {
    let mut b = base(
        state,
        &mb.viewer,
        csrf,
        mb.viewer.t.t("ws.settings_title"),
        Some(&mb.m),
    )
    .await?;
    if saved {
        b.flash = Some(mb.viewer.t.t("ws.saved").into());
    }
    let approval = state.store.approval_settings(mb.id()).await?;
    let members = state
        .store
        .members(mb.id())
        .await?
        .into_iter()
        .filter(|m| m.role != relais_domain::Role::Client)
        .collect();
    html(WorkspaceSettingsPage {
        approval_mode: approval.mode.clone(),
        approval,
        members,
        b,
        errs,
        m: mb.m,
        zones: ZONES,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn settings_form(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<Saved>,
) -> Result<Response, AppError> {
    mb.require(Permission::ManageWorkspace)?;
    settings_page(&state, mb, &csrf, Errs::none(), q.saved.is_some()).await
}

pub async fn settings(
    State(state): State<AppState>,
    mut mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<WsForm>,
) -> Result<Response, AppError> {
    let r = ws::update(&state, &mb.viewer.user, &mb.m, f.form()).await;
    let (to, t) = (format!("/w/{}/settings?saved=1", mb.id()), mb.viewer.t);
    form_answer(r, to, t, |errs| {
        mb.m.workspace.name = f.name;
        settings_page(&state, mb, &csrf, errs, false)
    })
    .await
}

pub async fn archive(State(state): State<AppState>, mb: Member) -> Result<Response, AppError> {
    ws::set_archived(&state, &mb.viewer.user, &mb.m, true).await?;
    Ok(see_other(&format!("/w/{}/settings", mb.id())))
}

pub async fn unarchive(State(state): State<AppState>, mb: Member) -> Result<Response, AppError> {
    ws::set_archived(&state, &mb.viewer.user, &mb.m, false).await?;
    Ok(see_other(&format!("/w/{}/settings", mb.id())))
}

async fn members_page(
    state: &AppState,
    mb: Member,
    csrf: &CsrfToken,
    errs: Errs,
    flash: Option<String>,
) -> Result<Response, AppError> {
    let mut b = base(
        state,
        &mb.viewer,
        csrf,
        mb.viewer.t.t("members.title"),
        Some(&mb.m),
    )
    .await?;
    b.flash = flash;
    let members = state.store.members(mb.id()).await?;
    let manage =
        mb.m.role.allows(Permission::ManageMembers) && mb.m.workspace.archived_at.is_none();
    let invitations = if manage {
        state.store.pending_invitations(mb.id()).await?
    } else {
        Vec::new()
    };
    let roles = Role::ALL
        .into_iter()
        .filter(|r| mb.m.role.may_assign(*r))
        .collect();
    let tz = mb.m.workspace.time_zone.clone();
    html(MembersPage {
        b,
        errs,
        m: mb.m,
        members,
        invitations,
        roles,
        tz,
        manage,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    invited: Option<String>,
}

pub async fn members(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<Flash>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let flash = q.invited.map(|_| {
        let mut s = t.t("members.invited").to_string();
        if !state.mailer.is_configured() {
            s = format!("{s} {}", t.t("members.invited_log"));
        }
        s
    });
    members_page(&state, mb, &csrf, Errs::none(), flash).await
}

#[derive(serde::Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// Re-renders the members page with the error, or goes back to it.
async fn members_result(
    state: &AppState,
    mb: Member,
    csrf: &CsrfToken,
    r: Result<(), AppError>,
    ok_query: &str,
) -> Result<Response, AppError> {
    let to = format!("/w/{}/members{ok_query}", mb.id());
    let t = mb.viewer.t;
    form_answer(r, to, t, |errs| members_page(state, mb, csrf, errs, None)).await
}

pub async fn invite(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<InviteForm>,
) -> Result<Response, AppError> {
    let r = ws::invite(&state, &mb.viewer.user, &mb.m, &f.email, &f.role)
        .await
        .map(|_| ());
    members_result(&state, mb, &csrf, r, "?invited=1").await
}

#[derive(serde::Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, uid)): Path<(i64, i64)>,
    Form(f): Form<RoleForm>,
) -> Result<Response, AppError> {
    let r = ws::change_role(&state, &mb.viewer.user, &mb.m, uid, &f.role).await;
    members_result(&state, mb, &csrf, r, "").await
}

pub async fn remove_member(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, uid)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let leaving = uid == mb.viewer.user.id;
    let r = ws::remove_member(&state, &mb.viewer.user, &mb.m, uid).await;
    if leaving && r.is_ok() {
        return Ok(see_other("/"));
    }
    members_result(&state, mb, &csrf, r, "").await
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    ws::revoke_invitation(&state, &mb.viewer.user, &mb.m, id).await?;
    Ok(see_other(&format!("/w/{}/members", mb.id())))
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl AuditQuery {
    /// Dates are days in the workspace's zone; `to` includes the whole day.
    fn filter(&self, tz: &str, limit: i64) -> AuditFilter {
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
        let day = |s: &str, end: bool| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| {
                    let t = if end {
                        d.and_hms_opt(23, 59, 59)?
                    } else {
                        d.and_hms_opt(0, 0, 0)?
                    };
                    tz.from_local_datetime(&t)
                        .earliest()
                        .map(|x| x.timestamp_millis() + if end { 999 } else { 0 })
                })
        };
        AuditFilter {
            action: Some(self.action.clone()),
            actor: Some(self.actor.clone()),
            from: day(&self.from, false),
            to: day(&self.to, true),
            limit: Some(limit),
        }
    }
}

pub async fn audit(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewAudit)?;
    let entries = state
        .store
        .list_audit(mb.id(), &q.filter(&mb.m.workspace.time_zone, 500))
        .await?;
    let b = base(
        &state,
        &mb.viewer,
        &csrf,
        mb.viewer.t.t("audit.title"),
        Some(&mb.m),
    )
    .await?;
    let csv_query = format!(
        "?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("action", &q.action)
            .append_pair("actor", &q.actor)
            .append_pair("from", &q.from)
            .append_pair("to", &q.to)
            .finish()
    );
    html(AuditPage {
        b,
        m: mb.m,
        entries,
        f_action: q.action,
        f_actor: q.actor,
        f_from: q.from,
        f_to: q.to,
        csv_query,
    })
}

pub async fn audit_csv(
    State(state): State<AppState>,
    mb: Member,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewAudit)?;
    let entries = state
        .store
        .list_audit(mb.id(), &q.filter(&mb.m.workspace.time_zone, 10_000))
        .await?;
    let csv = crate::api::audit_csv(&entries);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"audit-{}.csv\"", mb.id()),
            ),
        ],
        csv,
    )
        .into_response())
}
