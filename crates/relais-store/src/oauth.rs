//! OAuth connections: pending authorizations (`oauth_states`), the app relais registered on
//! each Mastodon instance (`mastodon_apps`), renewed channel tokens swapped in atomically, and
//! the daily publishing count behind a channel's quota.
//!
//! A pending authorization is found by the SHA-256 of its `state` (the clear value only travels
//! in the user's browser and the network's redirect); what it carries (app secret, PKCE
//! verifier…) is sealed in `secrets`. Taking it deletes it: a state works once.

use sqlx::Row;

use crate::secrets::Keyring;
use crate::{hash_token, now, Result, Store};

/// Purpose the pending authorization's payload is sealed under.
pub const STATE_PURPOSE: &str = "oauth.state";
/// Purpose a Mastodon app registration is sealed under.
pub const MASTODON_APP_PURPOSE: &str = "oauth.mastodon_app";
/// Expired states are kept (without their payload) this long, so a late callback can say
/// "expired" rather than "unknown".
const KEEP_EXPIRED_MS: i64 = 24 * 3600 * 1000;

pub struct NewOAuthState<'a> {
    /// The clear state sent to the network; only its hash is stored.
    pub state: &'a str,
    pub workspace_id: i64,
    pub user_id: i64,
    pub network: &'a str,
    /// Sealed as is.
    pub payload: &'a [u8],
    pub ttl_ms: i64,
}

/// What `take_oauth_state` found.
#[derive(Debug)]
pub enum TakenState {
    Valid {
        workspace_id: i64,
        user_id: i64,
        network: String,
        payload: Vec<u8>,
    },
    Expired {
        workspace_id: i64,
        user_id: i64,
        network: String,
    },
}

impl Store {
    /// Records a pending authorization (and drops the payloads of expired ones).
    pub async fn create_oauth_state(&self, ring: &Keyring, s: NewOAuthState<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        self.purge_oauth_states(&mut tx).await?;
        let secret_id = self
            .put_secret(&mut tx, ring, STATE_PURPOSE, s.payload)
            .await?;
        let t = now();
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, workspace_id, user_id, network, secret_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(hash_token(s.state))
        .bind(s.workspace_id)
        .bind(s.user_id)
        .bind(s.network)
        .bind(secret_id)
        .bind(t + s.ttl_ms)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Payloads of expired states are deleted at once; the rows a day later.
    async fn purge_oauth_states(&self, conn: &mut sqlx::AnyConnection) -> Result<()> {
        let t = now();
        let rows = sqlx::query(
            "SELECT id, secret_id FROM oauth_states WHERE expires_at < $1 AND secret_id IS NOT NULL",
        )
        .bind(t)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            let (id, sid): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            sqlx::query("UPDATE oauth_states SET secret_id = NULL WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            self.delete_secret(conn, sid).await?;
        }
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
            .bind(t - KEEP_EXPIRED_MS)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Takes (deletes) the pending authorization of `state`, once. `None`: unknown state (never
    /// issued, already used, or expired long ago).
    pub async fn take_oauth_state(
        &self,
        ring: &Keyring,
        state: &str,
    ) -> Result<Option<TakenState>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "DELETE FROM oauth_states WHERE state_hash = $1 \
             RETURNING workspace_id, user_id, network, secret_id, expires_at",
        )
        .bind(hash_token(state))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let (workspace_id, user_id, network, secret_id, expires_at): (
            i64,
            i64,
            String,
            Option<i64>,
            i64,
        ) = (
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
        );
        let payload = match secret_id {
            Some(id) => {
                let r = sqlx::query("SELECT key_id, sealed FROM secrets WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                let opened = ring.open(
                    &r.try_get::<String, _>(0)?,
                    STATE_PURPOSE,
                    &r.try_get::<String, _>(1)?,
                );
                self.delete_secret(&mut tx, id).await?;
                Some(opened)
            }
            None => None,
        };
        tx.commit().await?;
        Ok(Some(match payload {
            Some(p) if expires_at > now() => TakenState::Valid {
                workspace_id,
                user_id,
                network,
                payload: p?,
            },
            _ => TakenState::Expired {
                workspace_id,
                user_id,
                network,
            },
        }))
    }

    /// The app registered on `instance` for `redirect_uri`, opened.
    pub async fn mastodon_app(
        &self,
        ring: &Keyring,
        instance: &str,
        redirect_uri: &str,
    ) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(
            "SELECT secret_id FROM mastodon_apps WHERE instance = $1 AND redirect_uri = $2",
        )
        .bind(instance)
        .bind(redirect_uri)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(self.get_secret(ring, r.try_get(0)?).await?)),
            None => Ok(None),
        }
    }

    /// Records (or replaces) the app registered on `instance`.
    pub async fn save_mastodon_app(
        &self,
        ring: &Keyring,
        instance: &str,
        redirect_uri: &str,
        payload: &[u8],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let old = sqlx::query(
            "SELECT secret_id FROM mastodon_apps WHERE instance = $1 AND redirect_uri = $2",
        )
        .bind(instance)
        .bind(redirect_uri)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?;
        let sid = self
            .put_secret(&mut tx, ring, MASTODON_APP_PURPOSE, payload)
            .await?;
        sqlx::query(
            "INSERT INTO mastodon_apps (instance, redirect_uri, secret_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (instance, redirect_uri) DO UPDATE SET secret_id = excluded.secret_id, created_at = excluded.created_at",
        )
        .bind(instance)
        .bind(redirect_uri)
        .bind(sid)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if let Some(old) = old {
            self.delete_secret(&mut tx, old).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the app of `instance` (the instance no longer knows it: register again).
    pub async fn forget_mastodon_app(&self, instance: &str, redirect_uri: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let old = sqlx::query(
            "DELETE FROM mastodon_apps WHERE instance = $1 AND redirect_uri = $2 RETURNING secret_id",
        )
        .bind(instance)
        .bind(redirect_uri)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = old {
            self.delete_secret(&mut tx, r.try_get(0)?).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Points a channel at renewed credentials `new_secret` if it still uses `expected` (a
    /// concurrent reconnect wins), deletes the old secret and records when the new token expires
    /// in `config.token_expires_at`. Status is left alone. Returns whether the swap happened;
    /// call inside the transaction that stored `new_secret`.
    pub async fn swap_channel_secret(
        &self,
        conn: &mut sqlx::AnyConnection,
        channel_id: i64,
        expected: i64,
        new_secret: i64,
        token_expires_at: Option<i64>,
    ) -> Result<bool> {
        let row = sqlx::query("SELECT config FROM channels WHERE id = $1 AND secret_id = $2")
            .bind(channel_id)
            .bind(expected)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { return Ok(false) };
        let mut config: serde_json::Value =
            serde_json::from_str(&row.try_get::<String, _>(0)?).unwrap_or_default();
        if let Some(obj) = config.as_object_mut() {
            match token_expires_at {
                Some(t) => obj.insert("token_expires_at".into(), t.into()),
                None => obj.remove("token_expires_at"),
            };
        }
        let n = sqlx::query(
            "UPDATE channels SET secret_id = $1, config = $2, updated_at = $3 WHERE id = $4 AND secret_id = $5",
        )
        .bind(new_secret)
        .bind(config.to_string())
        .bind(now())
        .bind(channel_id)
        .bind(expected)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        self.delete_secret(conn, expected).await?;
        Ok(true)
    }

    /// Active channels of these networks, across workspaces (for the token renewal job).
    pub async fn channel_ids_of_networks(&self, networks: &[&str]) -> Result<Vec<i64>> {
        let mut out = Vec::new();
        for n in networks {
            let rows = sqlx::query(
                "SELECT id FROM channels WHERE network = $1 AND archived_at IS NULL ORDER BY id",
            )
            .bind(*n)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                out.push(r.try_get(0)?);
            }
        }
        Ok(out)
    }

    /// Targets published on a channel since `since` (daily quotas: Instagram 50 / 24 h…).
    pub async fn published_since(&self, channel_id: i64, since: i64) -> Result<i64> {
        let r = sqlx::query(
            "SELECT COUNT(*) FROM targets WHERE channel_id = $1 AND state = 'published' AND published_at >= $2",
        )
        .bind(channel_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(r.try_get(0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_store;
    use crate::users::NewUser;
    use relais_domain::Lang;

    fn ring() -> Keyring {
        Keyring::from_base64("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap()
    }

    async fn workspace(store: &Store) -> (i64, i64) {
        let mut tx = store.begin().await.unwrap();
        let u = store
            .create_user(
                &mut tx,
                NewUser {
                    email: "o@relais.test",
                    name: "O",
                    password_hash: "x",
                    lang: None,
                    is_admin: false,
                },
            )
            .await
            .unwrap();
        let w = store
            .create_workspace(&mut tx, "W", "UTC", Lang::En, u.id)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (w.id, u.id)
    }

    #[tokio::test]
    async fn a_state_works_once_and_expires() {
        let db = fresh_store().await.unwrap();
        let (s, ring) = (&db.store, ring());
        let (ws, user) = workspace(s).await;
        let new = |state, ttl_ms| NewOAuthState {
            state,
            workspace_id: ws,
            user_id: user,
            network: "x",
            payload: b"{\"verifier\":\"v\"}",
            ttl_ms,
        };
        s.create_oauth_state(&ring, new("st-1", 600_000))
            .await
            .unwrap();
        let stored: String = sqlx::query("SELECT state_hash FROM oauth_states")
            .fetch_one(s.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_ne!(stored, "st-1", "only the hash is stored");
        match s.take_oauth_state(&ring, "st-1").await.unwrap() {
            Some(TakenState::Valid {
                payload, network, ..
            }) => {
                assert_eq!(payload, b"{\"verifier\":\"v\"}");
                assert_eq!(network, "x");
            }
            other => panic!("{other:?}"),
        }
        assert!(s.take_oauth_state(&ring, "st-1").await.unwrap().is_none());
        assert!(s.take_oauth_state(&ring, "nope").await.unwrap().is_none());

        s.create_oauth_state(&ring, new("st-2", -1)).await.unwrap();
        // The next start drops expired payloads but keeps the row to say "expired".
        s.create_oauth_state(&ring, new("st-3", 600_000))
            .await
            .unwrap();
        let secrets: i64 = sqlx::query("SELECT COUNT(*) FROM secrets")
            .fetch_one(s.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(secrets, 1, "only st-3's payload remains");
        assert!(matches!(
            s.take_oauth_state(&ring, "st-2").await.unwrap(),
            Some(TakenState::Expired { .. })
        ));
    }

    #[tokio::test]
    async fn mastodon_apps_are_cached_and_replaced() {
        let db = fresh_store().await.unwrap();
        let (s, ring) = (&db.store, ring());
        let (i, r) = (
            "https://m.example",
            "https://relais.example/oauth/callback/mastodon",
        );
        assert!(s.mastodon_app(&ring, i, r).await.unwrap().is_none());
        s.save_mastodon_app(&ring, i, r, b"a1").await.unwrap();
        s.save_mastodon_app(&ring, i, r, b"a2").await.unwrap();
        assert_eq!(s.mastodon_app(&ring, i, r).await.unwrap().unwrap(), b"a2");
        s.forget_mastodon_app(i, r).await.unwrap();
        assert!(s.mastodon_app(&ring, i, r).await.unwrap().is_none());
        let secrets: i64 = sqlx::query("SELECT COUNT(*) FROM secrets")
            .fetch_one(s.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(secrets, 0, "no orphan secret");
    }
}
