//! Accounts: first-start setup, sign-in (rate-limited, optional TOTP), password reset,
//! password change, TOTP enrolment, API tokens.

use relais_domain::{validate, Code, FieldError, Lang};
use relais_store::audit::{Actor, NewAudit};
use relais_store::sessions::Session;
use relais_store::users::{NewUser, User};
use relais_store::{password, StoreError};
use totp_rs::{Algorithm, Secret, TOTP};

use super::field;
use crate::i18n::Tr;
use crate::{AppError, AppState};

pub const SETUP: &str = "setup";
pub const RESET: &str = "password_reset";
const WINDOW_MS: i64 = 15 * 60 * 1000;
const TOTP_PURPOSE: &str = "user.totp";

/// On first start with no account, a one-time setup link (valid 24 h) for the owner.
pub async fn setup_link_if_needed(state: &AppState) -> Result<Option<String>, StoreError> {
    if state.store.count_users().await? > 0 {
        return Ok(None);
    }
    let mut tx = state.store.begin().await?;
    let token = state
        .store
        .create_one_time_token(&mut tx, SETUP, None, 24 * 3600 * 1000)
        .await?;
    tx.commit().await?;
    Ok(Some(state.link(&format!("/setup/{token}"))))
}

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    pub password_confirm: &'a str,
    pub lang: Option<Lang>,
}

fn validate_account(a: &NewAccount) -> Result<(String, String, String), FieldError> {
    let email = validate::email("email", a.email)?;
    let name = validate::display_name("name", a.name)?;
    let pw = validate::password_pair(
        "password",
        a.password,
        "password_confirm",
        a.password_confirm,
    )?;
    Ok((email, name, pw))
}

async fn insert_user(
    state: &AppState,
    conn: &mut relais_store::AnyConnection,
    email: &str,
    name: &str,
    pw: &str,
    lang: Option<Lang>,
    admin: bool,
) -> Result<User, AppError> {
    let hash = password::hash(pw);
    match state
        .store
        .create_user(
            conn,
            NewUser {
                email,
                name,
                password_hash: &hash,
                lang,
                is_admin: admin,
            },
        )
        .await
    {
        Err(StoreError::Conflict("email")) => Err(field("email", Code::DuplicateEmail).into()),
        r => Ok(r?),
    }
}

/// The setup page: creates the owner (instance administrator) once.
pub async fn setup_owner(
    state: &AppState,
    token: &str,
    a: NewAccount<'_>,
) -> Result<User, AppError> {
    check_token(state, SETUP, token).await?;
    let (email, name, pw) = validate_account(&a)?;
    let mut tx = state.store.begin().await?;
    if state
        .store
        .consume_one_time_token(&mut tx, SETUP, token)
        .await
        .is_err()
    {
        return Err(field("token", Code::TokenInvalid).into());
    }
    // Re-checked inside the write transaction: two setup links cannot both make an owner.
    if state.store.count_users_in(&mut tx).await? > 0 {
        return Err(field("token", Code::SetupDone).into());
    }
    let user = insert_user(state, &mut tx, &email, &name, &pw, a.lang, true).await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: None,
        actor: &actor,
        action: "instance.setup",
        target: "user",
        before: None,
        after: Some(&user.email),
    };
    super::record(state, tx, entry).await?;
    Ok(user)
}

/// For scripts (`relais admin create-user`): creates an account without a link.
pub async fn create_user(
    state: &AppState,
    a: NewAccount<'_>,
    admin: bool,
) -> Result<User, AppError> {
    let (email, name, pw) = validate_account(&a)?;
    let mut tx = state.store.begin().await?;
    let user = insert_user(state, &mut tx, &email, &name, &pw, a.lang, admin).await?;
    let actor = Actor::system("cli");
    let entry = NewAudit {
        workspace_id: None,
        actor: &actor,
        action: "user.create",
        target: "user",
        before: None,
        after: Some(&user.email),
    };
    super::record(state, tx, entry).await?;
    Ok(user)
}

async fn check_token(
    state: &AppState,
    purpose: &str,
    token: &str,
) -> Result<Option<i64>, AppError> {
    match state.store.peek_one_time_token(purpose, token).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => Err(field("token", Code::TokenInvalid).into()),
        Err(StoreError::Conflict("expired")) => Err(field("token", Code::TokenExpired).into()),
        Err(StoreError::Conflict(_)) => Err(field(
            "token",
            if purpose == SETUP {
                Code::SetupDone
            } else {
                Code::TokenInvalid
            },
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

pub async fn setup_token_valid(state: &AppState, token: &str) -> Result<(), AppError> {
    check_token(state, SETUP, token).await.map(|_| ())
}

/// Checks credentials with throttling per email and per client address. The returned session
/// still awaits its second factor when the user enabled TOTP.
pub async fn login(
    state: &AppState,
    email: &str,
    pw: &str,
    client: &str,
) -> Result<(String, Session, User), AppError> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(field("email", Code::Required).into());
    }
    let max = state.cfg.login_max_failures;
    let keys = [format!("email:{email}"), format!("ip:{client}")];
    if state.store.login_failures(&keys[0], WINDOW_MS).await? >= max
        || state.store.login_failures(&keys[1], WINDOW_MS).await? >= max * 4
    {
        return Err(field("email", Code::RateLimited).into());
    }
    let user = state.store.user_by_email(&email).await?;
    let ok = match &user {
        Some(u) => password::verify(pw, &u.password_hash),
        None => {
            password::verify(pw, password::dummy_hash());
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        state
            .store
            .record_login_failure(&[&keys[0], &keys[1]], WINDOW_MS)
            .await?;
        return Err(field("password", Code::WrongPassword).into());
    };
    state.store.clear_login_failures(&keys[0]).await?;
    let (token, session) = state
        .store
        .create_session(user.id, user.totp_enabled)
        .await?;
    Ok((token, session, user))
}

fn totp(secret: Vec<u8>, email: &str) -> Result<TOTP, AppError> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        Some("relais".into()),
        email.to_string(),
    )
    .map_err(|e| {
        tracing::error!(error = %e, "invalid TOTP secret");
        AppError::internal()
    })
}

fn code_ok(t: &TOTP, code: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    code.len() == 6 && t.check_current(&code).unwrap_or(false)
}

/// Second step of sign-in.
pub async fn verify_second_factor(
    state: &AppState,
    session: &Session,
    user: &User,
    code: &str,
) -> Result<(), AppError> {
    let key = format!("totp:{}", user.id);
    if state.store.login_failures(&key, WINDOW_MS).await? >= state.cfg.login_max_failures {
        return Err(field("code", Code::RateLimited).into());
    }
    let secret_id = user.totp_secret_id.ok_or_else(AppError::internal)?;
    let secret = state.store.get_secret(&state.keyring, secret_id).await?;
    if !code_ok(&totp(secret, &user.email)?, code) {
        state.store.record_login_failure(&[&key], WINDOW_MS).await?;
        return Err(field("code", Code::TotpInvalid).into());
    }
    state.store.clear_login_failures(&key).await?;
    state.store.complete_second_factor(session.id).await?;
    Ok(())
}

/// A fresh TOTP key (base32) and its otpauth:// URL, for the enrolment form.
pub fn new_totp_key(email: &str) -> Result<(String, String), AppError> {
    let secret = Secret::generate_secret();
    let b32 = secret.to_encoded().to_string();
    let t = totp(secret.to_bytes().map_err(|_| AppError::internal())?, email)?;
    Ok((b32, t.get_url()))
}

pub async fn enable_totp(
    state: &AppState,
    user: &User,
    key_b32: &str,
    code: &str,
) -> Result<(), AppError> {
    let bytes = Secret::Encoded(key_b32.trim().to_string())
        .to_bytes()
        .map_err(|_| field("code", Code::TotpInvalid))?;
    if !code_ok(&totp(bytes.clone(), &user.email)?, code) {
        return Err(field("code", Code::TotpInvalid).into());
    }
    let mut tx = state.store.begin().await?;
    let id = state
        .store
        .put_secret(&mut tx, &state.keyring, TOTP_PURPOSE, &bytes)
        .await?;
    state
        .store
        .set_totp_secret(&mut tx, user.id, Some(id))
        .await?;
    if let Some(old) = user.totp_secret_id {
        state.store.delete_secret(&mut tx, old).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn disable_totp(
    state: &AppState,
    user: &User,
    current_password: &str,
) -> Result<(), AppError> {
    if !password::verify(current_password, &user.password_hash) {
        return Err(field("current_password", Code::WrongPassword).into());
    }
    let mut tx = state.store.begin().await?;
    state.store.set_totp_secret(&mut tx, user.id, None).await?;
    if let Some(old) = user.totp_secret_id {
        state.store.delete_secret(&mut tx, old).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Sends a reset link when the address has an account; says nothing either way.
pub async fn request_reset(state: &AppState, email: &str, t: Tr) -> Result<(), AppError> {
    let email = validate::email("email", email)?;
    let Some(user) = state.store.user_by_email(&email).await? else {
        return Ok(());
    };
    let t = user.lang.map(Tr).unwrap_or(t);
    let mut tx = state.store.begin().await?;
    let token = state
        .store
        .create_one_time_token(&mut tx, RESET, Some(user.id), 3600 * 1000)
        .await?;
    let body = t
        .t("mail.reset_body")
        .replace("{link}", &state.link(&format!("/reset/{token}")));
    super::mailjob::enqueue(
        state,
        &mut tx,
        &user.email,
        t.t("mail.reset_subject"),
        &body,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    wake(state);
    Ok(())
}

pub async fn reset_token_valid(state: &AppState, token: &str) -> Result<(), AppError> {
    check_token(state, RESET, token).await.map(|_| ())
}

pub async fn reset_password(
    state: &AppState,
    token: &str,
    pw: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let user_id = check_token(state, RESET, token)
        .await?
        .ok_or_else(|| AppError::from(field("token", Code::TokenInvalid)))?;
    let pw = validate::password_pair("password", pw, "password_confirm", confirm)?;
    let user = state.store.user_by_id(user_id).await?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .consume_one_time_token(&mut tx, RESET, token)
        .await
        .map_err(|_| field("token", Code::TokenInvalid))?;
    state
        .store
        .set_password_hash(&mut tx, user_id, &password::hash(&pw))
        .await?;
    state
        .store
        .delete_user_sessions(&mut tx, user_id, None)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: None,
        actor: &actor,
        action: "user.password_reset",
        target: "user",
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await?;
    state
        .store
        .clear_login_failures(&format!("email:{}", user.email))
        .await?;
    Ok(())
}

pub async fn change_password(
    state: &AppState,
    user: &User,
    keep: i64,
    current: &str,
    pw: &str,
    confirm: &str,
) -> Result<(), AppError> {
    if !password::verify(current, &user.password_hash) {
        return Err(field("current_password", Code::WrongPassword).into());
    }
    let pw = validate::password_pair("password", pw, "password_confirm", confirm)?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .set_password_hash(&mut tx, user.id, &password::hash(&pw))
        .await?;
    state
        .store
        .delete_user_sessions(&mut tx, user.id, Some(keep))
        .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

pub async fn update_profile(
    state: &AppState,
    user: &User,
    name: &str,
    lang: &str,
) -> Result<Option<Lang>, AppError> {
    let name = validate::display_name("name", name)?;
    let lang = if lang.is_empty() {
        None
    } else {
        Some(validate::lang("lang", lang)?)
    };
    state.store.update_profile(user.id, &name, lang).await?;
    Ok(lang)
}

pub async fn create_api_token(
    state: &AppState,
    user: &User,
    name: &str,
) -> Result<(String, relais_store::tokens::ApiToken), AppError> {
    let name = validate::token_name("name", name)?;
    Ok(state.store.create_api_token(user.id, &name).await?)
}

pub fn wake(state: &AppState) {
    if let Some(w) = &state.worker_wake {
        w.notify_one();
    }
}

/// The otpauth:// URL of a key being enrolled (shown again after a wrong code).
pub fn totp_url(key_b32: &str, email: &str) -> Result<String, AppError> {
    let bytes = Secret::Encoded(key_b32.trim().to_string())
        .to_bytes()
        .map_err(|_| field("code", Code::TotpInvalid))?;
    Ok(totp(bytes, email)?.get_url())
}
