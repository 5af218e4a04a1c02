//! A write transaction. On SQLite it also holds the store's write gate: writers wait for the
//! gate without holding a pool connection. Without it, writers blocked in SQLite's busy
//! handler each held a connection while the transaction that held the lock waited for one more
//! to read (a user, a setting): the pool starved until busy timeouts fired ("database is
//! locked", seen with 8 concurrent alert deliveries).

use std::ops::{Deref, DerefMut};

use tokio::sync::OwnedSemaphorePermit;

pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    _gate: Option<OwnedSemaphorePermit>,
}

impl Tx {
    pub(crate) fn new(
        inner: sqlx::Transaction<'static, sqlx::Any>,
        gate: Option<OwnedSemaphorePermit>,
    ) -> Tx {
        Tx { inner, _gate: gate }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}
