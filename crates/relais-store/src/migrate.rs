//! Forward-only migrations, embedded in the binary, one file per version and backend.
//! A checksum per applied version catches a migration edited after release.

use sha2::Digest;
use sqlx::Row;

use crate::{now, Backend, Result, Store, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

macro_rules! migration {
    ($v:literal, $name:literal) => {
        Migration {
            version: $v,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation"),
    migration!(2, "0002_publishing"),
    migration!(3, "0003_charters"),
    migration!(4, "0004_freeze"),
    migration!(5, "0005_listening"),
    migration!(6, "0006_approvals"),
    migration!(7, "0007_ical"),
    migration!(8, "0008_notifications"),
    migration!(9, "0009_mentions_alerts"),
    migration!(10, "0010_calendar_approvals"),
    migration!(11, "0011_media_threads"),
    migration!(12, "0012_newsletter"),
    migration!(13, "0013_blog"),
    migration!(14, "0014_oauth"),
    migration!(15, "0015_live_sources"),
];

/// Arbitrary constant for `pg_advisory_xact_lock`: processes starting together migrate in turn.
const PG_LOCK_KEY: i64 = 0x7265_6c61_6973;

impl Store {
    /// Applies every pending migration; returns the versions applied now.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query("SELECT version, checksum FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await?;
        let applied: Vec<(i64, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        if let Some(max) = applied.iter().map(|a| a.0).max() {
            if max > MIGRATIONS.last().map_or(0, |m| m.version) {
                return Err(StoreError::Migration(format!(
                    "the database is at schema version {max}, newer than this relais knows: upgrade relais"
                )));
            }
        }
        let mut done = Vec::new();
        for m in MIGRATIONS {
            let sql = match self.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            let sum = hex::encode(sha2::Sha256::digest(sql.as_bytes()));
            if let Some((_, old)) = applied.iter().find(|a| a.0 == m.version) {
                if *old != sum {
                    return Err(StoreError::Migration(format!(
                        "migration {} was changed after it was applied; restore the original file",
                        m.name
                    )));
                }
                continue;
            }
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Migration(format!("migration {} failed: {e}", m.name)))?;
            sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                .bind(m.version)
                .bind(m.name)
                .bind(&sum)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            done.push(m.version);
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Versions not yet applied (for `/health` and `relais migrate --check`).
    pub async fn pending_migrations(&self) -> Result<Vec<i64>> {
        let rows = match sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&self.pool)
            .await
        {
            Ok(rows) => rows,
            Err(_) => return Ok(MIGRATIONS.iter().map(|m| m.version).collect()),
        };
        let applied: Vec<i64> = rows.iter().filter_map(|r| r.try_get(0).ok()).collect();
        Ok(MIGRATIONS
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect())
    }
}
