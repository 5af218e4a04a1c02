//! Channels of a workspace: the list with each one's health, and the connect forms.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use relais_domain::Permission;

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::channels as svc;
use crate::view::{ChannelsPage, Errs};
use crate::{AppError, AppState};

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
    open_network: String,
) -> Result<Response, AppError> {
    let b = base(
        state,
        &mb.viewer,
        csrf,
        mb.viewer.t.t("channels.title"),
        Some(&mb.m),
    )
    .await?;
    let channels = state.store.channels(mb.id()).await?;
    let can_manage =
        mb.m.role.allows(Permission::ManageChannels) && mb.m.workspace.archived_at.is_none();
    html(ChannelsPage {
        b,
        errs,
        ws: mb.id(),
        channels,
        networks: svc::FIELDS,
        can_manage,
        open_network,
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    page(&state, &mb, &csrf, Errs::none(), String::new()).await
}

pub async fn connect(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let r = svc::connect(&state, &mb.viewer.user, &mb.m, &fields).await;
    let net = fields
        .iter()
        .find(|(k, _)| k == "network")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let to = format!("/w/{}/channels", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, errs, net)
    })
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    svc::remove(&state, &mb.viewer.user, &mb.m, id).await?;
    Ok(see_other(&format!("/w/{}/channels", mb.id())))
}

#[derive(serde::Deserialize)]
pub struct SlotsForm {
    #[serde(default)]
    slots: String,
}

pub async fn slots(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
    Form(f): Form<SlotsForm>,
) -> Result<Response, AppError> {
    let r = svc::set_slots(&state, &mb.viewer.user, &mb.m, id, &f.slots).await;
    let to = format!("/w/{}/channels", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, errs, String::new())
    })
    .await
}
