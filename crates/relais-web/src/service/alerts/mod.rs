//! Alerts: rules per query (each new mention, a digest, a threshold, crisis detection), the
//! workspace's escalation targets (email, Matrix room, webhook; credentials sealed), the
//! evaluation job that raises alerts once, and their delivery.

pub mod brief;
pub mod deliver;
pub mod engine;

use relais_domain::{validate, Code, Permission};
use relais_store::alerts::NewAlertRule;
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

pub const MODES: [&str; 4] = ["each", "digest", "threshold", "crisis"];
pub const TARGET_KINDS: [&str; 3] = ["email", "matrix", "webhook"];
/// Sealing purpose of escalation credentials.
pub const PURPOSE: &str = "escalation.credentials";

/// The alert rule form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub threshold: String,
    #[serde(default)]
    pub window_minutes: String,
    #[serde(default)]
    pub sensitivity: String,
    #[serde(default)]
    pub cooldown_minutes: String,
    #[serde(default)]
    pub escalate: Option<String>,
}

fn number(
    name: &'static str,
    v: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(default);
    }
    match v.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        Ok(_) => Err(
            AppError::from(field(name, Code::InvalidValue)).with_detail(format!(
                "{}–{}",
                range.start(),
                range.end()
            )),
        ),
        Err(_) => Err(field(name, Code::InvalidValue).into()),
    }
}

async fn audit(
    state: &AppState,
    tx: relais_store::Tx,
    user: &User,
    m: &Membership,
    action: &str,
    target: &str,
) -> Result<(), AppError> {
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action,
        target,
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await
}

pub async fn add_rule(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: &RuleForm,
) -> Result<i64, AppError> {
    require(m, Permission::ManageListening)?;
    let query_id: i64 = f
        .query
        .parse()
        .map_err(|_| field("query", Code::Required))?;
    if !MODES.contains(&f.mode.as_str()) {
        return Err(field("mode", Code::InvalidValue).into());
    }
    let threshold = number("threshold", &f.threshold, 10, 1..=100_000)?;
    let window = number("window_minutes", &f.window_minutes, 60, 5..=10_080)?;
    let sensitivity = number("sensitivity", &f.sensitivity, 3, 1..=5)?;
    let cooldown = number("cooldown_minutes", &f.cooldown_minutes, 60, 0..=1_440)?;
    // Rules look forward: each/digest/threshold start after the newest mention; crisis
    // detection learns the baseline from the last week first.
    let cursor = if f.mode == "crisis" {
        relais_store::now() / 60_000 - 7 * 1_440
    } else {
        state.store.last_mention_id().await?
    };
    let id = state
        .store
        .create_alert_rule(NewAlertRule {
            workspace_id: m.workspace.id,
            query_id,
            mode: &f.mode,
            threshold,
            window_minutes: window,
            sensitivity,
            cooldown_minutes: cooldown,
            escalate: f.escalate.is_some(),
            cursor,
            created_by: Some(user.id),
        })
        .await
        .map_err(|e| match e {
            relais_store::StoreError::NotFound => AppError::from(field("query", Code::NotFound)),
            e => e.into(),
        })?;
    let tx = state.store.begin().await?;
    audit(
        state,
        tx,
        user,
        m,
        "alerts.rule_add",
        &format!("rule #{id} ({}) on query #{query_id}", f.mode),
    )
    .await?;
    Ok(id)
}

pub async fn delete_rule(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageListening)?;
    state.store.delete_alert_rule(m.workspace.id, id).await?;
    let tx = state.store.begin().await?;
    audit(
        state,
        tx,
        user,
        m,
        "alerts.rule_delete",
        &format!("rule #{id}"),
    )
    .await
}

/// The escalation target form: an email address, a Matrix room (homeserver + token), or a
/// webhook (URL + shared secret for the signature).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TargetForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub homeserver: String,
    #[serde(default)]
    pub access_token: String,
    #[serde(default)]
    pub secret: String,
}

/// Credentials sealed with a Matrix or webhook target.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct TargetSecret {
    #[serde(default)]
    pub homeserver: String,
    #[serde(default)]
    pub token: String,
}

pub async fn add_target(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: &TargetForm,
) -> Result<i64, AppError> {
    require(m, Permission::ManageListening)?;
    let label = validate::display_name("label", &f.label)?;
    let (address, secret) = match f.kind.as_str() {
        "email" => (validate::email("address", &f.address)?, None),
        "matrix" => {
            let room = f.address.trim();
            // Room ids are `!opaque` (`:server` only before room version 12); aliases `#a:server`.
            let alias_ok = room.starts_with('#') && room.contains(':');
            if !(alias_ok || room.len() > 1 && room.starts_with('!'))
                || room.chars().any(char::is_whitespace)
            {
                return Err(field("address", Code::InvalidValue).into());
            }
            let hs = f.homeserver.trim().trim_end_matches('/');
            checked_url(state, "homeserver", hs)?;
            if f.access_token.trim().is_empty() {
                return Err(field("access_token", Code::Required).into());
            }
            // The room must be reachable with this token now, not at the first crisis.
            let creds = relais_publish::matrix::MatrixCredentials {
                homeserver: hs.to_string(),
                access_token: relais_publish::Secret::new(f.access_token.trim()),
                room: room.to_string(),
            };
            relais_publish::matrix::Matrix::new(state.net.clone(), creds)
                .check_joined()
                .await
                .map_err(|e| {
                    AppError::from(field("access_token", Code::ChannelRefused))
                        .with_detail(e.to_string())
                })?;
            let s = TargetSecret {
                homeserver: hs.to_string(),
                token: f.access_token.trim().to_string(),
            };
            (room.to_string(), Some(s))
        }
        "webhook" => {
            let url = f.address.trim();
            checked_url(state, "address", url)?;
            if f.secret.trim().chars().count() < 16 {
                return Err(AppError::from(field("secret", Code::TooShort)).with_detail("16"));
            }
            let s = TargetSecret {
                homeserver: String::new(),
                token: f.secret.trim().to_string(),
            };
            (url.to_string(), Some(s))
        }
        _ => return Err(field("kind", Code::InvalidValue).into()),
    };
    let mut tx = state.store.begin().await?;
    let secret_id = match secret {
        Some(s) => {
            let json = serde_json::to_vec(&s).map_err(|_| AppError::internal())?;
            Some(
                state
                    .store
                    .put_secret(&mut tx, &state.keyring, PURPOSE, &json)
                    .await?,
            )
        }
        None => None,
    };
    let id = state
        .store
        .add_escalation_target(
            &mut tx,
            m.workspace.id,
            &f.kind,
            &label,
            &address,
            secret_id,
        )
        .await?;
    audit(
        state,
        tx,
        user,
        m,
        "alerts.target_add",
        &format!("{} {label}", f.kind),
    )
    .await?;
    Ok(id)
}

fn checked_url(state: &AppState, name: &'static str, url: &str) -> Result<(), AppError> {
    if url.is_empty() {
        return Err(field(name, Code::Required).into());
    }
    state.net.check(url).map(|_| ()).map_err(|e| {
        match e.code() {
            "ssrf_blocked" => field(name, Code::UrlRefused),
            _ => field(name, Code::InvalidUrl),
        }
        .into()
    })
}

pub async fn delete_target(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageListening)?;
    state
        .store
        .delete_escalation_target(m.workspace.id, id)
        .await?;
    let tx = state.store.begin().await?;
    audit(
        state,
        tx,
        user,
        m,
        "alerts.target_delete",
        &format!("target #{id}"),
    )
    .await
}
