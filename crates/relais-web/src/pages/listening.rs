//! Listening: the mentions stream, the queries (with a live explanation) and the sources.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::Permission;

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::listening as svc;
use crate::view::{Errs, ListeningPage, MentionRow};
use crate::{AppError, AppState};

#[derive(serde::Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    q: Option<String>,
}

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
    q: Option<i64>,
    errs: Errs,
    form: ListenForm,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewListening)?;
    let t = mb.viewer.t;
    let ws = mb.id();
    let queries = state.store.queries(ws).await?;
    let sources = state.store.sources(ws).await?;
    let tz = mb.m.workspace.time_zone.as_str();
    let mentions = state
        .store
        .mentions(ws, q, 100)
        .await?
        .into_iter()
        .map(|m| MentionRow {
            id: m.id,
            author: m.author,
            when: t.datetime(m.published_at.unwrap_or(m.received_at), tz),
            lang: m.lang,
            queries: m
                .query_ids
                .iter()
                .filter_map(|id| queries.iter().find(|q| q.id == *id))
                .map(|q| q.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            title: m.title,
            url: m
                .url
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            excerpt: m.body.chars().take(400).collect(),
        })
        .collect();
    let b = base(state, &mb.viewer, csrf, t.t("listen.title"), Some(&mb.m)).await?;
    let can_manage =
        mb.m.role.allows(Permission::ManageListening) && mb.m.workspace.archived_at.is_none();
    html(ListeningPage {
        b,
        errs,
        ws,
        queries,
        sources,
        mentions,
        selected_query: q,
        can_manage,
        form_name: form.name,
        form_expression: form.expression,
        form_url: form.url,
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(f): Query<Filter>,
) -> Result<Response, AppError> {
    let q = f.q.and_then(|v| v.parse().ok());
    page(&state, &mb, &csrf, q, Errs::none(), ListenForm::default()).await
}

async fn outcome(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    r: Result<(), AppError>,
    form: ListenForm,
) -> Result<Response, AppError> {
    let to = format!("/w/{}/listening", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        page(state, mb, csrf, None, errs, form)
    })
    .await
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

/// The live explanation under the query editor (htmx fragment).
pub async fn explain(mb: Member, Form(f): Form<ListenForm>) -> Response {
    let t = mb.viewer.t;
    let text = match svc::explain(&f.expression, t.0) {
        Ok(s) => format!("{} {s}", t.t("listen.explain")),
        Err(e) if f.expression.trim().is_empty() => {
            let _ = e;
            String::new()
        }
        Err(e) => e.message(t),
    };
    // The fragment is plain text; escape it for HTML.
    let esc = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Html(esc).into_response()
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
    let to = format!("/w/{}/listening", mb.id());
    super::form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, None, errs, ListenForm::default())
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
    Query(f): Query<Filter>,
) -> Result<Response, AppError> {
    let q = f.q.and_then(|v| v.parse().ok());
    let body = svc::mentions_csv(&state, &mb.m, q).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        body,
    )
        .into_response())
}
