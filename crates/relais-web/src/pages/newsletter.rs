//! Newsletter pages of a workspace: mail server settings, lists with their counts, a list's
//! subscribers (import, export), sending an issue, an issue's deliveries, the bounces.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use relais_domain::Permission;
use relais_store::newsletter::issues::{Bounce, Delivery, DeliveryCounts, Issue};
use relais_store::newsletter::{Counts, NewsletterList, NewsletterSettings, SubState, Subscriber};

use super::{base, form_answer, html, see_other};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::import::LineError;
use crate::service::newsletter::import::{self as imp, ImportError, ImportForm};
use crate::service::newsletter::send::{self, IssueForm};
use crate::service::newsletter::{self as svc, SettingsForm};
use crate::view::{Base, Errs};
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "newsletter.html")]
pub struct NewsletterPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub settings: Option<NewsletterSettings>,
    pub form: SettingsForm,
    pub lists: Vec<(NewsletterList, Counts)>,
    pub issues: Vec<(Issue, DeliveryCounts)>,
    pub list_name: String,
    pub can_manage: bool,
    pub can_send: bool,
    pub tz: String,
}

#[derive(Template)]
#[template(path = "newsletter_list.html")]
pub struct ListPage {
    pub b: Base,
    pub ws: i64,
    pub list: NewsletterList,
    /// (state, count) per subscriber state.
    pub chips: Vec<(&'static str, i64)>,
    pub state: String,
    pub subscribers: Vec<Subscriber>,
    pub subscribe_url: String,
    pub data: String,
    pub consented: bool,
    pub errors: Vec<LineError>,
    pub errs: Errs,
    pub tz: String,
}

#[derive(Template)]
#[template(path = "newsletter_issue_new.html")]
pub struct IssueFormPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub lists: Vec<NewsletterList>,
    pub posts: Vec<(i64, String)>,
    pub form: IssueForm,
}

#[derive(Template)]
#[template(path = "newsletter_issue.html")]
pub struct IssuePage {
    pub b: Base,
    pub ws: i64,
    pub issue: Issue,
    pub list_name: String,
    /// (state, count) per delivery state.
    pub chips: Vec<(&'static str, i64)>,
    pub deliveries: Vec<Delivery>,
    pub can_send: bool,
    pub tz: String,
}

#[derive(Template)]
#[template(path = "newsletter_bounces.html")]
pub struct BouncesPage {
    pub b: Base,
    pub ws: i64,
    pub bounces: Vec<Bounce>,
    pub tz: String,
}

fn can_manage(mb: &Member) -> bool {
    mb.m.role.allows(Permission::ManageChannels) && mb.m.workspace.archived_at.is_none()
}

fn prefill(s: &Option<NewsletterSettings>) -> SettingsForm {
    match s {
        Some(s) => SettingsForm {
            smtp_host: s.host.clone(),
            smtp_port: s.port.to_string(),
            smtp_security: s.security.clone(),
            smtp_username: s.username.clone().unwrap_or_default(),
            smtp_password: String::new(),
            from_address: s.from_address.clone(),
            bounce_limit: s.bounce_limit.to_string(),
        },
        None => SettingsForm {
            smtp_port: "587".into(),
            smtp_security: "starttls".into(),
            bounce_limit: "2".into(),
            ..Default::default()
        },
    }
}

async fn overview(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
    form: Option<SettingsForm>,
    list_name: String,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let b = base(state, &mb.viewer, csrf, t.t("nl.title"), Some(&mb.m)).await?;
    let ws = mb.id();
    let settings = state.store.newsletter_settings(ws).await?;
    let counts = state.store.newsletter_counts(ws).await?;
    let lists = state
        .store
        .newsletter_lists(ws)
        .await?
        .into_iter()
        .map(|l| {
            let c = counts
                .iter()
                .find(|(id, _)| *id == l.id)
                .map(|(_, c)| c.clone());
            (l, c.unwrap_or_default())
        })
        .collect();
    let mut issues = Vec::new();
    for i in state.store.issues(ws, 50).await? {
        let c = state.store.delivery_counts(i.id).await?;
        issues.push((i, c));
    }
    let form = form.unwrap_or_else(|| prefill(&settings));
    html(NewsletterPage {
        b,
        errs,
        ws,
        form: SettingsForm {
            smtp_password: String::new(),
            ..form
        },
        settings,
        lists,
        issues,
        list_name,
        can_manage: can_manage(mb),
        can_send: mb.m.role.allows(Permission::Publish) && mb.m.workspace.archived_at.is_none(),
        tz: mb.m.workspace.time_zone.clone(),
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    overview(&state, &mb, &csrf, Errs::none(), None, String::new()).await
}

pub async fn save_settings(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let r = svc::save_settings(&state, &mb.viewer.user, &mb.m, &f).await;
    let to = format!("/w/{}/newsletter", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| {
        overview(&state, &mb, &csrf, errs, Some(f.clone()), String::new())
    })
    .await
}

#[derive(serde::Deserialize)]
pub struct ListForm {
    #[serde(default)]
    list_name: String,
}

pub async fn create_list(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<ListForm>,
) -> Result<Response, AppError> {
    match svc::create_list(&state, &mb.viewer.user, &mb.m, &f.list_name).await {
        Ok(id) => Ok(see_other(&format!("/w/{}/newsletter/lists/{id}", mb.id()))),
        Err(e) if e.field.is_some() => {
            let errs = Errs::from(mb.viewer.t, &e);
            let mut res = overview(&state, &mb, &csrf, errs, None, f.list_name).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StateFilter {
    state: String,
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    id: i64,
    filter: &str,
    form: ImportForm,
    errors: Vec<LineError>,
    errs: Errs,
    flash: Option<String>,
) -> Result<Response, AppError> {
    mb.require(Permission::ManageChannels)?;
    let ws = mb.id();
    let list = state.store.newsletter_list(ws, id).await?;
    let mut b = base(state, &mb.viewer, csrf, &list.name, Some(&mb.m)).await?;
    b.flash = flash;
    let counts = state
        .store
        .newsletter_counts(ws)
        .await?
        .into_iter()
        .find(|(l, _)| *l == id)
        .map(|(_, c)| c)
        .unwrap_or_default();
    let st = SubState::parse(filter);
    let subscribers = state.store.subscribers(ws, id, st, 1000).await?;
    html(ListPage {
        b,
        ws,
        subscribe_url: state.link(&format!("/nl/{}", list.public_id)),
        list,
        chips: vec![
            ("pending", counts.pending),
            ("confirmed", counts.confirmed),
            ("unsubscribed", counts.unsubscribed),
            ("bounced", counts.bounced),
        ],
        state: st.map(|s| s.as_str().to_string()).unwrap_or_default(),
        subscribers,
        data: form.data,
        consented: form.consented == "on",
        errors,
        errs,
        tz: mb.m.workspace.time_zone.clone(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
    Query(q): Query<StateFilter>,
) -> Result<Response, AppError> {
    let form = ImportForm::default();
    list_page(
        &state,
        &mb,
        &csrf,
        id,
        &q.state,
        form,
        Vec::new(),
        Errs::none(),
        None,
    )
    .await
}

pub async fn import(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
    Form(f): Form<ImportForm>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let (status, errors, errs, flash, form) =
        match imp::import(&state, &mb.viewer.user, &mb.m, id, &f, t).await {
            Ok(r) => {
                let msg = t
                    .t("nl.import.done")
                    .replace("{confirmed}", &t.number(r.confirmed as i64))
                    .replace("{invited}", &t.number(r.invited as i64))
                    .replace("{unchanged}", &t.number(r.unchanged as i64));
                (
                    StatusCode::OK,
                    Vec::new(),
                    Errs::none(),
                    Some(msg),
                    ImportForm::default(),
                )
            }
            Err(ImportError::Lines(l)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, l, Errs::none(), None, f)
            }
            Err(ImportError::App(e)) if e.field.is_some() => {
                (e.status, Vec::new(), Errs::from(t, &e), None, f)
            }
            Err(ImportError::App(e)) => return Err(e),
        };
    let mut res = list_page(&state, &mb, &csrf, id, "", form, errors, errs, flash).await?;
    *res.status_mut() = status;
    Ok(res)
}

pub async fn export(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let csv = imp::export(&state, &mb.m, id).await?;
    let disposition = format!("attachment; filename=\"subscribers-{id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

async fn issue_form_page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
    form: IssueForm,
) -> Result<Response, AppError> {
    mb.require(Permission::Publish)?;
    let t = mb.viewer.t;
    let b = base(state, &mb.viewer, csrf, t.t("nl.issue.new"), Some(&mb.m)).await?;
    let posts = state
        .store
        .recent_posts(mb.id(), 50)
        .await?
        .into_iter()
        .map(|(id, body)| {
            let first: String = body.lines().next().unwrap_or("").chars().take(80).collect();
            (id, first)
        })
        .collect();
    html(IssueFormPage {
        b,
        errs,
        ws: mb.id(),
        lists: state.store.newsletter_lists(mb.id()).await?,
        posts,
        form,
    })
}

pub async fn issue_form(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    let form = IssueForm {
        format: "markdown".into(),
        ..Default::default()
    };
    issue_form_page(&state, &mb, &csrf, Errs::none(), form).await
}

pub async fn send_issue(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<IssueForm>,
) -> Result<Response, AppError> {
    match send::create_issue(&state, &mb.viewer.user, &mb.m, &f).await {
        Ok(id) => Ok(see_other(&format!("/w/{}/newsletter/issues/{id}", mb.id()))),
        Err(e) if e.field.is_some() => {
            let errs = Errs::from(mb.viewer.t, &e);
            let mut res = issue_form_page(&state, &mb, &csrf, errs, f).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub async fn issue(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let ws = mb.id();
    let issue = state.store.issue(ws, id).await?;
    let b = base(&state, &mb.viewer, &csrf, &issue.subject, Some(&mb.m)).await?;
    let list_name = state
        .store
        .newsletter_list_by_id(issue.list_id)
        .await
        .map(|l| l.name)
        .unwrap_or_default();
    html(IssuePage {
        b,
        ws,
        chips: {
            let c = state.store.delivery_counts(issue.id).await?;
            vec![
                ("sent", c.sent),
                ("sending", c.sending),
                ("deferred", c.deferred),
                ("bounced", c.bounced),
                ("failed", c.failed),
                ("unknown", c.unknown),
            ]
        },
        deliveries: state.store.deliveries(ws, issue.id, 2000).await?,
        issue,
        list_name,
        can_send: mb.m.role.allows(Permission::Publish),
        tz: mb.m.workspace.time_zone.clone(),
    })
}

pub async fn resume(
    State(state): State<AppState>,
    mb: Member,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    send::resume(&state, &mb.viewer.user, &mb.m, id).await?;
    Ok(see_other(&format!("/w/{}/newsletter/issues/{id}", mb.id())))
}

pub async fn bounces(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    mb.require(Permission::ManageChannels)?;
    let t = mb.viewer.t;
    let b = base(
        &state,
        &mb.viewer,
        &csrf,
        t.t("nl.bounces.title"),
        Some(&mb.m),
    )
    .await?;
    html(BouncesPage {
        b,
        ws: mb.id(),
        bounces: state.store.newsletter_bounces(mb.id(), 500).await?,
        tz: mb.m.workspace.time_zone.clone(),
    })
}
