//! Email goes out through the job queue: enqueued with the change that causes it (so an
//! invitation never exists without its email, nor the reverse), retried when the SMTP server
//! fails. The body holds links that act as passwords, so it is sealed with the master key.

use relais_store::jobs::NewJob;
use relais_store::worker::{JobError, Registry};

use crate::{AppError, AppState};

pub const KIND: &str = "mail.send";
const PURPOSE: &str = "job.mail";

pub async fn enqueue(
    state: &AppState,
    conn: &mut relais_store::AnyConnection,
    to: &str,
    subject: &str,
    text: &str,
) -> Result<(), AppError> {
    let (kid, sealed) = state.keyring.seal(PURPOSE, text.as_bytes());
    let payload =
        serde_json::json!({ "to": to, "subject": subject, "key_id": kid, "sealed": sealed });
    state
        .store
        .enqueue(
            conn,
            &NewJob {
                max_attempts: 10,
                ..NewJob::now(KIND, payload)
            },
        )
        .await?;
    Ok(())
}

pub fn register(registry: &mut Registry, state: AppState) {
    registry.register(KIND, move |_store, job, _worker| {
        let state = state.clone();
        Box::pin(async move {
            let get = |k: &str| {
                job.payload
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let text = state
                .keyring
                .open(&get("key_id"), PURPOSE, &get("sealed"))
                .map_err(|e| JobError::Permanent(e.to_string()))?;
            let text = String::from_utf8_lossy(&text);
            state
                .mailer
                .send(&get("to"), &get("subject"), &text)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))
        })
    });
}
