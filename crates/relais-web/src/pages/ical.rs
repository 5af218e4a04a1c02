//! The secret-URL iCalendar feed of planned and published posts, and its renewal.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use relais_domain::ical::{calendar, Event};
use relais_domain::publish::TargetState;
use relais_domain::Permission;
use relais_store::audit::{Actor, NewAudit};
use relais_store::posts::TargetFilter;

use super::{base, html};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::view::NoticePage;
use crate::{AppError, AppState};

/// `GET /ical/{token}.ics`: no session — the unguessable token is the credential.
pub async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let ws = state
        .store
        .workspace_for_ical(token)
        .await?
        .ok_or_else(AppError::not_found)?;
    let w = state.store.workspace(ws).await?;
    let channels = state.store.channels(ws).await?;
    let now = relais_store::now();
    let targets = state
        .store
        .list_targets(
            ws,
            &TargetFilter {
                from: Some(now - 30 * 86_400_000),
                ..Default::default()
            },
        )
        .await?;
    let summaries: Vec<(String, &relais_store::posts::Target)> = targets
        .iter()
        .filter(|t| !matches!(t.state, TargetState::Draft | TargetState::Cancelled))
        .map(|t| {
            let ch = channels
                .iter()
                .find(|c| c.id == t.channel_id)
                .map(|c| c.name.as_str())
                .unwrap_or("?");
            let first: String = t.body.chars().take(60).collect();
            (format!("[{ch}] {first}"), t)
        })
        .collect();
    let events: Vec<Event> = summaries
        .iter()
        .map(|(summary, t)| Event {
            uid: format!("target-{}@relais", t.id),
            start_ms: t.published_at.or(t.scheduled_at).unwrap_or(t.updated_at),
            summary,
            description: &t.body,
            url: t.remote_url.as_deref(),
            status: match t.state {
                TargetState::Published => "CONFIRMED",
                _ => "TENTATIVE",
            },
        })
        .collect();
    let body = calendar(&w.name, now, &events);
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// Makes a new secret URL (the old one stops working) and shows it once.
pub async fn renew(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    mb.require(Permission::ManageChannels)?;
    let mut tx = state.store.begin().await?;
    let token = state.store.renew_ical_token(&mut tx, mb.id()).await?;
    let actor = Actor::user(mb.viewer.user.id, &mb.viewer.user.email);
    let entry = NewAudit {
        workspace_id: Some(mb.id()),
        actor: &actor,
        action: "ical.renew",
        target: "calendar feed",
        before: None,
        after: None,
    };
    crate::service::record(&state, tx, entry).await?;
    let t = mb.viewer.t;
    let b = base(&state, &mb.viewer, &csrf, t.t("ical.title"), Some(&mb.m)).await?;
    let url = state.link(&format!("/ical/{token}.ics"));
    html(NoticePage {
        b,
        message: format!("{} {url}", t.t("ical.created")),
        link: Some((format!("/w/{}/posts", mb.id()), t.t("nav.posts").into())),
    })
}
