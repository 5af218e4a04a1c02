//! relais storage: one `Store` over SQLite or PostgreSQL chosen by the URL scheme.
//!
//! Every query is one SQL text for both databases (sqlx's `Any` driver, `$n` placeholders,
//! BIGINT millisecond instants, integers for booleans). The few places where the dialects
//! disagree (claiming jobs, locking for migrations) branch on [`Backend`] explicitly.

pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod blobs;
pub mod blog;
pub mod channels;
pub mod error;
pub mod freeze;
pub mod jobs;
pub mod listening;
pub mod live;
pub mod media;
pub mod mentions;
pub mod migrate;
pub mod newsletter;
pub mod notifications;
pub mod oauth;
pub mod parts;
pub mod password;
pub mod post_tags;
pub mod posts;
pub mod review_links;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod testing;
pub mod tokens;
pub mod users;
pub mod worker;
pub mod workspaces;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

mod tx;
pub use error::StoreError;
pub use sqlx;
pub use sqlx::{AnyConnection, Row};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
pub use tx::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Which backend a database URL names, or a message saying what is wrong with it.
    pub fn from_url(url: &str) -> Result<Backend, String> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "" => Err(format!(
                "malformed database URL {url:?}: expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB"
            )),
            other => Err(format!(
                "unsupported database scheme {other:?} in {url:?}: use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB"
            )),
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer: write transactions queue here, holding no connection, so one
    /// that reads through the pool while it writes always finds a connection (see `tx`).
    gate: std::sync::Arc<tokio::sync::Semaphore>,
}

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

impl Store {
    /// Opens the database named by `url`, creating a SQLite file (and its folder) if missing.
    /// Errors say whether the URL is malformed or the server cannot be reached.
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).map_err(StoreError::Config)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => {
                url::Url::parse(url)
                    .map_err(|e| StoreError::Config(format!("malformed database URL: {e}")))?;
                url.to_string()
            }
        };
        let connect = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("malformed database URL: {e}")))?;
        let max = match backend {
            // SQLite has one writer; a few readers run beside it under WAL.
            Backend::Sqlite => opts.max_connections.min(8),
            Backend::Postgres => opts.max_connections,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(opts.acquire_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await
            .map_err(|e| StoreError::Unreachable(describe_connect_error(&url, &e)))?;
        Ok(Store {
            pool,
            backend,
            gate: std::sync::Arc::new(tokio::sync::Semaphore::new(1)),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE` so that the write lock is
    /// taken up front: a deferred transaction that reads then writes fails with SQLITE_BUSY
    /// under concurrency instead of waiting.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                // As long as SQLite's own busy timeout: a transaction opened while this task
                // already holds one fails as it did before the gate instead of waiting forever.
                let gate = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    self.gate.clone().acquire_owned(),
                )
                .await
                .map_err(|_| {
                    StoreError::Unreachable("database is busy: no write slot in 10 s".into())
                })?
                .ok();
                Tx::new(self.pool.begin_with("BEGIN IMMEDIATE").await?, gate)
            }
            Backend::Postgres => Tx::new(self.pool.begin().await?, None),
        })
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A consistent online copy of a SQLite database (`VACUUM INTO`), safe while relais runs.
    pub async fn backup_sqlite(&self, dest: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Config(
                "relais backup copies SQLite databases; for PostgreSQL use pg_dump (see README)"
                    .into(),
            ));
        }
        if dest.exists() {
            return Err(StoreError::Config(format!(
                "{} already exists: choose a new file",
                dest.display()
            )));
        }
        let path = dest
            .to_str()
            .ok_or_else(|| StoreError::Config("backup path must be UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(StoreError::Config(format!(
            "malformed database URL {url:?}: expected sqlite://PATH"
        )));
    }
    if path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
    }
    let mut q = if query.is_empty() {
        String::new()
    } else {
        format!("{query}&")
    };
    if !q.contains("mode=") {
        q.push_str("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", q.trim_end_matches('&')))
}

fn describe_connect_error(url: &str, e: &sqlx::Error) -> String {
    // Never echo the password of a PostgreSQL URL into logs.
    let shown = match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    };
    format!(
        "cannot connect to the database at {shown}: {e}. Is the server running and the URL right?"
    )
}

/// `Ok` when a scoped write touched a row, `NotFound` otherwise (wrong id, or another
/// workspace's row: both look the same to the caller).
pub fn found(rows_affected: u64) -> Result<()> {
    if rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Current instant in milliseconds (UTC).
pub fn now() -> i64 {
    relais_domain::now_millis()
}

/// A random URL-safe token of `bytes` random bytes (base64url, no padding).
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a token, hex. Tokens are stored hashed: a database leak yields no usable token.
pub fn hash_token(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(
            Backend::from_url("sqlite://data/relais.db"),
            Ok(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://a:b@h/db"),
            Ok(Backend::Postgres)
        );
        assert!(Backend::from_url("mysql://x")
            .unwrap_err()
            .contains("unsupported"));
        assert!(Backend::from_url("relais.db")
            .unwrap_err()
            .contains("malformed"));
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(
            sqlite_url("sqlite::memory:").unwrap(),
            "sqlite://:memory:?mode=rwc"
        );
        assert!(sqlite_url("sqlite://").is_err());
    }
}
