//! Public newsletter pages, for people without an account: the subscribe form of a list, the
//! confirmation link and the unsubscribe link. Unknown or wrong tokens are a plain 404.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Form, Router};

use super::{anon_base, html, ClientAddr};
use crate::auth::VisitorLang;
use crate::csrf::CsrfToken;
use crate::i18n::Tr;
use crate::service::newsletter::subscribe::{self as svc, ConfirmPage, SubscribeForm};
use crate::view::{Base, Errs, NoticePage};
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "nl_subscribe.html")]
pub struct SubscribePage {
    pub b: Base,
    pub errs: Errs,
    pub public_id: String,
    pub list_name: String,
    pub ws_name: String,
    pub form: SubscribeForm,
}

#[derive(Template)]
#[template(path = "nl_action.html")]
pub struct ActionPage {
    pub b: Base,
    pub message: String,
    pub action: String,
    pub button: String,
    /// The unsubscribe form posts to a route without the CSRF check (mail clients post there
    /// too), so it carries no token.
    pub with_csrf: bool,
}

/// Routes outside the CSRF layer: RFC 8058 one-click unsubscribe comes from mail clients that
/// have no cookie; the unguessable token authenticates the request.
pub fn unprotected() -> Router<AppState> {
    Router::new().route("/nl/u/{token}", get(unsubscribe_page).post(unsubscribe))
}

async fn subscribe_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    public_id: &str,
    errs: Errs,
    form: SubscribeForm,
) -> Result<Response, AppError> {
    let list = svc::open_list(state, public_id).await?;
    let ws = state.store.workspace(list.workspace_id).await?;
    html(SubscribePage {
        b: anon_base(t, csrf, &list.name),
        errs,
        public_id: list.public_id.clone(),
        list_name: list.name,
        ws_name: ws.name,
        form,
    })
}

pub async fn subscribe_form(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(public_id): Path<String>,
) -> Result<Response, AppError> {
    subscribe_page(
        &state,
        t,
        &csrf,
        &public_id,
        Errs::none(),
        SubscribeForm::default(),
    )
    .await
}

pub async fn subscribe(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    ClientAddr(client): ClientAddr,
    Path(public_id): Path<String>,
    Form(f): Form<SubscribeForm>,
) -> Result<Response, AppError> {
    match svc::subscribe(&state, &public_id, &f, &client, t.0).await {
        Ok(()) => notice(
            t,
            &csrf,
            t.t("nl.subscribe.title"),
            t.t("nl.subscribe.sent"),
        ),
        Err(e) if e.field.is_some() => {
            let errs = Errs::from(t, &e);
            let form = SubscribeForm {
                website: String::new(),
                ..f
            };
            let mut res = subscribe_page(&state, t, &csrf, &public_id, errs, form).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

fn notice(t: Tr, csrf: &CsrfToken, title: &str, message: &str) -> Result<Response, AppError> {
    html(NoticePage {
        b: anon_base(t, csrf, title),
        message: message.to_string(),
        link: None,
    })
}

fn confirm_answer(
    t: Tr,
    csrf: &CsrfToken,
    token: &str,
    p: ConfirmPage,
) -> Result<Response, AppError> {
    let title = t.t("nl.confirm.title");
    match p {
        ConfirmPage::Ask(sub, list) => html(ActionPage {
            b: anon_base(t, csrf, title),
            message: t
                .t("nl.confirm.ask")
                .replace("{email}", &sub.email)
                .replace("{list}", &list.name),
            action: format!("/nl/confirm/{token}"),
            button: t.t("nl.confirm.button").to_string(),
            with_csrf: true,
        }),
        ConfirmPage::Done(_, list) => notice(
            t,
            csrf,
            title,
            &t.t("nl.confirm.done").replace("{list}", &list.name),
        ),
        ConfirmPage::Expired(list) => {
            let mut res = html(NoticePage {
                b: anon_base(t, csrf, title),
                message: t.t("err.token_expired").to_string(),
                link: Some((
                    format!("/nl/{}", list.public_id),
                    t.t("nl.subscribe.again").to_string(),
                )),
            })?;
            *res.status_mut() = StatusCode::GONE;
            Ok(res)
        }
    }
}

pub async fn confirm_page(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let p = svc::peek_confirmation(&state, &token).await?;
    confirm_answer(t, &csrf, &token, p)
}

pub async fn confirm(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let p = svc::confirm(&state, &token).await?;
    confirm_answer(t, &csrf, &token, p)
}

fn no_csrf() -> CsrfToken {
    CsrfToken(String::new())
}

pub async fn unsubscribe_page(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let (sub, list) = svc::peek_unsubscribe(&state, &token).await?;
    let title = t.t("nl.unsubscribe.title");
    if sub.state == relais_store::newsletter::SubState::Unsubscribed {
        let m = t.t("nl.unsubscribe.done").replace("{list}", &list.name);
        return notice(t, &no_csrf(), title, &m);
    }
    html(ActionPage {
        b: anon_base(t, &no_csrf(), title),
        message: t
            .t("nl.unsubscribe.ask")
            .replace("{email}", &sub.email)
            .replace("{list}", &list.name),
        action: format!("/nl/u/{token}"),
        button: t.t("nl.unsubscribe.button").to_string(),
        with_csrf: false,
    })
}

/// POST from the page's button or a mail client's one-click (`List-Unsubscribe=One-Click`).
pub async fn unsubscribe(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let (_, list) = svc::unsubscribe(&state, &token).await?;
    let m = t.t("nl.unsubscribe.done").replace("{list}", &list.name);
    notice(t, &no_csrf(), t.t("nl.unsubscribe.title"), &m)
}
