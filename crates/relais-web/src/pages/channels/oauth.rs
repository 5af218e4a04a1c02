//! "Connect with <network>" pages. Start (a form post) answers with a page linking to the
//! network rather than a redirect: the pages' CSP (`form-action 'self'`) would block a form
//! that redirects to another site. The network sends the browser back to the fixed callback
//! `/oauth/callback/{network}`; the state says which workspace and user it belongs to. A
//! `relais_oauth_ws` cookie remembers the workspace only to show errors on its channels page
//! when the state itself is unknown.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::{validate, Permission};
use relais_publisher::oauth_flow::{Callback, Endpoints, FlowError, Outcome};
use relais_store::audit::Actor;

use super::page;
use super::view::{OAuthGoPage, OAuthPickPage};
use crate::auth::{cookie, set_cookie, Member, Viewer};
use crate::csrf::CsrfToken;
use crate::pages::{base, html, see_other};
use crate::service::channels::oauth::{flow, flow_errs, oauth_net, start_form};
use crate::view::{Errs, NoticePage};
use crate::{AppError, AppState};

const WS_COOKIE: &str = "relais_oauth_ws";

fn endpoints(e: Option<Extension<Endpoints>>) -> Option<Endpoints> {
    e.map(|Extension(e)| e)
}

fn with_status(mut res: Response, status: u16) -> Response {
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    res
}

/// POST /w/{ws}/channels/oauth: check the form, keep the pending state, show the way out.
pub async fn start(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    ep: Option<Extension<Endpoints>>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    mb.require(Permission::ManageChannels)?;
    let t = mb.viewer.t;
    let mut form = start_form(&fields)?;
    let open = match (form.channel_id, oauth_net(&form.network)) {
        (Some(id), _) => format!("re-{id}"),
        (None, Some(n)) => format!("oauth-{}", n.id),
        // Not a form on the page: the message goes on top.
        (None, None) => String::new(),
    };
    if form.channel_id.is_none() {
        match validate::display_name("name", &form.name) {
            Ok(n) => form.name = n,
            Err(e) => {
                let errs = Errs::from(t, &AppError::from(e));
                let res = page(&state, &mb, &csrf, errs, open, None).await?;
                return Ok(with_status(res, 422));
            }
        }
    }
    let started = flow(&state, endpoints(ep))
        .start(mb.id(), mb.viewer.user.id, &form)
        .await;
    let s = match started {
        Ok(s) => s,
        Err(e) => {
            let (status, errs) = flow_errs(t, e.kind)?;
            let res = page(&state, &mb, &csrf, errs, open, None).await?;
            return Ok(with_status(res, status));
        }
    };
    let host = url::Url::parse(&s.authorize_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let b = base(
        &state,
        &mb.viewer,
        &csrf,
        t.t("oauth.go.title"),
        Some(&mb.m),
    )
    .await?;
    let mut res = html(OAuthGoPage {
        b,
        ws: mb.id(),
        network: form.network,
        host,
        authorize_url: s.authorize_url,
        redirect_uri: s.redirect_uri,
    })?;
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            WS_COOKIE,
            &mb.id().to_string(),
            600,
            state.cfg.secure_cookies,
        ),
    );
    Ok(res)
}

/// GET /oauth/callback/{network}: the network's answer.
pub async fn callback(
    State(state): State<AppState>,
    viewer: Viewer,
    Extension(csrf): Extension<CsrfToken>,
    ep: Option<Extension<Endpoints>>,
    Path(network): Path<String>,
    Query(cb): Query<Callback>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let actor = Actor::user(viewer.user.id, &viewer.user.email);
    let r = flow(&state, endpoints(ep))
        .finish(&network, &cb, (viewer.user.id, &actor))
        .await;
    let remembered = cookie(&headers, WS_COOKIE).and_then(|v| v.parse().ok());
    answer(&state, viewer, &csrf, r, remembered).await
}

#[derive(serde::Deserialize)]
pub struct PickForm {
    network: String,
    token: String,
    choice: Option<usize>,
}

/// POST /w/{ws}/channels/oauth/pick: the account chosen after signing in.
pub async fn pick(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    ep: Option<Extension<Endpoints>>,
    Form(f): Form<PickForm>,
) -> Result<Response, AppError> {
    mb.require(Permission::ManageChannels)?;
    let actor = Actor::user(mb.viewer.user.id, &mb.viewer.user.email);
    let ws = mb.id();
    let r = flow(&state, endpoints(ep))
        .pick(
            ws,
            &f.network,
            &f.token,
            f.choice.unwrap_or(usize::MAX),
            (mb.viewer.user.id, &actor),
        )
        .await;
    answer(&state, mb.viewer, &csrf, r, Some(ws)).await
}

/// Connected → the channels page says so; several accounts → the choice; an error → the
/// channels page of the workspace concerned with the message on the network's form.
async fn answer(
    state: &AppState,
    viewer: Viewer,
    csrf: &CsrfToken,
    r: Result<Outcome, FlowError>,
    remembered: Option<i64>,
) -> Result<Response, AppError> {
    let t = viewer.t;
    match r {
        Ok(Outcome::Connected {
            workspace_id,
            channel,
            reconnected,
        }) => {
            let which = if reconnected {
                "reconnected"
            } else {
                "connected"
            };
            Ok(see_other(&format!(
                "/w/{workspace_id}/channels?{which}={}",
                channel.id
            )))
        }
        Ok(Outcome::Pick {
            workspace_id,
            network,
            token,
            choices,
        }) => {
            let m = state.store.membership(viewer.user.id, workspace_id).await?;
            let b = base(state, &viewer, csrf, t.t("oauth.pick.title"), Some(&m)).await?;
            html(OAuthPickPage {
                b,
                errs: Errs::none(),
                ws: workspace_id,
                network,
                token,
                choices,
            })
        }
        Err(e) => {
            let ws = e.workspace_id.or(remembered);
            let network = e.network.clone();
            let (status, errs) = flow_errs(t, e.kind)?;
            let m = match ws {
                Some(ws) => state.store.membership(viewer.user.id, ws).await.ok(),
                None => None,
            };
            let Some(m) = m else {
                let b = base(state, &viewer, csrf, t.t("channels.title"), None).await?;
                let res = html(NoticePage {
                    b,
                    message: errs.msg.unwrap_or_default(),
                    link: Some(("/".into(), t.t("oauth.back_home").into())),
                })?;
                return Ok(with_status(res, status));
            };
            let mb = Member { viewer, m };
            let open = match oauth_net(&network) {
                Some(_) => format!("oauth-{network}"),
                None => String::new(),
            };
            let res = page(state, &mb, csrf, errs, open, None).await?;
            Ok(with_status(res, status).into_response())
        }
    }
}
