//! The editorial calendar: month, week, day and list views in the workspace's time zone, with
//! filters kept in the URL (a view can be shared), drag and drop to another day or hour, and a
//! "Move…" form per publication for the keyboard — one route and one set of checks for both.

mod build;
mod model;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use chrono::NaiveDate;
use relais_domain::publish::TargetState;
use relais_domain::Code;

use super::see_other;
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::service::calendar as svc;
use crate::{AppError, AppState};
use model::FormErr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Month,
    Week,
    Day,
    List,
}

impl View {
    pub const ALL: [View; 4] = [View::Month, View::Week, View::Day, View::List];
    pub fn key(self) -> &'static str {
        match self {
            View::Month => "month",
            View::Week => "week",
            View::Day => "day",
            View::List => "list",
        }
    }
}

/// The calendar's URL query: the view, the date it shows, the filters.
#[derive(serde::Deserialize, Default, Clone, Debug)]
pub struct CalQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    date: String,
    /// `YYYY-MM` (older links to the month view).
    #[serde(default)]
    month: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    author: String,
    #[serde(default)]
    tag: String,
}

impl CalQuery {
    /// The query of a calendar address (`back` of a form).
    fn of_url(url: &str) -> CalQuery {
        let mut q = CalQuery::default();
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let v = v.into_owned();
            match k.as_ref() {
                "view" => q.view = v,
                "date" => q.date = v,
                "month" => q.month = v,
                "channel" => q.channel = v,
                "status" => q.status = v,
                "author" => q.author = v,
                "tag" => q.tag = v,
                _ => {}
            }
        }
        q
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub channel: Option<i64>,
    pub status: Option<TargetState>,
    pub author: Option<i64>,
    pub tag: Option<String>,
}

pub struct Params {
    pub view: View,
    pub date: NaiveDate,
    pub f: Filters,
}

impl Params {
    /// Reads the query; a date that does not parse is an error naming it. Filter values that
    /// match nothing known (a hand-edited address) are ignored rather than refused.
    fn parse(q: &CalQuery, today: NaiveDate) -> Result<Params, AppError> {
        let view = View::ALL
            .into_iter()
            .find(|v| v.key() == q.view)
            .unwrap_or(View::Month);
        let date = match (q.date.trim(), q.month.trim()) {
            ("", "") => today,
            ("", m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                .map_err(|_| AppError::from(crate::service::field("date", Code::InvalidDate)))?,
            (d, _) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| AppError::from(crate::service::field("date", Code::InvalidDate)))?,
        };
        let f = Filters {
            channel: q.channel.trim().parse().ok(),
            status: TargetState::parse(q.status.trim()),
            author: q.author.trim().parse().ok(),
            tag: relais_domain::tags::normalize(&q.tag).ok().flatten(),
        };
        Ok(Params { view, date, f })
    }

    /// The address of `view` at `date`, with this page's filters when `filters`.
    pub fn href(&self, ws: i64, view: View, date: NaiveDate, filters: bool) -> String {
        let mut s = format!(
            "/w/{ws}/calendar?view={}&date={}",
            view.key(),
            date.format("%Y-%m-%d")
        );
        if filters {
            if let Some(c) = self.f.channel {
                s.push_str(&format!("&channel={c}"));
            }
            if let Some(st) = self.f.status {
                s.push_str(&format!("&status={}", st.as_str()));
            }
            if let Some(a) = self.f.author {
                s.push_str(&format!("&author={a}"));
            }
            if let Some(tag) = &self.f.tag {
                let enc: String = url::form_urlencoded::byte_serialize(tag.as_bytes()).collect();
                s.push_str(&format!("&tag={enc}"));
            }
        }
        s
    }
}

fn today_in(mb: &Member) -> NaiveDate {
    let tz: chrono_tz::Tz = mb.m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

pub async fn show(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<CalQuery>,
) -> Result<Response, AppError> {
    let p = Params::parse(&q, today_in(&mb))?;
    build::render(&state, &mb, &csrf, &p, None, None).await
}

#[derive(serde::Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    hour: Option<String>,
    #[serde(default)]
    version: i64,
    /// The calendar page of the "Move…" form (absent for drag and drop).
    #[serde(default)]
    back: Option<String>,
}

/// The calendar address a form may come back to (never another site or workspace).
fn back_to(ws: i64, back: &str) -> Option<String> {
    let prefix = format!("/w/{ws}/calendar");
    (back == prefix || back.starts_with(&format!("{prefix}?"))).then(|| back.to_string())
}

/// Moves a scheduled publication. Drag and drop (no `back`) gets 204 or the reason in plain
/// text; the "Move…" form goes back to its page, or shows it again with the reason beside the
/// field.
pub async fn move_target(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, id)): Path<(i64, i64)>,
    Form(f): Form<MoveForm>,
) -> Result<Response, AppError> {
    let hour = match f.hour.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(h) => match h.parse::<u32>() {
            Ok(h) if h < 24 => Some(h),
            _ => return Err(crate::service::field("time", Code::InvalidTime).into()),
        },
    };
    let mv = svc::Move {
        version: f.version,
        date: f.date.clone(),
        time: f.time.clone(),
        hour,
    };
    let r = svc::move_target(&state, &mb.viewer.user, &mb.m, id, &mv).await;
    let Some(back) = f.back.as_deref().and_then(|b| back_to(mb.id(), b)) else {
        return Ok(match r {
            Ok(_) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => (e.status, e.message(mb.viewer.t)).into_response(),
        });
    };
    match r {
        Ok(_) => Ok(see_other(&back)),
        Err(e) if e.status.is_client_error() && e.code != Code::NotFound => {
            let p = Params::parse(&CalQuery::of_url(&back), today_in(&mb))?;
            let err = FormErr {
                target: id,
                field: e.field,
                msg: e.message(mb.viewer.t),
                date: f.date,
                time: f.time.unwrap_or_default(),
                tags: String::new(),
            };
            let mut res = build::render(&state, &mb, &csrf, &p, Some(err), None).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct TagsForm {
    #[serde(default)]
    tags: String,
    #[serde(default)]
    target: i64,
    #[serde(default)]
    back: String,
}

/// Sets a post's tags from the calendar's list view; back to the page, or the page again with
/// the reason beside the field.
pub async fn set_tags(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Path((_, post)): Path<(i64, i64)>,
    Form(f): Form<TagsForm>,
) -> Result<Response, AppError> {
    let r = svc::set_tags(&state, &mb.viewer.user, &mb.m, post, &f.tags).await;
    let back =
        back_to(mb.id(), &f.back).unwrap_or_else(|| format!("/w/{}/calendar?view=list", mb.id()));
    match r {
        Ok(_) => Ok(see_other(&back)),
        Err(e) if e.field.is_some() => {
            let p = Params::parse(&CalQuery::of_url(&back), today_in(&mb))?;
            let err = FormErr {
                target: f.target,
                field: e.field,
                msg: e.message(mb.viewer.t),
                date: String::new(),
                time: String::new(),
                tags: f.tags,
            };
            let mut res = build::render(&state, &mb, &csrf, &p, None, Some(err)).await?;
            *res.status_mut() = e.status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}
