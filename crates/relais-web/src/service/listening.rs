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

/// Follows every feed of an OPML file (one transaction). Feeds the SSRF guard refuses, bad
/// addresses and feeds already followed are skipped and reported. Returns (added, skipped).
pub async fn import_opml(
    state: &AppState,
    user: &User,
    m: &Membership,
    text: &str,
) -> Result<(usize, Vec<String>), AppError> {
    require(m, Permission::ManageListening)?;
    let doc = relais_feeds::opml::import(text.as_bytes()).map_err(|e| {
        AppError::from(field("opml", Code::InvalidValue)).with_detail(e.to_string())
    })?;
    let mut skipped = doc.warnings.clone();
    let mut added = 0;
    let mut tx = state.store.begin().await?;
    for f in &doc.feeds {
        let Ok(url) = state.net.check(&f.xml_url) else {
            skipped.push(format!(
                "{}: refused (private address or not http)",
                f.xml_url
            ));
            continue;
        };
        let name = f
            .title
            .clone()
            .unwrap_or_else(|| url.host_str().unwrap_or("feed").to_string());
        let name: String = name.chars().take(100).collect();
        let initial = serde_json::to_string(&relais_feeds::FeedState::new(url.as_str()))
            .map_err(|_| AppError::internal())?;
        match state
            .store
            .add_source(&mut tx, m.workspace.id, url.as_str(), &name, &initial)
            .await
        {
            Ok(_) => added += 1,
            Err(StoreError::Conflict(_)) => {
                skipped.push(format!("{}: already followed", f.xml_url))
            }
            Err(e) => return Err(e.into()),
        }
    }
    state
        .store
        .enqueue(
            &mut tx,
            &relais_store::jobs::NewJob::now("listen.poll", serde_json::json!({})),
        )
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let after = format!("{added} feeds added, {} skipped", skipped.len());
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "listen.opml_import",
        target: "sources",
        before: None,
        after: Some(&after),
    };
    super::record(state, tx, entry).await?;
    super::accounts::wake(state);
    Ok((added, skipped))
}

/// The workspace's sources as OPML.
pub async fn export_opml(state: &AppState, m: &Membership) -> Result<String, AppError> {
    let feeds = state
        .store
        .sources(m.workspace.id)
        .await?
        .into_iter()
        .map(|s| relais_feeds::opml::OpmlFeed {
            xml_url: s.url,
            html_url: None,
            title: Some(s.name),
            tags: Vec::new(),
        })
        .collect();
    Ok(relais_feeds::opml::export(&relais_feeds::opml::Opml {
        title: Some(m.workspace.name.clone()),
        feeds,
        warnings: Vec::new(),
    }))
}

/// The explanation of a draft query and how it would have done on the workspace's last 500
/// mentions: the count and up to three of them with the terms marked (safe HTML).
pub async fn preview(
    state: &AppState,
    m: &Membership,
    expression: &str,
    t: crate::i18n::Tr,
) -> Result<String, AppError> {
    require(m, Permission::ViewListening)?;
    let explained = explain(expression, t.0)?;
    let q = relais_listen::parse(expression).map_err(|_| field("expression", Code::QuerySyntax))?;
    let matcher = relais_listen::Matcher::compile_queries([&q]);
    let recent = state.store.mentions(m.workspace.id, None, 500).await?;
    let mut hits = Vec::new();
    let mut kept = Vec::new();
    for x in &recent {
        hits.clear();
        let langs: Vec<&str> = x.lang.iter().map(String::as_str).collect();
        matcher.match_text(&x.body, &langs, &mut hits);
        if !hits.is_empty() {
            kept.push(x.clone());
        }
    }
    let esc = crate::highlight::askama_escape;
    let mut out = format!(
        "{} {}<br><strong>{}</strong>",
        esc(t.t("listen.explain")),
        esc(&explained),
        esc(&t
            .t("listen.preview")
            .replace("{n}", &t.number(kept.len() as i64))
            .replace("{of}", &t.number(recent.len() as i64)))
    );
    let mut patterns = Vec::new();
    crate::highlight::positive_patterns(&q, &mut patterns);
    for x in kept.iter().take(3) {
        let excerpt: String = x.body.chars().take(240).collect();
        out.push_str(&format!(
            "<br><small>« {} »</small>",
            crate::highlight::highlight(&excerpt, &patterns)
        ));
    }
    Ok(out)
}
