//! Owned media first: the blog feeds that become posts.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use relais_domain::Permission;

use super::{base, form_answer, html};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::listen_view::BlogPage;
use crate::service::blog::{self as svc, BlogForm};
use crate::view::Errs;
use crate::{AppError, AppState};

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
    form: BlogForm,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewWorkspace)?;
    let t = mb.viewer.t;
    let ws = mb.id();
    let tz = mb.m.workspace.time_zone.as_str();
    let channels = state.store.channels(ws).await?;
    let feeds = state
        .store
        .blog_feeds(ws)
        .await?
        .into_iter()
        .map(|f| {
            let names = f
                .channels
                .iter()
                .filter_map(|id| channels.iter().find(|c| c.id == *id))
                .map(|c| c.name.clone())
                .collect::<Vec<_>>()
                .join(", ");
            let next = t.datetime(f.next_poll_at, tz);
            (f, names, next)
        })
        .collect();
    let b = base(state, &mb.viewer, csrf, t.t("blog.title"), Some(&mb.m)).await?;
    html(BlogPage {
        b,
        errs,
        ws,
        feeds,
        channels,
        can_manage: mb.m.role.allows(Permission::ManageChannels)
            && mb.m.workspace.archived_at.is_none(),
        form_url: form.url,
        form_template: if form.template.is_empty() {
            "{title} {url}".into()
        } else {
            form.template
        },
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    page(&state, &mb, &csrf, Errs::none(), BlogForm::default()).await
}

pub async fn add(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let f = BlogForm::from_pairs(fields);
    let r = svc::add(&state, &mb.viewer.user, &mb.m, &f).await;
    let to = format!("/w/{}/blog", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, errs, f.clone())
    })
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let r = svc::delete(&state, &mb.viewer.user, &mb.m, id).await;
    let to = format!("/w/{}/blog", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, errs, BlogForm::default())
    })
    .await
}
