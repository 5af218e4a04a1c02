//! Channels of a workspace: the list with each one's health (connected, needs reconnecting and
//! why, rate-limited until…, token expiry, quota left today), the connect forms, and
//! "Connect with <network>" ([`oauth`]).

mod oauth;
mod view;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use relais_domain::Permission;

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::channels as svc;
use crate::service::channels::oauth::{oauth_net, OAUTH_NETS};
use crate::view::Errs;
use crate::{AppError, AppState};
use view::{ChannelRow, ChannelsPage};

/// The OAuth routes: start, choose among accounts, and the networks' fixed callbacks.
pub fn oauth_routes() -> Router<AppState> {
    Router::new()
        .route("/w/{ws}/channels/oauth", post(oauth::start))
        .route("/w/{ws}/channels/oauth/pick", post(oauth::pick))
        .route("/oauth/callback/{network}", get(oauth::callback))
}

/// The channels page; `open` names the form to show open with `errs` (see [`ChannelsPage`]).
pub(crate) async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
    open: String,
    flash: Option<String>,
) -> Result<Response, AppError> {
    let mut b = base(
        state,
        &mb.viewer,
        csrf,
        mb.viewer.t.t("channels.title"),
        Some(&mb.m),
    )
    .await?;
    b.flash = flash;
    let at = relais_store::now();
    let mut rows = Vec::new();
    for ch in state.store.channels(mb.id()).await? {
        let health = relais_publisher::health::channel_health(&state.store, &ch, at).await?;
        rows.push(ChannelRow {
            oauth: oauth_net(&ch.network),
            paste: svc::FIELDS
                .iter()
                .find(|(n, _)| *n == ch.network)
                .map(|(_, f)| *f),
            ch,
            health,
        });
    }
    let can_manage =
        mb.m.role.allows(Permission::ManageChannels) && mb.m.workspace.archived_at.is_none();
    html(ChannelsPage {
        b,
        errs,
        ws: mb.id(),
        tz: mb.m.workspace.time_zone.clone(),
        rows,
        networks: svc::FIELDS,
        oauth: OAUTH_NETS,
        can_manage,
        open,
        public_url: state.cfg.public_url.clone(),
    })
}

#[derive(serde::Deserialize, Default)]
pub struct Done {
    connected: Option<i64>,
    reconnected: Option<i64>,
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let flash = match (done.connected, done.reconnected) {
        (Some(id), _) | (None, Some(id)) => {
            let key = match done.connected {
                Some(_) => "oauth.connected",
                None => "oauth.reconnected",
            };
            match state.store.channel(mb.id(), id).await {
                Ok(ch) => Some(t.t(key).replace("{name}", &ch.name)),
                Err(_) => None,
            }
        }
        _ => None,
    };
    page(&state, &mb, &csrf, Errs::none(), String::new(), flash).await
}

pub async fn connect(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let r = svc::connect(&state, &mb.viewer.user, &mb.m, &fields).await;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let (open, to) = match get("channel_id").as_str() {
        "" => (
            format!("paste-{}", get("network")),
            format!("/w/{}/channels", mb.id()),
        ),
        id => (
            format!("re-{id}"),
            format!("/w/{}/channels?reconnected={id}", mb.id()),
        ),
    };
    form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, errs, open, None)
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
        page(&state, &mb, &csrf, errs, String::new(), None)
    })
    .await
}
