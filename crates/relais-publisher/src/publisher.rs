//! The publisher's shared context: keyring, HTTP client, policy, and a cache of connectors
//! (one per channel and credentials version, so a Bluesky session is reused across posts).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use relais_net::Net;
use relais_publish::{Connector, PublishRequest, Variant};
use relais_store::blobs::SharedStorage;
use relais_store::channels::Channel;
use relais_store::posts::Target;
use relais_store::secrets::Keyring;
use relais_store::Store;

use crate::channels::{load_credentials, ChannelError};
use crate::renewal::channel_connector;

/// Retry and timing policy. Defaults suit production; tests shorten them.
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    /// Publication attempts of one target before it is `failed` (transient errors, rate limits).
    pub max_attempts: i64,
    /// First retry delay; doubles per attempt, capped at one hour.
    pub retry_base_ms: i64,
    /// Wait after a 429 that does not say how long.
    pub default_rate_limit_ms: i64,
    /// The job lease of the workers (`WorkerConfig::lease`): a target `publishing` for longer
    /// than lease + margin belongs to a dead worker. Keep the HTTP timeout well below the lease.
    pub lease_ms: i64,
    pub stale_margin_ms: i64,
    /// A scheduled target this late without a pending job has lost it (the sweeper re-enqueues).
    pub lost_after_ms: i64,
    /// Delay before reading the channel back after an unknown outcome (let the post appear).
    pub reconcile_delay_ms: i64,
    /// Where the networks that fetch media by URL (Instagram, Threads) find attached files:
    /// `{public_url}/public/media/` (the file's content hash is the capability); None = not served.
    pub public_media_base: Option<String>,
    /// Attempts of one reconcile job (network errors while reading back).
    pub reconcile_max_attempts: i64,
}

impl Default for PublisherConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            retry_base_ms: 30_000,
            default_rate_limit_ms: 60_000,
            lease_ms: 60_000,
            stale_margin_ms: 60_000,
            lost_after_ms: 120_000,
            reconcile_delay_ms: 10_000,
            reconcile_max_attempts: 6,
            public_media_base: None,
        }
    }
}

impl PublisherConfig {
    /// Delay before attempt `attempts + 1`.
    pub fn backoff_ms(&self, attempts: i64) -> i64 {
        let exp = attempts.clamp(1, 20) - 1;
        self.retry_base_ms.saturating_mul(1 << exp).min(3_600_000)
    }
}

type Cache = HashMap<(i64, i64), Arc<dyn Connector>>;

pub struct Publisher {
    pub(crate) ring: Keyring,
    pub(crate) net: Net,
    pub(crate) cfg: PublisherConfig,
    /// Where attached media are read from (none: a post with media fails with a clear reason).
    pub(crate) media: Option<SharedStorage>,
    connectors: Mutex<Cache>,
}

impl Publisher {
    pub fn new(ring: Keyring, net: Net, cfg: PublisherConfig) -> Arc<Publisher> {
        Self::with_media(ring, net, cfg, None)
    }

    /// A publisher that sends the media attached to posts, read from `media`.
    pub fn with_media(
        ring: Keyring,
        net: Net,
        cfg: PublisherConfig,
        media: Option<SharedStorage>,
    ) -> Arc<Publisher> {
        Arc::new(Publisher {
            ring,
            net,
            cfg,
            media,
            connectors: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &PublisherConfig {
        &self.cfg
    }

    /// The connector of a channel, built from its sealed credentials on first use.
    pub(crate) async fn connector(
        &self,
        store: &Store,
        ch: &Channel,
    ) -> Result<Arc<dyn Connector>, ChannelError> {
        let key = (ch.id, ch.secret_id.ok_or(ChannelError::NoCredentials)?);
        if let Some(c) = self.cache().get(&key) {
            return Ok(c.clone());
        }
        let creds = load_credentials(store, &self.ring, ch).await?;
        let c: Arc<dyn Connector> =
            channel_connector(store, &self.ring, self.net.clone(), ch, &creds)?.into();
        let mut cache = self.cache();
        // Renewed tokens or a reconnect changed the secret: the old connector is stale.
        cache.retain(|(id, _), _| *id != ch.id);
        cache.insert(key, c.clone());
        Ok(c)
    }

    /// Drops a channel's cached connector (its session or token was refused).
    pub(crate) fn forget(&self, channel_id: i64) {
        self.cache().retain(|(id, _), _| *id != channel_id);
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.connectors.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What is sent for a target: its body plus the per-network options the composer stored.
pub(crate) fn request(t: &Target) -> PublishRequest {
    let o = &t.options;
    let s = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let list = |k: &str| -> Vec<String> {
        o.get(k)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    PublishRequest {
        idempotency_key: t.idempotency_key.clone(),
        variant: Variant {
            text: t.body.clone(),
            title: s("title"),
            html: s("html"),
            media: Vec::new(),
            language: s("language"),
            spoiler: s("spoiler"),
            visibility: s("visibility"),
            status: s("status"),
            tags: list("tags"),
            categories: list("categories"),
        },
        reply_to: None,
    }
}
