//! Fresh databases for tests: a SQLite file in a temp folder, or — when `RELAIS_TEST_PG` holds a
//! PostgreSQL URL — a new database created on that server for this test alone.

use crate::{random_token, ConnectOptions, Result, Store, StoreError};

pub struct TestDb {
    pub url: String,
    pub store: Store,
    _dir: Option<TempDir>,
}

/// A temp folder removed on drop (no dev-dependency needed by downstream crates).
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "relais-test-{}",
            random_token(8).replace(['-', '_'], "x")
        ));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL URL under test, if any.
pub fn pg_url() -> Option<String> {
    std::env::var("RELAIS_TEST_PG")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A URL for a brand-new empty database of the backend under test.
pub async fn fresh_url() -> Result<(String, Option<TempDir>)> {
    match pg_url() {
        Some(base) => {
            let admin = Store::connect(
                &base,
                &ConnectOptions {
                    max_connections: 1,
                    ..Default::default()
                },
            )
            .await?;
            let name = format!(
                "relais_t_{}",
                random_token(9).to_lowercase().replace(['-', '_'], "x")
            );
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(admin.pool())
                .await?;
            admin.close().await;
            let mut u = url::Url::parse(&base).map_err(|e| StoreError::Config(e.to_string()))?;
            u.set_path(&name);
            Ok((u.to_string(), None))
        }
        None => {
            let dir = TempDir::new();
            let url = format!("sqlite://{}/relais.db", dir.0.display());
            Ok((url, Some(dir)))
        }
    }
}

pub async fn fresh_store() -> Result<TestDb> {
    let (url, dir) = fresh_url().await?;
    let store = Store::connect(&url, &ConnectOptions::default()).await?;
    store.migrate().await?;
    Ok(TestDb {
        url,
        store,
        _dir: dir,
    })
}
