//! Browser sessions (server-side; the cookie holds a random token, the table its hash),
//! login throttling and one-time tokens (setup, password reset).

use sqlx::Row;

use crate::{hash_token, now, random_token, Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub csrf_token: String,
    pub second_factor_pending: bool,
    pub expires_at: i64,
}

pub const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;

impl Store {
    /// Creates a session and returns (cookie token, session).
    pub async fn create_session(
        &self,
        user_id: i64,
        second_factor_pending: bool,
    ) -> Result<(String, Session)> {
        let token = random_token(32);
        let csrf = random_token(24);
        let t = now();
        let row = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, second_factor_pending, created_at, expires_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $5) RETURNING id",
        )
        .bind(hash_token(&token))
        .bind(user_id)
        .bind(&csrf)
        .bind(second_factor_pending as i64)
        .bind(t)
        .bind(t + SESSION_TTL_MS)
        .fetch_one(&self.pool)
        .await?;
        let s = Session {
            id: row.try_get(0)?,
            user_id,
            csrf_token: csrf,
            second_factor_pending,
            expires_at: t + SESSION_TTL_MS,
        };
        Ok((token, s))
    }

    pub async fn session_by_token(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT id, user_id, csrf_token, second_factor_pending, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(hash_token(token))
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Session {
                id: r.try_get(0)?,
                user_id: r.try_get(1)?,
                csrf_token: r.try_get(2)?,
                second_factor_pending: r.try_get::<i64, _>(3)? != 0,
                expires_at: r.try_get(4)?,
            })
        })
        .transpose()
    }

    pub async fn complete_second_factor(&self, session_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET second_factor_pending = 0, last_seen_at = $1 WHERE id = $2",
        )
        .bind(now())
        .bind(session_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_session(&self, session_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Signs a user out everywhere (after a password reset), except `keep`.
    pub async fn delete_user_sessions(
        &self,
        conn: &mut sqlx::AnyConnection,
        user_id: i64,
        keep: Option<i64>,
    ) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep.unwrap_or(-1))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Records a failed login for each key (email, client address) and returns the highest
    /// number of failures among them within `window_ms`.
    pub async fn record_login_failure(&self, keys: &[&str], window_ms: i64) -> Result<i64> {
        let t = now();
        let mut worst = 0;
        for k in keys {
            sqlx::query("INSERT INTO login_attempts (key, at) VALUES ($1, $2)")
                .bind(*k)
                .bind(t)
                .execute(&self.pool)
                .await?;
            worst = worst.max(self.login_failures(k, window_ms).await?);
        }
        Ok(worst)
    }

    pub async fn login_failures(&self, key: &str, window_ms: i64) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM login_attempts WHERE key = $1 AND at > $2")
            .bind(key)
            .bind(now() - window_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_attempts WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Housekeeping: expired sessions, old login attempts and used/expired one-time tokens.
    pub async fn purge_expired(&self) -> Result<u64> {
        let t = now();
        let mut n = 0;
        n += sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(t)
            .execute(&self.pool)
            .await?
            .rows_affected();
        n += sqlx::query("DELETE FROM login_attempts WHERE at < $1")
            .bind(t - 24 * 3600 * 1000)
            .execute(&self.pool)
            .await?
            .rows_affected();
        n += sqlx::query("DELETE FROM one_time_tokens WHERE expires_at < $1")
            .bind(t)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n)
    }

    /// A single-use token for `purpose` (e.g. "setup", "password_reset"); returns the clear token.
    pub async fn create_one_time_token(
        &self,
        conn: &mut sqlx::AnyConnection,
        purpose: &str,
        user_id: Option<i64>,
        ttl_ms: i64,
    ) -> Result<String> {
        let token = random_token(32);
        let t = now();
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, purpose, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash_token(&token))
        .bind(purpose)
        .bind(user_id)
        .bind(t + ttl_ms)
        .bind(t)
        .execute(conn)
        .await?;
        Ok(token)
    }

    /// Checks a one-time token without using it: Ok(user_id) or NotFound / Conflict("expired"|"used").
    pub async fn peek_one_time_token(&self, purpose: &str, token: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT user_id, expires_at, used_at FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2")
            .bind(hash_token(token))
            .bind(purpose)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        if row.try_get::<Option<i64>, _>(2)?.is_some() {
            return Err(StoreError::Conflict("used"));
        }
        if row.try_get::<i64, _>(1)? < now() {
            return Err(StoreError::Conflict("expired"));
        }
        Ok(row.try_get(0)?)
    }

    /// Marks the token used inside the caller's transaction; fails if it was used concurrently.
    pub async fn consume_one_time_token(
        &self,
        conn: &mut sqlx::AnyConnection,
        purpose: &str,
        token: &str,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING user_id",
        )
        .bind(now())
        .bind(hash_token(token))
        .bind(purpose)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::Conflict("used"))?;
        Ok(row.try_get(0)?)
    }
}
