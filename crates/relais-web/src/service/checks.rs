//! Pre-publication checks (relais-guard) with the workspace's charter: for the composer, the
//! JSON API and the publisher.

use relais_domain::{Code, Lang, Permission};
use relais_guard::{Charter, CheckContext, Report, UiLang};
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// Longest text the checks accept (100 KB): more is not a post.
pub const MAX_TEXT: usize = 100 * 1024;

pub fn ui_lang(l: Lang) -> UiLang {
    match l {
        Lang::En => UiLang::En,
        Lang::Fr => UiLang::Fr,
    }
}

/// The stored charter of a workspace, or the empty one.
pub async fn charter(state: &AppState, workspace_id: i64) -> Result<Charter, AppError> {
    match state.store.charter(workspace_id).await? {
        Some(body) => serde_json::from_str(&body).map_err(|e| {
            tracing::error!(workspace_id, error = %e, "stored charter no longer parses");
            AppError::internal()
        }),
        None => Ok(Charter::default()),
    }
}

/// Checks `text` in `lang` for `channel` with the workspace's charter.
pub async fn check(
    state: &AppState,
    m: &Membership,
    text: &str,
    lang: &str,
    channel: Option<&str>,
    ui: Lang,
) -> Result<Report, AppError> {
    if text.len() > MAX_TEXT {
        return Err(field("text", Code::TooLong).into());
    }
    let lang = match lang.trim() {
        "" => m.workspace.lang.as_str(),
        l @ ("fr" | "en") => l,
        _ => return Err(field("lang", Code::InvalidLang).into()),
    };
    let charter = charter(state, m.workspace.id).await?;
    let mut ctx = CheckContext::new(lang).with_ui_lang(ui_lang(ui));
    if let Some(c) = channel.filter(|c| !c.is_empty()) {
        ctx = ctx.with_channel(c);
    }
    let ctx = ctx.with_charter(&charter).map_err(|e| {
        AppError::from(field("charter", Code::InvalidRule)).with_detail(e.to_string())
    })?;
    let text = text.to_string();
    // Spelling is CPU work: keep it off the async threads.
    tokio::task::spawn_blocking(move || relais_guard::check(&text, &ctx))
        .await
        .map_err(|_| AppError::internal())
}

/// Validates and saves the charter; the error names the invalid rule.
pub async fn save_charter(
    state: &AppState,
    user: &User,
    m: &Membership,
    json: &str,
) -> Result<(), AppError> {
    require(m, Permission::ManageCharter)?;
    let charter: Charter = serde_json::from_str(json).map_err(|e| {
        AppError::from(field("charter", Code::InvalidRule)).with_detail(e.to_string())
    })?;
    CheckContext::new("fr")
        .with_charter(&charter)
        .map_err(|e| {
            AppError::from(field("charter", Code::InvalidRule)).with_detail(e.to_string())
        })?;
    let body = serde_json::to_string(&charter).map_err(|_| AppError::internal())?;
    let before = state.store.charter(m.workspace.id).await?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .set_charter(&mut tx, m.workspace.id, &body, user.id)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "charter.update",
        target: "charter",
        before: before.as_deref(),
        after: Some(&body),
    };
    super::record(state, tx, entry).await
}
