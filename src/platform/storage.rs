//! Where uploaded bytes are kept: one [`ObjectStore`] interface over local
//! files under `DATA_DIR/uploads` (the embedded default) or an S3-compatible
//! bucket (for replicas), chosen by `UPLOAD_STORE`.
//!
//! Objects are content-addressed: the key comes from the SHA-256 of the bytes,
//! so equal bytes are one object whoever uploads them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::platform::config::{S3Settings, Settings, UploadStore};

/// Files up to this size go to the store in one request; larger ones in parts
/// of this size, so no more than this is held in memory per upload.
const PART_SIZE: usize = 5 * 1024 * 1024;

/// Scratch files left by an interrupted upload start with this.
const SCRATCH_PREFIX: &str = "upload-";

/// The upload store, and a scratch directory on local disk where request
/// bodies land before they are checked.
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    scratch_dir: PathBuf,
}

/// Bytes read back from the store, as they arrive.
pub struct StoredObject {
    pub size: u64,
    pub bytes: BoxStream<'static, Result<Bytes, object_store::Error>>,
}

impl Storage {
    /// The store `settings` name. Scratch files go to `DATA_DIR/tmp`; any left
    /// there by an earlier run are removed.
    ///
    /// # Errors
    /// When a directory cannot be created or the S3 settings are unusable.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let storage = Self::of(settings)?;
        remove_stale_scratch_files(&storage.scratch_dir);
        Ok(storage)
    }

    /// The store `settings` name, leaving the scratch directory as it is (a
    /// server may be receiving uploads into it).
    ///
    /// # Errors
    /// When a directory cannot be created or the S3 settings are unusable.
    pub fn of(settings: &Settings) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match &settings.upload_store {
            UploadStore::Local => {
                let root = settings.data_dir.join("uploads");
                std::fs::create_dir_all(&root)
                    .with_context(|| format!("DATA_DIR: creating {}", root.display()))?;
                Arc::new(LocalFileSystem::new_with_prefix(&root)?)
            }
            UploadStore::S3(s3) => Arc::new(s3_store(s3)?),
        };
        let scratch_dir = settings.data_dir.join("tmp");
        std::fs::create_dir_all(&scratch_dir)
            .with_context(|| format!("DATA_DIR: creating {}", scratch_dir.display()))?;
        Ok(Self::new(store, scratch_dir))
    }

    /// Over any store (tests use the in-memory one).
    pub fn new(store: Arc<dyn ObjectStore>, scratch_dir: PathBuf) -> Self {
        Storage { store, scratch_dir }
    }

    /// Where request bodies are written while they arrive.
    pub fn scratch_dir(&self) -> &Path {
        &self.scratch_dir
    }

    /// The key of the bytes whose SHA-256 (hex) is `sha256`.
    pub fn key_for(sha256: &str) -> String {
        let fan_out = sha256.get(..2).unwrap_or("00");
        format!("{fan_out}/{sha256}")
    }

    /// Whether an object is stored under `key`.
    ///
    /// # Errors
    /// When the store cannot be asked.
    pub async fn contains(&self, key: &str) -> Result<bool, object_store::Error> {
        match self.store.head(&ObjectPath::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Stores the file at `path` under `key` unless the key is taken (equal
    /// bytes are there already); whether it wrote. The file is read in parts,
    /// never whole when it is larger than a part.
    ///
    /// # Errors
    /// When the file cannot be read or the store refuses.
    pub async fn put_file(&self, key: &str, path: &Path) -> anyhow::Result<bool> {
        if self.contains(key).await? {
            return Ok(false);
        }
        let location = ObjectPath::from(key);
        let mut file = tokio::fs::File::open(path)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        let size = file.metadata().await?.len();
        if size <= PART_SIZE as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.read_to_end(&mut bytes).await?;
            self.store.put(&location, bytes.into()).await?;
            return Ok(true);
        }
        let upload = self.store.put_multipart(&location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buffer = vec![0u8; 256 * 1024];
        let copied: anyhow::Result<()> = async {
            loop {
                let n = file.read(&mut buffer).await?;
                if n == 0 {
                    return Ok(());
                }
                writer.wait_for_capacity(2).await?;
                writer.write(&buffer[..n]);
            }
        }
        .await;
        match copied {
            Ok(()) => {
                writer.finish().await?;
                Ok(true)
            }
            Err(err) => {
                // Leave no half-made multipart upload behind in a bucket.
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, key, "aborting a multipart upload failed");
                }
                Err(err)
            }
        }
    }

    /// Removes the object under `key`; one already gone is not an error.
    ///
    /// # Errors
    /// When the store refuses.
    pub async fn delete(&self, key: &str) -> Result<(), object_store::Error> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// The object under `key`, streamed.
    ///
    /// # Errors
    /// When it is missing or the store cannot be read.
    pub async fn open(&self, key: &str) -> Result<StoredObject, object_store::Error> {
        let found = self.store.get(&ObjectPath::from(key)).await?;
        Ok(StoredObject {
            size: found.meta.size,
            bytes: found.into_stream(),
        })
    }
}

fn s3_store(s3: &S3Settings) -> anyhow::Result<object_store::aws::AmazonS3> {
    // `new()`, not `from_env()`: only the variables documented in config.rs count.
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s3.bucket)
        .with_region(&s3.region)
        .with_access_key_id(&s3.access_key_id)
        .with_secret_access_key(&s3.secret_access_key);
    if let Some(endpoint) = &s3.endpoint {
        // MinIO-like stores on a private network are often plain HTTP.
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    builder
        .build()
        .context("S3_BUCKET/S3_ENDPOINT: unusable S3 settings")
}

/// Scratch files older than this were left by an interrupted run (an upload
/// takes seconds); younger ones may belong to another process on the same
/// `DATA_DIR`.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes scratch files an interrupted run left behind.
fn remove_stale_scratch_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(SCRATCH_PREFIX));
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if ours && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A scratch file for one request body, removed when dropped.
#[derive(Debug)]
pub struct ScratchFile {
    path: PathBuf,
}

impl ScratchFile {
    /// A new, empty scratch file in `dir`, opened for writing.
    ///
    /// # Errors
    /// When it cannot be created.
    pub async fn create(dir: &Path) -> std::io::Result<(Self, tokio::fs::File)> {
        let path = dir.join(format!("{SCRATCH_PREFIX}{}", uuid::Uuid::new_v4()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok((ScratchFile { path }, file))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;
    use object_store::memory::InMemory;

    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xianfeng-storage-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn local(dir: &Path) -> Storage {
        let root = dir.join("uploads");
        std::fs::create_dir_all(&root).unwrap();
        Storage::new(
            Arc::new(LocalFileSystem::new_with_prefix(&root).unwrap()),
            dir.join("tmp"),
        )
    }

    fn in_memory(dir: &Path) -> Storage {
        Storage::new(Arc::new(InMemory::new()), dir.join("tmp"))
    }

    async fn read_back(storage: &Storage, key: &str) -> Vec<u8> {
        let object = storage.open(key).await.unwrap();
        let chunks: Vec<Bytes> = object.bytes.try_collect().await.unwrap();
        let bytes = chunks.concat();
        assert_eq!(bytes.len() as u64, object.size);
        bytes
    }

    async fn round_trip_and_write_once(storage: Storage, dir: &Path) {
        let small = dir.join("small");
        let large = dir.join("large");
        std::fs::write(&small, b"\x89PNG small").unwrap();
        // Larger than one part, so it goes in several.
        let big: Vec<u8> = (0..PART_SIZE * 2 + 1234).map(|i| (i % 251) as u8).collect();
        std::fs::write(&large, &big).unwrap();

        assert!(!storage.contains("ab/abc").await.unwrap());
        assert!(storage.put_file("ab/abc", &small).await.unwrap());
        assert!(
            !storage.put_file("ab/abc", &large).await.unwrap(),
            "an existing key is not written again"
        );
        assert!(storage.put_file("cd/cde", &large).await.unwrap());

        assert!(storage.contains("ab/abc").await.unwrap());
        assert_eq!(read_back(&storage, "ab/abc").await, b"\x89PNG small");
        assert_eq!(read_back(&storage, "cd/cde").await, big);
        assert!(matches!(
            storage.open("ef/missing").await,
            Err(object_store::Error::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn local_store_round_trips_and_writes_each_key_once() {
        let dir = scratch();
        round_trip_and_write_once(local(&dir), &dir).await;
        assert!(dir.join("uploads/cd/cde").is_file());
    }

    #[tokio::test]
    async fn in_memory_store_round_trips_and_writes_each_key_once() {
        let dir = scratch();
        round_trip_and_write_once(in_memory(&dir), &dir).await;
    }

    #[test]
    fn keys_fan_out_by_the_first_two_hex_digits() {
        assert_eq!(Storage::key_for("abcdef"), "ab/abcdef");
    }

    #[test]
    fn s3_settings_make_a_store_without_connecting() {
        let s3 = S3Settings {
            bucket: "photos".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: "us-east-1".into(),
            access_key_id: "minio".into(),
            secret_access_key: "minio-secret".into(),
        };
        assert!(s3_store(&s3).is_ok());
    }

    #[tokio::test]
    async fn scratch_files_are_removed_when_dropped_and_stale_ones_at_start() {
        let dir = scratch();
        let (file, _) = ScratchFile::create(&dir).await.unwrap();
        let path = file.path().to_owned();
        assert!(path.is_file());
        drop(file);
        assert!(!path.exists());

        let two_hours_ago = std::time::SystemTime::now() - 2 * STALE_AFTER;
        for name in ["upload-left-over", "upload-in-flight", "keep-me"] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        for name in ["upload-left-over", "keep-me"] {
            let file = std::fs::File::options()
                .write(true)
                .open(dir.join(name))
                .unwrap();
            file.set_modified(two_hours_ago).unwrap();
        }
        remove_stale_scratch_files(&dir);
        assert!(!dir.join("upload-left-over").exists());
        assert!(
            dir.join("upload-in-flight").exists(),
            "may be another process's"
        );
        assert!(dir.join("keep-me").exists(), "not a scratch file");
    }
}
