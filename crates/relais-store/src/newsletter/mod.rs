//! Newsletter: per-workspace SMTP settings, subscriber lists and subscribers with double opt-in.
//! Tokens are never stored in clear: the confirmation token as its SHA-256 (`confirm_hash`, with
//! an expiry), the unsubscribe token as its SHA-256 (`unsub_hash`) plus the nonce it is derived
//! from with the list's sealed key (so the sender can rebuild the link for every issue).
//! Issues and deliveries live in [`issues`].

pub mod issues;

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, now, Result, Store, StoreError};

/// SMTP settings of a workspace's newsletter; the password is the sealed secret `secret_id`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewsletterSettings {
    pub workspace_id: i64,
    pub host: String,
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: String,
    pub username: Option<String>,
    #[serde(skip)]
    pub secret_id: Option<i64>,
    pub from_address: String,
    /// Hard bounces after which a subscriber is no longer sent anything.
    pub bounce_limit: i64,
    pub checked_at: i64,
    pub updated_at: i64,
}

pub struct NewSettings<'a> {
    pub workspace_id: i64,
    pub host: &'a str,
    pub port: u16,
    pub security: &'a str,
    pub username: Option<&'a str>,
    pub secret_id: Option<i64>,
    pub from_address: &'a str,
    pub bounce_limit: i64,
    pub updated_by: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct NewsletterList {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    /// Unguessable id of the public subscribe page (`/nl/{public_id}`).
    pub public_id: String,
    /// Sealed HMAC key the unsubscribe tokens of this list are derived with.
    #[serde(skip)]
    pub key_secret_id: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubState {
    Pending,
    Confirmed,
    Unsubscribed,
    Bounced,
}

impl SubState {
    pub const ALL: [SubState; 4] = [
        SubState::Pending,
        SubState::Confirmed,
        SubState::Unsubscribed,
        SubState::Bounced,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SubState::Pending => "pending",
            SubState::Confirmed => "confirmed",
            SubState::Unsubscribed => "unsubscribed",
            SubState::Bounced => "bounced",
        }
    }
    pub fn parse(s: &str) -> Option<SubState> {
        SubState::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Subscriber {
    pub id: i64,
    pub list_id: i64,
    pub workspace_id: i64,
    pub email: String,
    pub name: Option<String>,
    pub state: SubState,
    /// `double_opt_in` or `import_consented`.
    pub consent: String,
    #[serde(skip)]
    pub unsub_nonce: String,
    pub bounces: i64,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

/// Subscribers of a list per state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub pending: i64,
    pub confirmed: i64,
    pub unsubscribed: i64,
    pub bounced: i64,
}

/// The token material of a new subscriber: the unsubscribe nonce and the hash of the token
/// derived from it (computed by the caller, who holds the list key).
pub struct UnsubToken<'a> {
    pub nonce: &'a str,
    pub hash: &'a str,
}

/// A pending confirmation: hash of the token mailed, and when it stops working.
pub struct Confirmation<'a> {
    pub hash: &'a str,
    pub expires_at: i64,
}

/// What a confirmation link finds.
#[derive(Debug, Clone)]
pub enum Confirmed {
    /// Confirmed now (or already before: the link is idempotent).
    Done(Subscriber),
    Expired(Subscriber),
}

pub(crate) const S_COLS: &str = "id, list_id, workspace_id, email, name, state, consent, unsub_nonce, bounces, created_at, confirmed_at, unsubscribed_at";
const L_COLS: &str = "id, workspace_id, name, public_id, key_secret_id, created_at";
const SET_COLS: &str = "workspace_id, host, port, security, username, secret_id, from_address, bounce_limit, checked_at, updated_at";

pub(crate) fn sub_from_row(r: &AnyRow) -> Result<Subscriber> {
    let state: String = r.try_get(5)?;
    Ok(Subscriber {
        id: r.try_get(0)?,
        list_id: r.try_get(1)?,
        workspace_id: r.try_get(2)?,
        email: r.try_get(3)?,
        name: r.try_get(4)?,
        state: SubState::parse(&state)
            .ok_or(StoreError::Conflict("unknown subscriber state in database"))?,
        consent: r.try_get(6)?,
        unsub_nonce: r.try_get(7)?,
        bounces: r.try_get(8)?,
        created_at: r.try_get(9)?,
        confirmed_at: r.try_get(10)?,
        unsubscribed_at: r.try_get(11)?,
    })
}

fn list_from_row(r: &AnyRow) -> Result<NewsletterList> {
    Ok(NewsletterList {
        id: r.try_get(0)?,
        workspace_id: r.try_get(1)?,
        name: r.try_get(2)?,
        public_id: r.try_get(3)?,
        key_secret_id: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

fn settings_from_row(r: &AnyRow) -> Result<NewsletterSettings> {
    let port: i64 = r.try_get(2)?;
    Ok(NewsletterSettings {
        workspace_id: r.try_get(0)?,
        host: r.try_get(1)?,
        port: u16::try_from(port).unwrap_or(0),
        security: r.try_get(3)?,
        username: r.try_get(4)?,
        secret_id: r.try_get(5)?,
        from_address: r.try_get(6)?,
        bounce_limit: r.try_get(7)?,
        checked_at: r.try_get(8)?,
        updated_at: r.try_get(9)?,
    })
}

impl Store {
    pub async fn newsletter_settings(&self, ws: i64) -> Result<Option<NewsletterSettings>> {
        let row = sqlx::query(&format!(
            "SELECT {SET_COLS} FROM newsletter_settings WHERE workspace_id = $1"
        ))
        .bind(ws)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(settings_from_row).transpose()
    }

    /// Creates or replaces the settings (checked just before by the caller). A replaced password
    /// secret is deleted in the same transaction.
    pub async fn put_newsletter_settings(
        &self,
        conn: &mut sqlx::AnyConnection,
        s: NewSettings<'_>,
    ) -> Result<()> {
        let old: Option<Option<i64>> =
            sqlx::query("SELECT secret_id FROM newsletter_settings WHERE workspace_id = $1")
                .bind(s.workspace_id)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        let t = now();
        sqlx::query(
            "INSERT INTO newsletter_settings (workspace_id, host, port, security, username, secret_id, from_address, bounce_limit, checked_at, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9) \
             ON CONFLICT (workspace_id) DO UPDATE SET host = excluded.host, port = excluded.port, security = excluded.security, \
             username = excluded.username, secret_id = excluded.secret_id, from_address = excluded.from_address, \
             bounce_limit = excluded.bounce_limit, checked_at = excluded.checked_at, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(s.workspace_id)
        .bind(s.host)
        .bind(i64::from(s.port))
        .bind(s.security)
        .bind(s.username)
        .bind(s.secret_id)
        .bind(s.from_address)
        .bind(s.bounce_limit)
        .bind(t)
        .bind(s.updated_by)
        .execute(&mut *conn)
        .await?;
        if let Some(Some(old)) = old {
            if Some(old) != s.secret_id {
                self.delete_secret(conn, old).await?;
            }
        }
        Ok(())
    }

    pub async fn create_newsletter_list(
        &self,
        conn: &mut sqlx::AnyConnection,
        ws: i64,
        name: &str,
        key_secret_id: i64,
        by: i64,
    ) -> Result<NewsletterList> {
        let row = sqlx::query(&format!(
            "INSERT INTO newsletter_lists (workspace_id, name, public_id, key_secret_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {L_COLS}"
        ))
        .bind(ws)
        .bind(name)
        .bind(crate::random_token(16))
        .bind(key_secret_id)
        .bind(by)
        .bind(now())
        .fetch_one(conn)
        .await?;
        list_from_row(&row)
    }

    pub async fn newsletter_lists(&self, ws: i64) -> Result<Vec<NewsletterList>> {
        let rows = sqlx::query(&format!(
            "SELECT {L_COLS} FROM newsletter_lists WHERE workspace_id = $1 AND archived_at IS NULL ORDER BY LOWER(name), id"
        ))
        .bind(ws)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(list_from_row).collect()
    }

    /// One list, scoped to its workspace (NotFound across workspaces).
    pub async fn newsletter_list(&self, ws: i64, id: i64) -> Result<NewsletterList> {
        let row = sqlx::query(&format!(
            "SELECT {L_COLS} FROM newsletter_lists WHERE id = $1 AND workspace_id = $2 AND archived_at IS NULL"
        ))
        .bind(id)
        .bind(ws)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        list_from_row(&row)
    }

    /// The list behind a public subscribe page.
    pub async fn newsletter_list_public(&self, public_id: &str) -> Result<NewsletterList> {
        let row = sqlx::query(&format!(
            "SELECT {L_COLS} FROM newsletter_lists WHERE public_id = $1 AND archived_at IS NULL"
        ))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        list_from_row(&row)
    }

    /// A list by id alone (jobs), archived or not.
    pub async fn newsletter_list_by_id(&self, id: i64) -> Result<NewsletterList> {
        let row = sqlx::query(&format!(
            "SELECT {L_COLS} FROM newsletter_lists WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        list_from_row(&row)
    }

    /// A subscriber by id alone (jobs).
    pub async fn subscriber(&self, id: i64) -> Result<Subscriber> {
        let row = sqlx::query(&format!(
            "SELECT {S_COLS} FROM newsletter_subscribers WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        sub_from_row(&row)
    }

    /// The subscriber a confirmation token was mailed to, and when that token expires.
    pub async fn subscriber_by_confirm_hash(&self, hash: &str) -> Result<(Subscriber, i64)> {
        let row = sqlx::query(&format!(
            "SELECT {S_COLS}, confirm_expires_at FROM newsletter_subscribers WHERE confirm_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let exp: Option<i64> = row.try_get(12)?;
        Ok((sub_from_row(&row)?, exp.unwrap_or(0)))
    }

    /// Subscribers per state for each list of the workspace.
    pub async fn newsletter_counts(&self, ws: i64) -> Result<Vec<(i64, Counts)>> {
        let rows = sqlx::query(
            "SELECT list_id, state, COUNT(*) FROM newsletter_subscribers WHERE workspace_id = $1 GROUP BY list_id, state ORDER BY list_id",
        )
        .bind(ws)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(i64, Counts)> = Vec::new();
        for r in rows {
            let (list, state, n): (i64, String, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            if out.last().map(|(l, _)| *l) != Some(list) {
                out.push((list, Counts::default()));
            }
            let c = &mut out.last_mut().expect("pushed above").1;
            match SubState::parse(&state) {
                Some(SubState::Pending) => c.pending = n,
                Some(SubState::Confirmed) => c.confirmed = n,
                Some(SubState::Unsubscribed) => c.unsubscribed = n,
                Some(SubState::Bounced) => c.bounced = n,
                None => {}
            }
        }
        Ok(out)
    }

    /// Subscribers of a list (optionally in one state), oldest first.
    pub async fn subscribers(
        &self,
        ws: i64,
        list_id: i64,
        state: Option<SubState>,
        limit: i64,
    ) -> Result<Vec<Subscriber>> {
        let rows = sqlx::query(&format!(
            "SELECT {S_COLS} FROM newsletter_subscribers WHERE workspace_id = $1 AND list_id = $2 \
             AND ($3 = '' OR state = $3) ORDER BY id LIMIT $4"
        ))
        .bind(ws)
        .bind(list_id)
        .bind(state.map_or("", SubState::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sub_from_row).collect()
    }

    pub async fn subscriber_by_email(
        &self,
        conn: &mut sqlx::AnyConnection,
        list_id: i64,
        email: &str,
    ) -> Result<Option<Subscriber>> {
        let row = sqlx::query(&format!(
            "SELECT {S_COLS} FROM newsletter_subscribers WHERE list_id = $1 AND email = $2"
        ))
        .bind(list_id)
        .bind(email)
        .fetch_optional(conn)
        .await?;
        row.as_ref().map(sub_from_row).transpose()
    }

    /// A new subscriber. `confirm` None means consent is already proven (import with the
    /// "they already consented" box): the subscriber is confirmed at once.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_subscriber(
        &self,
        conn: &mut sqlx::AnyConnection,
        list: &NewsletterList,
        email: &str,
        name: Option<&str>,
        unsub: UnsubToken<'_>,
        confirm: Option<Confirmation<'_>>,
    ) -> Result<Subscriber> {
        let t = now();
        let (state, consent, hash, exp, confirmed_at) = match &confirm {
            Some(c) => (
                "pending",
                "double_opt_in",
                Some(c.hash),
                Some(c.expires_at),
                None,
            ),
            None => ("confirmed", "import_consented", None, None, Some(t)),
        };
        let row = sqlx::query(&format!(
            "INSERT INTO newsletter_subscribers (list_id, workspace_id, email, name, state, consent, confirm_hash, confirm_expires_at, \
             unsub_nonce, unsub_hash, bounces, created_at, confirmed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $11) RETURNING {S_COLS}"
        ))
        .bind(list.id)
        .bind(list.workspace_id)
        .bind(email)
        .bind(name)
        .bind(state)
        .bind(consent)
        .bind(hash)
        .bind(exp)
        .bind(unsub.nonce)
        .bind(unsub.hash)
        .bind(t)
        .bind(confirmed_at)
        .fetch_one(conn)
        .await?;
        sub_from_row(&row)
    }

    /// A new subscription request for an existing subscriber who is not confirmed (pending,
    /// unsubscribed or bounced): back to pending with a fresh confirmation token.
    pub async fn renew_confirmation(
        &self,
        conn: &mut sqlx::AnyConnection,
        subscriber_id: i64,
        confirm: Confirmation<'_>,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE newsletter_subscribers SET state = 'pending', consent = 'double_opt_in', confirm_hash = $1, \
             confirm_expires_at = $2, bounces = 0, unsubscribed_at = NULL, updated_at = $3 \
             WHERE id = $4 AND state <> 'confirmed'",
        )
        .bind(confirm.hash)
        .bind(confirm.expires_at)
        .bind(now())
        .bind(subscriber_id)
        .execute(conn)
        .await?
        .rows_affected();
        found(n)
    }

    /// Marks a pending subscriber confirmed without a mail (import with proven consent).
    pub async fn confirm_imported(
        &self,
        conn: &mut sqlx::AnyConnection,
        subscriber_id: i64,
    ) -> Result<()> {
        let t = now();
        sqlx::query(
            "UPDATE newsletter_subscribers SET state = 'confirmed', consent = 'import_consented', confirm_hash = NULL, \
             confirm_expires_at = NULL, confirmed_at = $1, updated_at = $1 WHERE id = $2 AND state = 'pending'",
        )
        .bind(t)
        .bind(subscriber_id)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Follows a confirmation link (by the token's hash). `NotFound` for an unknown token.
    pub async fn confirm_subscriber(&self, confirm_hash: &str) -> Result<Confirmed> {
        let t = now();
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {S_COLS}, confirm_expires_at FROM newsletter_subscribers WHERE confirm_hash = $1"
        ))
        .bind(confirm_hash)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let sub = sub_from_row(&row)?;
        let expires: Option<i64> = row.try_get(12)?;
        let out = match sub.state {
            SubState::Confirmed => Confirmed::Done(sub),
            SubState::Pending if expires.is_some_and(|e| e > t) => {
                let row = sqlx::query(&format!(
                    "UPDATE newsletter_subscribers SET state = 'confirmed', confirmed_at = $1, updated_at = $1 \
                     WHERE id = $2 AND state = 'pending' RETURNING {S_COLS}"
                ))
                .bind(t)
                .bind(sub.id)
                .fetch_one(&mut *tx)
                .await?;
                Confirmed::Done(sub_from_row(&row)?)
            }
            SubState::Pending => Confirmed::Expired(sub),
            // Unsubscribed or bounced since: an old link must not bring them back.
            _ => return Err(StoreError::NotFound),
        };
        tx.commit().await?;
        Ok(out)
    }

    /// The subscriber an unsubscribe token belongs to.
    pub async fn subscriber_by_unsub_hash(&self, hash: &str) -> Result<Subscriber> {
        let row = sqlx::query(&format!(
            "SELECT {S_COLS} FROM newsletter_subscribers WHERE unsub_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        sub_from_row(&row)
    }

    /// Unsubscribes (idempotent); returns the subscriber as it is now.
    pub async fn unsubscribe(&self, unsub_hash: &str) -> Result<Subscriber> {
        let t = now();
        sqlx::query(
            "UPDATE newsletter_subscribers SET state = 'unsubscribed', unsubscribed_at = $1, confirm_hash = NULL, updated_at = $1 \
             WHERE unsub_hash = $2 AND state <> 'unsubscribed'",
        )
        .bind(t)
        .bind(unsub_hash)
        .execute(&self.pool)
        .await?;
        self.subscriber_by_unsub_hash(unsub_hash).await
    }
}
