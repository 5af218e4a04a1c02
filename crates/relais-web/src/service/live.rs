//! Live listening sources per workspace: a Bluesky firehose or Jetstream, a Mastodon timeline
//! (public or hashtag; token sealed), or a watched web page. The same source followed by two
//! workspaces is one connection (keyed by its settings); the worker's runner holds it.

use relais_domain::{Code, Permission};
use relais_sources::SourceConfig;
use relais_store::audit::{Actor, NewAudit};
use relais_store::users::User;
use relais_store::workspaces::Membership;
use relais_store::StoreError;
use serde_json::json;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

pub const KINDS: [&str; 4] = [
    "bluesky_firehose",
    "bluesky_jetstream",
    "mastodon",
    "page_watch",
];
/// A page is not checked more often than once a minute.
const MIN_PAGE_INTERVAL: u64 = 60;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LiveForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub hashtag: String,
    #[serde(default)]
    pub selector: String,
    #[serde(default)]
    pub interval_minutes: String,
    #[serde(default)]
    pub mastodon_token: String,
}

/// The settings as relais-sources reads them (without the token), or the field at fault.
pub fn config(f: &LiveForm) -> Result<serde_json::Value, AppError> {
    let url = f.url.trim();
    if url.is_empty() {
        return Err(field("url", Code::Required).into());
    }
    let v = match f.kind.as_str() {
        "bluesky_firehose" | "bluesky_jetstream" => json!({ "kind": f.kind, "url": url }),
        "mastodon" => {
            let tag = f.hashtag.trim().trim_start_matches('#');
            let timeline = if tag.is_empty() {
                json!({ "type": "public" })
            } else {
                json!({ "type": "hashtag", "tag": tag })
            };
            json!({ "kind": "mastodon", "instance": url, "timeline": timeline })
        }
        "page_watch" => {
            let minutes = match f.interval_minutes.trim() {
                "" => 15,
                m => m
                    .parse::<u64>()
                    .ok()
                    .filter(|m| (1..=10_080).contains(m))
                    .ok_or_else(|| {
                        AppError::from(field("interval_minutes", Code::InvalidValue))
                            .with_detail("1–10080")
                    })?,
            };
            let selector = Some(f.selector.trim()).filter(|s| !s.is_empty());
            json!({ "kind": "page_watch", "url": url, "selector": selector, "interval_secs": (minutes * 60).max(MIN_PAGE_INTERVAL) })
        }
        _ => return Err(field("kind", Code::InvalidValue).into()),
    };
    let parsed: SourceConfig = serde_json::from_value(v.clone())
        .map_err(|e| AppError::from(field("url", Code::InvalidValue)).with_detail(e.to_string()))?;
    parsed.validate().map_err(|e| {
        let name = if e.to_string().starts_with("selector") {
            "selector"
        } else {
            "url"
        };
        AppError::from(field(name, Code::InvalidValue)).with_detail(e.to_string())
    })?;
    Ok(v)
}

pub async fn add(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: &LiveForm,
) -> Result<i64, AppError> {
    require(m, Permission::ManageListening)?;
    let v = config(f)?;
    // The endpoint must be one the server may reach (private addresses need the allow list).
    let check = f
        .url
        .trim()
        .replacen("wss://", "https://", 1)
        .replacen("ws://", "http://", 1);
    state.net.check(&check).map_err(|e| match e.code() {
        "ssrf_blocked" => field("url", Code::UrlRefused),
        _ => field("url", Code::InvalidUrl),
    })?;
    let kind = f.kind.clone();
    // serde_json objects are sorted: the same settings always give the same key.
    let key = format!("{kind}:{v}");
    let name = url::Url::parse(&check)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| kind.clone());
    let name = match f.hashtag.trim() {
        "" => name,
        tag => format!("{name} #{}", tag.trim_start_matches('#')),
    };
    let mut tx = state.store.begin().await?;
    let secret = match f.mastodon_token.trim() {
        "" => None,
        t if kind == "mastodon" => Some(
            state
                .store
                .put_secret(
                    &mut tx,
                    &state.keyring,
                    relais_listener::live::PURPOSE,
                    t.as_bytes(),
                )
                .await?,
        ),
        _ => None,
    };
    let id = state
        .store
        .subscribe_live(
            &mut tx,
            m.workspace.id,
            &name,
            relais_store::live::NewLiveSource {
                key: &key,
                kind: &kind,
                config: &v.to_string(),
                secret_id: secret,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::from(field("url", Code::Conflict)),
            e => e.into(),
        })?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "listen.live_add",
        target: &name,
        before: None,
        after: Some(&kind),
    };
    super::record(state, tx, entry).await?;
    Ok(id)
}

pub async fn delete(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageListening)?;
    state.store.unsubscribe_live(m.workspace.id, id).await?;
    let tx = state.store.begin().await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("live source #{id}");
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "listen.live_delete",
        target: &target,
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await
}

/// A live source's state for the page: `connected`, `backoff`…, and its last problem.
pub fn describe(status: Option<&str>) -> (String, Option<String>) {
    let Some(v) = status.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()) else {
        return ("connecting".into(), None);
    };
    // `SourceState` is tagged: {"state": {"state": "backoff", "attempt": 2, …}}.
    let st = &v["state"];
    let state = st
        .as_str()
        .or_else(|| st["state"].as_str())
        .unwrap_or("connecting")
        .to_string();
    let problem = ["last_error", "last_notice"].iter().find_map(|k| {
        let p = &v[*k];
        p["message"]
            .as_str()
            .map(|m| format!("{}: {m}", p["code"].as_str().unwrap_or("")))
    });
    (state, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str, url: &str) -> LiveForm {
        LiveForm {
            kind: kind.into(),
            url: url.into(),
            ..LiveForm::default()
        }
    }

    #[test]
    fn settings_are_checked_and_name_the_field() {
        assert!(config(&form("bluesky_firehose", "https://bsky.network")).is_ok());
        let mut m = form("mastodon", "https://mastodon.social");
        m.hashtag = "#rust".into();
        assert_eq!(config(&m).unwrap()["timeline"]["tag"], "rust");
        let mut p = form("page_watch", "https://example.org/prix");
        p.interval_minutes = "0".into();
        assert_eq!(config(&p).unwrap_err().field, Some("interval_minutes"));
        assert_eq!(
            config(&form("page_watch", "ftp://x")).unwrap_err().field,
            Some("url")
        );
        assert_eq!(
            config(&form("rss", "https://x")).unwrap_err().field,
            Some("kind")
        );
        assert_eq!(
            config(&form("mastodon", "")).unwrap_err().field,
            Some("url")
        );
    }

    #[test]
    fn status_is_described() {
        assert_eq!(describe(None).0, "connecting");
        let s = r#"{"state":{"state":"backoff","attempt":2},"last_error":{"code":"connect","message":"refused"}}"#;
        assert_eq!(
            describe(Some(s)),
            ("backoff".into(), Some("connect: refused".into()))
        );
    }
}
