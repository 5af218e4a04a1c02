//! Anonymous pages: first-start setup, sign-in (with TOTP), sign-out, password reset,
//! invitations.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::Lang;
use relais_store::users::User;

use super::{anon_base, html, safe_next, see_other, ClientAddr};
use crate::auth::{set_cookie, AnySession, Viewer, VisitorLang, SESSION_COOKIE};
use crate::csrf::CsrfToken;
use crate::i18n::{Tr, LANG_COOKIE};
use crate::service::accounts::{self, NewAccount};
use crate::service::workspaces as ws;
use crate::view::{
    Errs, ForgotPage, InvitePage, LoginPage, NoticePage, ResetPage, SetupPage, TotpPage,
};
use crate::{AppError, AppState};

#[derive(serde::Deserialize, Default)]
pub struct AccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

impl AccountForm {
    fn account(&self, lang: Lang) -> NewAccount<'_> {
        NewAccount {
            email: &self.email,
            name: &self.name,
            password: &self.password,
            password_confirm: &self.password_confirm,
            lang: Some(lang),
        }
    }
}

/// Signs the user in: session cookie + language cookie, then goes to `next`.
fn signed_in(state: &AppState, token: &str, user: &User, to: &str) -> Response {
    let mut res = see_other(to);
    let secure = state.cfg.secure_cookies;
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            token,
            relais_store::sessions::SESSION_TTL_MS / 1000,
            secure,
        ),
    );
    if let Some(l) = user.lang {
        h.append(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, l.as_str(), 365 * 24 * 3600, secure),
        );
    }
    res
}

fn notice(
    t: Tr,
    csrf: &CsrfToken,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Result<Response, AppError> {
    html(NoticePage {
        b: anon_base(t, csrf, title),
        message: message.into(),
        link: link.map(|(a, b)| (a.into(), b.into())),
    })
}

pub async fn setup_form(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if let Err(e) = accounts::setup_token_valid(&state, &token).await {
        return notice(
            t,
            &csrf,
            t.t("setup.title"),
            &t.code(e.code, None),
            Some(("/login", t.t("login.submit"))),
        );
    }
    html(SetupPage {
        b: anon_base(t, &csrf, t.t("setup.title")),
        token,
        errs: Errs::none(),
        email: String::new(),
        name: String::new(),
    })
}

pub async fn setup(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
    Form(f): Form<AccountForm>,
) -> Result<Response, AppError> {
    match accounts::setup_owner(&state, &token, f.account(t.0)).await {
        Ok(user) => {
            let (tok, _, user) = accounts::login(&state, &user.email, &f.password, "setup").await?;
            Ok(signed_in(&state, &tok, &user, "/"))
        }
        Err(e) if e.field.is_some() && e.field != Some("token") => {
            let errs = Errs::from(t, &e);
            let mut res = html(SetupPage {
                b: anon_base(t, &csrf, t.t("setup.title")),
                token,
                errs,
                email: f.email,
                name: f.name,
            })?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_form(
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    html(LoginPage {
        b: anon_base(t, &csrf, t.t("login.title")),
        errs: Errs::none(),
        email: String::new(),
        next: q.next,
    })
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    ClientAddr(ip): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    match accounts::login(&state, &f.email, &f.password, &ip).await {
        Ok((token, session, user)) => {
            let next = safe_next(&f.next);
            if session.second_factor_pending {
                let to = format!(
                    "/login/totp?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return Ok(signed_in(&state, &token, &user, &to));
            }
            Ok(signed_in(&state, &token, &user, next))
        }
        Err(e) if e.field.is_some() => {
            let mut res = html(LoginPage {
                b: anon_base(t, &csrf, t.t("login.title")),
                errs: Errs::from(t, &e),
                email: f.email,
                next: f.next,
            })?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub async fn totp_form(
    AnySession(s): AnySession,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    match s {
        Some((sess, _)) if sess.second_factor_pending => html(TotpPage {
            b: anon_base(t, &csrf, t.t("login.totp_title")),
            errs: Errs::none(),
            next: q.next,
        }),
        Some(_) => Ok(see_other("/")),
        None => Ok(see_other("/login")),
    }
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

pub async fn totp(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let Some((sess, user)) = s.filter(|(s, _)| s.second_factor_pending) else {
        return Ok(see_other("/login"));
    };
    match accounts::verify_second_factor(&state, &sess, &user, &f.code).await {
        Ok(()) => Ok(see_other(safe_next(&f.next))),
        Err(e) => {
            let mut res = html(TotpPage {
                b: anon_base(t, &csrf, t.t("login.totp_title")),
                errs: Errs::from(t, &e),
                next: f.next,
            })?;
            *res.status_mut() = e.status;
            Ok(res)
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    AnySession(s): AnySession,
) -> Result<Response, AppError> {
    if let Some((sess, _)) = s {
        state.store.delete_session(sess.id).await?;
    }
    let mut res = see_other("/login");
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.cfg.secure_cookies),
    );
    Ok(res)
}

pub async fn forgot_form(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    html(ForgotPage {
        b: anon_base(t, &csrf, t.t("forgot.title")),
        errs: Errs::none(),
        sent: false,
        smtp: state.mailer.is_configured(),
    })
}

#[derive(serde::Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<EmailForm>,
) -> Result<Response, AppError> {
    let smtp = state.mailer.is_configured();
    match accounts::request_reset(&state, &f.email, t).await {
        Ok(()) => html(ForgotPage {
            b: anon_base(t, &csrf, t.t("forgot.title")),
            errs: Errs::none(),
            sent: true,
            smtp,
        }),
        Err(e) if e.field.is_some() => html(ForgotPage {
            b: anon_base(t, &csrf, t.t("forgot.title")),
            errs: Errs::from(t, &e),
            sent: false,
            smtp,
        }),
        Err(e) => Err(e),
    }
}

pub async fn reset_form(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if let Err(e) = accounts::reset_token_valid(&state, &token).await {
        return notice(
            t,
            &csrf,
            t.t("reset.title"),
            &t.code(e.code, None),
            Some(("/forgot", t.t("forgot.title"))),
        );
    }
    html(ResetPage {
        b: anon_base(t, &csrf, t.t("reset.title")),
        errs: Errs::none(),
        token,
    })
}

pub async fn reset(
    State(state): State<AppState>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
    Form(f): Form<AccountForm>,
) -> Result<Response, AppError> {
    match accounts::reset_password(&state, &token, &f.password, &f.password_confirm).await {
        Ok(()) => notice(
            t,
            &csrf,
            t.t("reset.title"),
            t.t("reset.done"),
            Some(("/login", t.t("login.submit"))),
        ),
        Err(e) if e.field == Some("token") => notice(
            t,
            &csrf,
            t.t("reset.title"),
            &t.code(e.code, None),
            Some(("/forgot", t.t("forgot.title"))),
        ),
        Err(e) => html(ResetPage {
            b: anon_base(t, &csrf, t.t("reset.title")),
            errs: Errs::from(t, &e),
            token,
        }),
    }
}

async fn invite_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    token: String,
    viewer: Option<&User>,
    errs: Errs,
    name: String,
) -> Result<Response, AppError> {
    let inv = match ws::open_invitation(state, &token).await {
        Ok(i) => i,
        Err(e) => {
            return notice(
                t,
                csrf,
                t.t("invite.title"),
                &t.code(e.code, None),
                Some(("/login", t.t("login.submit"))),
            )
        }
    };
    let account_exists = viewer.is_none() && state.store.user_by_email(&inv.email).await?.is_some();
    let signed_in = viewer.map(|u| u.email.clone());
    html(InvitePage {
        b: anon_base(t, csrf, t.t("invite.title")),
        errs,
        token,
        inv,
        signed_in,
        account_exists,
        name,
    })
}

pub async fn invite_form(
    State(state): State<AppState>,
    v: Option<Viewer>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let t = v.as_ref().map(|v| v.t).unwrap_or(t);
    invite_page(
        &state,
        t,
        &csrf,
        token,
        v.as_ref().map(|v| &v.user),
        Errs::none(),
        String::new(),
    )
    .await
}

pub async fn invite_accept(
    State(state): State<AppState>,
    v: Option<Viewer>,
    VisitorLang(t): VisitorLang,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
    Form(f): Form<AccountForm>,
) -> Result<Response, AppError> {
    let user = v.as_ref().map(|v| &v.user);
    let account = if user.is_none() {
        Some(f.account(t.0))
    } else {
        None
    };
    match ws::accept(&state, &token, user, account).await {
        Ok((u, ws_id)) if user.is_none() => {
            let (tok, _, u) = accounts::login(&state, &u.email, &f.password, "invite").await?;
            Ok(signed_in(&state, &tok, &u, &format!("/w/{ws_id}")))
        }
        Ok((_, ws_id)) => Ok(see_other(&format!("/w/{ws_id}"))),
        Err(e) if e.field.is_some() && e.field != Some("token") => {
            let errs = Errs::from(t, &e);
            invite_page(&state, t, &csrf, token, user, errs, f.name).await
        }
        Err(e) if e.field == Some("token") => notice(
            t,
            &csrf,
            t.t("invite.title"),
            &t.code(e.code, None),
            Some(("/", t.t("error.back"))),
        ),
        Err(e) => Err(e),
    }
    .map(IntoResponse::into_response)
}
