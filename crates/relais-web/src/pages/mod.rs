//! Server-rendered pages. Each handler extracts, calls a service, renders a template.

mod account;
mod alerts;
mod approvals;
mod blog;
mod calendar;
mod channels;
mod compose;
mod ical;
mod listening;
mod me;
mod media;
mod newsletter;
pub mod newsletter_public;
mod review;
mod workspace;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use relais_store::workspaces::Membership;

use crate::auth::Viewer;
use crate::csrf::CsrfToken;
use crate::i18n::Tr;
use crate::view::{Base, Current, Nav};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(workspace::home))
        .route("/workspaces", post(workspace::create))
        .route(
            "/setup/{token}",
            get(account::setup_form).post(account::setup),
        )
        .route("/login", get(account::login_form).post(account::login))
        .route("/login/totp", get(account::totp_form).post(account::totp))
        .route("/logout", post(account::logout))
        .route("/forgot", get(account::forgot_form).post(account::forgot))
        .route(
            "/reset/{token}",
            get(account::reset_form).post(account::reset),
        )
        .route(
            "/invite/{token}",
            get(account::invite_form).post(account::invite_accept),
        )
        .route("/w/{ws}", get(workspace::overview))
        .route("/w/{ws}/compose", get(compose::form).post(compose::submit))
        .route("/w/{ws}/compose/counters", post(compose::counters))
        .route("/w/{ws}/compose/links", post(compose::links))
        .route("/w/{ws}/compose/autosave", post(compose::autosave))
        .route("/w/{ws}/compose/part", get(compose::part))
        .route("/w/{ws}/compose/suggest", get(compose::suggest))
        .route(
            "/w/{ws}/media",
            get(media::index)
                .post(media::upload)
                // Uploads stream to disk with their own cap (media.max_upload_mb).
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/w/{ws}/media/{id}/file", get(media::file))
        .route("/public/media/{ws}/{hash}", get(media::public_file))
        .route("/w/{ws}/media/{id}/alt", post(media::set_alt))
        .route("/w/{ws}/media/{id}/delete", post(media::delete))
        .route("/w/{ws}/posts", get(compose::list))
        .route(
            "/w/{ws}/channels",
            get(channels::index).post(channels::connect),
        )
        .route("/w/{ws}/channels/{id}/remove", post(channels::remove))
        .merge(channels::oauth_routes())
        .route("/w/{ws}/approvals", get(approvals::index))
        .route("/w/{ws}/approvals/{post}", post(approvals::decide))
        .route("/w/{ws}/approval-mode", post(approvals::set_mode))
        .route(
            "/w/{ws}/approvals/{post}/links",
            post(approvals::create_link),
        )
        .route(
            "/w/{ws}/review-links/{id}/revoke",
            post(approvals::revoke_link),
        )
        .route(
            "/review/{post}/{token}",
            get(review::page).post(review::decide),
        )
        .route("/notifications", get(me::notifications))
        .route("/w/{ws}/calendar", get(calendar::show))
        .route("/w/{ws}/posts/{id}/tags", post(calendar::set_tags))
        .route("/w/{ws}/channels/{id}/slots", post(channels::slots))
        .route("/w/{ws}/targets/{id}/move", post(calendar::move_target))
        .route("/ical/{file}", get(ical::feed))
        .route(
            "/w/{ws}/import",
            get(compose::import_form).post(compose::import),
        )
        .route("/w/{ws}/export.csv", get(compose::export))
        .route("/w/{ws}/ical", post(ical::renew))
        .route("/w/{ws}/listening", get(listening::index))
        .route("/w/{ws}/listening/setup", get(listening::setup))
        .route("/w/{ws}/listening/live", post(listening::add_live))
        .route(
            "/w/{ws}/listening/live/{id}/delete",
            post(listening::delete_live),
        )
        .route("/w/{ws}/blog", get(blog::index).post(blog::add))
        .route("/w/{ws}/blog/{id}/delete", post(blog::delete))
        .route("/w/{ws}/alerts", get(alerts::index))
        .route("/w/{ws}/alerts/rules", post(alerts::add_rule))
        .route(
            "/w/{ws}/alerts/rules/{id}/delete",
            post(alerts::delete_rule),
        )
        .route("/w/{ws}/alerts/targets", post(alerts::add_target))
        .route(
            "/w/{ws}/alerts/targets/{id}/delete",
            post(alerts::delete_target),
        )
        .route("/w/{ws}/alerts/{id}", get(alerts::show))
        .route("/w/{ws}/listening/stream", get(listening::stream))
        .route("/w/{ws}/listening/share", get(listening::share))
        .route("/w/{ws}/listening/opml", post(listening::import_opml))
        .route(
            "/w/{ws}/listening/sources.opml",
            get(listening::export_opml),
        )
        .route(
            "/w/{ws}/listening/mentions.csv",
            get(listening::mentions_csv),
        )
        .route("/w/{ws}/listening/queries", post(listening::add_query))
        .route(
            "/w/{ws}/listening/queries/{id}/delete",
            post(listening::delete_query),
        )
        .route("/w/{ws}/listening/sources", post(listening::add_source))
        .route(
            "/w/{ws}/listening/sources/{id}/delete",
            post(listening::delete_source),
        )
        .route(
            "/w/{ws}/listening/mentions/{id}/irrelevant",
            post(listening::irrelevant),
        )
        .route("/w/{ws}/listening/explain", post(listening::explain))
        .route("/w/{ws}/freeze", post(workspace::freeze))
        .route("/w/{ws}/unfreeze", post(workspace::unfreeze))
        .route(
            "/w/{ws}/charter",
            get(compose::charter).post(compose::charter_save),
        )
        .route(
            "/w/{ws}/settings",
            get(workspace::settings_form).post(workspace::settings),
        )
        .route("/w/{ws}/archive", post(workspace::archive))
        .route("/w/{ws}/unarchive", post(workspace::unarchive))
        .route("/w/{ws}/members", get(workspace::members))
        .route("/w/{ws}/members/invite", post(workspace::invite))
        .route("/w/{ws}/members/{uid}/role", post(workspace::change_role))
        .route(
            "/w/{ws}/members/{uid}/remove",
            post(workspace::remove_member),
        )
        .route(
            "/w/{ws}/invitations/{id}/revoke",
            post(workspace::revoke_invitation),
        )
        .route("/w/{ws}/audit", get(workspace::audit))
        .route("/w/{ws}/audit.csv", get(workspace::audit_csv))
        .route("/profile", get(me::profile).post(me::profile_save))
        .route("/profile/password", post(me::password))
        .route("/profile/totp/start", post(me::totp_start))
        .route("/profile/totp/enable", post(me::totp_enable))
        .route("/profile/totp/disable", post(me::totp_disable))
        .route("/tokens", get(me::tokens).post(me::token_create))
        .route("/tokens/{id}/revoke", post(me::token_revoke))
        .route("/admin/jobs", get(me::jobs))
        .route("/admin/jobs/{id}/retry", post(me::job_retry))
        .route("/w/{ws}/newsletter", get(newsletter::index))
        .route(
            "/w/{ws}/newsletter/settings",
            post(newsletter::save_settings),
        )
        .route("/w/{ws}/newsletter/lists", post(newsletter::create_list))
        .route("/w/{ws}/newsletter/lists/{id}", get(newsletter::list))
        .route(
            "/w/{ws}/newsletter/lists/{id}/import",
            post(newsletter::import),
        )
        .route(
            "/w/{ws}/newsletter/lists/{id}/export.csv",
            get(newsletter::export),
        )
        .route("/w/{ws}/newsletter/issues", post(newsletter::send_issue))
        .route("/w/{ws}/newsletter/issues/new", get(newsletter::issue_form))
        .route("/w/{ws}/newsletter/issues/{id}", get(newsletter::issue))
        .route(
            "/w/{ws}/newsletter/issues/{id}/resume",
            post(newsletter::resume),
        )
        .route("/w/{ws}/newsletter/bounces", get(newsletter::bounces))
        .route(
            "/nl/{list}",
            get(newsletter_public::subscribe_form).post(newsletter_public::subscribe),
        )
        .route(
            "/nl/confirm/{token}",
            get(newsletter_public::confirm_page).post(newsletter_public::confirm),
        )
}

/// Renders a template into an HTML response that is never cached.
pub fn html<T: askama::Template>(page: T) -> Result<Response, AppError> {
    let mut res = Html(page.render()?).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The answer to a posted form: on success go to `to`; on a field error show the form again
/// (`again`) with the message beside the field and the error's status; other errors go to the
/// error page.
pub async fn form_answer<T, Fut>(
    r: Result<T, AppError>,
    to: String,
    t: Tr,
    again: impl FnOnce(crate::view::Errs) -> Fut,
) -> Result<Response, AppError>
where
    Fut: std::future::Future<Output = Result<Response, AppError>>,
{
    match r {
        Ok(_) => Ok(see_other(&to)),
        Err(e) if e.field.is_some() => {
            let mut res = again(crate::view::Errs::from(t, &e)).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Only local paths are followed after sign-in (no open redirect).
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

/// The page frame of a signed-in viewer, optionally inside a workspace.
pub async fn base(
    state: &AppState,
    v: &Viewer,
    csrf: &CsrfToken,
    title: &str,
    current: Option<&Membership>,
) -> Result<Base, AppError> {
    let workspaces = state
        .store
        .memberships(v.user.id)
        .await?
        .into_iter()
        .filter(|m| m.workspace.archived_at.is_none())
        .map(|m| (m.workspace.id, m.workspace.name))
        .collect();
    let mut current = current.map(Current::from);
    if let Some(c) = current.as_mut() {
        // The freeze banner stays on every page of the workspace until someone unfreezes.
        if let Some(f) = state.store.active_freeze(c.id).await? {
            c.frozen = Some(format!(
                "{} — {} — {}",
                f.frozen_by,
                v.t.datetime(f.frozen_at, "UTC"),
                f.reason
            ));
        }
    }
    Ok(Base {
        t: v.t,
        csrf: csrf.0.clone(),
        nav: Some(Nav {
            user_name: v.user.name.clone(),
            unread: state.store.unread_notifications(v.user.id).await?,
            is_admin: v.user.is_admin,
            workspaces,
            current,
        }),
        title: title.to_string(),
        flash: None,
    })
}

/// The page frame for anonymous pages (sign-in, setup…).
pub fn anon_base(t: Tr, csrf: &CsrfToken, title: &str) -> Base {
    Base {
        t,
        csrf: csrf.0.clone(),
        nav: None,
        title: title.to_string(),
        flash: None,
    }
}

/// The client's address for login throttling (the socket peer; behind a proxy, set
/// `trust_forwarded_for` and relais reads X-Forwarded-For).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddr(peer))
    }
}
