//! The chunk GET's memory of access decisions: "this session may read chunks
//! of this version of this node", kept for a few seconds so that the GETs of a
//! download after the first skip the session, account, node and grant reads.
//!
//! An entry is only a shortcut past reads that would say yes again; it never
//! outlives what made it true:
//!
//! - **Writes.** Every batch that writes the Users, Sessions or Grants
//!   keyspace, or the Records keyspace outside an unfinished upload's rows,
//!   moves a generation counter, before and after it is applied, and an entry
//!   of an older generation is never used. Sign-out, ending sessions,
//!   disabling or deleting an account, revoking, declining or changing a grant,
//!   trashing, deleting, moving or restoring a node and a key rotation all
//!   write those keyspaces, so each of them empties the memory at once: no
//!   list of "which calls invalidate" to keep up to date. [`WatchedStore`]
//!   does this for every write of the backend and its audit log.
//! - **Time.** An entry ends at the earliest of [`TTL_SECS`] after the check,
//!   the session's idle or absolute end, and (for a doctor) the end of the
//!   last grant that covered the node, by the server's clock (the test clock
//!   included).
//! - **Only yes is kept.** A refusal is never remembered, and neither is
//!   chunk 0, whose read is logged (a download starts there).
//!
//! Keys are the SHA-256 of the session token (never the token), the node and
//! the version; at most [`MAX_ENTRIES`] are kept.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use async_trait::async_trait;
use shared::model::Id;

use crate::store::{Batch, Entry, Op, Space, Store, StoreError};

/// How long a decision is kept at most, in seconds.
pub const TTL_SECS: i64 = 5;

/// The most decisions kept; more, and the stale ones go (all of them, if
/// none is stale).
pub const MAX_ENTRIES: usize = 4096;

/// Tags of the Records keys that no read decision depends on: an unfinished
/// upload's row and its chunk hashes (`records::layout`, tags 4 and 5), which
/// every chunk PUT writes.
const UPLOAD_PROGRESS_TAGS: [u8; 2] = [4, 5];

/// (SHA-256 of the session token, node, version).
type Key = ([u8; 32], Id, u32);

/// What a kept decision says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readable {
    /// The version's number of chunks.
    pub chunk_count: u32,
    /// Its plaintext bytes per chunk.
    pub chunk_size: u32,
    /// Server time (Unix seconds) from which it no longer holds.
    pub until: i64,
}

struct Kept {
    readable: Readable,
    generation: u64,
}

/// The decisions, and the generation that writes move on.
#[derive(Default)]
pub struct AccessCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<Key, Kept>>,
    /// Keeps nothing: the store is shared with other server processes,
    /// whose writes this one never sees ([`Store::shared_by_processes`]).
    off: bool,
}

impl AccessCache {
    /// A cache that never keeps a decision, for a store other processes
    /// write too: a revocation there must hold here at once.
    pub fn off() -> Self {
        AccessCache {
            off: true,
            ..Self::default()
        }
    }

    /// The current generation: read it before the reads a decision rests on,
    /// and hand it to [`AccessCache::keep`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Forgets every decision (by moving the generation on).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// What is known of a version the session may read at `now`, if a
    /// decision of the current generation says so.
    pub fn readable(
        &self,
        session: &[u8; 32],
        node: &Id,
        version: u32,
        now: i64,
    ) -> Option<Readable> {
        if self.off {
            return None;
        }
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        let kept = entries.get(&(*session, *node, version))?;
        (kept.generation == generation && now < kept.readable.until).then_some(kept.readable)
    }

    /// Keeps a decision made from reads that began at `generation`; nothing
    /// is kept if a write came in between.
    pub fn keep(
        &self,
        generation: u64,
        session: &[u8; 32],
        node: &Id,
        version: u32,
        readable: Readable,
    ) {
        if self.off {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let current = self.generation();
        if generation != current {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, k| k.generation == current);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            (*session, *node, version),
            Kept {
                readable,
                generation,
            },
        );
    }

    /// How many decisions are held (stale ones included), for tests.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether applying `batch` could change a read decision.
pub fn changes_access(batch: &Batch) -> bool {
    batch.ops().iter().any(|op| match op {
        Op::Put { space, key, .. } | Op::Delete { space, key } => match space {
            Space::Users | Space::Sessions => true,
            Space::Grants => key
                .first()
                .is_none_or(|tag| !crate::backend::notifications::NOTICE_TAGS.contains(tag)),
            Space::Records => key
                .first()
                .is_none_or(|tag| !UPLOAD_PROGRESS_TAGS.contains(tag)),
            Space::Meta | Space::Blobs | Space::Audit => false,
        },
        Op::ExpectAbsent { .. } | Op::ExpectValue { .. } => false,
    })
}

/// The backend's store: the real one, with every write that could change a
/// read decision moving the [`AccessCache`]'s generation before and after it.
pub struct WatchedStore {
    inner: Arc<dyn Store>,
    cache: Arc<AccessCache>,
}

impl WatchedStore {
    /// Watches `inner` for `cache`.
    pub fn new(inner: Arc<dyn Store>, cache: Arc<AccessCache>) -> WatchedStore {
        WatchedStore { inner, cache }
    }
}

impl std::fmt::Debug for WatchedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for WatchedStore {
    async fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key).await
    }

    async fn get_small(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_small(space, key).await
    }

    async fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.inner.scan_prefix(space, prefix, after, limit).await
    }

    async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let watched = changes_access(&batch);
        if watched {
            // Before: no decision is used while the write lands. After: none
            // made from reads during it is kept.
            self.cache.invalidate();
        }
        let result = self.inner.apply(batch).await;
        if watched {
            self.cache.invalidate();
        }
        result
    }

    async fn apply_group(&self, batches: Vec<Batch>) -> Vec<Result<(), StoreError>> {
        // The same watch as `apply`, over the whole group, so the inner
        // store's shared flush is kept.
        let watched = batches.iter().any(changes_access);
        if watched {
            self.cache.invalidate();
        }
        let results = self.inner.apply_group(batches).await;
        if watched {
            self.cache.invalidate();
        }
        results
    }

    fn shared_by_processes(&self) -> bool {
        self.inner.shared_by_processes()
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.inner.check().await
    }
}

#[cfg(test)]
mod tests;
