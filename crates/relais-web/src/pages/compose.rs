//! The composer and the publications list.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::Permission;
use relais_store::posts::TargetFilter;

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::compose::{self, Draft};
use crate::view::{
    CharterPage, ComposePage, CountersFragment, Errs, FindingRow, PostRow, PostsPage,
};
use crate::{AppError, AppState};

/// Reads the composer form: repeated `channel`, `variant_<id>` fields.
fn draft_of(fields: Vec<(String, String)>) -> Draft {
    let mut d = Draft::default();
    for (k, v) in fields {
        match k.as_str() {
            "body" => d.body = v,
            "channel" => d.channels.extend(v.parse::<i64>().ok()),
            "date" => d.date = v,
            "time" => d.time = v,
            "action" => d.action = v,
            "override_reason" => d.override_reason = v,
            _ => {
                if let Some(id) = k.strip_prefix("variant_").and_then(|i| i.parse().ok()) {
                    if !v.trim().is_empty() {
                        d.variants.insert(id, v);
                    }
                }
            }
        }
    }
    d
}

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    draft: Draft,
    errs: Errs,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let b = base(state, &mb.viewer, csrf, t.t("compose.title"), Some(&mb.m)).await?;
    let channels = state.store.channels(mb.id()).await?;
    let counters_html = fragment(state, mb, &draft).await?;
    html(ComposePage {
        b,
        errs,
        ws: mb.id(),
        tz: mb.m.workspace.time_zone.clone(),
        channels,
        draft,
        counters_html,
        can_publish: mb.m.role.allows(Permission::Publish),
        can_override: mb.m.role.allows(Permission::ManageCharter),
    })
}

pub async fn form(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    mb.require(Permission::CreatePost)?;
    page(&state, &mb, &csrf, Draft::default(), Errs::none()).await
}

/// Counters and check findings of the main text, refreshed as the user types.
async fn fragment(state: &AppState, mb: &Member, d: &Draft) -> Result<String, AppError> {
    let t = mb.viewer.t;
    let counters = compose::counters(state, &mb.m, d).await?;
    let (findings, no_dictionary) = if d.body.trim().is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let report = crate::service::checks::check(state, &mb.m, &d.body, "", None, t.0).await?;
        (
            FindingRow::rows(&d.body, &report),
            report.languages_without_dictionary.clone(),
        )
    };
    Ok(askama::Template::render(&CountersFragment {
        t,
        counters,
        findings,
        no_dictionary,
    })?)
}

pub async fn counters(
    State(state): State<AppState>,
    mb: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let d = draft_of(fields);
    Ok(IntoResponse::into_response(Html(
        fragment(&state, &mb, &d).await?,
    )))
}

pub async fn submit(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let d = draft_of(fields);
    let r = compose::save(&state, &mb.viewer.user, &mb.m, &d).await;
    let to = format!("/w/{}/posts", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(&state, &mb, &csrf, d, errs)).await
}

pub async fn list(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let channels = state.store.channels(mb.id()).await?;
    let targets = state
        .store
        .list_targets(mb.id(), &TargetFilter::default())
        .await?;
    let tz = mb.m.workspace.time_zone.as_str();
    let rows = targets
        .into_iter()
        .map(|x| {
            let ch = channels.iter().find(|c| c.id == x.channel_id);
            let excerpt: String = x.body.chars().take(90).collect::<String>()
                + if x.body.chars().count() > 90 {
                    "…"
                } else {
                    ""
                };
            PostRow {
                when: t.datetime(x.scheduled_at.unwrap_or(x.updated_at), tz),
                channel: ch.map(|c| c.name.clone()).unwrap_or_default(),
                network: ch.map(|c| c.network.clone()).unwrap_or_default(),
                excerpt,
                state: x.state,
                url: x.remote_url,
                error: x.last_error,
            }
        })
        .collect();
    let b = base(&state, &mb.viewer, &csrf, t.t("posts.title"), Some(&mb.m)).await?;
    let h = relais_publisher::health::health(&state.store, Some(mb.id())).await?;
    let health = h
        .first()
        .map(|h| (h.due, h.late, h.failed, h.unconfirmed, h.publishing))
        .unwrap_or_default();
    html(PostsPage {
        health,
        b,
        ws: mb.id(),
        rows,
        can_create: mb.m.role.allows(Permission::CreatePost),
        can_manage: mb.m.role.allows(Permission::ManageChannels),
    })
}

async fn charter_page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    body: String,
    errs: Errs,
) -> Result<Response, AppError> {
    let b = base(
        state,
        &mb.viewer,
        csrf,
        mb.viewer.t.t("charter.title"),
        Some(&mb.m),
    )
    .await?;
    let can_edit =
        mb.m.role.allows(Permission::ManageCharter) && mb.m.workspace.archived_at.is_none();
    html(CharterPage {
        b,
        errs,
        ws: mb.id(),
        body,
        can_edit,
    })
}

pub async fn charter(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let c = crate::service::checks::charter(&state, mb.id()).await?;
    let body = serde_json::to_string_pretty(&c).map_err(|_| AppError::internal())?;
    charter_page(&state, &mb, &csrf, body, Errs::none()).await
}

#[derive(serde::Deserialize)]
pub struct CharterForm {
    #[serde(default)]
    charter: String,
}

pub async fn charter_save(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<CharterForm>,
) -> Result<Response, AppError> {
    let r = crate::service::checks::save_charter(&state, &mb.viewer.user, &mb.m, &f.charter).await;
    let to = format!("/w/{}/charter", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        charter_page(&state, &mb, &csrf, f.charter, errs)
    })
    .await
}

/// "Check links": each URL of the main text probed through the SSRF guard (htmx fragment).
pub async fn links(
    State(state): State<AppState>,
    mb: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let d = draft_of(fields);
    let t = mb.viewer.t;
    let results = crate::service::links::check_links(&state.net, &d.body).await;
    let findings =
        relais_guard::links::findings_from_probe(&results, crate::service::checks::ui_lang(t.0));
    let report = relais_guard::Report {
        findings,
        ..Default::default()
    };
    let rows = FindingRow::rows(&d.body, &report);
    let html = askama::Template::render(&crate::view::LinksFragment {
        t,
        rows,
        checked: results.len(),
    })?;
    Ok(IntoResponse::into_response(Html(html)))
}

pub async fn import_form(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    mb.require(Permission::CreatePost)?;
    let b = base(
        &state,
        &mb.viewer,
        &csrf,
        mb.viewer.t.t("import.title"),
        Some(&mb.m),
    )
    .await?;
    html(crate::view::ImportPage {
        b,
        ws: mb.id(),
        data: String::new(),
        errors: Vec::new(),
    })
}

#[derive(serde::Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    data: String,
}

pub async fn import(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<ImportForm>,
) -> Result<Response, AppError> {
    use crate::service::import::{self as imp, ImportError};
    match imp::import(&state, &mb.viewer.user, &mb.m, &f.data, mb.viewer.t).await {
        Ok(_) => Ok(see_other(&format!("/w/{}/posts", mb.id()))),
        Err(ImportError::Lines(errors)) => {
            let b = base(
                &state,
                &mb.viewer,
                &csrf,
                mb.viewer.t.t("import.title"),
                Some(&mb.m),
            )
            .await?;
            let mut res = html(crate::view::ImportPage {
                b,
                ws: mb.id(),
                data: f.data,
                errors,
            })?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(ImportError::App(e)) => Err(e),
    }
}

pub async fn export(State(state): State<AppState>, mb: Member) -> Result<Response, AppError> {
    let csv = crate::service::import::export(&state, &mb.m).await?;
    let disposition = format!("attachment; filename=\"publications-{}.csv\"", mb.id());
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
