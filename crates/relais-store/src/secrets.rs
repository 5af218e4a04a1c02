//! Secrets at rest (channel tokens, TOTP seeds…): XChaCha20-Poly1305 under a master key.
//!
//! The keyring holds one or more 256-bit keys, each with an id; the last is current. Sealed
//! values record the key id, so after `relais admin rotate-key` adds a key and re-seals every row,
//! old keys can be dropped. The secret's purpose is bound as associated data: a sealed token
//! copied into another row's purpose does not open.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sqlx::Row;

use crate::{now, Result, Store, StoreError};

const NONCE: usize = 24;

#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(String, [u8; 32])>,
    file: Option<PathBuf>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Keyring")
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

fn decode_key(s: &str, origin: &str) -> Result<[u8; 32]> {
    let bytes = B64
        .decode(s.trim())
        .map_err(|_| StoreError::Secret(format!("{origin}: the key is not base64")))?;
    bytes.try_into().map_err(|_| {
        StoreError::Secret(format!(
            "{origin}: a key must be 32 bytes (44 base64 characters)"
        ))
    })
}

fn new_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    k
}

impl Keyring {
    /// A keyring with one key given directly (`RELAIS_MASTER_KEY`, base64 of 32 bytes).
    pub fn from_base64(key: &str) -> Result<Keyring> {
        Ok(Keyring {
            keys: vec![("env".into(), decode_key(key, "RELAIS_MASTER_KEY")?)],
            file: None,
        })
    }

    /// Reads the key file (`ID BASE64` per line, the last line is current), creating it with one
    /// fresh key and mode 0600 when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Keyring> {
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Secret(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let ring = Keyring {
                keys: vec![(format!("k{}", now()), new_key())],
                file: Some(path.into()),
            };
            // Several processes may start together on one key file: exactly one creates it,
            // the others read the winner's key.
            if ring.create_new()? {
                return Ok(ring);
            }
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| StoreError::Secret(format!("cannot read {}: {e}", path.display())))?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let origin = format!("{} line {}", path.display(), n + 1);
            let (id, key) = line
                .split_once(' ')
                .ok_or_else(|| StoreError::Secret(format!("{origin}: expected `ID BASE64KEY`")))?;
            keys.push((id.to_string(), decode_key(key, &origin)?));
        }
        if keys.is_empty() {
            return Err(StoreError::Secret(format!(
                "{} holds no key",
                path.display()
            )));
        }
        Ok(Keyring {
            keys,
            file: Some(path.into()),
        })
    }

    /// Writes the file only if it does not exist yet (atomic link of a complete temporary file).
    fn create_new(&self) -> Result<bool> {
        let path = self.file.as_ref().expect("a file keyring");
        let tmp = path.with_extension(format!(
            "new-{}-{}",
            std::process::id(),
            crate::random_token(6)
        ));
        write_private(&tmp, self.render().as_bytes())?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(StoreError::Secret(format!(
                "cannot write {}: {e}",
                path.display()
            ))),
        }
    }

    fn render(&self) -> String {
        let mut text = String::from("# relais master keys: `ID BASE64`; the last line is current. Keep a copy with your backups.\n");
        for (id, k) in &self.keys {
            text.push_str(&format!("{id} {}\n", B64.encode(k)));
        }
        text
    }

    fn save(&self) -> Result<()> {
        let Some(path) = &self.file else {
            return Err(StoreError::Secret(
                "this keyring comes from the environment: rotate it there".into(),
            ));
        };
        let text = self.render();
        let tmp = path.with_extension("tmp");
        write_private(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, path)
            .map_err(|e| StoreError::Secret(format!("cannot write {}: {e}", path.display())))
    }

    pub fn current_id(&self) -> &str {
        &self.keys.last().expect("keyring is never empty").0
    }

    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> (String, String) {
        let (id, key) = self.keys.last().expect("keyring is never empty");
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = XChaCha20Poly1305::new(key.into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: purpose.as_bytes(),
                },
            )
            .expect("encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        (id.clone(), B64.encode(out))
    }

    pub fn open(&self, key_id: &str, purpose: &str, sealed: &str) -> Result<Vec<u8>> {
        let (_, key) = self
            .keys
            .iter()
            .find(|(id, _)| id == key_id)
            .ok_or_else(|| {
                StoreError::Secret(format!(
                    "key {key_id} is not in the keyring: restore the key file from a backup"
                ))
            })?;
        let raw = B64
            .decode(sealed)
            .map_err(|_| StoreError::Secret("sealed value is not base64".into()))?;
        if raw.len() < NONCE {
            return Err(StoreError::Secret("sealed value is truncated".into()));
        }
        let (nonce, ct) = raw.split_at(NONCE);
        XChaCha20Poly1305::new(key.into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| {
                StoreError::Secret(
                    "a secret failed to decrypt (wrong key or tampered value)".into(),
                )
            })
    }

    /// Adds a fresh current key and saves the file. Call [`Store::reseal_secrets`] next.
    pub fn add_key(&mut self) -> Result<String> {
        let id = format!("k{}", now());
        self.keys.push((id.clone(), new_key()));
        self.save()?;
        Ok(id)
    }

    /// Drops every key but the current one (after all rows were re-sealed).
    pub fn prune(&mut self) -> Result<usize> {
        let n = self.keys.len() - 1;
        self.keys.drain(..n);
        self.save()?;
        Ok(n)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| StoreError::Secret(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| StoreError::Secret(format!("cannot write {}: {e}", path.display())))
}

impl Store {
    pub async fn put_secret(
        &self,
        conn: &mut sqlx::AnyConnection,
        ring: &Keyring,
        purpose: &str,
        plaintext: &[u8],
    ) -> Result<i64> {
        let (kid, sealed) = ring.seal(purpose, plaintext);
        let t = now();
        let row = sqlx::query(
            "INSERT INTO secrets (purpose, key_id, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(purpose)
        .bind(kid)
        .bind(sealed)
        .bind(t)
        .fetch_one(conn)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn get_secret(&self, ring: &Keyring, id: i64) -> Result<Vec<u8>> {
        let row = sqlx::query("SELECT purpose, key_id, sealed FROM secrets WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        ring.open(
            &row.try_get::<String, _>(1)?,
            &row.try_get::<String, _>(0)?,
            &row.try_get::<String, _>(2)?,
        )
    }

    pub async fn delete_secret(&self, conn: &mut sqlx::AnyConnection, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM secrets WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Re-seals every secret under the current key in one transaction; returns how many.
    pub async fn reseal_secrets(&self, ring: &Keyring) -> Result<usize> {
        let mut tx = self.begin().await?;
        let rows = sqlx::query("SELECT id, purpose, key_id, sealed FROM secrets")
            .fetch_all(&mut *tx)
            .await?;
        let mut n = 0;
        for r in rows {
            let (id, purpose, kid, sealed): (i64, String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            if kid == ring.current_id() {
                continue;
            }
            let plain = ring.open(&kid, &purpose, &sealed)?;
            let (nkid, nsealed) = ring.seal(&purpose, &plain);
            sqlx::query(
                "UPDATE secrets SET key_id = $1, sealed = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(nkid)
            .bind(nsealed)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            n += 1;
        }
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_rotate_prune() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut ring = Keyring::load_or_create(&path).unwrap();
        let (kid, sealed) = ring.seal("channel.token", b"hunter2");
        assert_eq!(
            ring.open(&kid, "channel.token", &sealed).unwrap(),
            b"hunter2"
        );
        assert!(
            ring.open(&kid, "other.purpose", &sealed).is_err(),
            "purpose is bound"
        );
        assert!(!format!("{ring:?}").contains(&B64.encode(ring.keys[0].1)));
        std::thread::sleep(std::time::Duration::from_millis(2));
        ring.add_key().unwrap();
        let reloaded = Keyring::load_or_create(&path).unwrap();
        assert_eq!(reloaded.keys.len(), 2);
        assert_eq!(
            reloaded.open(&kid, "channel.token", &sealed).unwrap(),
            b"hunter2"
        );
        ring.prune().unwrap();
        assert!(Keyring::load_or_create(&path)
            .unwrap()
            .open(&kid, "channel.token", &sealed)
            .is_err());
    }

    #[test]
    fn processes_starting_together_share_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let rings: Vec<Keyring> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..8)
                .map(|_| sc.spawn(|| Keyring::load_or_create(&path).unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let first = rings[0].keys[0].1;
        assert!(
            rings
                .iter()
                .all(|r| r.keys.len() == 1 && r.keys[0].1 == first),
            "one key won"
        );
        assert_eq!(Keyring::load_or_create(&path).unwrap().keys[0].1, first);
    }

    #[test]
    fn bad_key_material() {
        assert!(Keyring::from_base64("not base64!").is_err());
        assert!(Keyring::from_base64(&B64.encode([0u8; 16])).is_err());
        assert!(Keyring::from_base64(&B64.encode([7u8; 32])).is_ok());
    }
}
