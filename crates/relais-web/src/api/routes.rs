//! JSON API handlers: extract, call the same services as the pages, serialise.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use relais_domain::Permission;
use relais_store::audit::AuditFilter;
use relais_store::workspaces::Membership;
use serde_json::{json, Value};

use super::{ApiJson, OPENAPI};
use crate::auth::{ApiMember, ApiUser};
use crate::service::accounts;
use crate::service::workspaces::{self as ws, WorkspaceForm};
use crate::{AppError, AppState};

type ApiResult = Result<Response, AppError>;

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

fn ws_json(m: &Membership) -> Value {
    let w = &m.workspace;
    json!({"id": w.id, "name": w.name, "time_zone": w.time_zone, "lang": w.lang, "archived_at": w.archived_at, "created_at": w.created_at, "role": m.role})
}

pub async fn me(u: ApiUser) -> ApiResult {
    Ok(Json(&u.user).into_response())
}

pub async fn list_workspaces(State(state): State<AppState>, u: ApiUser) -> ApiResult {
    let list: Vec<Value> = state
        .store
        .memberships(u.user.id)
        .await?
        .iter()
        .map(ws_json)
        .collect();
    Ok(Json(json!({ "workspaces": list })).into_response())
}

#[derive(serde::Deserialize)]
pub struct WsBody {
    name: Option<String>,
    time_zone: Option<String>,
    lang: Option<String>,
}

pub async fn create_workspace(
    State(state): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<WsBody>,
) -> ApiResult {
    let f = WorkspaceForm {
        name: b.name.as_deref().unwrap_or(""),
        time_zone: b.time_zone.as_deref().unwrap_or("UTC"),
        lang: b.lang.as_deref().unwrap_or(u.t.lang()),
    };
    let w = ws::create(&state, &u.user, f).await?;
    let m = state.store.membership(u.user.id, w.id).await?;
    Ok((StatusCode::CREATED, Json(ws_json(&m))).into_response())
}

pub async fn get_workspace(m: ApiMember) -> ApiResult {
    Ok(Json(ws_json(&m.m)).into_response())
}

pub async fn update_workspace(
    State(state): State<AppState>,
    m: ApiMember,
    ApiJson(b): ApiJson<WsBody>,
) -> ApiResult {
    let w = &m.m.workspace;
    let f = WorkspaceForm {
        name: b.name.as_deref().unwrap_or(&w.name),
        time_zone: b.time_zone.as_deref().unwrap_or(&w.time_zone),
        lang: b.lang.as_deref().unwrap_or(w.lang.as_str()),
    };
    ws::update(&state, &m.user, &m.m, f).await?;
    Ok(Json(ws_json(&state.store.membership(m.user.id, w.id).await?)).into_response())
}

pub async fn archive(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    ws::set_archived(&state, &m.user, &m.m, true).await?;
    Ok(Json(ws_json(
        &state.store.membership(m.user.id, m.m.workspace.id).await?,
    ))
    .into_response())
}

pub async fn unarchive(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    ws::set_archived(&state, &m.user, &m.m, false).await?;
    Ok(Json(ws_json(
        &state.store.membership(m.user.id, m.m.workspace.id).await?,
    ))
    .into_response())
}

pub async fn list_members(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    Ok(Json(json!({ "members": state.store.members(m.m.workspace.id).await? })).into_response())
}

#[derive(serde::Deserialize)]
pub struct RoleBody {
    role: Option<String>,
}

pub async fn change_role(
    State(state): State<AppState>,
    m: ApiMember,
    Path((_, uid)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<RoleBody>,
) -> ApiResult {
    ws::change_role(&state, &m.user, &m.m, uid, b.role.as_deref().unwrap_or("")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn remove_member(
    State(state): State<AppState>,
    m: ApiMember,
    Path((_, uid)): Path<(i64, i64)>,
) -> ApiResult {
    ws::remove_member(&state, &m.user, &m.m, uid).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_invitations(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    m.require(Permission::ManageMembers)?;
    Ok(
        Json(json!({ "invitations": state.store.pending_invitations(m.m.workspace.id).await? }))
            .into_response(),
    )
}

#[derive(serde::Deserialize)]
pub struct InviteBody {
    email: Option<String>,
    role: Option<String>,
}

pub async fn invite(
    State(state): State<AppState>,
    m: ApiMember,
    ApiJson(b): ApiJson<InviteBody>,
) -> ApiResult {
    let id = ws::invite(
        &state,
        &m.user,
        &m.m,
        b.email.as_deref().unwrap_or(""),
        b.role.as_deref().unwrap_or(""),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "email_sent_to_log": !state.mailer.is_configured() })),
    )
        .into_response())
}

pub async fn revoke_invitation(
    State(state): State<AppState>,
    m: ApiMember,
    Path((_, id)): Path<(i64, i64)>,
) -> ApiResult {
    ws::revoke_invitation(&state, &m.user, &m.m, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    limit: Option<i64>,
    format: Option<String>,
}

pub async fn audit(
    State(state): State<AppState>,
    m: ApiMember,
    Query(q): Query<AuditQuery>,
) -> ApiResult {
    m.require(Permission::ViewAudit)?;
    let f = AuditFilter {
        action: q.action,
        actor: q.actor,
        from: q.from,
        to: q.to,
        limit: q.limit,
    };
    let entries = state.store.list_audit(m.m.workspace.id, &f).await?;
    if q.format.as_deref() == Some("csv") {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            super::audit_csv(&entries),
        )
            .into_response());
    }
    Ok(Json(json!({ "entries": entries })).into_response())
}

pub async fn list_tokens(State(state): State<AppState>, u: ApiUser) -> ApiResult {
    Ok(Json(json!({ "tokens": state.store.list_api_tokens(u.user.id).await? })).into_response())
}

#[derive(serde::Deserialize)]
pub struct NameBody {
    name: Option<String>,
}

pub async fn create_token(
    State(state): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<NameBody>,
) -> ApiResult {
    let (clear, t) =
        accounts::create_api_token(&state, &u.user, b.name.as_deref().unwrap_or("")).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": clear, "id": t.id, "name": t.name })),
    )
        .into_response())
}

pub async fn revoke_token(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult {
    state.store.revoke_api_token(u.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct JobsQuery {
    state: Option<String>,
}

fn admin(u: &ApiUser) -> Result<(), AppError> {
    if u.user.is_admin {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

pub async fn list_jobs(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<JobsQuery>,
) -> ApiResult {
    admin(&u)?;
    let st = q.state.unwrap_or_else(|| "dead".into());
    if !["queued", "running", "dead", "done"].contains(&st.as_str()) {
        return Err(AppError::bad_request(
            "state",
            relais_domain::Code::InvalidValue,
        ));
    }
    let jobs = state.store.list_jobs(&st, 200).await?;
    Ok(Json(json!({ "stats": state.store.queue_stats().await?, "jobs": jobs })).into_response())
}

pub async fn retry_job(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult {
    admin(&u)?;
    state.store.retry_dead_job(id).await?;
    accounts::wake(&state);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn get_charter(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    let c = crate::service::checks::charter(&state, m.m.workspace.id).await?;
    Ok(Json(c).into_response())
}

pub async fn put_charter(State(state): State<AppState>, m: ApiMember, body: String) -> ApiResult {
    crate::service::checks::save_charter(&state, &m.user, &m.m, &body).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(serde::Deserialize)]
pub struct CheckBody {
    text: Option<String>,
    lang: Option<String>,
    channel: Option<String>,
}

/// Runs the pre-publication checks on a text with the workspace's charter.
pub async fn checks(
    State(state): State<AppState>,
    m: ApiMember,
    ApiJson(b): ApiJson<CheckBody>,
) -> ApiResult {
    let ui = m.user.lang.unwrap_or(m.m.workspace.lang);
    let text = b
        .text
        .ok_or_else(|| AppError::bad_request("text", relais_domain::Code::Required))?;
    let r = crate::service::checks::check(
        &state,
        &m.m,
        &text,
        b.lang.as_deref().unwrap_or(""),
        b.channel.as_deref(),
        ui,
    )
    .await?;
    Ok(Json(r).into_response())
}

fn actor(u: &relais_store::users::User) -> relais_store::audit::Actor {
    relais_store::audit::Actor::user(u.id, &u.email)
}

pub async fn get_freeze(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    Ok(
        Json(json!({ "active": state.store.active_freeze(m.m.workspace.id).await? }))
            .into_response(),
    )
}

#[derive(serde::Deserialize)]
pub struct FreezeBody {
    reason: Option<String>,
    resolution: Option<String>,
}

pub async fn freeze(
    State(state): State<AppState>,
    m: ApiMember,
    ApiJson(b): ApiJson<FreezeBody>,
) -> ApiResult {
    let n = crate::service::freeze::freeze(
        &state,
        &actor(&m.user),
        &m.m,
        b.reason.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Json(json!({ "frozen_targets": n })).into_response())
}

pub async fn unfreeze(
    State(state): State<AppState>,
    m: ApiMember,
    ApiJson(b): ApiJson<FreezeBody>,
) -> ApiResult {
    let n = crate::service::freeze::unfreeze(
        &state,
        &actor(&m.user),
        &m.m,
        b.resolution.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Json(json!({ "rescheduled_targets": n })).into_response())
}

pub async fn list_channels(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    Ok(Json(json!({ "channels": state.store.channels(m.m.workspace.id).await? })).into_response())
}

pub async fn list_posts(State(state): State<AppState>, m: ApiMember) -> ApiResult {
    let targets = state
        .store
        .list_targets(m.m.workspace.id, &Default::default())
        .await?;
    Ok(Json(json!({ "targets": targets })).into_response())
}

#[derive(serde::Deserialize)]
pub struct PostBody {
    text: Option<String>,
    channels: Option<Vec<i64>>,
    #[serde(default)]
    variants: std::collections::HashMap<i64, String>,
    /// Media library ids for every channel.
    #[serde(default)]
    media: Vec<i64>,
    /// Channel id → the thread parts after the first post.
    #[serde(default)]
    threads: std::collections::HashMap<i64, Vec<String>>,
    /// Channel id → the first comment.
    #[serde(default)]
    comments: std::collections::HashMap<i64, String>,
    date: Option<String>,
    time: Option<String>,
    /// draft | schedule | now
    action: Option<String>,
    override_reason: Option<String>,
}

/// The composer over JSON: same validation, checks, approvals and scheduling as the page.
pub async fn create_post(
    State(state): State<AppState>,
    m: ApiMember,
    ApiJson(b): ApiJson<PostBody>,
) -> ApiResult {
    let d = crate::service::compose::Draft {
        body: b.text.unwrap_or_default(),
        channels: b.channels.unwrap_or_default(),
        variants: b.variants,
        date: b.date.unwrap_or_default(),
        time: b.time.unwrap_or_default(),
        action: b.action.unwrap_or_else(|| "draft".into()),
        override_reason: b.override_reason.unwrap_or_default(),
        media: b.media,
        threads: b.threads,
        comments: b.comments,
        ..Default::default()
    };
    let id = crate::service::compose::save(&state, &m.user, &m.m, &d).await?;
    let targets = state.store.targets_of_post(id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "post_id": id, "targets": targets })),
    )
        .into_response())
}

/// Bulk import: the body is CSV or a JSON list; all rows valid or nothing imported.
pub async fn import_posts(State(state): State<AppState>, m: ApiMember, body: String) -> ApiResult {
    use crate::service::import::{import, ImportError};
    let t = crate::i18n::Tr(m.user.lang.unwrap_or(m.m.workspace.lang));
    match import(&state, &m.user, &m.m, &body, t).await {
        Ok(n) => Ok(Json(json!({ "imported": n })).into_response()),
        Err(ImportError::Lines(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "code": "import_invalid", "message": t.t("import.failed"), "field": "file", "errors": errors })),
        )
            .into_response()),
        Err(ImportError::App(e)) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct DecisionBody {
    decision: Option<String>,
    comment: Option<String>,
}

pub async fn decide(
    State(state): State<AppState>,
    m: ApiMember,
    Path((_, post)): Path<(i64, i64)>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> ApiResult {
    crate::service::approvals::decide(
        &state,
        &m.user,
        &m.m,
        post,
        b.decision.as_deref().unwrap_or(""),
        b.comment.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
