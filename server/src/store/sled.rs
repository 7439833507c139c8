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

use std::fmt;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use ::sled::transaction::{abort, TransactionError, Transactional};
use async_trait::async_trait;

use super::{Batch, Entry, Op, Space, Store, StoreError};

/// Key read by [`Store::check`]; it never needs to exist, the read is the test.
const HEALTH_PROBE: &[u8] = b"health-probe";

/// [`Store`] on sled; cheap to clone (one shared database handle).
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: ::sled::Db,
    /// One tree per space, indexed by [`Space::index`].
    trees: Vec<::sled::Tree>,
}

/// Why a transaction was aborted on purpose (as opposed to an I/O failure).
enum Abort {
    Precondition,
    UnknownSpace,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, creating every keyspace.
    ///
    /// Blocks while sled recovers its log, so call it at startup (or inside
    /// `spawn_blocking`). A second open of the same directory, from this or
    /// another process, fails with [`StoreError::Backend`] because sled holds a
    /// file lock: two servers must never share a data directory.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = ::sled::Config::new().path(dir).open().map_err(from_sled)?;
        let trees = Space::ALL
            .iter()
            .map(|space| db.open_tree(space.name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(from_sled)?;
        Ok(Self {
            inner: Arc::new(Inner { db, trees }),
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
    fn tree(&self, space: Space) -> Result<&::sled::Tree, StoreError> {
        self.trees
            .get(space.index())
            .ok_or_else(|| StoreError::Backend(format!("keyspace {space} is not open")))
    }

    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.tree(space)?.get(key).map_err(from_sled)?;
        Ok(value.map(|v| v.to_vec()))
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
            out.push((key.to_vec(), value.to_vec()));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn apply(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // One overlay per tree, so that every op on a tree goes through the same
        // overlay and sees the batch's earlier writes to it.
        let mut spaces: Vec<Space> = Vec::new();
        for op in batch.ops() {
            if !spaces.contains(&op.space()) {
                spaces.push(op.space());
            }
        }
        let trees = spaces
            .iter()
            .map(|&space| self.tree(space).cloned())
            .collect::<Result<Vec<_>, _>>()?;

        let outcome = trees.as_slice().transaction(|views| {
            for op in batch.ops() {
                let view = match spaces
                    .iter()
                    .position(|&s| s == op.space())
                    .and_then(|i| views.get(i))
                {
                    Some(view) => view,
                    None => return abort(Abort::UnknownSpace),
                };
                match op {
                    Op::Put { key, value, .. } => {
                        view.insert(key.as_slice(), value.as_slice())?;
                    }
                    Op::Delete { key, .. } => {
                        view.remove(key.as_slice())?;
                    }
                    Op::ExpectAbsent { key, .. } => {
                        if view.get(key)?.is_some() {
                            return abort(Abort::Precondition);
                        }
                    }
                    Op::ExpectValue { key, value, .. } => {
                        if view.get(key)?.as_deref() != Some(value.as_slice()) {
                            return abort(Abort::Precondition);
                        }
                    }
                }
            }
            Ok(())
        });
        match outcome {
            Ok(()) => {}
            Err(TransactionError::Abort(Abort::Precondition)) => return Err(StoreError::Conflict),
            Err(TransactionError::Abort(Abort::UnknownSpace)) => {
                return Err(StoreError::Backend("batch keyspace is not open".into()))
            }
            Err(TransactionError::Storage(e)) => return Err(from_sled(e)),
        }

        let wrote = batch
            .ops()
            .iter()
            .any(|op| matches!(op, Op::Put { .. } | Op::Delete { .. }));
        if wrote {
            // The acknowledgement promise: nothing returns Ok before fsync.
            self.db.flush().map_err(from_sled)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SledStore {
    async fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_vec();
        self.blocking(move |inner| inner.get(space, &key)).await
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
        other => StoreError::Backend(other.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::conformance;
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sled_store_passes_conformance() {
        conformance::run_all(|dir| SledStore::open(dir).expect("open sled store")).await;
    }

    #[test]
    fn fail_second_open_of_the_same_dir() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(dir.path()).unwrap();
        assert!(matches!(
            SledStore::open(dir.path()),
            Err(StoreError::Backend(_))
        ));
    }
}
