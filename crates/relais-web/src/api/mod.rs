//! The JSON API, `/api/v1`: everything the pages do, for scripts and integrations.
//! Bearer-token authentication; errors are `{code, message, field}` with stable codes.

mod routes;

use axum::extract::{FromRequest, Request};
use axum::routing::{get, patch, post};
use axum::Router;
use relais_domain::Code;
use relais_store::audit::AuditEntry;

use crate::{AppError, AppState};

pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router() -> Router<AppState> {
    use routes::*;
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/workspaces", get(list_workspaces).post(create_workspace))
        .route(
            "/workspaces/{ws}",
            get(get_workspace).patch(update_workspace),
        )
        .route("/workspaces/{ws}/archive", post(archive))
        .route("/workspaces/{ws}/unarchive", post(unarchive))
        .route("/workspaces/{ws}/members", get(list_members))
        .route(
            "/workspaces/{ws}/members/{uid}",
            patch(change_role).delete(remove_member),
        )
        .route(
            "/workspaces/{ws}/invitations",
            get(list_invitations).post(invite),
        )
        .route(
            "/workspaces/{ws}/invitations/{id}",
            axum::routing::delete(revoke_invitation),
        )
        .route("/workspaces/{ws}/audit", get(audit))
        .route("/workspaces/{ws}/posts", get(list_posts).post(create_post))
        .route("/workspaces/{ws}/posts/import", post(import_posts))
        .route("/workspaces/{ws}/approvals/{post}", post(decide))
        .route("/workspaces/{ws}/channels", get(list_channels))
        .route("/workspaces/{ws}/freeze", get(get_freeze).post(freeze))
        .route("/workspaces/{ws}/unfreeze", post(unfreeze))
        .route(
            "/workspaces/{ws}/charter",
            get(get_charter).put(put_charter),
        )
        .route("/workspaces/{ws}/checks", post(checks))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/admin/jobs", get(list_jobs))
        .route("/admin/jobs/{id}/retry", post(retry_job))
        .fallback(|| async { AppError::not_found() })
}

/// JSON body whose rejection is our error shape (field `body`).
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                tracing::debug!(error = %e, "bad JSON body");
                Err(AppError::bad_request("request", Code::BadRequest))
            }
        }
    }
}

fn csv_field(s: &str) -> String {
    // Quote always; neutralise spreadsheet formulas (CSV injection).
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The audit log as CSV (UTC instants in RFC 3339).
pub fn audit_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("at,actor,action,target,before,after\n");
    for e in entries {
        let at = chrono::DateTime::from_timestamp_millis(e.at)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        let row = [
            at.as_str(),
            &e.actor,
            &e.action,
            &e.target,
            e.before.as_deref().unwrap_or(""),
            e.after.as_deref().unwrap_or(""),
        ];
        out.push_str(
            &row.iter()
                .map(|v| csv_field(v))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(super::csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(super::csv_field("=1+1"), "\"'=1+1\"");
    }

    #[test]
    fn openapi_is_json_and_lists_every_route() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/me",
            "/workspaces",
            "/workspaces/{ws}",
            "/workspaces/{ws}/archive",
            "/workspaces/{ws}/unarchive",
            "/workspaces/{ws}/members",
            "/workspaces/{ws}/members/{uid}",
            "/workspaces/{ws}/invitations",
            "/workspaces/{ws}/invitations/{id}",
            "/workspaces/{ws}/audit",
            "/tokens",
            "/tokens/{id}",
            "/admin/jobs",
            "/admin/jobs/{id}/retry",
            "/workspaces/{ws}/charter",
            "/workspaces/{ws}/checks",
            "/workspaces/{ws}/freeze",
            "/workspaces/{ws}/posts",
            "/workspaces/{ws}/posts/import",
            "/workspaces/{ws}/approvals/{post}",
            "/workspaces/{ws}/channels",
            "/workspaces/{ws}/unfreeze",
        ] {
            assert!(paths.contains_key(p), "{p} missing from openapi.json");
        }
    }
}
