//! Workspaces (one per brand or client), memberships and invitations.
//! Every read that serves a request is scoped by the member's user id: a non-member gets
//! `NotFound`, never the workspace.

use relais_domain::{Lang, Role};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{found, hash_token, now, random_token, Result, Store, StoreError};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Workspace {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
    pub lang: Lang,
    pub archived_at: Option<i64>,
    pub created_at: i64,
}

/// A workspace as seen by one member, with that member's role.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Membership {
    pub workspace: Workspace,
    pub role: Role,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub since: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Invitation {
    pub id: i64,
    pub workspace_id: i64,
    pub workspace_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

const WS_COLS: &str = "w.id, w.name, w.time_zone, w.lang, w.archived_at, w.created_at";

fn ws_from_row(r: &AnyRow) -> Result<Workspace> {
    let lang: String = r.try_get(3)?;
    Ok(Workspace {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        time_zone: r.try_get(2)?,
        lang: Lang::parse(&lang).unwrap_or_default(),
        archived_at: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

fn role_of(r: &AnyRow, i: usize) -> Result<Role> {
    let s: String = r.try_get(i)?;
    Role::parse(&s).ok_or(StoreError::Conflict("unknown role in database"))
}

impl Store {
    /// Creates a workspace with `owner` as its first owner.
    pub async fn create_workspace(
        &self,
        conn: &mut sqlx::AnyConnection,
        name: &str,
        time_zone: &str,
        lang: Lang,
        owner: i64,
    ) -> Result<Workspace> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO workspaces (name, time_zone, lang, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(name)
        .bind(time_zone)
        .bind(lang.as_str())
        .bind(t)
        .fetch_one(&mut *conn)
        .await?;
        let id: i64 = row.try_get(0)?;
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(owner)
            .bind(Role::Owner.as_str())
            .bind(t)
            .execute(&mut *conn)
            .await?;
        Ok(Workspace {
            id,
            name: name.into(),
            time_zone: time_zone.into(),
            lang,
            archived_at: None,
            created_at: t,
        })
    }

    /// The workspaces a user belongs to (archived last).
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<Membership>> {
        let rows = sqlx::query(&format!(
            "SELECT {WS_COLS}, m.role FROM workspaces w JOIN memberships m ON m.workspace_id = w.id \
             WHERE m.user_id = $1 ORDER BY CASE WHEN w.archived_at IS NULL THEN 0 ELSE 1 END, LOWER(w.name), w.id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Membership {
                    workspace: ws_from_row(r)?,
                    role: role_of(r, 6)?,
                })
            })
            .collect()
    }

    /// One workspace seen by `user_id`; NotFound when the user is not a member.
    pub async fn membership(&self, user_id: i64, workspace_id: i64) -> Result<Membership> {
        let row = sqlx::query(&format!(
            "SELECT {WS_COLS}, m.role FROM workspaces w JOIN memberships m ON m.workspace_id = w.id \
             WHERE m.user_id = $1 AND w.id = $2"
        ))
        .bind(user_id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(Membership {
            workspace: ws_from_row(&row)?,
            role: role_of(&row, 6)?,
        })
    }

    pub async fn update_workspace(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        name: &str,
        time_zone: &str,
        lang: Lang,
    ) -> Result<()> {
        sqlx::query("UPDATE workspaces SET name = $1, time_zone = $2, lang = $3, updated_at = $4 WHERE id = $5")
            .bind(name)
            .bind(time_zone)
            .bind(lang.as_str())
            .bind(now())
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn set_workspace_archived(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
        archived: bool,
    ) -> Result<()> {
        sqlx::query("UPDATE workspaces SET archived_at = $1, updated_at = $2 WHERE id = $3")
            .bind(if archived { Some(now()) } else { None })
            .bind(now())
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn members(&self, workspace_id: i64) -> Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = $1 ORDER BY LOWER(u.name), u.id",
        )
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    user_id: r.try_get(0)?,
                    email: r.try_get(1)?,
                    name: r.try_get(2)?,
                    role: role_of(r, 3)?,
                    since: r.try_get(4)?,
                })
            })
            .collect()
    }

    pub async fn count_owners(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
        )
        .bind(workspace_id)
        .fetch_one(conn)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn set_member_role(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        user_id: i64,
        role: Role,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND user_id = $3",
        )
        .bind(role.as_str())
        .bind(workspace_id)
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected();
        found(n)
    }

    pub async fn remove_member(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        user_id: i64,
    ) -> Result<()> {
        let n = sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
            .bind(workspace_id)
            .bind(user_id)
            .execute(conn)
            .await?
            .rows_affected();
        found(n)
    }

    pub async fn add_member(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        user_id: i64,
        role: Role,
    ) -> Result<()> {
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(workspace_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now())
            .execute(conn)
            .await
            .map_err(StoreError::from)
            .map_err(|e| if e.is_unique_violation() { StoreError::Conflict("member") } else { e })?;
        Ok(())
    }

    /// Creates an invitation and returns its clear token (for the email link).
    pub async fn create_invitation(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        email: &str,
        role: Role,
        invited_by: i64,
    ) -> Result<(String, i64)> {
        let token = random_token(32);
        let t = now();
        let row = sqlx::query(
            "INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(workspace_id)
        .bind(email)
        .bind(role.as_str())
        .bind(hash_token(&token))
        .bind(invited_by)
        .bind(t)
        .bind(t + INVITATION_TTL_MS)
        .fetch_one(conn)
        .await?;
        Ok((token, row.try_get(0)?))
    }

    const INV_SELECT: &'static str = "SELECT i.id, i.workspace_id, w.name, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at \
        FROM invitations i JOIN workspaces w ON w.id = i.workspace_id";

    fn inv_from_row(r: &AnyRow) -> Result<Invitation> {
        Ok(Invitation {
            id: r.try_get(0)?,
            workspace_id: r.try_get(1)?,
            workspace_name: r.try_get(2)?,
            email: r.try_get(3)?,
            role: role_of(r, 4)?,
            expires_at: r.try_get(5)?,
            accepted_at: r.try_get(6)?,
            revoked_at: r.try_get(7)?,
        })
    }

    pub async fn invitation_by_token(&self, token: &str) -> Result<Invitation> {
        let row = sqlx::query(&format!("{} WHERE i.token_hash = $1", Self::INV_SELECT))
            .bind(hash_token(token))
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Self::inv_from_row(&row)
    }

    pub async fn pending_invitations(&self, workspace_id: i64) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(&format!(
            "{} WHERE i.workspace_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2 ORDER BY i.id",
            Self::INV_SELECT
        ))
        .bind(workspace_id)
        .bind(now())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::inv_from_row).collect()
    }

    /// Marks an invitation accepted, once: a concurrent second acceptance gets Conflict.
    pub async fn accept_invitation(&self, conn: &mut sqlx::AnyConnection, id: i64) -> Result<()> {
        let n = sqlx::query(
            "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now())
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("invitation"));
        }
        Ok(())
    }

    pub async fn revoke_invitation(
        &self,
        conn: &mut sqlx::AnyConnection,
        workspace_id: i64,
        id: i64,
    ) -> Result<String> {
        let row = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND workspace_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL \
             RETURNING email",
        )
        .bind(now())
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(row.try_get(0)?)
    }
}

impl Store {
    /// For the CLI: a workspace id from its exact name (None when absent or ambiguous).
    pub async fn workspace_id_by_name(&self, name: &str) -> Result<Option<i64>> {
        let rows = sqlx::query("SELECT id FROM workspaces WHERE name = $1")
            .bind(name)
            .fetch_all(&self.pool)
            .await?;
        if rows.len() != 1 {
            return Ok(None);
        }
        Ok(Some(rows[0].try_get(0)?))
    }
}

impl Store {
    /// A workspace by id, for the CLI and workers (no member scope).
    pub async fn workspace(&self, id: i64) -> Result<Workspace> {
        let row = sqlx::query(&format!(
            "SELECT {WS_COLS} FROM workspaces w WHERE w.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        ws_from_row(&row)
    }
}
