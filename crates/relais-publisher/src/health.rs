//! Publishing health for the health page: per workspace, targets due, late (due for more than
//! [`LATE_AFTER_MS`]: the worker is down or behind), failed and unconfirmed (need a human).

use relais_store::posts::PublishingHealth;
use relais_store::{now, Store, StoreError};

pub const LATE_AFTER_MS: i64 = 2 * 60 * 1000;

/// Counts for one workspace, or for all (`None`, instance health); workspaces with nothing
/// pending are omitted.
pub async fn health(
    store: &Store,
    workspace_id: Option<i64>,
) -> Result<Vec<PublishingHealth>, StoreError> {
    let t = now();
    store
        .publishing_health(workspace_id, t, t - LATE_AFTER_MS)
        .await
}

/// Posts a network accepts from one account per rolling 24 hours, where it says so (DESIGN §2).
pub fn daily_quota(network: &str) -> Option<i64> {
    match network {
        "instagram" => Some(50),
        "threads" => Some(250),
        _ => None,
    }
}

/// Warn this long before an access token expires.
pub const TOKEN_WARN_MS: i64 = 7 * 24 * 3600 * 1000;

/// How a channel is doing, for the channels page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChannelHealth {
    /// `connected`, `needs_reconnect` or `rate_limited` (only while the wait lasts).
    pub status: &'static str,
    /// The network's reason (needs reconnect, rate limit).
    pub detail: Option<String>,
    pub rate_limited_until: Option<i64>,
    /// When the access token expires (unix ms), where known.
    pub token_expires_at: Option<i64>,
    /// The token expires within [`TOKEN_WARN_MS`] (or has expired).
    pub token_expiring: bool,
    /// (used, limit) over the last 24 hours.
    pub quota: Option<(i64, i64)>,
}

impl ChannelHealth {
    pub fn quota_left(&self) -> Option<i64> {
        self.quota.map(|(used, limit)| (limit - used).max(0))
    }
}

/// The health of one channel at `at`.
pub async fn channel_health(
    store: &Store,
    ch: &relais_store::channels::Channel,
    at: i64,
) -> Result<ChannelHealth, StoreError> {
    let waiting = ch.rate_limited_until.filter(|u| *u > at);
    let status = match ch.status.as_str() {
        "needs_reconnect" => "needs_reconnect",
        _ if waiting.is_some() => "rate_limited",
        _ => "connected",
    };
    let detail = match status {
        "connected" => None,
        _ => ch.status_detail.clone(),
    };
    let token_expires_at = ch.config.get("token_expires_at").and_then(|v| v.as_i64());
    let quota = match daily_quota(&ch.network) {
        Some(limit) => Some((
            store.published_since(ch.id, at - 24 * 3600 * 1000).await?,
            limit,
        )),
        None => None,
    };
    Ok(ChannelHealth {
        status,
        detail,
        rate_limited_until: waiting,
        token_expires_at,
        token_expiring: token_expires_at.is_some_and(|t| t - at <= TOKEN_WARN_MS),
        quota,
    })
}
