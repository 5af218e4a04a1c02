//! The editorial calendar, month view, in the workspace's time zone.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::Extension;
use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use relais_store::posts::TargetFilter;

use super::{base, html};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::view::{CalendarPage, Chip, Day};
use crate::{AppError, AppState};

#[derive(serde::Deserialize, Default)]
pub struct MonthQuery {
    #[serde(default)]
    month: Option<String>,
}

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub async fn month(
    State(state): State<AppState>,
    mb: Member,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let tz: chrono_tz::Tz = mb.m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let first = q
        .month
        .as_deref()
        .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
        .unwrap_or_else(|| today.with_day(1).expect("day 1 exists"));
    // The grid runs Monday to Sunday, six weeks at most.
    let start = first - Duration::days(first.weekday().num_days_from_monday() as i64);
    let next_month = (first + Duration::days(32))
        .with_day(1)
        .expect("day 1 exists");
    let prev_month = (first - Duration::days(1))
        .with_day(1)
        .expect("day 1 exists");
    let end =
        next_month + Duration::days((7 - next_month.weekday().num_days_from_monday() as i64) % 7);
    let ms = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|x| x.timestamp_millis())
            .unwrap_or(0)
    };
    let channels = state.store.channels(mb.id()).await?;
    let targets = state
        .store
        .list_targets(
            mb.id(),
            &TargetFilter {
                from: Some(ms(start)),
                to: Some(ms(end)),
                ..Default::default()
            },
        )
        .await?;
    let can_move = mb.m.role.allows(relais_domain::Permission::Publish)
        && mb.m.workspace.archived_at.is_none();
    let mut days: Vec<Day> = Vec::new();
    let mut d = start;
    while d < end {
        days.push(Day {
            date: d.format("%Y-%m-%d").to_string(),
            number: d.day(),
            in_month: d.month() == first.month(),
            today: d == today,
            chips: Vec::new(),
        });
        d += Duration::days(1);
    }
    for x in targets {
        let at = x.published_at.or(x.scheduled_at).unwrap_or(x.updated_at);
        let Some(local) = chrono::DateTime::from_timestamp_millis(at).map(|u| u.with_timezone(&tz))
        else {
            continue;
        };
        let key = local.format("%Y-%m-%d").to_string();
        if let Some(day) = days.iter_mut().find(|d| d.date == key) {
            let ch = channels.iter().find(|c| c.id == x.channel_id);
            day.chips.push(Chip {
                id: x.id,
                version: x.version,
                movable: x.state == relais_domain::publish::TargetState::Scheduled && can_move,
                time: local.format("%H:%M").to_string(),
                network: ch.map(|c| c.network.clone()).unwrap_or_default(),
                text: x.body.chars().take(40).collect(),
                state: x.state,
                url: x.remote_url,
            });
        }
    }
    let months = if t.0 == relais_domain::Lang::Fr {
        MONTHS_FR
    } else {
        MONTHS_EN
    };
    let title = format!("{} {}", months[first.month0() as usize], first.year());
    let b = base(&state, &mb.viewer, &csrf, &title, Some(&mb.m)).await?;
    html(CalendarPage {
        b,
        ws: mb.id(),
        weeks: days.chunks(7).map(|w| w.to_vec()).collect(),
        prev: prev_month.format("%Y-%m").to_string(),
        next: next_month.format("%Y-%m").to_string(),
        tz: mb.m.workspace.time_zone.clone(),
    })
}

#[derive(serde::Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    version: i64,
}

/// Drag and drop on the calendar: the post keeps its local time on the new day. Answers 204, or
/// the reason in plain text for the page to show.
pub async fn move_target(
    State(state): State<AppState>,
    mb: Member,
    axum::extract::Path((_, id)): axum::extract::Path<(i64, i64)>,
    axum::Form(f): axum::Form<MoveForm>,
) -> Response {
    use axum::response::IntoResponse;
    match crate::service::compose::move_to_day(
        &state,
        &mb.viewer.user,
        &mb.m,
        id,
        f.version,
        &f.date,
    )
    .await
    {
        Ok(()) => axum::http::StatusCode::NO_CONTENT.into_response(),
        Err(e) => (e.status, e.message(mb.viewer.t)).into_response(),
    }
}
