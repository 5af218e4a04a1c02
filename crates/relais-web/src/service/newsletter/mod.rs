//! Newsletter by email: SMTP settings (checked by connecting, password sealed), subscriber lists
//! with double opt-in ([`subscribe`]), CSV import/export ([`import`]), issues sent through the
//! job queue at most once per recipient ([`send`]). See docs/newsletter.md.

pub mod import;
pub mod render;
pub mod send;
pub mod smtp;
pub mod subscribe;

use std::time::Duration;

use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use relais_domain::{validate, Code, Permission};
use relais_publish::newsletter::FailureKind;
use relais_store::audit::{Actor, NewAudit};
use relais_store::newsletter::{NewSettings, NewsletterList};
use relais_store::users::User;
use relais_store::workspaces::Membership;
use relais_store::StoreError;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// The newsletter's job handlers: confirmation mails and issues.
pub fn register(registry: &mut relais_store::worker::Registry, state: AppState) {
    subscribe::register(registry, state.clone());
    send::register(registry, state);
}

/// Purpose the per-list HMAC key (unsubscribe tokens) is sealed for.
pub const LIST_KEY_PURPOSE: &str = "newsletter.list_key";
/// How long the settings check may take to connect, greet and authenticate.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The SMTP settings form (`Debug` never prints the password).
#[derive(Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    pub smtp_host: String,
    pub smtp_port: String,
    pub smtp_security: String,
    pub smtp_username: String,
    /// Empty keeps the stored password.
    pub smtp_password: String,
    pub from_address: String,
    pub bounce_limit: String,
}

impl std::fmt::Debug for SettingsForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsForm")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &"***")
            .finish_non_exhaustive()
    }
}

fn err(field_name: &'static str, code: Code) -> AppError {
    AppError::from(field(field_name, code))
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
}

/// Checks the settings by opening a session with the server (through a timeout), then stores
/// them with the password sealed, and an audit entry, in one transaction. Nothing is stored
/// when the server cannot be reached or refuses the credentials.
pub async fn save_settings(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: &SettingsForm,
) -> Result<(), AppError> {
    require(m, Permission::ManageChannels)?;
    let ws = m.workspace.id;
    let host = f.smtp_host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return Err(err("smtp_host", Code::Required));
    }
    if !valid_host(&host) {
        return Err(err("smtp_host", Code::InvalidValue));
    }
    let port: u16 = match f.smtp_port.trim().parse() {
        Ok(p) if p > 0 => p,
        _ => return Err(err("smtp_port", Code::InvalidValue)),
    };
    let security = f.smtp_security.trim();
    let sec =
        smtp::security_of(security).ok_or_else(|| err("smtp_security", Code::InvalidValue))?;
    let username = f.smtp_username.trim();
    if username.chars().count() > 200 || username.chars().any(char::is_control) {
        return Err(err("smtp_username", Code::InvalidValue));
    }
    let from = f.from_address.trim();
    if from.is_empty() {
        return Err(err("from_address", Code::Required));
    }
    if from.parse::<lettre::message::Mailbox>().is_err() || from.chars().any(char::is_control) {
        return Err(err("from_address", Code::InvalidEmail));
    }
    let bounce_limit: i64 = match f.bounce_limit.trim() {
        "" => 2,
        v => match v.parse() {
            Ok(n) if (1..=20).contains(&n) => n,
            _ => return Err(err("bounce_limit", Code::InvalidValue)),
        },
    };
    let existing = state.store.newsletter_settings(ws).await?;
    // The stored password is kept only for the same server: otherwise someone could point the
    // settings at their own server and receive it.
    let password = match (f.smtp_password.as_str(), &existing) {
        _ if username.is_empty() => None,
        ("", Some(s)) if s.host == host && s.port == port => match s.secret_id {
            Some(id) => Some(
                String::from_utf8_lossy(&state.store.get_secret(&state.keyring, id).await?)
                    .into_owned(),
            ),
            None => None,
        },
        ("", _) => None,
        (p, _) => Some(p.to_string()),
    };
    if !username.is_empty() && password.is_none() {
        return Err(err("smtp_password", Code::Required));
    }
    let addr = smtp::resolve(&host, port, state.net.policy())
        .await
        .map_err(|e| match e {
            smtp::HostError::Unresolved(m) => {
                err("smtp_host", Code::SmtpUnreachable).with_detail(m)
            }
            smtp::HostError::Refused(m) => err("smtp_host", Code::UrlRefused).with_detail(m),
        })?;
    // A password in clear over the Internet: only to a relay the administrator allow-listed.
    if sec == relais_publish::newsletter::SmtpSecurity::Plain && !relais_net::is_forbidden(addr) {
        return Err(err("smtp_security", Code::InvalidValue)
            .with_detail("plain SMTP only to a local relay: choose STARTTLS or TLS"));
    }
    let server = smtp::Server {
        host: host.clone(),
        port,
        security: sec,
        username: (!username.is_empty()).then(|| username.to_string()),
        password: password.clone(),
        timeout: CHECK_TIMEOUT,
    };
    let check = async { server.sender(addr)?.check().await };
    match tokio::time::timeout(CHECK_TIMEOUT + Duration::from_secs(2), check).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.kind == FailureKind::Auth => {
            return Err(err("smtp_password", Code::SmtpRefused).with_detail(e.message))
        }
        Ok(Err(e)) => return Err(err("smtp_host", Code::SmtpUnreachable).with_detail(e.message)),
        Err(_) => {
            return Err(err("smtp_host", Code::SmtpUnreachable).with_detail(format!(
                "no answer from {host}:{port} within {}s",
                CHECK_TIMEOUT.as_secs()
            )))
        }
    }
    let mut tx = state.store.begin().await?;
    let secret_id = match &password {
        Some(p) => Some(
            state
                .store
                .put_secret(
                    &mut tx,
                    &state.keyring,
                    smtp::PASSWORD_PURPOSE,
                    p.as_bytes(),
                )
                .await?,
        ),
        None => None,
    };
    state
        .store
        .put_newsletter_settings(
            &mut tx,
            NewSettings {
                workspace_id: ws,
                host: &host,
                port,
                security,
                username: (!username.is_empty()).then_some(username),
                secret_id,
                from_address: from,
                bounce_limit,
                updated_by: user.id,
            },
        )
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let after = format!("{host}:{port} {security} from {from}");
    let entry = NewAudit {
        workspace_id: Some(ws),
        actor: &actor,
        action: "newsletter.settings",
        target: "newsletter",
        before: None,
        after: Some(&after),
    };
    super::record(state, tx, entry).await
}

/// Creates a list with its own sealed key for unsubscribe links.
pub async fn create_list(
    state: &AppState,
    user: &User,
    m: &Membership,
    name: &str,
) -> Result<i64, AppError> {
    require(m, Permission::ManageChannels)?;
    let name = validate::display_name("list_name", name)?;
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let mut tx = state.store.begin().await?;
    let key_id = state
        .store
        .put_secret(&mut tx, &state.keyring, LIST_KEY_PURPOSE, &key)
        .await?;
    let list = state
        .store
        .create_newsletter_list(&mut tx, m.workspace.id, &name, key_id, user.id)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "newsletter.list_created",
        target: &format!("list:{}", list.id),
        before: None,
        after: Some(&name),
    };
    super::record(state, tx, entry).await?;
    Ok(list.id)
}

/// The list's HMAC key.
pub async fn list_key(state: &AppState, list: &NewsletterList) -> Result<Vec<u8>, StoreError> {
    state
        .store
        .get_secret(&state.keyring, list.key_secret_id)
        .await
}

/// The unsubscribe token of a subscriber: HMAC of its nonce under the list key. Only its hash
/// is stored; the sender rebuilds it for every issue.
pub fn unsub_token(key: &[u8], nonce: &str) -> String {
    use base64::Engine;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"newsletter.unsubscribe:");
    mac.update(nonce.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A fresh (nonce, token hash) for a new subscriber.
pub fn new_unsub(key: &[u8]) -> (String, String) {
    let nonce = relais_store::random_token(16);
    let hash = relais_store::hash_token(&unsub_token(key, &nonce));
    (nonce, hash)
}

pub fn unsubscribe_url(state: &AppState, token: &str) -> String {
    state.link(&format!("/nl/u/{token}"))
}

/// A token from a URL: base64url of the expected size, or 404 before any lookup.
pub fn token_shape(token: &str) -> Result<&str, AppError> {
    if (20..=64).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(token)
    } else {
        Err(AppError::not_found())
    }
}

/// 429 on a field (the form shows it beside the field).
pub fn too_many(field_name: &'static str) -> AppError {
    AppError {
        status: StatusCode::TOO_MANY_REQUESTS,
        ..err(field_name, Code::TooManyRequests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_tokens_depend_on_key_and_nonce() {
        let a = unsub_token(b"key-one", "n1");
        assert_eq!(a, unsub_token(b"key-one", "n1"));
        assert_ne!(a, unsub_token(b"key-two", "n1"));
        assert_ne!(a, unsub_token(b"key-one", "n2"));
        assert_eq!(a.len(), 43);
        assert!(token_shape(&a).is_ok());
        assert!(token_shape("../etc").is_err());
        assert!(valid_host("smtp.example.org") && valid_host("::1"));
        assert!(!valid_host("smtp example") && !valid_host("a/b"));
    }
}
