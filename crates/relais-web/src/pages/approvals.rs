//! The approvals queue of a workspace, the decision forms, the client review links, and the
//! approval settings.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use relais_domain::Permission;

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::approvals as svc;
use crate::service::review_links;
use crate::view::{Base, Errs};
use crate::{AppError, AppState};

/// An open review link of a post, as the managers see it.
pub struct LinkRow {
    pub id: i64,
    pub expires: String,
}

/// A post waiting for a decision, ready to show.
pub struct PendingRow {
    pub post_id: i64,
    pub author: String,
    pub body: String,
    pub stage: String,
    pub wanted: Option<String>,
    pub channels: String,
    pub can_decide: bool,
    pub own: bool,
    /// A manager may send the client a review link (client stage).
    pub can_link: bool,
    pub links: Vec<LinkRow>,
}

#[derive(Template)]
#[template(path = "approvals.html")]
pub struct ApprovalsPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub rows: Vec<PendingRow>,
    /// (post id, address) of the link just made: shown once.
    pub created: Option<(i64, String)>,
    pub ttl_choices: [i64; 5],
    pub ttl_default: i64,
}

impl ApprovalsPage {
    /// The address of the link just made for `post`.
    pub fn created_for(&self, post: impl std::borrow::Borrow<i64>) -> Option<&str> {
        self.created
            .as_ref()
            .filter(|(p, _)| p == post.borrow())
            .map(|(_, u)| u.as_str())
    }
    pub fn is_default_ttl(&self, d: &&i64) -> bool {
        **d == self.ttl_default
    }
}

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
    created: Option<(i64, String)>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let tz = &mb.m.workspace.time_zone;
    let channels = state.store.channels(mb.id()).await?;
    let settings = state.store.approval_settings(mb.id()).await?;
    let live = mb.m.workspace.archived_at.is_none();
    let manage = live && mb.m.role.allows(Permission::ManageWorkspace);
    let mut rows = Vec::new();
    for p in state.store.pending_reviews(mb.id()).await? {
        let names: Vec<String> = state
            .store
            .targets_of_post(p.post_id)
            .await?
            .iter()
            .filter_map(|x| {
                channels
                    .iter()
                    .find(|c| c.id == x.channel_id)
                    .map(|c| c.name.clone())
            })
            .collect();
        let own = p.author_id == Some(mb.viewer.user.id);
        let can_decide =
            !own && live && svc::may_decide(&mb.m, mb.viewer.user.id, &p.stage, &settings);
        let client = p.stage == "client";
        let links = if client && manage {
            state
                .store
                .open_review_links(mb.id(), p.post_id, relais_store::now())
                .await?
                .iter()
                .map(|l| LinkRow {
                    id: l.id,
                    expires: t.datetime(l.expires_at, tz),
                })
                .collect()
        } else {
            Vec::new()
        };
        rows.push(PendingRow {
            post_id: p.post_id,
            author: p.author,
            body: p.body,
            wanted: p.wanted_at.map(|w| t.datetime(w, tz)),
            stage: p.stage,
            channels: names.join(", "),
            can_decide,
            own,
            can_link: client && manage,
            links,
        });
    }
    let b = base(state, &mb.viewer, csrf, t.t("approvals.title"), Some(&mb.m)).await?;
    html(ApprovalsPage {
        b,
        errs,
        ws: mb.id(),
        rows,
        created,
        ttl_choices: review_links::TTL_CHOICES,
        ttl_default: review_links::DEFAULT_TTL_DAYS,
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    page(&state, &mb, &csrf, Errs::none(), None).await
}

#[derive(serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn decide(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, post)): Path<(i64, i64)>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let r = svc::decide(
        &state,
        &mb.viewer.user,
        &mb.m,
        post,
        &f.decision,
        &f.comment,
    )
    .await;
    let to = format!("/w/{}/approvals", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        page(&state, &mb, &csrf, errs, None)
    })
    .await
}

#[derive(serde::Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    days: String,
}

/// Makes a client review link and shows its address once.
pub async fn create_link(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, post)): Path<(i64, i64)>,
    Form(f): Form<LinkForm>,
) -> Result<Response, AppError> {
    match review_links::create(&state, &mb.viewer.user, &mb.m, post, &f.days).await {
        Ok(url) => page(&state, &mb, &csrf, Errs::none(), Some((post, url))).await,
        Err(e) if e.field.is_some() => {
            let mut res = page(&state, &mb, &csrf, Errs::from(mb.viewer.t, &e), None).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke_link(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    review_links::revoke(&state, &mb.viewer.user, &mb.m, id).await?;
    Ok(see_other(&format!("/w/{}/approvals", mb.id())))
}

/// The approval settings: the mode, approvers by name (repeated `approver` fields), the expiry.
/// Without `full` (an older form or client) only the mode changes.
pub async fn set_mode(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    axum::extract::RawForm(raw): axum::extract::RawForm,
) -> Result<Response, AppError> {
    let mut form = svc::SettingsForm::default();
    for (k, v) in url::form_urlencoded::parse(&raw) {
        match k.as_ref() {
            "approval_mode" => form.mode = v.into_owned(),
            "full" => form.full = true,
            "named_only" => form.named_only = true,
            "approval_expiry_days" => form.expiry_days = v.into_owned(),
            "approver" => form.approvers.extend(v.parse::<i64>().ok()),
            _ => {}
        }
    }
    let r = svc::set_settings(&state, &mb.viewer.user, &mb.m, &form).await;
    let to = format!("/w/{}/settings?saved=1", mb.id());
    let t = mb.viewer.t;
    form_answer(r, to, t, |errs| {
        super::workspace::settings_page(&state, mb, &csrf, errs, false)
    })
    .await
}
