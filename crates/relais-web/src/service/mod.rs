//! Services: what the pages and the API do, once. Each validates its input, checks the
//! permission, writes the change and its audit entry in one transaction, and enqueues the
//! follow-up work (emails) in that same transaction.

pub mod accounts;
pub mod alerts;
pub mod approval_expiry;
pub mod approvals;
pub mod blog;
pub mod calendar;
pub mod channels;
pub mod checks;
pub mod compose;
pub mod crisis;
pub mod drafts;
pub mod freeze;
pub mod import;
pub mod links;
pub mod listening;
pub mod live;
pub mod mailjob;
pub mod media;
pub mod mentions;
pub mod newsletter;
pub mod notify;
pub mod preview;
pub mod review_links;
pub mod workspaces;

use relais_domain::{Code, FieldError};

/// Builds a field error (keeps service code short).
pub fn field(field: &'static str, code: Code) -> FieldError {
    FieldError::new(field, code)
}

/// Writes the audit entry in the change's transaction and commits both: a change never lands
/// without its record, nor the reverse.
pub async fn record(
    state: &crate::AppState,
    mut tx: relais_store::Tx,
    entry: relais_store::audit::NewAudit<'_>,
) -> Result<(), crate::AppError> {
    state.store.audit(&mut tx, entry).await?;
    tx.commit().await.map_err(relais_store::StoreError::from)?;
    Ok(())
}
