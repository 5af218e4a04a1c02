//! The public side: subscribe (double opt-in), confirm, unsubscribe. Nothing here says whether
//! an address is on a list: every subscribe request gets the same answer, and an unknown or
//! wrong token is a plain 404.

use std::time::Duration;

use relais_domain::{validate, Lang};
use relais_publish::newsletter::{FailureKind, NewsletterMessage};
use relais_store::jobs::NewJob;
use relais_store::newsletter::{
    Confirmation, Confirmed, NewsletterList, SubState, Subscriber, UnsubToken,
};
use relais_store::worker::{JobError, Registry};
use relais_store::{hash_token, now, random_token, StoreError};

use super::{list_key, new_unsub, smtp, too_many, unsub_token, unsubscribe_url};
use crate::i18n::Tr;
use crate::{AppError, AppState};

pub const CONFIRM_JOB: &str = "newsletter.confirm";
const CONFIRM_PURPOSE: &str = "job.newsletter_confirm";
/// How long a confirmation link works.
pub const CONFIRM_TTL_MS: i64 = 48 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;
/// Subscribe requests per client address per hour, and confirmation mails per address per hour.
const PER_CLIENT: i64 = 20;
const PER_ADDRESS: i64 = 3;

#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct SubscribeForm {
    pub email: String,
    pub name: String,
    /// Honeypot: hidden from people, filled by bots.
    pub website: String,
}

/// The list behind a public page, if it accepts subscriptions (its workspace has a mail server).
pub async fn open_list(state: &AppState, public_id: &str) -> Result<NewsletterList, AppError> {
    let list = state.store.newsletter_list_public(public_id).await?;
    if state
        .store
        .newsletter_settings(list.workspace_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found());
    }
    Ok(list)
}

/// A subscribe request from the public form. The answer is the same whether the address is new,
/// pending or already confirmed.
pub async fn subscribe(
    state: &AppState,
    public_id: &str,
    f: &SubscribeForm,
    client: &str,
    lang: Lang,
) -> Result<(), AppError> {
    let list = open_list(state, public_id).await?;
    if !f.website.trim().is_empty() {
        tracing::info!(
            list = list.id,
            "newsletter subscribe honeypot filled: ignored"
        );
        return Ok(());
    }
    let email = validate::email("email", &f.email)?;
    let name = f.name.trim();
    let name = if name.is_empty() {
        None
    } else {
        Some(validate::display_name("name", name)?)
    };
    let by_client = state
        .store
        .record_login_failure(&[&format!("nl-sub:{client}")], HOUR_MS)
        .await?;
    if by_client > PER_CLIENT {
        return Err(too_many("email"));
    }
    let by_address = state
        .store
        .record_login_failure(&[&format!("nl-sub:{}:{email}", list.id)], HOUR_MS)
        .await?;
    if by_address > PER_ADDRESS {
        return Err(too_many("email"));
    }
    let key = list_key(state, &list).await?;
    let mut tx = state.store.begin().await?;
    let existing = state
        .store
        .subscriber_by_email(&mut tx, list.id, &email)
        .await?;
    let token = random_token(32);
    let hash = hash_token(&token);
    let confirm = Confirmation {
        hash: &hash,
        expires_at: now() + CONFIRM_TTL_MS,
    };
    let id = match existing {
        Some(s) if s.state == SubState::Confirmed => None,
        Some(s) => {
            state
                .store
                .renew_confirmation(&mut tx, s.id, confirm)
                .await?;
            Some(s.id)
        }
        None => {
            let (nonce, uhash) = new_unsub(&key);
            let unsub = UnsubToken {
                nonce: &nonce,
                hash: &uhash,
            };
            let s = state
                .store
                .insert_subscriber(
                    &mut tx,
                    &list,
                    &email,
                    name.as_deref(),
                    unsub,
                    Some(confirm),
                )
                .await?;
            Some(s.id)
        }
    };
    if let Some(id) = id {
        enqueue_confirmation(state, &mut tx, id, &token, lang).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    crate::service::accounts::wake(state);
    Ok(())
}

/// Queues the confirmation mail in the caller's transaction; the token is sealed in the job.
pub async fn enqueue_confirmation(
    state: &AppState,
    conn: &mut relais_store::AnyConnection,
    subscriber_id: i64,
    token: &str,
    lang: Lang,
) -> Result<(), AppError> {
    let (kid, sealed) = state.keyring.seal(CONFIRM_PURPOSE, token.as_bytes());
    let payload = serde_json::json!({
        "subscriber_id": subscriber_id, "lang": lang.as_str(), "key_id": kid, "sealed": sealed,
    });
    state
        .store
        .enqueue(
            conn,
            &NewJob {
                max_attempts: 10,
                ..NewJob::now(CONFIRM_JOB, payload)
            },
        )
        .await?;
    Ok(())
}

pub fn register(registry: &mut Registry, state: AppState) {
    registry.register(CONFIRM_JOB, move |_store, job, _worker| {
        let state = state.clone();
        Box::pin(async move { send_confirmation(&state, &job.payload).await })
    });
}

async fn send_confirmation(state: &AppState, p: &serde_json::Value) -> Result<(), JobError> {
    let retry = |e: StoreError| JobError::Retry(e.to_string());
    let get = |k: &str| p[k].as_str().unwrap_or("").to_string();
    let sub = match state
        .store
        .subscriber(p["subscriber_id"].as_i64().unwrap_or(0))
        .await
    {
        Ok(s) => s,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(retry(e)),
    };
    if sub.state != SubState::Pending {
        return Ok(()); // confirmed or unsubscribed meanwhile: nothing to ask
    }
    let token = state
        .keyring
        .open(&get("key_id"), CONFIRM_PURPOSE, &get("sealed"))
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    let token = String::from_utf8_lossy(&token).into_owned();
    let list = state
        .store
        .newsletter_list_by_id(sub.list_id)
        .await
        .map_err(retry)?;
    let ws = state
        .store
        .workspace(list.workspace_id)
        .await
        .map_err(retry)?;
    let settings = state
        .store
        .newsletter_settings(list.workspace_id)
        .await
        .map_err(retry)?
        .ok_or_else(|| JobError::Retry("the newsletter has no mail server yet".into()))?;
    let key = list_key(state, &list).await.map_err(retry)?;
    let t = Tr(Lang::parse(&get("lang")).unwrap_or(ws.lang));
    let link = state.link(&format!("/nl/confirm/{token}"));
    let fill = |s: &str| {
        s.replace("{list}", &list.name)
            .replace("{ws}", &ws.name)
            .replace("{link}", &link)
    };
    let text = fill(t.t("nl.mail.confirm_body"));
    let html = format!(
        "<p>{}</p><p><a href=\"{}\">{}</a></p>",
        super::render::escape(&fill(t.t("nl.mail.confirm_lead"))),
        super::render::escape(&link),
        super::render::escape(t.t("nl.confirm.button")),
    );
    let msg = NewsletterMessage {
        from: settings.from_address.clone(),
        to: sub.email.clone(),
        subject: fill(t.t("nl.mail.confirm_subject")),
        html,
        text,
        unsubscribe_url: unsubscribe_url(state, &unsub_token(&key, &sub.unsub_nonce)),
        list_id: None,
    };
    let sender = smtp::open(state, &settings, Duration::from_secs(30))
        .await
        .map_err(|e| JobError::Retry(e.message))?;
    match sender.deliver(&msg).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind, FailureKind::Rejected | FailureKind::Invalid) => {
            Err(JobError::Permanent(e.message))
        }
        Err(e) => Err(JobError::Retry(e.message)),
    }
}

/// What a confirmation link leads to.
pub enum ConfirmPage {
    /// Valid and pending: show the button.
    Ask(Subscriber, NewsletterList),
    Done(Subscriber, NewsletterList),
    Expired(NewsletterList),
}

/// Looks at a confirmation token without changing anything (GET: mail scanners open links).
pub async fn peek_confirmation(state: &AppState, token: &str) -> Result<ConfirmPage, AppError> {
    let token = super::token_shape(token)?;
    let (sub, exp) = state
        .store
        .subscriber_by_confirm_hash(&hash_token(token))
        .await?;
    let list = state.store.newsletter_list_by_id(sub.list_id).await?;
    Ok(match sub.state {
        SubState::Confirmed => ConfirmPage::Done(sub, list),
        SubState::Pending if exp > now() => ConfirmPage::Ask(sub, list),
        SubState::Pending => ConfirmPage::Expired(list),
        _ => return Err(AppError::not_found()),
    })
}

/// Confirms (POST from the page's button).
pub async fn confirm(state: &AppState, token: &str) -> Result<ConfirmPage, AppError> {
    let token = super::token_shape(token)?;
    let out = state.store.confirm_subscriber(&hash_token(token)).await?;
    Ok(match out {
        Confirmed::Done(s) => {
            let list = state.store.newsletter_list_by_id(s.list_id).await?;
            ConfirmPage::Done(s, list)
        }
        Confirmed::Expired(s) => {
            ConfirmPage::Expired(state.store.newsletter_list_by_id(s.list_id).await?)
        }
    })
}

/// The subscriber and list an unsubscribe token belongs to (404 otherwise).
pub async fn peek_unsubscribe(
    state: &AppState,
    token: &str,
) -> Result<(Subscriber, NewsletterList), AppError> {
    let token = super::token_shape(token)?;
    let sub = state
        .store
        .subscriber_by_unsub_hash(&hash_token(token))
        .await?;
    let list = state.store.newsletter_list_by_id(sub.list_id).await?;
    Ok((sub, list))
}

/// Unsubscribes: the browser's button and RFC 8058 one-click POSTs from mail clients alike. The
/// unguessable token is the authentication (no cookie, no CSRF token: a mail client has none).
pub async fn unsubscribe(
    state: &AppState,
    token: &str,
) -> Result<(Subscriber, NewsletterList), AppError> {
    let token = super::token_shape(token)?;
    let sub = state.store.unsubscribe(&hash_token(token)).await?;
    let list = state.store.newsletter_list_by_id(sub.list_id).await?;
    tracing::info!(
        list = list.id,
        subscriber = sub.id,
        "newsletter unsubscribe"
    );
    Ok((sub, list))
}
