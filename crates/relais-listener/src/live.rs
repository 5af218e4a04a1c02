//! The live sources runner, one per worker process: it holds a lease on each live source it
//! runs (so with many processes each source has exactly one connection), starts it from the
//! saved cursor, stores every batch's matched events as mentions for the workspaces that follow
//! the source, then saves the batch's cursor. A crash between the two replays the batch after
//! the restart; mentions are unique per workspace and guid, so nothing is counted twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use relais_net::Net;
use relais_sources::{Batch, SourceConfig, SourceHandle, SourceKind};
use relais_store::live::LiveSource;
use relais_store::secrets::Keyring;
use relais_store::Store;
use tokio::sync::{mpsc, watch};

use crate::{Incoming, Listener};

/// Sealing purpose of a live source's token.
pub const PURPOSE: &str = "live.credentials";
const LEASE_MS: i64 = 30_000;
const SYNC_EVERY: Duration = Duration::from_secs(5);

pub struct LiveRunner {
    listener: Listener,
    store: Store,
    net: Net,
    keyring: Arc<Keyring>,
    owner: String,
}

/// Where mentions from a source kind say they come from.
pub fn origin(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::BlueskyFirehose | SourceKind::BlueskyJetstream => "bluesky",
        SourceKind::Mastodon => "mastodon",
        SourceKind::PageWatch => "web",
    }
}

impl LiveRunner {
    pub fn new(listener: Listener, store: Store, net: Net, keyring: Arc<Keyring>) -> LiveRunner {
        let owner = format!("{}-{}", std::process::id(), relais_store::random_token(6));
        LiveRunner {
            listener,
            store,
            net,
            keyring,
            owner,
        }
    }

    /// The source's settings with its token, ready to start.
    async fn config(&self, s: &LiveSource) -> Result<SourceConfig, String> {
        let mut v: serde_json::Value =
            serde_json::from_str(&s.config).map_err(|e| e.to_string())?;
        if let Some(id) = s.secret_id {
            let token = self
                .store
                .get_secret(&self.keyring, id)
                .await
                .map_err(|e| e.to_string())?;
            v["token"] = serde_json::Value::String(String::from_utf8_lossy(&token).into_owned());
        }
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    /// Runs until `stop` turns true, then gives its leases back.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let (tx, mut rx) = mpsc::channel::<Batch>(64);
        let mut held: HashMap<i64, SourceHandle> = HashMap::new();
        let mut tick = tokio::time::interval(SYNC_EVERY);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tick.tick() => {
                    if let Err(e) = self.sync(&mut held, &tx).await {
                        tracing::warn!(error = %e, "live sources: sync failed");
                    }
                }
                Some(batch) = rx.recv() => {
                    if let Err(e) = self.store_batch(batch).await {
                        // The cursor was not saved: the batch comes again after a restart.
                        tracing::warn!(error = %e, "live sources: a batch was not stored");
                    }
                }
            }
        }
        for id in held.keys() {
            let _ = self.store.release_live_source(*id, &self.owner).await;
        }
    }

    async fn sync(
        &self,
        held: &mut HashMap<i64, SourceHandle>,
        tx: &mpsc::Sender<Batch>,
    ) -> relais_store::Result<()> {
        let sources = self.store.live_sources().await?;
        held.retain(|id, _| sources.iter().any(|s| s.id == *id));
        let until = relais_store::now() + LEASE_MS;
        for s in &sources {
            if !self
                .store
                .lease_live_source(s.id, &self.owner, until)
                .await?
            {
                held.remove(&s.id); // another process holds it now
                continue;
            }
            if let Some(h) = held.get(&s.id) {
                if !h.is_finished() {
                    let status = serde_json::to_string(&h.status()).unwrap_or_default();
                    self.store.save_live_status(s.id, &status).await?;
                    continue;
                }
            }
            match self.config(s).await {
                Ok(cfg) => {
                    let h = relais_sources::spawn(
                        self.net.clone(),
                        s.id,
                        cfg,
                        s.cursor.clone(),
                        tx.clone(),
                    );
                    held.insert(s.id, h);
                }
                Err(e) => {
                    let status = serde_json::json!({ "state": "stopped", "last_error": { "code": "invalid_config", "message": e } });
                    self.store
                        .save_live_status(s.id, &status.to_string())
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn store_batch(&self, batch: Batch) -> relais_store::Result<()> {
        let audience: Vec<(i64, Option<i64>)> = self
            .store
            .live_audience(batch.source.id)
            .await?
            .into_iter()
            .map(|w| (w, None))
            .collect();
        let items: Vec<Incoming> = batch
            .events
            .into_iter()
            .map(|e| Incoming {
                guid: e.guid,
                url: e.url,
                author: e.author,
                title: e.title,
                text: e.text,
                langs: e.langs,
                published_at: e.published_at_ms,
            })
            .collect();
        self.listener
            .store_matches(origin(batch.source.kind), &audience, &items)
            .await?;
        if let Some(c) = batch.cursor {
            self.store
                .save_live_cursor(batch.source.id, &self.owner, &c)
                .await?;
        }
        Ok(())
    }
}
