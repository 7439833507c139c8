//! Room kept free on the data directory's filesystem. sled cannot be trusted to
//! survive running out of space in the middle of its own writes (a test filled
//! a small disk and the store no longer opened: "corrupted data"), so the store
//! refuses writes with [`StoreError::Full`](crate::store::StoreError::Full)
//! while there is still room for sled's log, flushes and snapshots.
//!
//! Two floors: a batch that stores file content (a chunk, anything put in
//! [`Space::Blobs`]) or more than [`SMALL_BATCH`] needs the soft floor free after
//! it; any other write (a session's last use, an audit event, a rename,
//! cancelling an upload) may go down to the hard floor, so that reading and
//! tidying up keep working on a full disk; a batch that only deletes always
//! goes, since it is how room is made.

use std::path::Path;

use crate::store::{Batch, Op, Space};

/// Bytes of values up to which a batch counts as small.
pub const SMALL_BATCH: u64 = 64 * 1024;

/// The free space a filesystem must keep, from its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    /// Kept free after any batch that stores content or more than [`SMALL_BATCH`].
    pub soft: u64,
    /// Kept free after any other batch that writes.
    pub hard: u64,
}

impl Floor {
    /// A twentieth of the filesystem, between 4 MiB and 256 MiB, for large
    /// writes; half that for small ones.
    pub fn for_filesystem(total: u64) -> Floor {
        let soft = (total / 20).clamp(4 << 20, 256 << 20);
        Floor {
            soft,
            hard: soft / 2,
        }
    }

    /// The floor of the data directory at `dir`, or `None` if its size cannot
    /// be read (then nothing is refused for room).
    pub fn of(dir: &Path) -> Option<Floor> {
        fs2::total_space(dir).ok().map(Floor::for_filesystem)
    }

    /// Whether `batch` may be written with `free` bytes free.
    pub fn admits(&self, free: u64, batch: &Batch) -> bool {
        let bytes = stored_bytes(batch);
        let writes = batch.ops().iter().any(|op| matches!(op, Op::Put { .. }));
        if !writes {
            return true;
        }
        let content = batch.ops().iter().any(|op| {
            matches!(
                op,
                Op::Put {
                    space: Space::Blobs,
                    ..
                }
            )
        });
        let floor = if content || bytes > SMALL_BATCH {
            self.soft
        } else {
            self.hard
        };
        free >= floor.saturating_add(bytes)
    }
}

/// Bytes of keys and values a batch puts.
pub fn stored_bytes(batch: &Batch) -> u64 {
    batch
        .ops()
        .iter()
        .map(|op| match op {
            Op::Put { key, value, .. } => (key.len() + value.len()) as u64,
            _ => 0,
        })
        .sum()
}

/// Bytes free for this process on the filesystem of `dir`, if known.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    fs2::available_space(dir).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(space: Space, bytes: usize) -> Batch {
        let mut b = Batch::new();
        b.put(space, b"k".to_vec(), vec![0; bytes]);
        b
    }

    #[test]
    fn floors_scale_with_the_filesystem_within_bounds() {
        assert_eq!(Floor::for_filesystem(24 << 20).soft, 4 << 20);
        assert_eq!(Floor::for_filesystem(1 << 30).soft, (1 << 30) / 20);
        assert_eq!(Floor::for_filesystem(1 << 40).soft, 256 << 20);
        assert_eq!(Floor::for_filesystem(1 << 40).hard, 128 << 20);
    }

    #[test]
    fn large_writes_stop_first_small_ones_later_deletes_never() {
        let floor = Floor {
            soft: 4 << 20,
            hard: 2 << 20,
        };
        let chunk = put(Space::Blobs, 1 << 20);
        let small_chunk = put(Space::Blobs, 4096);
        let small = put(Space::Sessions, 100);
        let large = put(Space::Records, 100 << 10);
        let mut delete = Batch::new();
        delete.delete(Space::Blobs, b"k".to_vec());
        // Plenty of room: all go.
        assert!(floor.admits(100 << 20, &chunk));
        // A chunk must leave the soft floor free.
        assert!(floor.admits((5 << 20) + 100, &chunk));
        assert!(!floor.admits(5 << 20, &chunk));
        // So must any content, however small, and any large write.
        assert!(!floor.admits(4 << 20, &small_chunk));
        assert!(!floor.admits(4 << 20, &large));
        // A small write may go below it, down to the hard floor.
        assert!(floor.admits(3 << 20, &small));
        assert!(!floor.admits(2 << 20, &small));
        // Deleting is how room is made.
        assert!(floor.admits(0, &delete));
    }
}
