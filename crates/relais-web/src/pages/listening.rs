//! Listening: the mentions stream, the queries (with a live explanation) and the sources.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::Permission;

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::listen_view::{MentionRowsLive, MentionsPage, SharePage};
use crate::service::listening as svc;
use crate::service::mentions::{self, MentionQuery};
use crate::view::{Errs, ListeningPage};
use crate::{AppError, AppState};

#[derive(serde::Deserialize, Default)]
pub struct ListenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expression: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    url: String,
}

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
    form: ListenForm,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewListening)?;
    let t = mb.viewer.t;
    let ws = mb.id();
    let queries = state.store.queries(ws).await?;
    let sources = state.store.sources(ws).await?;
    let live = state
        .store
        .live_subscriptions(ws)
        .await?
        .into_iter()
        .map(|l| {
            let (st, problem) = crate::service::live::describe(l.source.status.as_deref());
            (l, st, problem)
        })
        .collect();
    let b = base(state, &mb.viewer, csrf, t.t("listen.setup"), Some(&mb.m)).await?;
    let can_manage =
        mb.m.role.allows(Permission::ManageListening) && mb.m.workspace.archived_at.is_none();
    html(ListeningPage {
        b,
        errs,
        ws,
        tab: "setup",
        queries,
        sources,
        live,
        can_manage,
        form_name: form.name,
        form_expression: form.expression,
        form_url: form.url,
    })
}

/// Queries and sources.
pub async fn setup(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    page(&state, &mb, &csrf, Errs::none(), ListenForm::default()).await
}

/// The mentions stream with its filters and volume chart.
pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(f): Query<MentionQuery>,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewListening)?;
    let t = mb.viewer.t;
    let ws = mb.id();
    let (rows, newest, error) = match mentions::stream(&state, &mb.m, &f, 0, t).await {
        Ok((rows, newest)) => (rows, newest, None),
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            (Vec::new(), 0, Some(e.message(t)))
        }
        Err(e) => return Err(e),
    };
    let chart = mentions::volume_chart(&state, &mb.m, &f, t).await?;
    let b = base(&state, &mb.viewer, &csrf, t.t("listen.title"), Some(&mb.m)).await?;
    html(MentionsPage {
        b,
        ws,
        tab: "mentions",
        qs: f.to_query_string(),
        f,
        queries: state.store.queries(ws).await?,
        sources: state.store.sources(ws).await?,
        rows,
        newest,
        chart,
        error,
        can_manage: mb.m.role.allows(Permission::ManageListening),
    })
}

#[derive(serde::Deserialize)]
pub struct After {
    #[serde(default)]
    after: i64,
}

/// The live stream's poll: mentions newer than `after`, and the poller again with the newest id.
pub async fn stream(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(a): Query<After>,
    Query(f): Query<MentionQuery>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let (rows, newest) = mentions::stream(&state, &mb.m, &f, a.after.max(0), t).await?;
    let b = base(&state, &mb.viewer, &csrf, "", Some(&mb.m)).await?;
    html(MentionRowsLive {
        b,
        ws: mb.id(),
        rows,
        newest,
        qs: f.to_query_string(),
        can_manage: mb.m.role.allows(Permission::ManageListening),
    })
}

#[derive(serde::Deserialize)]
pub struct Period {
    #[serde(default)]
    days: Option<u64>,
}

/// Share of voice: brand against competitors.
pub async fn share(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(p): Query<Period>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let days = match p.days.unwrap_or(30) {
        d @ (7 | 30 | 90) => d,
        _ => 30,
    };
    let (bar, lines, rows) = mentions::share_of_voice(&state, &mb.m, days, t).await?;
    let b = base(&state, &mb.viewer, &csrf, t.t("listen.share"), Some(&mb.m)).await?;
    html(SharePage {
        b,
        ws: mb.id(),
        tab: "share",
        days,
        bar,
        lines,
        rows,
    })
}

async fn outcome(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    r: Result<(), AppError>,
    form: ListenForm,
) -> Result<Response, AppError> {
    let to = format!("/w/{}/listening/setup", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(state, mb, csrf, errs, form)).await
}

pub async fn add_query(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<ListenForm>,
) -> Result<Response, AppError> {
    let r = svc::add_query(
        &state,
        &mb.viewer.user,
        &mb.m,
        &f.name,
        &f.expression,
        &f.tag,
    )
    .await
    .map(|_| ());
    outcome(&state, &mb, &csrf, r, f).await
}

pub async fn delete_query(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    svc::delete_query(&state, &mb.viewer.user, &mb.m, id).await?;
    Ok(see_other(&format!("/w/{}/listening", mb.id())))
}

pub async fn add_source(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<ListenForm>,
) -> Result<Response, AppError> {
    let r = svc::add_source(&state, &mb.viewer.user, &mb.m, &f.url, &f.name)
        .await
        .map(|_| ());
    outcome(&state, &mb, &csrf, r, f).await
}

pub async fn delete_source(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    svc::delete_source(&state, &mb.viewer.user, &mb.m, id).await?;
    Ok(see_other(&format!("/w/{}/listening", mb.id())))
}

pub async fn irrelevant(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    mb.require(Permission::ManageListening)?;
    state.store.mark_irrelevant(mb.id(), id).await?;
    Ok(see_other(&format!("/w/{}/listening", mb.id())))
}

/// The live explanation under the query editor, with how many recent mentions it would have
/// kept and the first few, terms marked (htmx fragment, safe HTML).
pub async fn explain(
    State(state): State<AppState>,
    mb: Member,
    Form(f): Form<ListenForm>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    if f.expression.trim().is_empty() {
        return Ok(Html(String::new()).into_response());
    }
    let out = match svc::preview(&state, &mb.m, &f.expression, t).await {
        Ok(p) => p,
        Err(e) => crate::highlight::askama_escape(&e.message(t)),
    };
    Ok(Html(out).into_response())
}

#[derive(serde::Deserialize)]
pub struct OpmlForm {
    #[serde(default)]
    opml: String,
}

pub async fn import_opml(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<OpmlForm>,
) -> Result<Response, AppError> {
    let r = svc::import_opml(&state, &mb.viewer.user, &mb.m, &f.opml).await;
    let to = format!("/w/{}/listening/setup", mb.id());
    super::form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, errs, ListenForm::default())
    })
    .await
}

pub async fn export_opml(State(state): State<AppState>, mb: Member) -> Result<Response, AppError> {
    mb.require(Permission::ViewListening)?;
    let body = svc::export_opml(&state, &mb.m).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/x-opml; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

pub async fn mentions_csv(
    State(state): State<AppState>,
    mb: Member,
    Query(f): Query<MentionQuery>,
) -> Result<Response, AppError> {
    let body = mentions::csv(&state, &mb.m, &f).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        body,
    )
        .into_response())
}

pub async fn add_live(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<crate::service::live::LiveForm>,
) -> Result<Response, AppError> {
    let r = crate::service::live::add(&state, &mb.viewer.user, &mb.m, &f).await;
    outcome(
        &state,
        &mb,
        &csrf,
        r.map(|_| ()),
        ListenForm {
            url: f.url,
            ..ListenForm::default()
        },
    )
    .await
}

pub async fn delete_live(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let r = crate::service::live::delete(&state, &mb.viewer.user, &mb.m, id).await;
    outcome(&state, &mb, &csrf, r, ListenForm::default()).await
}
