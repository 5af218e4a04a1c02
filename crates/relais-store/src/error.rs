use relais_domain::Code;

/// Errors of the storage layer. `Config` and `Unreachable` carry messages for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("secret store: {0}")]
    Secret(String),
    #[error("migration: {0}")]
    Migration(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    pub fn code(&self) -> Code {
        match self {
            StoreError::NotFound => Code::NotFound,
            StoreError::Conflict(_) => Code::Conflict,
            StoreError::Unreachable(_) => Code::Unavailable,
            StoreError::Db(e) if is_pool_unavailable(e) => Code::Unavailable,
            _ => Code::Internal,
        }
    }

    /// True for a UNIQUE violation (SQLite 2067/1555, PostgreSQL 23505).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(db)) => {
                matches!(
                    db.code().as_deref(),
                    Some("2067") | Some("1555") | Some("23505")
                )
            }
            _ => false,
        }
    }
}

fn is_pool_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
    )
}
