//! The embedded default backend: sled 0.34 in a data directory, nothing to
//! install.
//!
//! Every sled call blocks (I/O, fsync, recovery), so each one runs on tokio's
//! blocking pool via `spawn_blocking` and never stalls the async workers.
//!
//! Atomic batches use one sled tree per [`Space`] and sled's multi-tree
//! transaction (`Transactional` on a slice of trees) rather than a single tree
//! with space-prefixed keys. Both would go through the same machinery: sled
//! 0.34 runs every transaction under one process-wide lock and commits it
//! inside a log "peg" (`pin_log`/`seal_batch`) that recovery replays all or
//! nothing, whichever trees it touched. A single tree would also still need a
//! transaction, because `apply_batch` cannot check preconditions. Separate trees
//! keep keyspaces physically apart (a scan of one can never run into another)
//! and leave each keyspace inspectable and droppable on its own.
//!
//! Durability: after the transaction commits we call the blocking
//! `Db::flush()` (fsync) before returning `Ok`. Never `flush_async`: concurrent
//! `flush_async` calls deadlock (sled issue 1308). Concurrent blocking flushes
//! are fine and naturally share one fsync when they overlap.
//!
//! **Blobs live in files.** sled 0.34 keeps a written page in memory until its
//! cache shard has seen 64 more accesses, and a leaf holds up to 16 values: with
//! chunk-sized values nothing was ever evicted, and the server's memory grew by
//! every byte uploaded (1.4 GiB during a 1 GiB upload). So the value of every
//! [`Space::Blobs`] key is a file of its own under `blob-files/` (named by 16
//! random bytes, in 256 sub-directories), and the Blobs tree maps the key to the
//! file's name. A batch writes and fsyncs its new files and their directories
//! *before* its transaction (a group of batches, [`Store::apply_group`], writes
//! all its files first, then fsyncs each file and each directory once), which then swaps the names in atomically with
//! everything else; files the batch replaced or deleted are removed after the
//! commit is flushed, and files of a failed batch at once. A crash can only
//! leave files no key names; opening the store deletes them.

use std::collections::HashSet;
use std::fmt;
use std::io::Write;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use super::{Batch, Entry, Space, Store, StoreError};

/// Key read by [`Store::check`]; it never needs to exist, the read is the test.
const HEALTH_PROBE: &[u8] = b"health-probe";

/// The directory of blob files inside the data directory (sled's own
/// `blobs/` is something else).
pub const BLOB_DIR: &str = "blob-files";

/// Length of a blob file's name: 16 random bytes in hex.
const BLOB_NAME_LEN: usize = 32;

/// [`Store`] on sled; cheap to clone (one shared database handle).
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: ::sled::Db,
    /// One tree per space, indexed by [`Space::index`].
    trees: Vec<::sled::Tree>,
    /// Where the values of [`Space::Blobs`] live.
    blob_dir: PathBuf,
    /// The free space writes must leave on the data directory's filesystem.
    floor: Option<room::Floor>,
}

/// Why a transaction was aborted on purpose (as opposed to an I/O failure).
enum Abort {
    Precondition,
    UnknownSpace,
    Blob(StoreError),
}

/// The file name a Blobs tree value holds, checked so that stored bytes can
/// never name a path outside the blob directory.
fn blob_name(stored: &[u8]) -> Result<&str, StoreError> {
    std::str::from_utf8(stored)
        .ok()
        .filter(|n| n.len() == BLOB_NAME_LEN && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| StoreError::Corrupt("a blob reference is malformed".into()))
}

fn io_error(what: &str, e: &std::io::Error) -> StoreError {
    // The error kind only: paths name blob files, which is harmless, but keep
    // logs uniform with the rest of the store.
    StoreError::from_io(what, e)
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, creating every keyspace.
    ///
    /// Blocks while sled recovers its log, so call it at startup (or inside
    /// `spawn_blocking`). A second open of the same directory, from this or
    /// another process, fails with [`StoreError::Backend`] because sled holds a
    /// file lock: two servers must never share a data directory.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        // A compaction a crash interrupted is finished (or undone) first.
        if dir.exists() {
            compact::finish_interrupted(dir)?;
        }
        let db = ::sled::Config::new().path(dir).open().map_err(from_sled)?;
        let trees = Space::ALL
            .iter()
            .map(|space| db.open_tree(space.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(from_sled)?;
        let inner = Inner {
            db,
            trees,
            blob_dir: dir.join(BLOB_DIR),
            floor: room::Floor::of(dir),
        };
        inner.prepare_blob_dir()?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Runs `work` on the blocking pool with the shared handle.
    async fn blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| {
                StoreError::Backend(if e.is_panic() {
                    "storage worker panicked".into()
                } else {
                    "storage worker was cancelled".into()
                })
            })?
    }
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

impl Inner {
    /// The path of a blob file; `name` is a checked [`blob_name`].
    fn blob_path(&self, name: &str) -> PathBuf {
        self.blob_dir.join(name.get(..2).unwrap_or("00")).join(name)
    }

    /// Creates the blob directories (durably), and deletes every file that no
    /// key names: left by a batch that failed or by a crash.
    fn prepare_blob_dir(&self) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.blob_dir).map_err(|e| io_error("blob directory", &e))?;
        for shard in 0..=255u8 {
            let sub = self.blob_dir.join(format!("{shard:02x}"));
            std::fs::create_dir_all(&sub).map_err(|e| io_error("blob directory", &e))?;
        }
        sync_dir(&self.blob_dir)?;
        if let Some(parent) = self.blob_dir.parent() {
            sync_dir(parent)?;
        }
        let mut named = HashSet::new();
        for item in self.tree(Space::Blobs)?.iter() {
            let (_, value) = item.map_err(from_sled)?;
            named.insert(blob_name(&value)?.to_owned());
        }
        for shard in
            std::fs::read_dir(&self.blob_dir).map_err(|e| io_error("blob directory", &e))?
        {
            let shard = shard.map_err(|e| io_error("blob directory", &e))?.path();
            if !shard.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&shard).map_err(|e| io_error("blob directory", &e))? {
                let file = file.map_err(|e| io_error("blob directory", &e))?;
                let keep = file.file_name().to_str().is_some_and(|n| named.contains(n));
                if !keep {
                    std::fs::remove_file(file.path()).map_err(|e| io_error("stray blob", &e))?;
                }
            }
        }
        Ok(())
    }

    /// Writes `value` to a new blob file, not yet fsynced; returns its name
    /// and the open file.
    fn write_blob(&self, value: &[u8]) -> Result<(String, std::fs::File), StoreError> {
        loop {
            let random = shared::crypto::rng::bytes::<16>()
                .map_err(|_| StoreError::Backend("no randomness for a blob name".into()))?;
            let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
            let path = self.blob_path(&name);
            let mut file = match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error("blob file", &e)),
            };
            if let Err(e) = file.write_all(value) {
                let _ = std::fs::remove_file(&path);
                return Err(io_error("blob file", &e));
            }
            return Ok((name, file));
        }
    }

    fn read_blob(&self, stored: &[u8]) -> Result<Vec<u8>, StoreError> {
        let name = blob_name(stored)?;
        std::fs::read(self.blob_path(name)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::Corrupt("a blob file is missing".into()),
            _ => io_error("blob file", &e),
        })
    }

    /// Removes blob files, ignoring failures: a file left behind is deleted
    /// at the next open.
    fn remove_blobs(&self, names: impl IntoIterator<Item = String>) {
        for name in names {
            if blob_name(name.as_bytes()).is_ok() {
                let _ = std::fs::remove_file(self.blob_path(&name));
            }
        }
    }

    /// A value as stored in `space`: Blobs values are read from their file.
    fn value_of(&self, space: Space, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        if space == Space::Blobs {
            self.read_blob(&stored)
        } else {
            Ok(stored)
        }
    }

    fn tree(&self, space: Space) -> Result<&::sled::Tree, StoreError> {
        self.trees
            .get(space.index())
            .ok_or_else(|| StoreError::Backend(format!("keyspace {space} is not open")))
    }

    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.tree(space)?.get(key).map_err(from_sled)? {
            Some(v) => Ok(Some(self.value_of(space, v.to_vec())?)),
            None => Ok(None),
        }
    }

    fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        // A cursor below the prefix would start outside it; start at the prefix.
        let start: Bound<&[u8]> = match after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        for item in self
            .tree(space)?
            .range::<&[u8], _>((start, Bound::Unbounded))
        {
            let (key, value) = item.map_err(from_sled)?;
            if !key.starts_with(prefix) {
                break;
            }
            out.push((key.to_vec(), self.value_of(space, value.to_vec())?));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}

/// fsyncs a directory, so that the names of files created in it are durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("blob directory sync", &e))
}

#[async_trait]
impl Store for SledStore {
    async fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        // A sled read is a lookup in its page cache: cheaper than the hop to
        // the blocking pool and back, which a chunk GET would otherwise pay
        // four times. Blob values are files, read on the blocking pool.
        if space != Space::Blobs {
            return self.inner.get(space, key);
        }
        let key = key.to_vec();
        self.blocking(move |inner| inner.get(space, &key)).await
    }

    async fn get_small(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        // A small blob file is one read from the page cache: cheaper on this
        // thread than the hop to the blocking pool and back (measured: the
        // hop's wake-ups were a quarter of a 100 KiB chunk GET's CPU).
        self.inner.get(space, key)
    }

    async fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let prefix = prefix.to_vec();
        let after = after.map(<[u8]>::to_vec);
        self.blocking(move |inner| inner.scan_prefix(space, &prefix, after.as_deref(), limit))
            .await
    }

    async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.blocking(move |inner| inner.apply(&batch)).await
    }

    async fn apply_group(&self, batches: Vec<Batch>) -> Vec<Result<(), StoreError>> {
        let n = batches.len();
        match self
            .blocking(move |inner| Ok(inner.apply_group(&batches)))
            .await
        {
            Ok(results) => results,
            Err(e) => vec![Err(e); n],
        }
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.blocking(|inner| inner.db.flush().map(drop).map_err(from_sled))
            .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.blocking(|inner| inner.get(Space::Meta, HEALTH_PROBE).map(drop))
            .await
    }
}

/// sled's messages carry paths and offsets but never keys or values, so they are
/// safe to pass on.
fn from_sled(e: ::sled::Error) -> StoreError {
    match e {
        ::sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
        ::sled::Error::Io(ref io) if super::is_full(io) => StoreError::Full,
        other => StoreError::Backend(other.to_string()),
    }
}

mod commit;
pub mod compact;
pub mod room;
#[cfg(test)]
mod tests;
