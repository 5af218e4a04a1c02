//! The signed-in user's own pages: profile (language, password, TOTP), API tokens, and the
//! administrator's job queue page.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::Response;
use axum::{Extension, Form};

use super::{base, html, see_other};
use crate::auth::{set_cookie, Viewer};
use crate::csrf::CsrfToken;
use crate::i18n::LANG_COOKIE;
use crate::service::accounts;
use crate::view::{Errs, JobsPage, ProfilePage, TokensPage};
use crate::{AppError, AppState};

async fn profile_page(
    state: &AppState,
    v: &Viewer,
    csrf: &CsrfToken,
    errs: Errs,
    flash: Option<&str>,
    totp_new: Option<(String, String)>,
) -> Result<Response, AppError> {
    let mut b = base(state, v, csrf, v.t.t("profile.title"), None).await?;
    b.flash = flash.map(str::to_string);
    let u = &v.user;
    html(ProfilePage {
        b,
        errs,
        name: u.name.clone(),
        email: u.email.clone(),
        lang: u.lang.map(|l| l.as_str().to_string()).unwrap_or_default(),
        totp_enabled: u.totp_enabled,
        totp_new,
    })
}

/// Shows the profile again with the outcome of a form.
async fn profile_outcome(
    state: &AppState,
    v: &Viewer,
    csrf: &CsrfToken,
    r: Result<(), AppError>,
    ok: &str,
) -> Result<Response, AppError> {
    match r {
        Ok(()) => {
            let v = Viewer {
                user: state.store.user_by_id(v.user.id).await?,
                session: v.session.clone(),
                t: v.t,
            };
            profile_page(state, &v, csrf, Errs::none(), Some(v.t.t(ok)), None).await
        }
        Err(e) if e.field.is_some() => {
            let mut res = profile_page(state, v, csrf, Errs::from(v.t, &e), None, None).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub async fn profile(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    profile_page(&state, &v, &csrf, Errs::none(), None, None).await
}

#[derive(serde::Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    lang: String,
}

pub async fn profile_save(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<ProfileForm>,
) -> Result<Response, AppError> {
    match accounts::update_profile(&state, &v.user, &f.name, &f.lang).await {
        Ok(lang) => {
            let mut res = see_other("/profile");
            // The language cookie follows the preference; "browser language" clears it.
            let cookie = match lang {
                Some(l) => set_cookie(
                    LANG_COOKIE,
                    l.as_str(),
                    365 * 24 * 3600,
                    state.cfg.secure_cookies,
                ),
                None => set_cookie(LANG_COOKIE, "", 0, state.cfg.secure_cookies),
            };
            res.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(e) => profile_outcome(&state, &v, &csrf, Err(e), "").await,
    }
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn password(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let r = accounts::change_password(
        &state,
        &v.user,
        v.session.id,
        &f.current_password,
        &f.password,
        &f.password_confirm,
    )
    .await;
    profile_outcome(&state, &v, &csrf, r, "profile.password_changed").await
}

pub async fn totp_start(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let new = accounts::new_totp_key(&v.user.email)?;
    profile_page(&state, &v, &csrf, Errs::none(), None, Some(new)).await
}

#[derive(serde::Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    code: String,
}

pub async fn totp_enable(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<TotpForm>,
) -> Result<Response, AppError> {
    match accounts::enable_totp(&state, &v.user, &f.key, &f.code).await {
        Ok(()) => profile_outcome(&state, &v, &csrf, Ok(()), "profile.totp_on").await,
        Err(e) if e.field.is_some() => {
            // Keep the same key on screen so the user can try the next code.
            let url = accounts::totp_url(&f.key, &v.user.email)?;
            let mut res = profile_page(
                &state,
                &v,
                &csrf,
                Errs::from(v.t, &e),
                None,
                Some((f.key, url)),
            )
            .await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct CurrentForm {
    #[serde(default)]
    current_password: String,
}

pub async fn totp_disable(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<CurrentForm>,
) -> Result<Response, AppError> {
    let r = accounts::disable_totp(&state, &v.user, &f.current_password).await;
    profile_outcome(&state, &v, &csrf, r, "profile.totp_off").await
}

async fn tokens_page(
    state: &AppState,
    v: &Viewer,
    csrf: &CsrfToken,
    errs: Errs,
    created: Option<String>,
) -> Result<Response, AppError> {
    let b = base(state, v, csrf, v.t.t("tokens.title"), None).await?;
    let tokens = state.store.list_api_tokens(v.user.id).await?;
    html(TokensPage {
        b,
        errs,
        tokens,
        created,
        tz: user_tz(state, v).await,
    })
}

/// Times on personal pages use the zone of the user's first workspace (UTC without one).
async fn user_tz(state: &AppState, v: &Viewer) -> String {
    state
        .store
        .memberships(v.user.id)
        .await
        .ok()
        .and_then(|m| m.into_iter().next())
        .map(|m| m.workspace.time_zone)
        .unwrap_or_else(|| "UTC".into())
}

pub async fn tokens(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    tokens_page(&state, &v, &csrf, Errs::none(), None).await
}

#[derive(serde::Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn token_create(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<NameForm>,
) -> Result<Response, AppError> {
    match accounts::create_api_token(&state, &v.user, &f.name).await {
        Ok((clear, _)) => tokens_page(&state, &v, &csrf, Errs::none(), Some(clear)).await,
        Err(e) if e.field.is_some() => {
            tokens_page(&state, &v, &csrf, Errs::from(v.t, &e), None).await
        }
        Err(e) => Err(e),
    }
}

pub async fn token_revoke(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    state.store.revoke_api_token(v.user.id, id).await?;
    Ok(see_other("/tokens"))
}

fn admin(v: &Viewer) -> Result<(), AppError> {
    // Non-admins get 404: the page does not exist for them.
    if v.user.is_admin {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

pub async fn jobs(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    admin(&v)?;
    let b = base(&state, &v, &csrf, v.t.t("jobs.title"), None).await?;
    let stats = state.store.queue_stats().await?;
    let dead = state.store.list_jobs("dead", 200).await?;
    html(JobsPage {
        b,
        stats,
        dead,
        tz: user_tz(&state, &v).await,
    })
}

pub async fn job_retry(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    admin(&v)?;
    state.store.retry_dead_job(id).await?;
    accounts::wake(&state);
    Ok(see_other("/admin/jobs"))
}

/// The user's notifications, newest first; opening the page marks them read.
pub async fn notifications(
    State(state): State<AppState>,
    v: Viewer,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let tz = user_tz(&state, &v).await;
    let items = state
        .store
        .notifications(v.user.id, 100)
        .await?
        .into_iter()
        .map(|n| {
            let when = v.t.datetime(n.created_at, &tz);
            (n, when)
        })
        .collect();
    let b = base(&state, &v, &csrf, v.t.t("notify.title"), None).await?;
    state.store.mark_notifications_read(v.user.id).await?;
    html(crate::view::NotificationsPage { b, items })
}
