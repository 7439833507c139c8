//! The in-process locks of records, a leaf module so that the backend's
//! state can hold them without depending on the record engine.

use shared::model::Id;
use tokio::sync::{Mutex, MutexGuard};

/// Lock shards: owners whose ids fall in the same shard wait for each other.
const LOCK_SHARDS: usize = 64;

/// In-process locks that serialise the changes to one record, so concurrent
/// requests of one patient queue instead of failing each other's
/// preconditions. Correctness does not rest on them: the head's precondition
/// still guards every change.
pub struct RecordLocks([Mutex<()>; LOCK_SHARDS]);

impl Default for RecordLocks {
    fn default() -> Self {
        RecordLocks(std::array::from_fn(|_| Mutex::new(())))
    }
}

impl RecordLocks {
    pub(crate) async fn lock(&self, owner: &Id) -> MutexGuard<'_, ()> {
        // The modulo keeps the index in range.
        let shard = (usize::from(owner[0]) << 8 | usize::from(owner[1])) % LOCK_SHARDS;
        self.0[shard].lock().await
    }
}
