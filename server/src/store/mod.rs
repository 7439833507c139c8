//! Storage behind one small trait, so that handlers never see sled and a second
//! backend (PostgreSQL plus object storage) can be dropped in later.
//!
//! The trait is deliberately low level: named keyspaces of byte keys and byte
//! values, ordered prefix scans, and one atomic batch with preconditions. The
//! backend's areas build their domain keys on these primitives with [`keys`] and
//! encode values with [`codec`], so every store gets them for free and only has
//! to pass the `conformance` suite (test builds only).
//!
//! Durability contract: a write that returns `Ok` is on disk. The API acknowledges
//! an upload only after that, so an acknowledged write survives `kill -9`
//! (`tests/crash.rs` checks this against the real binary).

pub mod blobs;
pub mod codec;
pub mod group;
pub mod keys;
pub mod postgres;
pub mod sled;

#[cfg(test)]
pub mod conformance;

use std::fmt;

use async_trait::async_trait;

pub use self::postgres::PgStore;
pub use self::sled::SledStore;

/// The closed set of keyspaces, so that every tree on disk is named here and a
/// typo cannot silently create a new one.
///
/// A feature that needs its own keyspace adds a variant (and a line in
/// [`Space::name`] and [`Space::ALL`]). Never rename an existing `name()`: it is
/// the tree's name on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    /// Store-wide settings (format markers, server seeds, signing keys' ids).
    Meta,
    /// Accounts: OPAQUE password files, sealed keyrings, public key entries.
    Users,
    /// Hashes of session tokens and their lifetimes.
    Sessions,
    /// The record trees: nodes, wrapped node keys, encrypted metadata, manifests.
    Records,
    /// Ciphertext chunks of file versions, the bulk of the data.
    Blobs,
    /// Grants, access requests and emergency-access state.
    Grants,
    /// The append-only, hash-chained audit log.
    Audit,
}

impl Space {
    /// Every keyspace, so that a backend can open them all up front and the
    /// conformance suite can exercise each one.
    pub const ALL: [Space; 7] = [
        Space::Meta,
        Space::Users,
        Space::Sessions,
        Space::Records,
        Space::Blobs,
        Space::Grants,
        Space::Audit,
    ];

    /// The keyspace's stable on-disk name (a sled tree name, later a table or
    /// bucket prefix); it must never change once data exists.
    pub const fn name(self) -> &'static str {
        match self {
            Space::Meta => "meta",
            Space::Users => "users",
            Space::Sessions => "sessions",
            Space::Records => "records",
            Space::Blobs => "blobs",
            Space::Grants => "grants",
            Space::Audit => "audit",
        }
    }

    /// A dense index into [`Space::ALL`], so backends can keep per-space handles
    /// in a plain array instead of a map.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a storage call failed. Messages name the kind of failure only: never a
/// key, a value or anything decoded from one, because they end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A batch precondition did not hold; the batch wrote nothing, and the caller
    /// decides whether that means "already exists", "changed under you" or retry.
    #[error("a batch precondition did not hold; nothing was written")]
    Conflict,
    /// Stored bytes could not be read back as what they claim to be (bad version
    /// byte, bad JSON, a malformed key, or the backend found on-disk corruption).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A value could not be serialized; a programming error, reported instead of
    /// panicking.
    #[error("value could not be encoded: {0}")]
    Encode(String),
    /// The backend itself failed (I/O, a lock held by another process, a worker
    /// thread that died); usually an operator problem, answered with a 500.
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// The filesystem of the data directory is full (or over its quota): the
    /// write did not happen, and will work again once there is room.
    #[error("the data directory's filesystem is full")]
    Full,
}

impl StoreError {
    /// The store's reading of an I/O failure: a full disk as [`StoreError::Full`],
    /// anything else as [`StoreError::Backend`] with the error's kind (never its
    /// text, which may hold a path).
    pub fn from_io(what: &str, e: &std::io::Error) -> StoreError {
        if is_full(e) {
            StoreError::Full
        } else {
            StoreError::Backend(format!("{what}: {}", e.kind()))
        }
    }
}

/// Whether an I/O error means the filesystem has no room: `ENOSPC`, or `EDQUOT`
/// (a quota), which the system reports in several ways.
pub fn is_full(e: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT))
}

/// A key and its value, as prefix scans return them.
pub type Entry = (Vec<u8>, Vec<u8>);

/// One step of a [`Batch`].
///
/// Keys and values are owned so a batch can move to a blocking worker thread.
#[derive(Clone, PartialEq, Eq)]
pub enum Op {
    /// Set `key` to `value`, replacing whatever was there.
    Put {
        /// Keyspace written.
        space: Space,
        /// Key written.
        key: Vec<u8>,
        /// New value.
        value: Vec<u8>,
    },
    /// Remove `key`; removing a missing key is not an error.
    Delete {
        /// Keyspace written.
        space: Space,
        /// Key removed.
        key: Vec<u8>,
    },
    /// Fail the whole batch with [`StoreError::Conflict`] unless `key` is absent,
    /// for create-if-absent (a username, a first grant).
    ExpectAbsent {
        /// Keyspace read.
        space: Space,
        /// Key that must not exist.
        key: Vec<u8>,
    },
    /// Fail the whole batch with [`StoreError::Conflict`] unless `key` holds
    /// exactly `value`, for compare-and-swap (the audit chain head, a version).
    ExpectValue {
        /// Keyspace read.
        space: Space,
        /// Key that must exist.
        key: Vec<u8>,
        /// The exact bytes it must hold.
        value: Vec<u8>,
    },
}

impl Op {
    /// The keyspace the op touches, so a backend can open or lock only those.
    pub fn space(&self) -> Space {
        match self {
            Op::Put { space, .. }
            | Op::Delete { space, .. }
            | Op::ExpectAbsent { space, .. }
            | Op::ExpectValue { space, .. } => *space,
        }
    }
}

// Lengths only: values are ciphertext or secrets' hashes, and a Debug print of a
// batch must be safe to log.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Put { space, key, value } => write!(
                f,
                "Put({space}, key: {} bytes, value: {} bytes)",
                key.len(),
                value.len()
            ),
            Op::Delete { space, key } => write!(f, "Delete({space}, key: {} bytes)", key.len()),
            Op::ExpectAbsent { space, key } => {
                write!(f, "ExpectAbsent({space}, key: {} bytes)", key.len())
            }
            Op::ExpectValue { space, key, value } => write!(
                f,
                "ExpectValue({space}, key: {} bytes, value: {} bytes)",
                key.len(),
                value.len()
            ),
        }
    }
}

/// Writes and preconditions that take effect together or not at all, across any
/// keyspaces: a grant and its audit event, a file version and its manifest.
///
/// Ops run in order as if alone: a precondition sees the effect of earlier ops
/// in the same batch, and a later put to the same key wins. If any precondition
/// fails, nothing in the batch is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch; applying it is a no-op that succeeds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a [`Op::Put`].
    pub fn put(
        &mut self,
        space: Space,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.push(Op::Put {
            space,
            key: key.into(),
            value: value.into(),
        })
    }

    /// Adds a [`Op::Delete`].
    pub fn delete(&mut self, space: Space, key: impl Into<Vec<u8>>) -> &mut Self {
        self.push(Op::Delete {
            space,
            key: key.into(),
        })
    }

    /// Adds a [`Op::ExpectAbsent`] precondition.
    pub fn expect_absent(&mut self, space: Space, key: impl Into<Vec<u8>>) -> &mut Self {
        self.push(Op::ExpectAbsent {
            space,
            key: key.into(),
        })
    }

    /// Adds a [`Op::ExpectValue`] precondition.
    pub fn expect_value(
        &mut self,
        space: Space,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.push(Op::ExpectValue {
            space,
            key: key.into(),
            value: value.into(),
        })
    }

    /// Adds any op, for code that builds ops generically.
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// The ops in the order they will run, for backends.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Number of ops, so callers can bound batch sizes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there is nothing to do, letting backends skip the transaction.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl From<Vec<Op>> for Batch {
    fn from(ops: Vec<Op>) -> Self {
        Self { ops }
    }
}

/// The largest value [`Store::get_small`] is meant for: a file of this size
/// is read from the page cache in a few microseconds.
pub const SMALL_READ_MAX: u64 = 256 * 1024;

/// The storage primitives every backend provides; shared as `Arc<dyn Store>` in
/// the router state.
///
/// Every method may block on I/O internally but never blocks the async runtime.
/// Every write that returns `Ok` is durable (flushed to stable storage).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The value at `key`, or `None`; a missing key is not an error because
    /// "absent" is an ordinary answer for lookups.
    async fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` entries whose key starts with `prefix`, in ascending byte
    /// order of key, starting strictly after `after` when given (pass the last
    /// key of the previous page to continue). Bounded so no request can pull a
    /// whole keyspace into memory by accident; use `usize::MAX` deliberately.
    async fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;

    /// [`Store::get`] of a value the caller knows to be small (at most
    /// [`SMALL_READ_MAX`] bytes, say a chunk of a version with small chunks):
    /// a backend may read it on the calling thread, where handing it to a
    /// blocking pool and back costs more than the read itself.
    async fn get_small(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(space, key).await
    }

    /// Applies every op of `batch` atomically and durably, or nothing; a failed
    /// precondition gives [`StoreError::Conflict`].
    async fn apply(&self, batch: Batch) -> Result<(), StoreError>;

    /// Applies independent batches, each atomically or not at all (one
    /// batch's failed precondition fails only that one), answering for each
    /// in order. Every `Ok` is durable, as with [`Store::apply`]; a backend
    /// may share one flush among the group (the sled store does). The default
    /// applies them one after another.
    async fn apply_group(&self, batches: Vec<Batch>) -> Vec<Result<(), StoreError>> {
        let mut out = Vec::with_capacity(batches.len());
        for batch in batches {
            out.push(self.apply(batch).await);
        }
        out
    }

    /// Whether other server processes may write this store at the same
    /// time (a database behind a load balancer). A process then cannot know
    /// when the store changed, so it must not answer from memory of what the
    /// store said (the chunk GET's access decisions, say).
    fn shared_by_processes(&self) -> bool {
        false
    }

    /// Forces everything written so far to stable storage; writes already do
    /// this, so it is for shutdown and for tests.
    async fn flush(&self) -> Result<(), StoreError>;

    /// A cheap read that proves the backend answers, for the health endpoint.
    async fn check(&self) -> Result<(), StoreError>;

    /// Durably sets one key; a one-op [`Batch`].
    async fn put(&self, space: Space, key: Vec<u8>, value: Vec<u8>) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.put(space, key, value);
        self.apply(batch).await
    }

    /// Durably removes one key (absent is fine); a one-op [`Batch`].
    async fn delete(&self, space: Space, key: Vec<u8>) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.delete(space, key);
        self.apply(batch).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn space_names_are_unique_and_indexes_dense() {
        let mut names: Vec<_> = Space::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Space::ALL.len());
        for (i, space) in Space::ALL.iter().enumerate() {
            assert_eq!(space.index(), i);
        }
    }

    #[test]
    fn op_debug_hides_bytes() {
        let mut batch = Batch::new();
        batch
            .put(Space::Users, b"alice".to_vec(), b"secret-ish".to_vec())
            .expect_value(Space::Meta, b"k".to_vec(), b"head".to_vec());
        let shown = format!("{batch:?}");
        assert!(!shown.contains("alice") && !shown.contains("secret"));
        assert!(shown.contains("Put(users, key: 5 bytes, value: 10 bytes)"));
    }
}
