//! Services: what the pages and the API do, once. Each validates its input, checks the
//! permission, writes the change and its audit entry in one transaction, and enqueues the
//! follow-up work (emails) in that same transaction.

pub mod accounts;
pub mod mailjob;
pub mod workspaces;

use relais_domain::{Code, FieldError};

/// Builds a field error (keeps service code short).
pub fn field(field: &'static str, code: Code) -> FieldError {
    FieldError::new(field, code)
}
