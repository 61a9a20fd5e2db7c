//! File storage: one interface over a local directory (the default) and any S3-compatible object
//! store, both through `object_store`. Keys are ours (`blobs/ab/cd/…`), never a user's file name.
//! Reads take an optional byte range, so video can seek; writes stream in parts, so a file of
//! gigabytes never sits in memory.

use crate::config::{StorageBackend, StorageConfig};
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Parts of a streamed write: S3 needs at least 5 MiB for every part but the last.
const PART_BYTES: usize = 8 << 20;
/// Parts in flight at once during a streamed write.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no stored file {0}")]
    NotFound(String),
    #[error("invalid storage key {0:?}")]
    BadKey(String),
    #[error("byte range {start}-{end} is outside a file of {size} bytes")]
    BadRange { start: u64, end: u64, size: u64 },
    #[error("storage is misconfigured: {0}")]
    Config(String),
    #[error("storage: {0}")]
    Backend(#[source] object_store::Error),
    #[error("reading the file to store: {0}")]
    Io(#[from] std::io::Error),
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> StorageError {
        match e {
            object_store::Error::NotFound { path, .. } => StorageError::NotFound(path),
            e => StorageError::Backend(e),
        }
    }
}

/// A stored file being read: its whole size, the range this read covers and the bytes.
pub struct Download {
    pub size: u64,
    pub range: Range<u64>,
    pub body: BoxStream<'static, Result<Bytes, StorageError>>,
}

/// The configured store; cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Shown in logs and the readiness check: `local:/srv/hanlin/files` or `s3:bucket`.
    name: String,
    /// The directory of a local store, which can write into the middle of a file.
    local_root: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Storage {
    /// Opens the store that `config` names; `data_dir/files` for a local store without a path.
    pub fn open(config: &StorageConfig, data_dir: &Path) -> Result<Storage, StorageError> {
        match config.backend {
            StorageBackend::Local => Storage::local(&config.path.clone().unwrap_or_else(|| data_dir.join("files"))),
            StorageBackend::S3 => {
                let s3 = &config.s3;
                if s3.endpoint.is_empty() || s3.bucket.is_empty() {
                    return Err(StorageError::Config("storage.s3.endpoint and storage.s3.bucket are required".into()));
                }
                // reqwest is built without a default TLS provider; ring is the one linked.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let store = object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(&s3.endpoint)
                    .with_virtual_hosted_style_request(s3.virtual_hosted_style)
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key)
                    .with_client_options(
                        object_store::ClientOptions::new()
                            // The default 30 s limit covers a whole body: it would cut off large downloads.
                            .with_timeout_disabled()
                            .with_read_timeout(std::time::Duration::from_secs(60))
                            .with_connect_timeout(std::time::Duration::from_secs(5))
                            // Here, not on the builder: these client options replace the builder's.
                            .with_allow_http(s3.endpoint.starts_with("http://")),
                    )
                    .with_retry(object_store::RetryConfig {
                        max_retries: 3,
                        retry_timeout: std::time::Duration::from_secs(30),
                        backoff: Default::default(),
                    })
                    .build()
                    .map_err(|e| StorageError::Config(e.to_string()))?;
                Ok(Storage { store: Arc::new(store), name: format!("s3:{}", s3.bucket), local_root: None })
            }
        }
    }

    /// A store in a local directory, created if missing.
    pub fn local(root: &Path) -> Result<Storage, StorageError> {
        std::fs::create_dir_all(root)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(root)
            .map_err(|e| StorageError::Config(format!("{}: {e}", root.display())))?
            .with_automatic_cleanup(true);
        Ok(Storage { store: Arc::new(store), name: format!("local:{}", root.display()), local_root: Some(root.to_path_buf()) })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `write_at` works here: a local directory, not an object store (S3 objects are
    /// written whole).
    pub fn writes_in_place(&self) -> bool {
        self.local_root.is_some()
    }

    /// Reads the whole file at `key` in large blocks on a blocking thread, handing each to
    /// `visit` (hashing a freshly assembled upload); returns the bytes read. A local store reads
    /// the file directly, an object store through `get`.
    pub async fn scan(&self, key: &str, mut visit: impl FnMut(&[u8]) + Send + 'static) -> Result<u64, StorageError> {
        let Some(root) = &self.local_root else {
            let mut body = self.get(key, None).await?.body;
            let mut read = 0u64;
            while let Some(part) = body.next().await {
                let bytes = part?;
                visit(&bytes);
                read += bytes.len() as u64;
            }
            return Ok(read);
        };
        let path = root.join(parse(key)?.as_ref());
        tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut file = std::fs::File::open(&path)?;
            let mut buf = vec![0u8; PART_BYTES];
            let mut read = 0u64;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    return Ok(read);
                }
                visit(&buf[..n]);
                read += n as u64;
            }
        })
        .await
        .map_err(|e| StorageError::Config(e.to_string()))?
    }

    /// Writes `bytes` at `offset` of the file at `key` (made if missing), leaving the rest as it
    /// is: a large upload's chunks land in the final file as they arrive, in any order. Only where
    /// `writes_in_place`.
    pub async fn write_at(&self, key: &str, offset: u64, bytes: Bytes) -> Result<(), StorageError> {
        let Some(root) = &self.local_root else {
            return Err(StorageError::Config("writing in place needs a local store".into()));
        };
        let path = root.join(parse(key)?.as_ref());
        tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::FileExt;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
            file.write_all_at(&bytes, offset)
        })
        .await
        .map_err(|e| StorageError::Config(e.to_string()))??;
        Ok(())
    }

    /// Writes and removes a small file: a missing bucket or wrong credentials show at start-up,
    /// not at the first upload.
    pub async fn check(&self) -> Result<(), StorageError> {
        let key = format!("check/{}", crate::secret::random_token(12));
        self.put(&key, Bytes::from_static(b"hanlin")).await?;
        self.delete(&key).await
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&parse(key)?, PutPayload::from_bytes(bytes)).await?;
        Ok(())
    }

    /// Streams `body` into `key` in parts; on any error nothing is left under `key`.
    pub async fn put_stream<E>(
        &self,
        key: &str,
        mut body: impl futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    ) -> Result<u64, StorageError>
    where
        StorageError: From<E>,
    {
        let upload = self.store.put_multipart(&parse(key)?).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut written = 0u64;
        while let Some(item) = body.next().await {
            let step = match item {
                Ok(bytes) => writer.wait_for_capacity(PARTS_IN_FLIGHT).await.map(|_| bytes),
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            };
            match step {
                Ok(bytes) => {
                    written += bytes.len() as u64;
                    writer.put(bytes);
                }
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            }
        }
        writer.finish().await?;
        Ok(written)
    }

    /// Stores a local file under `key`, read in parts.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<u64, StorageError> {
        let file = tokio::fs::File::open(path).await?;
        let chunks = futures_util::stream::unfold(file, |mut file| async move {
            let mut buf = vec![0u8; PART_BYTES];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(Bytes::from(buf)), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        });
        self.put_stream(key, Box::pin(chunks)).await
    }

    /// The size of the file at `key`, or `None` if there is none.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.store.head(&parse(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the file at `key`, or the bytes `range` of it (end exclusive; an end past the file
    /// reads to its end). A range that starts at or past the end is refused before any read.
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<Download, StorageError> {
        let key = parse(key)?;
        let options = match range {
            None => GetOptions::new(),
            Some(r) => {
                let size = self.store.head(&key).await?.size;
                if r.start >= r.end || r.start >= size {
                    return Err(StorageError::BadRange { start: r.start, end: r.end, size });
                }
                GetOptions::new().with_range(Some(GetRange::Bounded(r.start..r.end.min(size))))
            }
        };
        let got = self.store.get_opts(&key, options).await?;
        let (size, range) = (got.meta.size, got.range.clone());
        Ok(Download { size, range, body: got.into_stream().map(|r| r.map_err(StorageError::from)).boxed() })
    }

    /// Reads a whole (small) file into memory.
    pub async fn read(&self, key: &str) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&parse(key)?).await?.bytes().await?)
    }

    /// Removes the file at `key`; removing what is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&parse(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves `from` to `to`, replacing what `to` held: a rename on a local disk, a copy and a
    /// delete in a bucket.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), StorageError> {
        self.store.rename(&parse(from)?, &parse(to)?).await?;
        Ok(())
    }

    /// Copies `from` to `to`, replacing what `to` held.
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), StorageError> {
        self.store.copy(&parse(from)?, &parse(to)?).await?;
        Ok(())
    }
}

/// Keys are relative paths of plain ASCII segments (no empty, `.` or `..` parts). Letters, digits
/// and `-_.` only: the same key must name the same file on a disk and in a bucket, and `#` would
/// clash with the local store's names for its partial writes.
fn parse(key: &str) -> Result<Key, StorageError> {
    let bad = || StorageError::BadKey(key.to_string());
    if key.starts_with('/') || !key.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c)) {
        return Err(bad());
    }
    match Key::parse(key) {
        Ok(k) if !key.is_empty() && !key.ends_with('/') => Ok(k),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_relative_paths() {
        for good in ["blobs/ab/cd/abcdef", "check/x-y_z.1"] {
            assert!(parse(good).is_ok(), "{good}");
        }
        for bad in ["", "/abs", "a//b", "a/../b", "a/./b", "a/b#1", "名字", "a b", "a/"] {
            assert!(matches!(parse(bad), Err(StorageError::BadKey(_))), "{bad}");
        }
    }
}
