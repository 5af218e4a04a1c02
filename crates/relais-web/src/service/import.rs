//! Bulk import of publications (CSV or JSON) and CSV export. Every row is validated like the
//! composer would (channels, time zone and DST, limits, checks); if any row is wrong, nothing is
//! written and every error is reported with its line.

use relais_store::users::User;
use relais_store::workspaces::Membership;
use relais_store::StoreError;

use super::compose::{self, Draft};
use crate::i18n::Tr;
use crate::{AppError, AppState};

pub const MAX_ROWS: usize = 2000;
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// One row as the user wrote it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub time: String,
    /// Channel names separated by `|` (CSV) or a list (JSON).
    #[serde(default, deserialize_with = "names")]
    pub channels: Vec<String>,
    #[serde(default)]
    pub text: String,
}

fn names<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum N {
        One(String),
        Many(Vec<String>),
    }
    Ok(match N::deserialize(d)? {
        N::One(s) => s
            .split('|')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        N::Many(v) => v,
    })
}

use serde::Deserialize;

/// A problem on one line of the file (1-based; the CSV header is line 1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LineError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

fn parse(text: &str, t: Tr) -> Result<Vec<(usize, Row)>, Vec<LineError>> {
    let err = |line, field: &str, message: String| {
        vec![LineError {
            line,
            field: field.into(),
            message,
        }]
    };
    if text.len() > MAX_BYTES {
        return Err(err(
            0,
            "file",
            t.code(relais_domain::Code::TooLong, Some("file")),
        ));
    }
    let rows: Vec<(usize, Row)> = if text.trim_start().starts_with('[') {
        let v: Vec<Row> =
            serde_json::from_str(text).map_err(|e| err(e.line(), "json", e.to_string()))?;
        // JSON has no reliable line per element: number the rows 1..n.
        v.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect()
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut out = Vec::new();
        for rec in rdr.deserialize::<Row>() {
            match rec {
                Ok(r) => out.push((out.len() + 2, r)),
                Err(e) => {
                    let line = e
                        .position()
                        .map(|p| p.line() as usize)
                        .unwrap_or(out.len() + 2);
                    return Err(err(line, "csv", e.to_string()));
                }
            }
        }
        out
    };
    if rows.len() > MAX_ROWS {
        return Err(err(
            0,
            "file",
            format!("{} rows, at most {MAX_ROWS}", rows.len()),
        ));
    }
    Ok(rows)
}

/// Validates every row, then writes them all in one transaction. Returns how many were imported.
pub async fn import(
    state: &AppState,
    user: &User,
    m: &Membership,
    text: &str,
    t: Tr,
) -> Result<usize, ImportError> {
    let rows = parse(text, t).map_err(ImportError::Lines)?;
    if rows.is_empty() {
        return Err(ImportError::Lines(vec![LineError {
            line: 0,
            field: "file".into(),
            message: t.code(relais_domain::Code::Required, Some("file")),
        }]));
    }
    let all = state
        .store
        .channels(m.workspace.id)
        .await
        .map_err(AppError::from)?;
    let mut errors = Vec::new();
    let mut ready = Vec::new();
    for (line, r) in rows {
        let mut ids = Vec::new();
        for n in &r.channels {
            match all.iter().find(|c| c.name.eq_ignore_ascii_case(n)) {
                Some(c) => ids.push(c.id),
                None => errors.push(LineError {
                    line,
                    field: "channels".into(),
                    message: format!(
                        "{}: {n}",
                        t.code(relais_domain::Code::InvalidValue, Some("channels"))
                    ),
                }),
            }
        }
        let action = if r.date.is_empty() && r.time.is_empty() {
            "draft"
        } else {
            "schedule"
        };
        let d = Draft {
            body: r.text,
            channels: ids,
            date: r.date,
            time: r.time,
            action: action.into(),
            ..Default::default()
        };
        match compose::prepare(state, user, m, &d, &all).await {
            Ok(p) => ready.push((d, p)),
            Err(e) => errors.push(LineError {
                line,
                field: e.field.unwrap_or("row").into(),
                message: e.message(t),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Lines(errors));
    }
    let mut tx = state.store.begin().await.map_err(AppError::from)?;
    for (d, p) in &ready {
        compose::write(state, &mut tx, user, m, d, p).await?;
    }
    tx.commit()
        .await
        .map_err(StoreError::from)
        .map_err(AppError::from)?;
    super::accounts::wake(state);
    Ok(ready.len())
}

#[derive(Debug)]
pub enum ImportError {
    Lines(Vec<LineError>),
    App(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::App(e)
    }
}

/// The workspace's publications as CSV, times in its zone (the import's format, plus state and link).
pub async fn export(state: &AppState, m: &Membership) -> Result<String, AppError> {
    let channels = state.store.channels(m.workspace.id).await?;
    let targets = state
        .store
        .list_targets(m.workspace.id, &Default::default())
        .await?;
    let tz: chrono_tz::Tz = m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| {
        tracing::error!(error = %e, "csv export");
        AppError::internal()
    };
    w.write_record(["date", "time", "channels", "text", "state", "url"])
        .map_err(io)?;
    for t in targets {
        let (date, time) = match t
            .scheduled_at
            .and_then(chrono::DateTime::from_timestamp_millis)
        {
            Some(d) => {
                let l = d.with_timezone(&tz);
                (
                    l.format("%Y-%m-%d").to_string(),
                    l.format("%H:%M").to_string(),
                )
            }
            None => (String::new(), String::new()),
        };
        let ch = channels
            .iter()
            .find(|c| c.id == t.channel_id)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        // Spreadsheets run cells starting with = + - @: quote them out.
        let text = if t.body.starts_with(['=', '+', '-', '@']) {
            format!("'{}", t.body)
        } else {
            t.body.clone()
        };
        w.write_record([
            date,
            time,
            ch,
            text,
            t.state.as_str().to_string(),
            t.remote_url.unwrap_or_default(),
        ])
        .map_err(io)?;
    }
    String::from_utf8(w.into_inner().map_err(|_| AppError::internal())?)
        .map_err(|_| AppError::internal())
}
