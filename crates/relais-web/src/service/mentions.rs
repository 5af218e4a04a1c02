//! The mentions view: filters from the URL (validated, named in errors), the stream rows with
//! matched terms highlighted, the volume chart over it, share of voice, and the CSV export.

use chrono::{Days, NaiveDate, TimeZone};
use relais_domain::{Code, Permission};
use relais_store::listening::SavedQuery;
use relais_store::mentions::{Mention, MentionFilter};
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::i18n::Tr;
use crate::{AppError, AppState};

pub const ORIGINS: [&str; 4] = ["feed", "bluesky", "mastodon", "web"];
pub const SENTIMENTS: [&str; 3] = ["positive", "neutral", "negative"];

/// The filters as they come in the URL (all optional, all strings: an empty field is "any").
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct MentionQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub origin: String,
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub sentiment: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub text: String,
}

impl MentionQuery {
    /// The same filters as a URL query string (links keep them: CSV, live stream).
    pub fn to_query_string(&self) -> String {
        serde_urlencoded_pairs(&[
            ("q", &self.q),
            ("tag", &self.tag),
            ("source", &self.source),
            ("origin", &self.origin),
            ("lang", &self.lang),
            ("sentiment", &self.sentiment),
            ("from", &self.from),
            ("to", &self.to),
            ("text", &self.text),
        ])
    }
}

fn serde_urlencoded_pairs(pairs: &[(&str, &String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Midnight of a local date in the workspace zone, as UTC milliseconds (the first instant of
/// the day when midnight falls in a DST gap).
fn local_midnight(d: NaiveDate, tz: &chrono_tz::Tz) -> i64 {
    let mut t = d.and_hms_opt(0, 0, 0).expect("midnight");
    for _ in 0..4 {
        if let Some(x) = tz.from_local_datetime(&t).earliest() {
            return x.timestamp_millis();
        }
        t += chrono::Duration::minutes(30);
    }
    tz.from_utc_datetime(&t).timestamp_millis()
}

fn id_field(name: &'static str, v: &str) -> Result<i64, AppError> {
    if v.is_empty() {
        return Ok(0);
    }
    v.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| field(name, Code::InvalidValue).into())
}

fn one_of(name: &'static str, v: &str, allowed: &[&str]) -> Result<String, AppError> {
    if v.is_empty() || allowed.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(field(name, Code::InvalidValue).into())
    }
}

/// Checks every filter and turns it into the store's filter (dates in the workspace zone,
/// `to` inclusive).
pub fn parse_filter(f: &MentionQuery, tz: &str) -> Result<MentionFilter, AppError> {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    let date = |name: &'static str, v: &str| -> Result<Option<NaiveDate>, AppError> {
        if v.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| field(name, Code::InvalidValue).into())
    };
    let from = date("from", &f.from)?;
    let to = date("to", &f.to)?;
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            return Err(field("to", Code::InvalidValue).into());
        }
    }
    let lang = f.lang.trim().to_ascii_lowercase();
    if !(lang.is_empty()
        || (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Err(field("lang", Code::InvalidValue).into());
    }
    if f.text.chars().count() > 200 {
        return Err(field("text", Code::TooLong).into());
    }
    Ok(MentionFilter {
        query_id: id_field("q", &f.q)?,
        tag: one_of("tag", &f.tag, &super::listening::TAGS)?,
        source_id: id_field("source", &f.source)?,
        origin: one_of("origin", &f.origin, &ORIGINS)?,
        lang,
        sentiment: one_of("sentiment", &f.sentiment, &SENTIMENTS)?,
        from: from.map(|d| local_midnight(d, &tz)).unwrap_or(0),
        to: to
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .map(|d| local_midnight(d, &tz))
            .unwrap_or(0),
        after_id: 0,
        text: f.text.trim().to_string(),
        limit: 100,
    })
}

/// A mention as the stream shows it.
pub struct MentionRow {
    pub id: i64,
    pub author: Option<String>,
    pub when: String,
    pub lang: Option<String>,
    pub sentiment: Option<String>,
    pub origin: String,
    pub queries: String,
    pub title: Option<String>,
    pub url: Option<String>,
    /// Safe HTML: escaped text with `<mark>` around matched terms.
    pub excerpt_html: String,
}

/// Stream rows, newest first, with each mention's matched terms marked.
pub fn rows(mentions: Vec<Mention>, queries: &[SavedQuery], t: Tr, tz: &str) -> Vec<MentionRow> {
    let parsed: Vec<(i64, Vec<relais_listen::query::Pattern>)> = queries
        .iter()
        .filter_map(|q| {
            let parsed = relais_listen::parse(&q.expression).ok()?;
            let mut p = Vec::new();
            crate::highlight::positive_patterns(&parsed, &mut p);
            Some((q.id, p))
        })
        .collect();
    mentions
        .into_iter()
        .map(|m| {
            let patterns: Vec<relais_listen::query::Pattern> = parsed
                .iter()
                .filter(|(id, _)| m.query_ids.contains(id))
                .flat_map(|(_, p)| p.iter().cloned())
                .collect();
            let excerpt: String = m.body.chars().take(600).collect();
            MentionRow {
                id: m.id,
                author: m.author,
                when: t.datetime(m.published_at.unwrap_or(m.received_at), tz),
                lang: m.lang,
                sentiment: m.sentiment,
                origin: m.origin,
                queries: m
                    .query_ids
                    .iter()
                    .filter_map(|id| queries.iter().find(|q| q.id == *id))
                    .map(|q| q.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                title: m.title,
                url: m
                    .url
                    .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                excerpt_html: crate::highlight::highlight(&excerpt, &patterns),
            }
        })
        .collect()
}

/// Mentions for the stream (or the live poll: only those after `after_id`).
pub async fn stream(
    state: &AppState,
    m: &Membership,
    f: &MentionQuery,
    after_id: i64,
    t: Tr,
) -> Result<(Vec<MentionRow>, i64), AppError> {
    require(m, Permission::ViewListening)?;
    let tz = m.workspace.time_zone.as_str();
    let mut filter = parse_filter(f, tz)?;
    filter.after_id = after_id;
    let found = state.store.search_mentions(m.workspace.id, &filter).await?;
    let newest = found.first().map(|x| x.id).unwrap_or(after_id);
    let queries = state.store.queries(m.workspace.id).await?;
    Ok((rows(found, &queries, t, tz), newest))
}

/// Local days `[start, end)` ending today in the workspace zone, and their labels.
fn days(n: u64, tz: &str, t: Tr) -> (Vec<i64>, Vec<String>) {
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let first = today - Days::new(n - 1);
    let mut bounds = Vec::new();
    let mut labels = Vec::new();
    for i in 0..=n {
        let d = first + Days::new(i);
        bounds.push(local_midnight(d, &tz));
        if i < n {
            labels.push(match t.lang() {
                "fr" => d.format("%d/%m").to_string(),
                _ => d.format("%m/%d").to_string(),
            });
        }
    }
    (bounds, labels)
}

/// Counts per local day for each query, from hourly counts (day boundaries in the zone).
async fn daily(
    state: &AppState,
    ws: i64,
    n: u64,
    tz: &str,
    t: Tr,
) -> Result<(Vec<String>, std::collections::HashMap<i64, Vec<f64>>), AppError> {
    let (bounds, labels) = days(n, tz, t);
    let hours = state.store.mention_hours(ws, bounds[0]).await?;
    let mut per: std::collections::HashMap<i64, Vec<f64>> = Default::default();
    for h in hours {
        let at = h.hour * 3_600_000;
        if let Some(day) = bounds.windows(2).position(|w| at >= w[0] && at < w[1]) {
            per.entry(h.query_id)
                .or_insert_with(|| vec![0.0; n as usize])[day] += h.count as f64;
        }
    }
    Ok((labels, per))
}

/// The volume chart over the stream: mentions per day for 14 days, one line per query.
pub async fn volume_chart(
    state: &AppState,
    m: &Membership,
    f: &MentionQuery,
    t: Tr,
) -> Result<String, AppError> {
    let ws = m.workspace.id;
    let tz = m.workspace.time_zone.as_str();
    let (labels, per) = daily(state, ws, 14, tz, t).await?;
    let only: i64 = f.q.parse().unwrap_or(0);
    let series = state
        .store
        .queries(ws)
        .await?
        .into_iter()
        .filter(|q| (only == 0 || q.id == only) && (f.tag.is_empty() || q.tag == f.tag))
        .map(|q| relais_chart::Series {
            values: per
                .get(&q.id)
                .cloned()
                .unwrap_or_else(|| vec![0.0; labels.len()]),
            name: q.name,
            dashed: false,
        })
        .take(8)
        .collect();
    let chart = relais_chart::LineChart {
        title: t.t("listen.volume").to_string(),
        x_labels: labels,
        series,
        width: 720,
        height: 200,
    };
    Ok(relais_chart::line_chart(&chart, &|v| t.number(v as i64)))
}

/// Share of voice over `days`: brand and competitor queries, their totals as a share bar and
/// their daily volume as lines.
pub async fn share_of_voice(
    state: &AppState,
    m: &Membership,
    n: u64,
    t: Tr,
) -> Result<(String, String, Vec<(String, String, i64)>), AppError> {
    require(m, Permission::ViewListening)?;
    let ws = m.workspace.id;
    let tz = m.workspace.time_zone.as_str();
    let (labels, per) = daily(state, ws, n, tz, t).await?;
    let queries: Vec<SavedQuery> = state
        .store
        .queries(ws)
        .await?
        .into_iter()
        .filter(|q| q.tag == "brand" || q.tag == "competitor")
        .collect();
    let mut totals = Vec::new();
    let mut series = Vec::new();
    for q in &queries {
        let v = per
            .get(&q.id)
            .cloned()
            .unwrap_or_else(|| vec![0.0; labels.len()]);
        totals.push((q.name.clone(), q.tag.clone(), v.iter().sum::<f64>() as i64));
        series.push(relais_chart::Series {
            name: q.name.clone(),
            values: v,
            dashed: q.tag == "competitor",
        });
    }
    let all: i64 = totals.iter().map(|x| x.2).sum();
    let parts: Vec<(String, f64)> = totals
        .iter()
        .map(|(n, _, c)| (n.clone(), *c as f64))
        .collect();
    let bar = relais_chart::share_bar(t.t("listen.share"), &parts, 720, &|s| t.percent(s));
    let lines = relais_chart::line_chart(
        &relais_chart::LineChart {
            title: t.t("listen.volume").to_string(),
            x_labels: labels,
            series,
            width: 720,
            height: 220,
        },
        &|v| t.number(v as i64),
    );
    let rows = totals
        .into_iter()
        .map(|(n, tag, c)| {
            let share = if all > 0 { c as f64 / all as f64 } else { 0.0 };
            (
                n,
                format!("{} · {}", t.number(c), t.percent(share)),
                if tag == "brand" { 1 } else { 0 },
            )
        })
        .collect();
    Ok((bar, lines, rows))
}

/// Mentions as CSV (newest first, at most 10,000) with the view's filters, text only, cells
/// that a spreadsheet would run as formulas defused.
pub async fn csv(state: &AppState, m: &Membership, f: &MentionQuery) -> Result<String, AppError> {
    require(m, Permission::ViewListening)?;
    let mut filter = parse_filter(f, &m.workspace.time_zone)?;
    filter.limit = 10_000;
    let queries = state.store.queries(m.workspace.id).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |_| AppError::internal();
    w.write_record([
        "received_at",
        "published_at",
        "queries",
        "origin",
        "lang",
        "sentiment",
        "author",
        "title",
        "url",
        "text",
    ])
    .map_err(fail)?;
    let iso = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    };
    let defuse = |s: String| {
        if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s
        }
    };
    for x in state.store.search_mentions(m.workspace.id, &filter).await? {
        let names: Vec<&str> = x
            .query_ids
            .iter()
            .filter_map(|id| queries.iter().find(|q| q.id == *id))
            .map(|q| q.name.as_str())
            .collect();
        w.write_record([
            iso(Some(x.received_at)),
            iso(x.published_at),
            names.join("|"),
            x.origin,
            x.lang.unwrap_or_default(),
            x.sentiment.unwrap_or_default(),
            defuse(x.author.unwrap_or_default()),
            defuse(x.title.unwrap_or_default()),
            x.url.unwrap_or_default(),
            defuse(x.body),
        ])
        .map_err(fail)?;
    }
    String::from_utf8(w.into_inner().map_err(|_| AppError::internal())?)
        .map_err(|_| AppError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_and_dates_are_local_days() {
        let f = MentionQuery {
            from: "2026-03-29".into(),
            to: "2026-03-29".into(),
            lang: "FR".into(),
            ..Default::default()
        };
        let p = parse_filter(&f, "Europe/Paris").unwrap();
        // 29 March 2026 in Paris lasts 23 hours (DST starts).
        assert_eq!(p.to - p.from, 23 * 3_600_000);
        assert_eq!(p.lang, "fr");
        for bad in [
            MentionQuery {
                from: "29/03/2026".into(),
                ..Default::default()
            },
            MentionQuery {
                from: "2026-03-29".into(),
                to: "2026-03-01".into(),
                ..Default::default()
            },
            MentionQuery {
                sentiment: "angry".into(),
                ..Default::default()
            },
            MentionQuery {
                q: "x".into(),
                ..Default::default()
            },
            MentionQuery {
                lang: "french".into(),
                ..Default::default()
            },
        ] {
            assert!(parse_filter(&bad, "UTC").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn filters_round_trip_through_the_url() {
        let f = MentionQuery {
            text: "a & b".into(),
            tag: "brand".into(),
            ..Default::default()
        };
        assert_eq!(f.to_query_string(), "tag=brand&text=a+%26+b");
    }
}
