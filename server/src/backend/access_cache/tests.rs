use shared::model::Id;

use super::{changes_access, AccessCache, Readable, MAX_ENTRIES};
use crate::store::{Batch, Space};

const SESSION: [u8; 32] = [7; 32];
const NODE: Id = [3; 16];

fn readable(until: i64) -> Readable {
    Readable {
        chunk_count: 4,
        chunk_size: 4096,
        until,
    }
}

#[test]
fn a_kept_decision_holds_until_its_end() {
    let cache = AccessCache::default();
    let g = cache.generation();
    cache.keep(g, &SESSION, &NODE, 1, readable(100));
    assert_eq!(cache.readable(&SESSION, &NODE, 1, 99), Some(readable(100)));
    assert_eq!(cache.readable(&SESSION, &NODE, 1, 100), None);
    assert_eq!(cache.readable(&SESSION, &NODE, 2, 99), None);
    assert_eq!(cache.readable(&[8; 32], &NODE, 1, 99), None);
    assert_eq!(cache.readable(&SESSION, &[4; 16], 1, 99), None);
}

#[test]
fn a_write_forgets_every_decision_and_one_made_across_it_is_never_kept() {
    let cache = AccessCache::default();
    let g = cache.generation();
    cache.keep(g, &SESSION, &NODE, 1, readable(100));
    cache.invalidate();
    assert_eq!(cache.readable(&SESSION, &NODE, 1, 0), None);
    // Checked from reads that began before the write: not kept.
    cache.keep(g, &SESSION, &NODE, 1, readable(100));
    assert_eq!(cache.readable(&SESSION, &NODE, 1, 0), None);
    cache.keep(cache.generation(), &SESSION, &NODE, 1, readable(100));
    assert_eq!(cache.readable(&SESSION, &NODE, 1, 0), Some(readable(100)));
}

#[test]
fn the_memory_is_bounded() {
    let cache = AccessCache::default();
    let g = cache.generation();
    for i in 0..(MAX_ENTRIES as u32 * 3) {
        cache.keep(g, &SESSION, &NODE, i, readable(100));
        assert!(cache.len() <= MAX_ENTRIES);
    }
}

#[test]
fn writes_that_can_change_access_are_watched_and_upload_progress_and_notices_are_not() {
    let watched = |space: Space, key: Vec<u8>| {
        let mut b = Batch::new();
        b.put(space, key, vec![1]);
        changes_access(&b)
    };
    assert!(watched(Space::Users, vec![1, 2]));
    assert!(watched(Space::Sessions, vec![1, 2]));
    for tag in 1u8..=8 {
        assert!(watched(Space::Grants, vec![tag, 2]), "grants tag {tag}");
    }
    // Notifications and their read mark open nothing.
    assert!(!watched(Space::Grants, vec![9, 2]));
    assert!(!watched(Space::Grants, vec![10, 2]));
    for tag in [1u8, 2, 3, 6, 7, 8, 10, 12] {
        assert!(watched(Space::Records, vec![tag, 0]), "records tag {tag}");
    }
    assert!(!watched(Space::Records, vec![4, 0]));
    assert!(!watched(Space::Records, vec![5, 0]));
    assert!(!watched(Space::Blobs, vec![1, 0]));
    assert!(!watched(Space::Audit, vec![1, 0]));
    let mut delete = Batch::new();
    delete.delete(Space::Grants, vec![1]);
    assert!(changes_access(&delete));
    let mut only_checks = Batch::new();
    only_checks.expect_absent(Space::Users, vec![1]);
    assert!(!changes_access(&only_checks));
}
