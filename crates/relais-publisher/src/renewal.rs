//! Renewed OAuth tokens are stored before they are used, and 60-day Meta tokens are renewed
//! ahead of time.
//!
//! - [`ChannelTokenSink`]: what the X, LinkedIn, Instagram and Threads connectors call with new
//!   tokens. It seals `creds.with_tokens(t)` and points the channel at it in one transaction, only
//!   if the channel still uses the credentials the connector was built from (a reconnect made
//!   meanwhile wins). X rotates its refresh token on every renewal: without this a restart after
//!   two hours would leave the channel unable to renew.
//! - [`renew_due_tokens`] (`channels.renew_tokens`, daily): Instagram and Threads tokens that
//!   expire within [`RENEW_WITHIN_MS`] are renewed even when the channel does not publish.
//!
//! A failed renewal never touches the stored credentials; a refusal of the grant marks the
//! channel `needs_reconnect` with the network's reason.

use std::sync::Arc;

use relais_net::Net;
use relais_publish::instagram::{Instagram, InstagramLogin};
use relais_publish::oauth::{OAuthTokens, TokenSink};
use relais_publish::threads::Threads;
use relais_publish::{Connector, PublishError};
use relais_store::channels::Channel;
use relais_store::secrets::Keyring;
use relais_store::worker::{JobError, Registry};
use relais_store::{now, Store, StoreError};
use tokio::sync::Mutex;

use crate::channels::{load_credentials, ChannelError};
use crate::credentials::{build_with_sink, ChannelCredentials, CREDENTIALS_PURPOSE};

/// Job kind of the daily renewal.
pub const JOB_RENEW_TOKENS: &str = "channels.renew_tokens";
/// Renew a 60-day token once it expires within a week.
pub const RENEW_WITHIN_MS: i64 = 7 * 24 * 3600 * 1000;

/// Stores a channel's renewed tokens (sealed) before the connector uses them.
pub struct ChannelTokenSink {
    store: Store,
    ring: Keyring,
    channel_id: i64,
    /// The secret the channel points at and the credentials sealed in it.
    current: Mutex<(i64, ChannelCredentials)>,
}

impl ChannelTokenSink {
    pub fn new(
        store: Store,
        ring: Keyring,
        channel_id: i64,
        secret_id: i64,
        creds: ChannelCredentials,
    ) -> Self {
        Self {
            store,
            ring,
            channel_id,
            current: Mutex::new((secret_id, creds)),
        }
    }

    async fn store_tokens(&self, t: &OAuthTokens) -> Result<(), String> {
        let mut cur = self.current.lock().await;
        let creds = cur
            .1
            .with_tokens(t)
            .ok_or_else(|| format!("{} credentials hold no renewable token", cur.1.network()))?;
        let err = |e: StoreError| format!("cannot store the renewed token: {e}");
        let mut tx = self.store.begin().await.map_err(err)?;
        let sid = self
            .store
            .put_secret(&mut tx, &self.ring, CREDENTIALS_PURPOSE, &creds.to_bytes())
            .await
            .map_err(err)?;
        let swapped = self
            .store
            .swap_channel_secret(&mut tx, self.channel_id, cur.0, sid, t.expires_at)
            .await
            .map_err(err)?;
        if !swapped {
            // Dropping the transaction discards the new secret.
            return Err(
                "the channel was reconnected or removed meanwhile: its current credentials are kept"
                    .into(),
            );
        }
        tx.commit().await.map_err(|e| err(e.into()))?;
        *cur = (sid, creds);
        tracing::info!(channel_id = self.channel_id, "renewed channel token stored");
        Ok(())
    }
}

#[async_trait::async_trait]
impl TokenSink for ChannelTokenSink {
    async fn save(&self, tokens: &OAuthTokens) -> Result<(), String> {
        self.store_tokens(tokens).await
    }
}

/// The connector of a stored channel; networks that renew tokens get a [`ChannelTokenSink`].
pub fn channel_connector(
    store: &Store,
    ring: &Keyring,
    net: Net,
    ch: &Channel,
    creds: &ChannelCredentials,
) -> Result<Box<dyn Connector>, ChannelError> {
    if ch.network != creds.network() {
        return Err(ChannelError::WrongNetwork {
            expected: ch.network.clone(),
            given: creds.network(),
        });
    }
    let sink: Option<Arc<dyn TokenSink>> = match (creds.oauth_tokens(), ch.secret_id) {
        (Some(_), Some(sid)) => Some(Arc::new(ChannelTokenSink::new(
            store.clone(),
            ring.clone(),
            ch.id,
            sid,
            creds.clone(),
        ))),
        _ => None,
    };
    Ok(build_with_sink(creds, net, sink))
}

/// What one renewal run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RenewalReport {
    pub renewed: usize,
    /// Refused: the channel now needs reconnecting.
    pub disconnected: usize,
    /// Network or database trouble: tried again later.
    pub failed: usize,
}

/// Renews the Instagram and Threads tokens of every active channel that expire within
/// [`RENEW_WITHIN_MS`] of `at`.
pub async fn renew_due_tokens(
    store: &Store,
    ring: &Keyring,
    net: &Net,
    at: i64,
) -> Result<RenewalReport, StoreError> {
    let mut r = RenewalReport::default();
    for id in store
        .channel_ids_of_networks(&["instagram", "threads"])
        .await?
    {
        let ch = store.channel_by_id(id).await?;
        if ch.status == "needs_reconnect" {
            continue; // only a new consent helps
        }
        let creds = match load_credentials(store, ring, &ch).await {
            Ok(c) => c,
            Err(ChannelError::Store(e)) => return Err(e),
            Err(e) => {
                tracing::warn!(channel_id = id, error = %e, "cannot read channel credentials");
                r.failed += 1;
                continue;
            }
        };
        let due = creds
            .token_expires_at()
            .is_some_and(|t| t - at <= RENEW_WITHIN_MS);
        if !due {
            continue;
        }
        let res = match &creds {
            ChannelCredentials::Instagram(c) if c.login == InstagramLogin::Instagram => {
                Instagram::new(net.clone(), c.clone())
                    .refresh_tokens()
                    .await
            }
            ChannelCredentials::Threads(c) => {
                Threads::new(net.clone(), c.clone()).refresh_tokens().await
            }
            // Facebook Login tokens are Page tokens: nothing to renew.
            _ => continue,
        };
        match res {
            Ok(tokens) => {
                let sink = ChannelTokenSink::new(
                    store.clone(),
                    ring.clone(),
                    ch.id,
                    ch.secret_id.unwrap_or_default(),
                    creds,
                );
                match sink.store_tokens(&tokens).await {
                    Ok(()) => r.renewed += 1,
                    Err(e) => {
                        // The old token stays valid until it expires: try again on retry.
                        tracing::warn!(channel_id = id, error = %e, "renewed token not stored");
                        r.failed += 1;
                    }
                }
            }
            Err(PublishError::Disconnect(reason)) => {
                store
                    .set_channel_status(ch.id, "needs_reconnect", Some(&reason), None)
                    .await?;
                tracing::warn!(channel_id = id, %reason, "token renewal refused: channel needs reconnecting");
                r.disconnected += 1;
            }
            Err(e) => {
                tracing::warn!(channel_id = id, error = %e, "token renewal failed; will retry");
                r.failed += 1;
            }
        }
    }
    Ok(r)
}

/// Registers `channels.renew_tokens`. Failures leave the job to be retried with backoff (the
/// channels already renewed are not due any more).
pub fn register(registry: &mut Registry, ring: Keyring, net: Net) {
    registry.register(JOB_RENEW_TOKENS, move |store, _job, _worker| {
        let (ring, net) = (ring.clone(), net.clone());
        Box::pin(async move {
            let r = renew_due_tokens(&store, &ring, &net, now())
                .await
                .map_err(|e| JobError::Retry(e.to_string()))?;
            if r.failed > 0 {
                return Err(JobError::Retry(format!(
                    "{} channel token(s) could not be renewed yet",
                    r.failed
                )));
            }
            Ok(())
        })
    });
}

/// Declares the daily renewal (idempotent; call at start-up), at 04:17 UTC.
pub async fn install_renewal(store: &Store) -> Result<(), StoreError> {
    store
        .upsert_recurring(
            JOB_RENEW_TOKENS,
            JOB_RENEW_TOKENS,
            &serde_json::json!({}),
            "17 4 * * *",
        )
        .await
}
