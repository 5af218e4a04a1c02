//! Import of existing subscribers (CSV `email[,name]`, header optional) and export. The import
//! is all or nothing: every line is checked first, and one bad line imports nobody, each error
//! naming its line. Imported addresses are confirmed only when the importer ticks "they already
//! consented"; otherwise each gets the opt-in mail. An import never brings back an address that
//! unsubscribed or bounced.

use relais_domain::{validate, Code, Permission};
use relais_store::audit::{Actor, NewAudit};
use relais_store::newsletter::{Confirmation, NewsletterList, SubState, UnsubToken};
use relais_store::users::User;
use relais_store::workspaces::Membership;
use relais_store::{hash_token, now, random_token, StoreError};

use super::{list_key, new_unsub, subscribe};
use crate::auth::require;
use crate::i18n::Tr;
use crate::service::import::LineError;
use crate::{AppError, AppState};

pub const MAX_ROWS: usize = 20_000;

#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct ImportForm {
    pub data: String,
    /// "on" when the importer states that these people already consented.
    pub consented: String,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub confirmed: usize,
    /// New addresses that were sent the opt-in mail.
    pub invited: usize,
    /// Already on the list (or unsubscribed/bounced: left alone).
    pub unchanged: usize,
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

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::App(e.into())
    }
}

fn line_err(line: usize, field: &str, message: String) -> LineError {
    LineError {
        line,
        field: field.into(),
        message,
    }
}

/// A checked line: (line number, email, name).
pub type Line = (usize, String, Option<String>);

/// Reads and checks every line: (line, email, name) or every error. Each physical line is one
/// record (a quoted name may hold a comma, not a line break), so line numbers are exact.
pub fn parse(text: &str, t: Tr) -> Result<Vec<Line>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(raw.as_bytes());
        let rec = match rdr.records().next() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                errors.push(line_err(line, "csv", e.to_string()));
                continue;
            }
            None => continue,
        };
        let header = std::mem::replace(&mut first, false);
        let email = rec.get(0).unwrap_or("");
        if header && email.eq_ignore_ascii_case("email") {
            continue; // header
        }
        if rec.len() > 2 {
            errors.push(line_err(
                line,
                "csv",
                format!("{}: email,name", t.t("nl.import.columns")),
            ));
            continue;
        }
        let email = match validate::email("email", email) {
            Ok(e) => e,
            Err(e) => {
                errors.push(line_err(
                    line,
                    "email",
                    format!("{} ({email})", t.code(e.code, Some("email"))),
                ));
                continue;
            }
        };
        let name = match rec.get(1).filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => match validate::display_name("name", n) {
                Ok(n) => Some(n),
                Err(e) => {
                    errors.push(line_err(line, "name", t.code(e.code, Some("name"))));
                    continue;
                }
            },
        };
        if let Some(first) = seen.insert(email.clone(), line) {
            errors.push(line_err(
                line,
                "email",
                format!("{email}: {} {first}", t.t("nl.import.duplicate")),
            ));
            continue;
        }
        rows.push((line, email, name));
    }
    if rows.len() > MAX_ROWS {
        errors.push(line_err(0, "file", format!("{} > {MAX_ROWS}", rows.len())));
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(line_err(0, "file", t.code(Code::Required, Some("file"))));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

pub async fn import(
    state: &AppState,
    user: &User,
    m: &Membership,
    list_id: i64,
    f: &ImportForm,
    t: Tr,
) -> Result<Report, ImportError> {
    require(m, Permission::ManageChannels)?;
    let list: NewsletterList = state.store.newsletter_list(m.workspace.id, list_id).await?;
    let rows = parse(&f.data, t).map_err(ImportError::Lines)?;
    let consented = f.consented == "on";
    if !consented
        && state
            .store
            .newsletter_settings(m.workspace.id)
            .await?
            .is_none()
    {
        return Err(
            AppError::from(super::field("consented", Code::NewsletterNotConfigured)).into(),
        );
    }
    let key = list_key(state, &list).await?;
    let mut report = Report::default();
    let mut tx = state.store.begin().await?;
    for (_, email, name) in &rows {
        let existing = state
            .store
            .subscriber_by_email(&mut tx, list.id, email)
            .await?;
        match existing {
            Some(s) if s.state == SubState::Pending && consented => {
                state.store.confirm_imported(&mut tx, s.id).await?;
                report.confirmed += 1;
            }
            Some(_) => report.unchanged += 1,
            None => {
                let (nonce, uhash) = new_unsub(&key);
                let unsub = UnsubToken {
                    nonce: &nonce,
                    hash: &uhash,
                };
                if consented {
                    state
                        .store
                        .insert_subscriber(&mut tx, &list, email, name.as_deref(), unsub, None)
                        .await?;
                    report.confirmed += 1;
                } else {
                    let token = random_token(32);
                    let hash = hash_token(&token);
                    let confirm = Confirmation {
                        hash: &hash,
                        expires_at: now() + subscribe::CONFIRM_TTL_MS,
                    };
                    let s = state
                        .store
                        .insert_subscriber(
                            &mut tx,
                            &list,
                            email,
                            name.as_deref(),
                            unsub,
                            Some(confirm),
                        )
                        .await?;
                    subscribe::enqueue_confirmation(state, &mut tx, s.id, &token, m.workspace.lang)
                        .await?;
                    report.invited += 1;
                }
            }
        }
    }
    let actor = Actor::user(user.id, &user.email);
    let after = format!(
        "{} confirmed, {} invited, {} unchanged{}",
        report.confirmed,
        report.invited,
        report.unchanged,
        if consented {
            " (consent stated by the importer)"
        } else {
            ""
        }
    );
    state
        .store
        .audit(
            &mut tx,
            NewAudit {
                workspace_id: Some(m.workspace.id),
                actor: &actor,
                action: "newsletter.import",
                target: &format!("list:{}", list.id),
                before: None,
                after: Some(&after),
            },
        )
        .await?;
    tx.commit().await.map_err(StoreError::from)?;
    crate::service::accounts::wake(state);
    Ok(report)
}

fn iso(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// The list as CSV (times in UTC, ISO 8601). Cells starting with = + - @ are quoted out so a
/// spreadsheet does not run them.
pub async fn export(state: &AppState, m: &Membership, list_id: i64) -> Result<String, AppError> {
    require(m, Permission::ManageChannels)?;
    let list = state.store.newsletter_list(m.workspace.id, list_id).await?;
    let subs = state
        .store
        .subscribers(m.workspace.id, list.id, None, i64::MAX)
        .await?;
    let safe = |s: &str| {
        if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| {
        tracing::error!(error = %e, "csv export");
        AppError::internal()
    };
    w.write_record([
        "email",
        "name",
        "state",
        "consent",
        "subscribed_at",
        "confirmed_at",
        "unsubscribed_at",
        "bounces",
    ])
    .map_err(io)?;
    for s in subs {
        w.write_record([
            safe(&s.email),
            safe(s.name.as_deref().unwrap_or("")),
            s.state.as_str().to_string(),
            s.consent,
            iso(Some(s.created_at)),
            iso(s.confirmed_at),
            iso(s.unsubscribed_at),
            s.bounces.to_string(),
        ])
        .map_err(io)?;
    }
    String::from_utf8(w.into_inner().map_err(|_| AppError::internal())?)
        .map_err(|_| AppError::internal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use relais_domain::Lang;

    #[test]
    fn every_bad_line_is_named() {
        let t = Tr(Lang::En);
        let ok = parse("email,name\nAna@Example.org,Ana\n\nbob@example.org\n", t).unwrap();
        assert_eq!(
            ok,
            vec![
                (2, "ana@example.org".into(), Some("Ana".into())),
                (4, "bob@example.org".into(), None)
            ]
        );
        let errs = parse(
            "a@example.org\nnot-an-email\nA@example.org\nc@x.org,C,extra\n",
            t,
        )
        .unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        assert!(
            errs[0].message.contains("not-an-email"),
            "{}",
            errs[0].message
        );
        assert!(parse("", t).is_err());
    }
}
