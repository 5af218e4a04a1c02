//! Connecting channels: the form's fields become the publisher's credential type, checked
//! against the network before anything is stored (credentials sealed, never logged).
//! "Connect with <network>" (OAuth) lives in [`oauth`].

pub mod oauth;

use relais_domain::{validate, Code, Permission};
use relais_publisher::{ChannelCredentials, ChannelError, ChannelService};
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

/// The fields each network asks for: (form field, is secret).
pub const FIELDS: &[(&str, &[(&str, bool)])] = &[
    ("mastodon", &[("instance", false), ("access_token", true)]),
    (
        "bluesky",
        &[
            ("pds", false),
            ("identifier", false),
            ("app_password", true),
        ],
    ),
    (
        "matrix",
        &[
            ("homeserver", false),
            ("room", false),
            ("access_token", true),
        ],
    ),
    (
        "wordpress",
        &[("site", false), ("user", false), ("app_password", true)],
    ),
    ("telegram", &[("chat_id", false), ("bot_token", true)]),
    ("discord", &[("webhook_url", true)]),
    ("webhook", &[("url", false), ("secret", true)]),
];

fn service(state: &AppState) -> ChannelService {
    ChannelService::new(
        state.store.clone(),
        (*state.keyring).clone(),
        state.net.clone(),
    )
}

/// Connects a channel from the form: `network`, `name` and the network's fields; with
/// `channel_id`, reconnects that channel (its credentials change only once the new ones work).
pub async fn connect(
    state: &AppState,
    user: &User,
    m: &Membership,
    fields: &[(String, String)],
) -> Result<i64, AppError> {
    require(m, Permission::ManageChannels)?;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let network = get("network");
    let Some((_, wanted)) = FIELDS.iter().find(|(n, _)| *n == network) else {
        return Err(field("network", Code::InvalidValue).into());
    };
    let channel_id: Option<i64> = match get("channel_id").as_str() {
        "" => None,
        v => Some(
            v.parse()
                .map_err(|_| field("channel_id", Code::InvalidValue))?,
        ),
    };
    let name = match channel_id {
        Some(_) => String::new(),
        None => validate::display_name("name", &get("name"))?,
    };
    let mut obj = serde_json::Map::new();
    obj.insert("network".into(), network.clone().into());
    for (f, _) in wanted.iter() {
        let v = get(f);
        if v.is_empty() {
            if *f == "pds" {
                continue; // Bluesky's default PDS
            }
            return Err(
                AppError::from(field("credentials", Code::Required)).with_detail(f.to_string())
            );
        }
        obj.insert(f.to_string(), v.into());
    }
    let creds: ChannelCredentials =
        serde_json::from_value(obj.into()).map_err(|_| field("credentials", Code::InvalidValue))?;
    let actor = Actor::user(user.id, &user.email);
    let svc = service(state);
    let res = match channel_id {
        Some(id) => svc.reconnect(m.workspace.id, id, &creds, &actor).await,
        None => {
            svc.connect(m.workspace.id, &name, &creds, (user.id, &actor))
                .await
        }
    };
    match res {
        Ok(ch) => Ok(ch.id),
        Err(ChannelError::Network(e)) => {
            Err(AppError::from(field("credentials", Code::ChannelRefused))
                .with_detail(e.to_string()))
        }
        Err(ChannelError::Store(e)) => Err(e.into()),
        Err(ChannelError::WrongNetwork { .. }) => Err(field("network", Code::InvalidValue).into()),
        Err(e) => {
            Err(AppError::from(field("credentials", Code::InvalidValue)).with_detail(e.to_string()))
        }
    }
}

pub async fn remove(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageChannels)?;
    let mut tx = state.store.begin().await?;
    state
        .store
        .archive_channel(&mut tx, m.workspace.id, id)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("channel #{id}");
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "channel.remove",
        target: &target,
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await
}

/// Saves a channel's queue slots ("Mon-Fri 09:30 12:30; Sat 10:00"); an unreadable spec is
/// refused with what to fix.
pub async fn set_slots(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
    spec: &str,
) -> Result<(), AppError> {
    require(m, Permission::ManageChannels)?;
    relais_domain::slots::parse(spec)
        .map_err(|e| AppError::from(field("slots", Code::InvalidValue)).with_detail(e))?;
    let ch = state.store.channel(m.workspace.id, id).await?;
    let mut config = ch.config.clone();
    if let Some(obj) = config.as_object_mut() {
        obj.insert("slots".into(), spec.trim().into());
    } else {
        config = serde_json::json!({ "slots": spec.trim() });
    }
    let mut tx = state.store.begin().await?;
    state
        .store
        .update_channel_config(&mut tx, ch.id, &config, &ch.limits)
        .await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "channel.slots",
        target: &ch.name,
        before: None,
        after: Some(spec.trim()),
    };
    super::record(state, tx, entry).await
}

/// The slot spec of a channel ("" when none).
pub fn slots_of(ch: &relais_store::channels::Channel) -> &str {
    ch.config
        .get("slots")
        .and_then(|v| v.as_str())
        .unwrap_or("")
}
