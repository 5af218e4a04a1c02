//! Personal API tokens. The clear token is shown once (`rls_<prefix>_<secret>`); only its hash
//! is stored, with the prefix kept for display.

use sqlx::Row;

use crate::{found, hash_token, now, random_token, Result, Store};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl Store {
    pub async fn create_api_token(&self, user_id: i64, name: &str) -> Result<(String, ApiToken)> {
        let prefix = random_token(6);
        let clear = format!("rls_{prefix}_{}", random_token(32));
        let t = now();
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(&prefix)
        .bind(hash_token(&clear))
        .bind(t)
        .fetch_one(&self.pool)
        .await?;
        Ok((
            clear,
            ApiToken {
                id: row.try_get(0)?,
                name: name.into(),
                prefix,
                created_at: t,
                last_used_at: None,
            },
        ))
    }

    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens \
             WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    prefix: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    last_used_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Revokes one of the user's own tokens; NotFound for anybody else's.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64) -> Result<()> {
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        found(n)
    }

    /// The user a clear token belongs to, if it is valid; records its use.
    pub async fn user_for_api_token(&self, clear: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT id, user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_token(clear))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get(0)?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(Some(row.try_get(1)?))
    }
}
