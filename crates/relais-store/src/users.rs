//! Users (accounts). Emails are stored lower-cased; the UNIQUE index makes duplicates a
//! conflict even when two requests race.

use relais_domain::Lang;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub lang: Option<Lang>,
    pub is_admin: bool,
    pub totp_enabled: bool,
    #[serde(skip)]
    pub totp_secret_id: Option<i64>,
    pub created_at: i64,
}

const COLS: &str = "id, email, name, password_hash, lang, is_admin, totp_secret_id, created_at";

fn from_row(r: &AnyRow) -> Result<User> {
    let lang: Option<String> = r.try_get(4)?;
    let totp: Option<i64> = r.try_get(6)?;
    Ok(User {
        id: r.try_get(0)?,
        email: r.try_get(1)?,
        name: r.try_get(2)?,
        password_hash: r.try_get(3)?,
        lang: lang.as_deref().and_then(Lang::parse),
        is_admin: r.try_get::<i64, _>(5)? != 0,
        totp_enabled: totp.is_some(),
        totp_secret_id: totp,
        created_at: r.try_get(7)?,
    })
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub lang: Option<Lang>,
    pub is_admin: bool,
}

impl Store {
    pub async fn create_user(
        &self,
        conn: &mut sqlx::AnyConnection,
        u: NewUser<'_>,
    ) -> Result<User> {
        let t = now();
        let row = sqlx::query(&format!(
            "INSERT INTO users (email, name, password_hash, lang, is_admin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {COLS}"
        ))
        .bind(u.email)
        .bind(u.name)
        .bind(u.password_hash)
        .bind(u.lang.map(Lang::as_str))
        .bind(u.is_admin as i64)
        .bind(t)
        .fetch_one(conn)
        .await
        .map_err(StoreError::from)
        .map_err(|e| if e.is_unique_violation() { StoreError::Conflict("email") } else { e })?;
        from_row(&row)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM users WHERE email = $1"))
            .bind(email.to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn count_users(&self) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        self.count_users_in(&mut conn).await
    }

    pub async fn count_users_in(&self, conn: &mut sqlx::AnyConnection) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(conn)
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn update_profile(&self, id: i64, name: &str, lang: Option<Lang>) -> Result<()> {
        sqlx::query("UPDATE users SET name = $1, lang = $2, updated_at = $3 WHERE id = $4")
            .bind(name)
            .bind(lang.map(Lang::as_str))
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_password_hash(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        hash: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now())
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn set_totp_secret(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        secret_id: Option<i64>,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET totp_secret_id = $1, updated_at = $2 WHERE id = $3")
            .bind(secret_id)
            .bind(now())
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }
}
