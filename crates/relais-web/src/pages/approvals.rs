//! The approvals queue of a workspace and the decision forms.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::approvals as svc;
use crate::view::{ApprovalsPage, Errs, PendingRow};
use crate::{AppError, AppState};

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let channels = state.store.channels(mb.id()).await?;
    let mut rows = Vec::new();
    for p in state.store.pending_reviews(mb.id()).await? {
        let names: Vec<String> = state
            .store
            .targets_of_post(p.post_id)
            .await?
            .iter()
            .filter_map(|x| {
                channels
                    .iter()
                    .find(|c| c.id == x.channel_id)
                    .map(|c| c.name.clone())
            })
            .collect();
        let own = p.author_id == Some(mb.viewer.user.id);
        let can_decide = !own
            && mb.m.role.allows(svc::stage_permission(&p.stage))
            && mb.m.workspace.archived_at.is_none();
        rows.push(PendingRow {
            post_id: p.post_id,
            author: p.author,
            body: p.body,
            wanted: p
                .wanted_at
                .map(|w| t.datetime(w, &mb.m.workspace.time_zone)),
            stage: p.stage,
            channels: names.join(", "),
            can_decide,
            own,
        });
    }
    let b = base(state, &mb.viewer, csrf, t.t("approvals.title"), Some(&mb.m)).await?;
    html(ApprovalsPage {
        b,
        errs,
        ws: mb.id(),
        rows,
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    page(&state, &mb, &csrf, Errs::none()).await
}

#[derive(serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn decide(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, post)): Path<(i64, i64)>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let r = svc::decide(
        &state,
        &mb.viewer.user,
        &mb.m,
        post,
        &f.decision,
        &f.comment,
    )
    .await;
    let to = format!("/w/{}/approvals", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(&state, &mb, &csrf, errs)).await
}

#[derive(serde::Deserialize)]
pub struct ModeForm {
    #[serde(default)]
    approval_mode: String,
}

pub async fn set_mode(
    State(state): State<AppState>,
    mb: Member,
    Form(f): Form<ModeForm>,
) -> Result<Response, AppError> {
    svc::set_mode(&state, &mb.viewer.user, &mb.m, &f.approval_mode).await?;
    Ok(see_other(&format!("/w/{}/settings?saved=1", mb.id())))
}
