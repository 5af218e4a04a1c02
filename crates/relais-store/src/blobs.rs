//! Where media files live. An upload is spooled to a temporary file under the data folder
//! (hashed as it streams), flushed to disk, then handed to a [`MediaStorage`]: the local folder
//! by default (content-addressed names, atomic rename), or another backend behind the same
//! trait. Nothing half-written is ever visible under its final name.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// A place media files are kept. Keys are made by relais (`<workspace>/<sha256>`).
#[async_trait::async_trait]
pub trait MediaStorage: Send + Sync {
    /// Stored in `media.storage` (`local`, `s3`…).
    fn name(&self) -> &'static str;
    /// Takes a complete, flushed spool file and keeps it under `key`. Same key = same content,
    /// so committing twice is harmless.
    async fn commit(&self, spooled: &Path, key: &str) -> io::Result<()>;
    async fn read(&self, key: &str) -> io::Result<Vec<u8>>;
    async fn delete(&self, key: &str) -> io::Result<()>;
    /// Folder for uploads in progress (local disk in every backend).
    fn spool_dir(&self) -> &Path;
}

pub type SharedStorage = Arc<dyn MediaStorage>;

/// The key of a file: one folder per workspace, named by its content.
pub fn key_for(workspace_id: i64, sha256: &str) -> String {
    format!("{workspace_id}/{sha256}")
}

fn checked(key: &str) -> io::Result<&str> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '/')
        && !key.starts_with('/')
        && !key.contains("//");
    if ok {
        Ok(key)
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "bad media key"))
    }
}

/// Media in a folder of the local disk (default: `<data_dir>/media`).
pub struct LocalStorage {
    root: PathBuf,
    spool: PathBuf,
}

impl LocalStorage {
    /// Creates the folders and removes uploads a crash left in the spool (older than an hour:
    /// another process sharing the folder may be receiving one right now).
    pub fn open(root: impl Into<PathBuf>) -> io::Result<LocalStorage> {
        let root = root.into();
        let spool = root.join(".spool");
        std::fs::create_dir_all(&spool)?;
        let hour = std::time::Duration::from_secs(3600);
        for e in std::fs::read_dir(&spool)?.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > hour);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(LocalStorage { root, spool })
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        Ok(self.root.join(checked(key)?))
    }
}

#[async_trait::async_trait]
impl MediaStorage for LocalStorage {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn commit(&self, spooled: &Path, key: &str) -> io::Result<()> {
        let to = self.path(key)?;
        let dir = to.parent().expect("key has a folder").to_path_buf();
        tokio::fs::create_dir_all(&dir).await?;
        // rename is atomic within one file system: the final name only ever shows a whole file.
        tokio::fs::rename(spooled, &to).await?;
        // Make the rename itself durable.
        tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
            .await
            .map_err(io::Error::other)??;
        Ok(())
    }

    async fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        tokio::fs::read(self.path(key)?).await
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    fn spool_dir(&self) -> &Path {
        &self.spool
    }
}

/// An upload being written: hashed and counted as it streams, refused past `max` bytes.
pub struct Spool {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    len: u64,
    max: u64,
    head: Vec<u8>,
}

/// What a finished spool holds.
pub struct Spooled {
    pub path: PathBuf,
    pub sha256: String,
    pub len: u64,
    /// The first bytes (type and image size are read from them).
    pub head: Vec<u8>,
}

/// How much of the start of a file is kept for sniffing (a JPEG's size can sit after its
/// EXIF block).
pub const HEAD_LEN: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    #[error("writing the upload: {0}")]
    Io(#[from] io::Error),
}

impl Spool {
    pub async fn create(dir: &Path, max: u64) -> io::Result<Spool> {
        let path = dir.join(format!("up-{}", crate::random_token(12)));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(Spool {
            path,
            file: Some(file),
            hasher: Sha256::new(),
            len: 0,
            max,
            head: Vec::new(),
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), SpoolError> {
        self.len += chunk.len() as u64;
        if self.len > self.max {
            return Err(SpoolError::TooLarge(self.max));
        }
        if self.head.len() < HEAD_LEN {
            let take = (HEAD_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.file
            .as_mut()
            .expect("open until finished")
            .write_all(chunk)
            .await?;
        Ok(())
    }

    /// Flushes the file to disk; the caller commits or discards it.
    pub async fn finish(mut self) -> io::Result<Spooled> {
        let mut f = self.file.take().expect("open until finished");
        f.flush().await?;
        f.sync_all().await?;
        drop(f);
        Ok(Spooled {
            path: std::mem::take(&mut self.path),
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
            len: self.len,
            head: std::mem::take(&mut self.head),
        })
    }
}

impl Drop for Spool {
    // An abandoned upload (too large, client gone) leaves nothing behind.
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Spooled {
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spool_commit_read_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStorage::open(dir.path().join("media")).unwrap();
        let mut up = Spool::create(s.spool_dir(), 10).await.unwrap();
        up.write(b"hello").await.unwrap();
        let done = up.finish().await.unwrap();
        assert_eq!(done.len, 5);
        let key = key_for(3, &done.sha256);
        s.commit(&done.path, &key).await.unwrap();
        assert_eq!(s.read(&key).await.unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(s.spool_dir()).unwrap().count(), 0);
        s.delete(&key).await.unwrap();
        assert!(s.read(&key).await.is_err());

        let mut big = Spool::create(s.spool_dir(), 4).await.unwrap();
        assert!(matches!(
            big.write(b"12345").await,
            Err(SpoolError::TooLarge(4))
        ));
        drop(big);
        assert_eq!(std::fs::read_dir(s.spool_dir()).unwrap().count(), 0);
        assert!(s.read("../etc/passwd").await.is_err());
    }
}
