//! Listening set-up per workspace: queries (validated by the real parser, errors with the
//! column) and feed sources (checked against the SSRF guard before they are saved).

use relais_domain::{validate, Code, Permission};
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;
use relais_store::StoreError;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

pub const TAGS: [&str; 3] = ["brand", "competitor", "topic"];

/// Parses a query: its plain-language explanation, or the error with its column.
pub fn explain(expression: &str, lang: relais_domain::Lang) -> Result<String, AppError> {
    let q = relais_listen::parse(expression).map_err(|e| {
        AppError::from(field("expression", Code::QuerySyntax))
            .with_detail(format!("col. {}: {} ≠ {}", e.column, e.expected, e.found))
    })?;
    let l = match lang {
        relais_domain::Lang::Fr => relais_listen::ExplainLang::Fr,
        relais_domain::Lang::En => relais_listen::ExplainLang::En,
    };
    Ok(relais_listen::explain(&q, l))
}

pub async fn add_query(
    state: &AppState,
    user: &User,
    m: &Membership,
    name: &str,
    expression: &str,
    tag: &str,
) -> Result<i64, AppError> {
    require(m, Permission::ManageListening)?;
    let name = validate::display_name("name", name)?;
    if expression.trim().is_empty() {
        return Err(field("expression", Code::Required).into());
    }
    if expression.len() > 4000 {
        return Err(field("expression", Code::TooLong).into());
    }
    explain(expression, relais_domain::Lang::En)?;
    if !TAGS.contains(&tag) {
        return Err(field("tag", Code::InvalidValue).into());
    }
    let mut tx = state.store.begin().await?;
    let q = state
        .store
        .create_query(&mut tx, m.workspace.id, &name, expression.trim(), tag)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "listen.query_add",
        target: &name,
        before: None,
        after: Some(expression),
    };
    super::record(state, tx, entry).await?;
    Ok(q.id)
}

pub async fn delete_query(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageListening)?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .delete_query(&mut tx, m.workspace.id, id)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("query #{id}");
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "listen.query_delete",
        target: &target,
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await
}

pub async fn add_source(
    state: &AppState,
    user: &User,
    m: &Membership,
    url: &str,
    name: &str,
) -> Result<i64, AppError> {
    require(m, Permission::ManageListening)?;
    let url = url.trim();
    if url.is_empty() {
        return Err(field("url", Code::Required).into());
    }
    let parsed = state.net.check(url).map_err(|e| match e.code() {
        "ssrf_blocked" => field("url", Code::UrlRefused),
        _ => field("url", Code::InvalidUrl),
    })?;
    let name = if name.trim().is_empty() {
        parsed.host_str().unwrap_or("feed").to_string()
    } else {
        validate::display_name("name", name)?
    };
    let state_json = serde_json::to_string(&relais_feeds::FeedState::new(parsed.as_str()))
        .map_err(|_| AppError::internal())?;
    let mut tx = state.store.begin().await?;
    let id = match state
        .store
        .add_source(&mut tx, m.workspace.id, parsed.as_str(), &name, &state_json)
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(field("url", Code::Conflict).into()),
        r => r?,
    };
    let actor = Actor::user(user.id, &user.email);
    // Fetch the new feed right away rather than at the next scheduled poll.
    state
        .store
        .enqueue(
            &mut tx,
            &relais_store::jobs::NewJob::now("listen.poll", serde_json::json!({})),
        )
        .await?;
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "listen.source_add",
        target: &name,
        before: None,
        after: Some(parsed.as_str()),
    };
    super::record(state, tx, entry).await?;
    super::accounts::wake(state);
    Ok(id)
}

pub async fn delete_source(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageListening)?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .remove_source(&mut tx, m.workspace.id, id)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("source #{id}");
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "listen.source_delete",
        target: &target,
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await
}
