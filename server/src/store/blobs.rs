//! Chunk files in an object store, beside the PostgreSQL store (`--blobs`):
//! a directory (`file:///srv/medvault-chunks`) or an S3 bucket
//! (`s3://bucket`, with the endpoint and credentials from the `AWS_*`
//! environment), through the `object_store` crate.
//!
//! Objects are named by 16 random bytes in hex, under `chunks/`, and written
//! once: a put never replaces an object (`PutMode::Create`), so a name in the
//! database always means the bytes first written under it. The database maps
//! each Blobs key to its object's name; see `postgres.rs` for the order of
//! writes that keeps that map and the objects consistent.
//!
//! Not every S3 server honours the create-only put (`If-None-Match: *`):
//! Garage 2.5 overwrites. [`Blobs::probed`] finds out at start by writing a
//! probe object twice; against such a store each put first asks whether the
//! name exists. That refuses every overwrite except two puts of one name
//! racing, which needs two writers to draw the same 16 random bytes.

use std::sync::Arc;

use futures_util::StreamExt as _;
use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path, ObjectStore, ObjectStoreExt as _,
    PutMode, PutOptions, PutPayload,
};

use super::StoreError;

/// The folder of chunk objects inside the store or bucket.
const PREFIX: &str = "chunks";

/// Length of an object's name: 16 random bytes in hex.
pub const NAME_LEN: usize = 32;

/// An object store for chunks; cheap to clone.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// The store overwrites despite `PutMode::Create`: look before a put.
    look_first: bool,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs").finish_non_exhaustive()
    }
}

/// Why an object store call failed, by kind only: object_store's messages
/// carry paths and, for S3, request details.
fn from_os(what: &str, e: &object_store::Error) -> StoreError {
    match e {
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            StoreError::Conflict
        }
        object_store::Error::NotImplemented { .. } => StoreError::Backend(format!(
            "{what}: the object store cannot refuse overwrites (conditional put); \
             see docs/OPERATIONS.md"
        )),
        _ => StoreError::Backend(format!("{what}: object store error")),
    }
}

/// Whether a `--blobs` value names an object store this build knows.
pub fn is_blobs_url(value: &str) -> bool {
    value.starts_with("file:///") || value.starts_with("s3://")
}

/// Where [`Blobs::probed`] writes its probe objects: outside `chunks/`, so
/// the sweep never sees them.
const PROBES: &str = "probes";

fn path_of(name: &str) -> Path {
    Path::from(format!("{PREFIX}/{name}"))
}

/// The checked name of a stored reference: exactly [`NAME_LEN`] hex digits,
/// so stored bytes can never point outside the chunk folder.
pub fn name_of(stored: &[u8]) -> Result<&str, StoreError> {
    std::str::from_utf8(stored)
        .ok()
        .filter(|n| n.len() == NAME_LEN && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| StoreError::Corrupt("a chunk object reference is malformed".into()))
}

impl Blobs {
    /// Opens the object store a `--blobs` URL names. A directory is created
    /// if missing, and every object and directory written there is fsynced
    /// before the write returns.
    pub fn open(url: &str) -> Result<Blobs, StoreError> {
        if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::from_io("blob directory", &e))?;
            let local = LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| from_os("blob directory", &e))?
                .with_fsync(true);
            return Ok(Blobs::from_store(Arc::new(local)));
        }
        if let Some(bucket) = url.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            if bucket.is_empty() || bucket.contains('/') {
                return Err(StoreError::Backend(
                    "give the bucket as s3://bucket (no folder)".into(),
                ));
            }
            // reqwest's TLS uses the process's rustls provider: ring, as the
            // server's own TLS does (installing it twice is harmless).
            let _ = rustls::crypto::ring::default_provider().install_default();
            let s3 = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| from_os("S3 configuration", &e))?;
            return Ok(Blobs::from_store(Arc::new(s3)));
        }
        Err(StoreError::Backend(
            "give --blobs as file:///absolute/directory or s3://bucket".into(),
        ))
    }

    /// Blobs over any object store (tests give S3 a builder of their own).
    /// It trusts the store to refuse overwrites until [`Blobs::probed`]
    /// finds otherwise.
    pub fn from_store(store: Arc<dyn ObjectStore>) -> Blobs {
        Blobs {
            store,
            look_first: false,
        }
    }

    /// Opens the store a `--blobs` URL names and probes it: what the server
    /// and `migrate` use.
    pub async fn open_probed(url: &str) -> Result<Blobs, StoreError> {
        Blobs::open(url)?.probed().await
    }

    /// Writes a probe object twice with `PutMode::Create` to learn whether
    /// the store refuses the second write itself. If it does not, every
    /// later put first checks that its name is free, and a warning says so.
    /// A store that fails the probe (unreachable, no write permission) is
    /// an error here, at start, rather than at a patient's first upload.
    pub async fn probed(mut self) -> Result<Blobs, StoreError> {
        let probe = Path::from(format!("{PROBES}/{}", Blobs::new_name()?));
        let create = || PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&probe, PutPayload::from_static(b"1"), create())
            .await
            .map_err(|e| from_os("object store probe", &e))?;
        let second = self
            .store
            .put_opts(&probe, PutPayload::from_static(b"2"), create())
            .await;
        let outcome = match second {
            Ok(_) => {
                tracing::warn!(
                    "the object store overwrote an object despite If-None-Match; \
                     each chunk write now checks its name first (docs/OPERATIONS.md)"
                );
                self.look_first = true;
                Ok(())
            }
            Err(e) => match from_os("object store probe", &e) {
                StoreError::Conflict => Ok(()),
                other => Err(other),
            },
        };
        let _ = self.store.delete(&probe).await;
        outcome.map(|()| self)
    }

    /// Whether the store itself refuses an overwrite, so that of concurrent
    /// puts of one name exactly one lands (false: each put looks first).
    pub fn refuses_overwrites_itself(&self) -> bool {
        !self.look_first
    }

    /// A fresh random name for a new object.
    pub fn new_name() -> Result<String, StoreError> {
        let random = shared::crypto::rng::bytes::<16>()
            .map_err(|_| StoreError::Backend("no randomness for an object name".into()))?;
        Ok(random.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Writes a new object; [`StoreError::Conflict`] if `name` exists, which
    /// is left as it was.
    pub async fn put_new(&self, name: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        if self.look_first {
            match self.store.head(&path_of(name)).await {
                Ok(_) => return Err(StoreError::Conflict),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(from_os("chunk object check", &e)),
            }
        }
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&path_of(name), PutPayload::from(bytes), options)
            .await
            .map(drop)
            .map_err(|e| from_os("chunk object write", &e))
    }

    /// The object's bytes, or `None` if there is none.
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.store.get(&path_of(name)).await {
            Ok(found) => found
                .bytes()
                .await
                .map(|b| Some(b.to_vec()))
                .map_err(|e| from_os("chunk object read", &e)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(from_os("chunk object read", &e)),
        }
    }

    /// Removes an object; a missing one is fine.
    pub async fn delete(&self, name: &str) -> Result<(), StoreError> {
        match self.store.delete(&path_of(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(from_os("chunk object delete", &e)),
        }
    }

    /// Removes objects, ignoring failures: a leftover costs space only and
    /// [`Blobs::orphans`] finds it later.
    pub async fn delete_all(&self, names: impl IntoIterator<Item = String>) {
        for name in names {
            let _ = self.delete(&name).await;
        }
    }

    /// Names of objects last written before `before` (Unix seconds), for
    /// the sweep of objects no key names.
    pub async fn written_before(&self, before: i64) -> Result<Vec<String>, StoreError> {
        let prefix = Path::from(PREFIX);
        let mut listing = self.store.list(Some(&prefix));
        let mut out = Vec::new();
        while let Some(item) = listing.next().await {
            let meta = item.map_err(|e| from_os("chunk object listing", &e))?;
            if meta.last_modified.timestamp() >= before {
                continue;
            }
            if let Some(name) = meta.location.filename() {
                if name_of(name.as_bytes()).is_ok() {
                    out.push(name.to_owned());
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
