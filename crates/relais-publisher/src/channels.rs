//! Connecting channels: check the credentials against the network, then seal them and record
//! the channel (or swap the sealed credentials on reconnect) in one transaction. Nothing is
//! written when the network refuses, so a failed reconnect never erases working credentials.

use relais_net::Net;
use relais_publish::PublishError;
use relais_store::audit::{Actor, NewAudit};
use relais_store::channels::{Channel, NewChannel};
use relais_store::secrets::Keyring;
use relais_store::{Store, StoreError};

use crate::credentials::{ChannelCredentials, CREDENTIALS_PURPOSE};
pub use crate::verify::{verify, Verified};

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The network refused the credentials (or could not be reached): nothing was stored.
    #[error("{0}")]
    Network(#[from] PublishError),
    #[error("these credentials are for {given}, but the channel is a {expected} channel")]
    WrongNetwork {
        expected: String,
        given: &'static str,
    },
    #[error("this channel has no stored credentials: connect it again")]
    NoCredentials,
    #[error("the stored credentials cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Connect, reconnect and read back channel credentials.
#[derive(Clone)]
pub struct ChannelService {
    store: Store,
    ring: Keyring,
    net: Net,
}

impl ChannelService {
    pub fn new(store: Store, ring: Keyring, net: Net) -> Self {
        Self { store, ring, net }
    }

    /// Checks the credentials with the network, then stores a new connected channel with its
    /// sealed credentials, the limits read and an audit entry, in one transaction.
    pub async fn connect(
        &self,
        workspace_id: i64,
        name: &str,
        creds: &ChannelCredentials,
        by: (i64, &Actor),
    ) -> Result<Channel, ChannelError> {
        let v = verify(creds, &self.net).await?;
        let mut tx = self.store.begin().await?;
        let secret_id = self
            .store
            .put_secret(
                &mut tx,
                &self.ring,
                CREDENTIALS_PURPOSE,
                &v.creds.to_bytes(),
            )
            .await?;
        let ch = self
            .store
            .create_channel(
                &mut tx,
                NewChannel {
                    workspace_id,
                    network: creds.network(),
                    name,
                    config: &v.config,
                    secret_id: Some(secret_id),
                    limits: &v.limits,
                    created_by: by.0,
                },
            )
            .await?;
        self.audit(&mut tx, &ch, by.1, "channel.connected").await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(ch)
    }

    /// Replaces a channel's credentials after checking the new ones. On any failure the stored
    /// credentials and status are left exactly as they were.
    pub async fn reconnect(
        &self,
        workspace_id: i64,
        channel_id: i64,
        creds: &ChannelCredentials,
        by: &Actor,
    ) -> Result<Channel, ChannelError> {
        let ch = self.store.channel(workspace_id, channel_id).await?;
        if ch.network != creds.network() {
            return Err(ChannelError::WrongNetwork {
                expected: ch.network,
                given: creds.network(),
            });
        }
        let v = verify(creds, &self.net).await?;
        let mut tx = self.store.begin().await?;
        let secret_id = self
            .store
            .put_secret(
                &mut tx,
                &self.ring,
                CREDENTIALS_PURPOSE,
                &v.creds.to_bytes(),
            )
            .await?;
        self.store
            .replace_channel_secret(&mut tx, ch.id, secret_id)
            .await?;
        self.store
            .update_channel_config(&mut tx, ch.id, &v.config, &v.limits)
            .await?;
        self.audit(&mut tx, &ch, by, "channel.reconnected").await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(self.store.channel(workspace_id, channel_id).await?)
    }

    /// The stored credentials of a channel (for the worker).
    pub async fn credentials(&self, ch: &Channel) -> Result<ChannelCredentials, ChannelError> {
        load_credentials(&self.store, &self.ring, ch).await
    }

    async fn audit(
        &self,
        conn: &mut relais_store::AnyConnection,
        ch: &Channel,
        by: &Actor,
        action: &str,
    ) -> Result<(), StoreError> {
        self.store
            .audit(
                conn,
                NewAudit {
                    workspace_id: Some(ch.workspace_id),
                    actor: by,
                    action,
                    target: &format!("channel:{}", ch.id),
                    before: None,
                    after: Some(&format!("{} {}", ch.network, ch.name)),
                },
            )
            .await
    }
}

/// Opens a channel's sealed credentials.
pub async fn load_credentials(
    store: &Store,
    ring: &Keyring,
    ch: &Channel,
) -> Result<ChannelCredentials, ChannelError> {
    let id = ch.secret_id.ok_or(ChannelError::NoCredentials)?;
    let bytes = store.get_secret(ring, id).await.map_err(|e| match e {
        StoreError::NotFound => ChannelError::NoCredentials,
        StoreError::Secret(m) => ChannelError::Unreadable(m),
        e => ChannelError::Store(e),
    })?;
    let creds = ChannelCredentials::from_bytes(&bytes)
        .map_err(|e| ChannelError::Unreadable(e.to_string()))?;
    if creds.network() != ch.network {
        return Err(ChannelError::WrongNetwork {
            expected: ch.network.clone(),
            given: creds.network(),
        });
    }
    Ok(creds)
}
