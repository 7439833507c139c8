//! The behaviour every [`Store`] backend must show, as one suite.
//!
//! A backend's tests call [`run_all`] with a function that opens the backend on
//! a directory (asynchronously: a database backend connects; its directory
//! names its own schema); each check gets a fresh temporary directory and some reopen the
//! same directory to test persistence. Checks panic with a message naming what
//! broke. Handlers rely on exactly these properties, so a backend that passes is
//! a drop-in replacement. The checks live in one file per topic: single keys
//! (`basics`), prefix scans, batches, durability and concurrency.
// A test suite: panicking with context is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod basics;
mod batches;
mod concurrency;
mod durability;
mod scans;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;

use super::{Space, Store};

pub use basics::{flush_and_check, get_missing, put_get_delete, spaces_are_independent};
pub use batches::{batch_is_atomic_across_spaces, batch_preconditions};
pub use concurrency::{concurrent_preconditions_serialize, concurrent_writers_all_land};
pub use durability::reopen_keeps_acknowledged_data;
pub use scans::{scan_prefix_cursor, scan_prefix_order_and_bounds};

/// The whole contents of a store, for before/after comparisons.
type Dump = BTreeMap<(Space, Vec<u8>), Vec<u8>>;

/// Runs every check in turn against the backend that `open` opens.
pub async fn run_all<S: Store, O: Future<Output = S>, F: Fn(&Path) -> O>(open: F) {
    eprintln!("conformance: put_get_delete");
    put_get_delete(&open).await;
    eprintln!("conformance: get_missing");
    get_missing(&open).await;
    eprintln!("conformance: spaces_are_independent");
    spaces_are_independent(&open).await;
    eprintln!("conformance: scan_prefix_order_and_bounds");
    scan_prefix_order_and_bounds(&open).await;
    eprintln!("conformance: scan_prefix_cursor");
    scan_prefix_cursor(&open).await;
    eprintln!("conformance: batch_is_atomic_across_spaces");
    batch_is_atomic_across_spaces(&open).await;
    eprintln!("conformance: batch_preconditions");
    batch_preconditions(&open).await;
    eprintln!("conformance: reopen_keeps_acknowledged_data");
    reopen_keeps_acknowledged_data(&open).await;
    eprintln!("conformance: concurrent_writers_all_land");
    concurrent_writers_all_land(&open).await;
    eprintln!("conformance: concurrent_preconditions_serialize");
    concurrent_preconditions_serialize(&open).await;
    eprintln!("conformance: flush_and_check");
    flush_and_check(&open).await;
}

async fn fresh<S: Store, O: Future<Output = S>>(
    open: &impl Fn(&Path) -> O,
) -> (tempfile::TempDir, S) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path()).await;
    (dir, store)
}

async fn dump(store: &dyn Store) -> Dump {
    let mut out = Dump::new();
    for space in Space::ALL {
        for (k, v) in store
            .scan_prefix(space, b"", None, usize::MAX)
            .await
            .unwrap()
        {
            out.insert((space, k), v);
        }
    }
    out
}

/// A value that differs per (tag, n) and has some bulk.
fn value(tag: &str, n: u64, len: usize) -> Vec<u8> {
    let mut v = format!("{tag}/{n}/").into_bytes();
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(x as u8);
    }
    v
}
