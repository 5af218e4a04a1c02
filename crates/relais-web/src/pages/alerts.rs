//! Alerts: the rules per query, the escalation targets, the alerts raised, and one alert's
//! brief (with the one-click freeze when it is a crisis).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use relais_domain::Permission;

use super::{base, form_answer, html};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::listen_view::{AlertPage, AlertRow, AlertsPage};
use crate::service::alerts::{self as svc, brief::Brief, RuleForm, TargetForm};
use crate::view::Errs;
use crate::{AppError, AppState};

async fn page(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    errs: Errs,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewListening)?;
    let t = mb.viewer.t;
    let ws = mb.id();
    let tz = mb.m.workspace.time_zone.as_str();
    let queries = state.store.queries(ws).await?;
    let rules = state
        .store
        .alert_rules(ws)
        .await?
        .into_iter()
        .map(|r| {
            let q = queries
                .iter()
                .find(|q| q.id == r.query_id)
                .map(|q| q.name.clone())
                .unwrap_or_default();
            (r, q)
        })
        .collect();
    let alerts = state
        .store
        .alerts(ws, 50)
        .await?
        .into_iter()
        .map(|a| AlertRow {
            when: t.datetime(a.created_at, tz),
            crisis: a.kind == "crisis" || a.kind == "sentiment",
            id: a.id,
            kind: a.kind,
            title: a.title,
        })
        .collect();
    let b = base(state, &mb.viewer, csrf, t.t("alerts.title"), Some(&mb.m)).await?;
    html(AlertsPage {
        b,
        errs,
        ws,
        tab: "alerts",
        queries,
        rules,
        targets: state.store.escalation_targets(ws).await?,
        alerts,
        can_manage: mb.m.role.allows(Permission::ManageListening)
            && mb.m.workspace.archived_at.is_none(),
    })
}

pub async fn index(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, AppError> {
    page(&state, &mb, &csrf, Errs::none()).await
}

async fn outcome<T>(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    r: Result<T, AppError>,
) -> Result<Response, AppError> {
    let to = format!("/w/{}/alerts", mb.id());
    form_answer(r, to, mb.viewer.t, |errs| page(state, mb, csrf, errs)).await
}

pub async fn add_rule(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<RuleForm>,
) -> Result<Response, AppError> {
    let r = svc::add_rule(&state, &mb.viewer.user, &mb.m, &f).await;
    outcome(&state, &mb, &csrf, r).await
}

pub async fn delete_rule(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let r = svc::delete_rule(&state, &mb.viewer.user, &mb.m, id).await;
    outcome(&state, &mb, &csrf, r).await
}

pub async fn add_target(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Form(f): Form<TargetForm>,
) -> Result<Response, AppError> {
    let r = svc::add_target(&state, &mb.viewer.user, &mb.m, &f).await;
    outcome(&state, &mb, &csrf, r).await
}

pub async fn delete_target(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let r = svc::delete_target(&state, &mb.viewer.user, &mb.m, id).await;
    outcome(&state, &mb, &csrf, r).await
}

/// One alert: its brief, its deliveries, and the freeze for a crisis.
pub async fn show(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    mb.require(Permission::ViewListening)?;
    let t = mb.viewer.t;
    let ws = mb.id();
    let tz = mb.m.workspace.time_zone.as_str();
    let a = state.store.alert(ws, id).await?;
    let brief: Brief = serde_json::from_str(&a.brief).unwrap_or_default();
    let chart = (!brief.observed.is_empty()).then(|| {
        let labels = brief
            .minutes
            .iter()
            .map(|m| {
                t.datetime(m * 60_000, tz)
                    .rsplit(", ")
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        relais_chart::line_chart(
            &relais_chart::LineChart {
                title: t.t("alerts.volume").to_string(),
                x_labels: labels,
                series: vec![
                    relais_chart::Series {
                        name: t.t("alerts.observed").into(),
                        values: brief.observed.clone(),
                        dashed: false,
                    },
                    relais_chart::Series {
                        name: t.t("alerts.expected").into(),
                        values: brief.expected.clone(),
                        dashed: true,
                    },
                ],
                width: 720,
                height: 220,
            },
            &|v| t.number(v as i64),
        )
    });
    let s = &brief.sentiment;
    let split = relais_chart::share_bar(
        t.t("listen.sentiment"),
        &[
            (t.t("listen.sentiment.negative").into(), s.negative as f64),
            (t.t("listen.sentiment.neutral").into(), s.neutral as f64),
            (t.t("listen.sentiment.positive").into(), s.positive as f64),
        ],
        720,
        &|v| t.percent(v),
    );
    let frozen = state.store.active_freeze(ws).await?.is_some();
    let can_freeze = (a.kind == "crisis" || a.kind == "sentiment")
        && !frozen
        && mb.m.role.allows(Permission::Freeze)
        && mb.m.workspace.archived_at.is_none();
    let reason: String = format!("{} {}", t.t("alerts.freeze_reason"), a.title)
        .chars()
        .take(100)
        .collect();
    let deliveries = state.store.alert_deliveries(a.id).await?;
    let b = base(&state, &mb.viewer, &csrf, &a.title, Some(&mb.m)).await?;
    html(AlertPage {
        b,
        ws,
        tab: "alerts",
        when: t.datetime(a.created_at, tz),
        detected: t.datetime(a.detected_at, tz),
        alert: a,
        brief,
        chart,
        split,
        can_freeze,
        frozen,
        reason,
        deliveries,
    })
}
