//! Builds a calendar view: the targets of the period (filtered in the database), placed on
//! the local days and hours of the workspace's zone.

use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use relais_domain::calendar::{day_hours, day_minutes, day_start, hour_exists, local};
use relais_domain::publish::TargetState;
use relais_domain::{Lang, Permission};
use relais_store::post_tags::PostMeta;
use relais_store::posts::{Target, TargetFilter};

use super::model::*;
use super::{Params, View};
use crate::auth::Member;
use crate::csrf::CsrfToken;
use crate::i18n::Tr;
use crate::pages::{base, html};
use crate::{AppError, AppState};

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
const DAYS: [&str; 7] = [
    "cal.mon", "cal.tue", "cal.wed", "cal.thu", "cal.fri", "cal.sat", "cal.sun",
];

fn month_title(t: Tr, d: NaiveDate) -> String {
    let m = d.month0() as usize;
    match t.0 {
        Lang::Fr => format!("{} {}", MONTHS_FR[m], d.year()),
        Lang::En => format!("{} {}", MONTHS_EN[m], d.year()),
    }
}

/// « lun. 30 mars 2031 » / "Mon, March 30, 2031".
pub fn day_title(t: Tr, d: NaiveDate) -> String {
    let wd = t.t(DAYS[d.weekday().num_days_from_monday() as usize]);
    let m = d.month0() as usize;
    match t.0 {
        Lang::Fr => format!("{wd} {} {} {}", d.day(), MONTHS_FR[m], d.year()),
        Lang::En => format!("{wd}, {} {}, {}", MONTHS_EN[m], d.day(), d.year()),
    }
}

fn short_day(t: Tr, d: NaiveDate) -> String {
    let wd = t.t(DAYS[d.weekday().num_days_from_monday() as usize]);
    format!("{wd} {}", d.day())
}

fn hours_text(minutes: i64) -> String {
    if minutes % 60 == 0 {
        format!("{}\u{a0}h", minutes / 60)
    } else {
        format!("{:.1}\u{a0}h", minutes as f64 / 60.0)
    }
}

/// The first day shown and the day after the last, and the period before and after.
fn period(view: View, d: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate, NaiveDate) {
    let first_of = |d: NaiveDate| d.with_day(1).expect("day 1 exists");
    let monday = |d: NaiveDate| d - Duration::days(d.weekday().num_days_from_monday() as i64);
    match view {
        View::Month | View::List => {
            let first = first_of(d);
            let next = first_of(first + Duration::days(32));
            let prev = first_of(first - Duration::days(1));
            if view == View::List {
                return (first, next, prev, next);
            }
            // The grid runs Monday to Sunday, six weeks at most.
            let end = next + Duration::days((7 - next.weekday().num_days_from_monday() as i64) % 7);
            (monday(first), end, prev, next)
        }
        View::Week => {
            let m = monday(d);
            (
                m,
                m + Duration::days(7),
                m - Duration::days(7),
                m + Duration::days(7),
            )
        }
        View::Day => (
            d,
            d + Duration::days(1),
            d - Duration::days(1),
            d + Duration::days(1),
        ),
    }
}

/// Renders the view `p`, with a form error to show beside its form.
pub async fn render(
    state: &AppState,
    mb: &Member,
    csrf: &CsrfToken,
    p: &Params,
    move_err: Option<FormErr>,
    tag_err: Option<FormErr>,
) -> Result<Response, AppError> {
    let t = mb.viewer.t;
    let ws = mb.id();
    let tz: Tz = mb.m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let now = relais_store::now();
    let today = local(tz, now).map(|l| l.0.date()).unwrap_or(p.date);
    let (first, end, prev, next) = period(p.view, p.date);
    let filter = TargetFilter {
        from: Some(day_start(tz, first)),
        to: Some(day_start(tz, end)),
        state: p.f.status,
        channel_id: p.f.channel,
        author_id: p.f.author,
        tag: p.f.tag.clone(),
    };
    let targets = state.store.list_targets(ws, &filter).await?;
    let channels = state.store.channels(ws).await?;
    let ids: Vec<i64> = targets.iter().map(|x| x.post_id).collect();
    let meta = state.store.post_meta(ws, &ids).await?;
    let can_move = mb.m.role.allows(Permission::Publish) && mb.m.workspace.archived_at.is_none();
    let mut placed: Vec<(i64, chrono::NaiveDateTime, Chip)> = Vec::new();
    for x in &targets {
        let m = meta.get(&x.post_id).cloned().unwrap_or_default();
        let at = x
            .published_at
            .or(x.scheduled_at)
            .or(m.wanted_at)
            .unwrap_or(x.updated_at);
        let Some((naive, offset, repeated)) = local(tz, at) else {
            continue;
        };
        let ch = channels.iter().find(|c| c.id == x.channel_id);
        let chip = make_chip(x, &m, mb, can_move, naive, &offset, repeated, ch);
        placed.push((at, naive, chip));
    }
    let date_key = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let body = match p.view {
        View::Month => {
            let mut days = Vec::new();
            let mut d = first;
            while d < end {
                days.push(MonthDay {
                    date: date_key(d),
                    href: p.href(ws, View::Day, d, true),
                    number: d.day(),
                    in_month: d.month() == p.date.month(),
                    today: d == today,
                    chips: chips_where(&placed, |_, n| n.date() == d),
                });
                d += Duration::days(1);
            }
            Body {
                month: Some(days.chunks(7).map(|w| w.to_vec()).collect()),
                ..Default::default()
            }
        }
        View::Week => {
            let days: Vec<NaiveDate> = (0..7).map(|i| first + Duration::days(i)).collect();
            let cols = days
                .iter()
                .map(|&d| {
                    let mins = day_minutes(tz, d);
                    WeekCol {
                        href: p.href(ws, View::Day, d, true),
                        label: short_day(t, d),
                        today: d == today,
                        dst: (mins != 24 * 60).then(|| {
                            let why = if mins < 24 * 60 {
                                "cal.dst_forward"
                            } else {
                                "cal.dst_back"
                            };
                            Dst {
                                hours: hours_text(mins),
                                why,
                            }
                        }),
                    }
                })
                .collect();
            let rows = (0..24u32)
                .map(|h| WeekRow {
                    label: format!("{h:02}:00"),
                    cells: days
                        .iter()
                        .map(|&d| WeekCell {
                            date: date_key(d),
                            today: d == today,
                            hour: h,
                            exists: hour_exists(tz, d, h),
                            chips: chips_where(&placed, |_, n| n.date() == d && n.hour() == h),
                        })
                        .collect(),
                })
                .collect();
            Body {
                week: Some(WeekBody { cols, rows }),
                ..Default::default()
            }
        }
        View::Day => {
            let hours = day_hours(tz, p.date);
            let mins = day_minutes(tz, p.date);
            let rows: Vec<DayRow> = hours
                .iter()
                .map(|r| DayRow {
                    label: r.label.clone(),
                    offset: r.repeated.then(|| format!("UTC{}", r.offset)),
                    date: date_key(p.date),
                    hour: r.hour,
                    now: (r.start..r.end).contains(&now),
                    chips: chips_where(&placed, |at, _| (r.start..r.end).contains(&at)),
                })
                .collect();
            let note = match mins.cmp(&(24 * 60)) {
                std::cmp::Ordering::Less => Some("cal.day_short"),
                std::cmp::Ordering::Greater => Some("cal.day_long"),
                std::cmp::Ordering::Equal => None,
            };
            Body {
                day: Some(DayBody {
                    hours: rows.len(),
                    rows,
                    note,
                }),
                ..Default::default()
            }
        }
        View::List => {
            let mut out: Vec<ListDay> = Vec::new();
            let mut d = first;
            while d < end {
                let chips = chips_where(&placed, |_, n| n.date() == d);
                if !chips.is_empty() {
                    out.push(ListDay {
                        label: day_title(t, d),
                        today: d == today,
                        chips,
                    });
                }
                d += Duration::days(1);
            }
            Body {
                list: Some(out),
                ..Default::default()
            }
        }
    };
    let title = match p.view {
        View::Month | View::List => month_title(t, p.date),
        View::Week => format!("{} {}", t.t("cal.week_of"), day_title(t, first)),
        View::Day => day_title(t, p.date),
    };
    let members = state.store.members(ws).await?;
    let tags = state.store.workspace_tags(ws).await?;
    let f = &p.f;
    let page = CalendarPage {
        b: base(state, &mb.viewer, csrf, &title, Some(&mb.m)).await?,
        ws,
        tz: mb.m.workspace.time_zone.clone(),
        view: p.view.key(),
        tabs: View::ALL
            .iter()
            .map(|v| (v.key(), p.href(ws, *v, p.date, true)))
            .collect(),
        prev: p.href(ws, p.view, prev, true),
        next: p.href(ws, p.view, next, true),
        today: p.href(ws, p.view, today, true),
        here: p.href(ws, p.view, p.date, true),
        clear: p.href(ws, p.view, p.date, false),
        date: date_key(p.date),
        filtered: f.channel.is_some()
            || f.status.is_some()
            || f.author.is_some()
            || f.tag.is_some(),
        channels: channels
            .iter()
            .map(|c| Opt {
                value: c.id.to_string(),
                label: format!("{} ({})", c.name, c.network),
                selected: f.channel == Some(c.id),
            })
            .collect(),
        states: TargetState::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: t.state(s).into(),
                selected: f.status == Some(*s),
            })
            .collect(),
        authors: members
            .iter()
            .filter(|m| m.role.allows(Permission::CreatePost))
            .map(|m| Opt {
                value: m.user_id.to_string(),
                label: m.name.clone(),
                selected: f.author == Some(m.user_id),
            })
            .collect(),
        tags: tags
            .iter()
            .chain(f.tag.iter().filter(|x| !tags.contains(x)))
            .map(|x| Opt {
                value: x.clone(),
                label: x.clone(),
                selected: f.tag.as_deref() == Some(x),
            })
            .collect(),
        body,
        move_err,
        tag_err,
        can_compose: mb.m.role.allows(Permission::CreatePost)
            && mb.m.workspace.archived_at.is_none(),
    };
    html(page)
}

fn chips_where(
    placed: &[(i64, chrono::NaiveDateTime, Chip)],
    keep: impl Fn(i64, chrono::NaiveDateTime) -> bool,
) -> Vec<Chip> {
    placed
        .iter()
        .filter(|(at, n, _)| keep(*at, *n))
        .map(|(_, _, c)| c.clone())
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn make_chip(
    x: &Target,
    m: &PostMeta,
    mb: &Member,
    can_move: bool,
    naive: chrono::NaiveDateTime,
    offset: &str,
    repeated: bool,
    ch: Option<&relais_store::channels::Channel>,
) -> Chip {
    let hm = naive.format("%H:%M").to_string();
    let mut text: String = x.body.chars().take(60).collect();
    if x.body.chars().count() > 60 {
        text.push('…');
    }
    Chip {
        id: x.id,
        post_id: x.post_id,
        version: x.version,
        movable: x.state == TargetState::Scheduled && can_move,
        time: if repeated {
            format!("{hm} (UTC{offset})")
        } else {
            hm.clone()
        },
        date: naive.format("%Y-%m-%d").to_string(),
        hm,
        network: ch.map(|c| c.network.clone()).unwrap_or_default(),
        channel: ch.map(|c| c.name.clone()).unwrap_or_default(),
        text,
        state: x.state,
        url: x.remote_url.clone(),
        author: m.author.clone(),
        tags: m.tags.clone(),
        can_tag: mb.m.workspace.archived_at.is_none()
            && crate::service::calendar::may_tag(&mb.m, &mb.viewer.user, m.author_id),
    }
}
