//! The behaviour every [`Store`] backend must show, as one suite.
//!
//! A backend's tests call [`run_all`] with a function that opens the backend on
//! a directory; each check gets a fresh temporary directory and some reopen the
//! same directory to test persistence. Checks panic with a message naming what
//! broke. Handlers rely on exactly these properties, so a backend that passes is
//! a drop-in replacement.
// A test suite: panicking with context is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::keys::Key;
use super::{Batch, Entry, Space, Store, StoreError};

/// The whole contents of a store, for before/after comparisons.
type Dump = BTreeMap<(Space, Vec<u8>), Vec<u8>>;

/// Runs every check in turn against the backend that `open` opens.
pub async fn run_all<S: Store, F: Fn(&Path) -> S>(open: F) {
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

fn fresh<S: Store>(open: &impl Fn(&Path) -> S) -> (tempfile::TempDir, S) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open(dir.path());
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

/// Single puts overwrite, deletes remove, deleting a missing key is fine, and
/// empty and 1 MiB values (the chunk size) round-trip.
pub async fn put_get_delete<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    let s = Space::Records;
    store.put(s, b"k".to_vec(), b"v1".to_vec()).await.unwrap();
    assert_eq!(store.get(s, b"k").await.unwrap(), Some(b"v1".to_vec()));
    store.put(s, b"k".to_vec(), b"v2".to_vec()).await.unwrap();
    assert_eq!(
        store.get(s, b"k").await.unwrap(),
        Some(b"v2".to_vec()),
        "put must overwrite"
    );
    store.delete(s, b"k".to_vec()).await.unwrap();
    assert_eq!(
        store.get(s, b"k").await.unwrap(),
        None,
        "delete must remove"
    );
    store
        .delete(s, b"k".to_vec())
        .await
        .expect("deleting a missing key is not an error");

    store.put(s, b"empty".to_vec(), Vec::new()).await.unwrap();
    assert_eq!(
        store.get(s, b"empty").await.unwrap(),
        Some(Vec::new()),
        "an empty value is present, not absent"
    );

    let big = value("big", 1, (1 << 20) + 1);
    store.put(s, b"big".to_vec(), big.clone()).await.unwrap();
    assert_eq!(store.get(s, b"big").await.unwrap(), Some(big));
}

/// A missing key is `Ok(None)` in every space of a new store.
pub async fn get_missing<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    for space in Space::ALL {
        assert_eq!(store.get(space, b"nobody").await.unwrap(), None, "{space}");
        assert!(store
            .scan_prefix(space, b"", None, usize::MAX)
            .await
            .unwrap()
            .is_empty());
    }
}

/// The same key in different spaces holds different values, and writes, scans
/// and deletes in one space never touch another.
pub async fn spaces_are_independent<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    for space in Space::ALL {
        store
            .put(space, b"same".to_vec(), space.name().as_bytes().to_vec())
            .await
            .unwrap();
    }
    for space in Space::ALL {
        assert_eq!(
            store.get(space, b"same").await.unwrap(),
            Some(space.name().as_bytes().to_vec()),
            "{space}"
        );
        let all = store
            .scan_prefix(space, b"", None, usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            all,
            vec![(b"same".to_vec(), space.name().as_bytes().to_vec())],
            "a scan of {space} must see only {space}"
        );
    }
    store.delete(Space::Users, b"same".to_vec()).await.unwrap();
    for space in Space::ALL {
        let expected = (space != Space::Users).then(|| space.name().as_bytes().to_vec());
        assert_eq!(
            store.get(space, b"same").await.unwrap(),
            expected,
            "{space}"
        );
    }
}

/// Prefix scans return exactly the keys with the prefix, in ascending byte
/// order, whatever the insertion order, and stop at the limit.
pub async fn scan_prefix_order_and_bounds<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    let s = Space::Grants;
    let odd: Vec<&[u8]> = vec![
        &[0x01, 0xff, 0xff],
        &[0x02],
        &[0x01],
        &[0x00, 0xff],
        &[0x01, 0x80],
        &[0x01, 0x00],
        &[0x01, 0xff],
        &[0x01, 0x01],
        &[0x00],
        &[0xff, 0xff, 0xff],
    ];
    for k in &odd {
        store.put(s, k.to_vec(), k.to_vec()).await.unwrap();
    }
    // Numbers inserted in reverse, so only the key encoding can sort them.
    let mut batch = Batch::new();
    for n in (0..300u64).rev() {
        batch.put(s, Key::new().u8(0x05).u64(n).finish(), n.to_be_bytes());
    }
    store.apply(batch).await.unwrap();

    let keys =
        |entries: Vec<Entry>| -> Vec<Vec<u8>> { entries.into_iter().map(|(k, _)| k).collect() };

    let ones = keys(
        store
            .scan_prefix(s, &[0x01], None, usize::MAX)
            .await
            .unwrap(),
    );
    let expected: Vec<Vec<u8>> = vec![
        vec![0x01],
        vec![0x01, 0x00],
        vec![0x01, 0x01],
        vec![0x01, 0x80],
        vec![0x01, 0xff],
        vec![0x01, 0xff, 0xff],
    ];
    assert_eq!(ones, expected, "prefix 01: only its keys, in byte order");

    let ff = keys(
        store
            .scan_prefix(s, &[0x01, 0xff], None, usize::MAX)
            .await
            .unwrap(),
    );
    assert_eq!(ff, vec![vec![0x01, 0xff], vec![0x01, 0xff, 0xff]]);
    let top = keys(
        store
            .scan_prefix(s, &[0xff], None, usize::MAX)
            .await
            .unwrap(),
    );
    assert_eq!(
        top,
        vec![vec![0xff, 0xff, 0xff]],
        "a prefix of 0xff bytes has no successor"
    );
    assert!(store
        .scan_prefix(s, &[0x03], None, usize::MAX)
        .await
        .unwrap()
        .is_empty());

    let numbers = store
        .scan_prefix(s, &[0x05], None, usize::MAX)
        .await
        .unwrap();
    assert_eq!(numbers.len(), 300);
    for (i, (k, v)) in numbers.iter().enumerate() {
        assert_eq!(k, &Key::new().u8(0x05).u64(i as u64).finish());
        assert_eq!(
            v,
            &(i as u64).to_be_bytes().to_vec(),
            "values travel with keys"
        );
    }

    let all = keys(store.scan_prefix(s, b"", None, usize::MAX).await.unwrap());
    assert_eq!(all.len(), odd.len() + 300);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "strictly ascending");

    let first = keys(store.scan_prefix(s, &[0x05], None, 10).await.unwrap());
    assert_eq!(first.len(), 10);
    assert_eq!(first[9], Key::new().u8(0x05).u64(9).finish());
    assert!(store
        .scan_prefix(s, &[0x05], None, 0)
        .await
        .unwrap()
        .is_empty());
}

/// Paging with the last key as `after` visits every key once, and a cursor
/// outside the prefix neither escapes nor skips it.
pub async fn scan_prefix_cursor<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    let s = Space::Audit;
    let mut batch = Batch::new();
    for n in 0..100u64 {
        batch.put(s, Key::new().u8(7).u64(n * 2).finish(), vec![n as u8]);
    }
    batch.put(s, vec![6], vec![0]).put(s, vec![8], vec![0]);
    store.apply(batch).await.unwrap();

    let full = store.scan_prefix(s, &[7], None, usize::MAX).await.unwrap();
    assert_eq!(full.len(), 100);
    let mut paged = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = store
            .scan_prefix(s, &[7], after.as_deref(), 7)
            .await
            .unwrap();
        assert!(page.len() <= 7);
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        paged.extend(page);
    }
    assert_eq!(paged, full, "pages must join up to the full scan");

    // A cursor between two keys resumes at the next one.
    let between = Key::new().u8(7).u64(11).finish();
    let page = store.scan_prefix(s, &[7], Some(&between), 1).await.unwrap();
    assert_eq!(
        page.first().map(|(k, _)| k.clone()),
        Some(Key::new().u8(7).u64(12).finish()),
        "a cursor between keys"
    );
    // A cursor below the prefix starts at the prefix, not at the keys between
    // the cursor and the prefix (here `[6]`).
    let page = store.scan_prefix(s, &[7], Some(&[5]), 1).await.unwrap();
    assert_eq!(
        page.first().map(|(k, _)| k.clone()),
        Some(Key::new().u8(7).u64(0).finish()),
        "a cursor below the prefix"
    );
    // A cursor past the prefix yields nothing, not the next prefix's keys.
    assert!(store
        .scan_prefix(s, &[7], Some(&[7, 0xff]), usize::MAX)
        .await
        .unwrap()
        .is_empty());
}

/// A batch over several spaces lands whole; one that fails its last
/// precondition leaves every space exactly as it was.
pub async fn batch_is_atomic_across_spaces<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    store
        .put(Space::Audit, b"old".to_vec(), b"old".to_vec())
        .await
        .unwrap();
    let mut batch = Batch::new();
    batch
        .put(Space::Records, b"file".to_vec(), b"version-1".to_vec())
        .put(
            Space::Blobs,
            b"chunk".to_vec(),
            value("chunk", 1, 64 * 1024),
        )
        .put(Space::Grants, b"grant".to_vec(), b"g".to_vec())
        .delete(Space::Audit, b"old".to_vec());
    store.apply(batch).await.unwrap();
    assert_eq!(
        store.get(Space::Records, b"file").await.unwrap(),
        Some(b"version-1".to_vec())
    );
    assert_eq!(
        store.get(Space::Blobs, b"chunk").await.unwrap(),
        Some(value("chunk", 1, 64 * 1024))
    );
    assert_eq!(
        store.get(Space::Grants, b"grant").await.unwrap(),
        Some(b"g".to_vec())
    );
    assert_eq!(store.get(Space::Audit, b"old").await.unwrap(), None);

    let before = dump(&store).await;
    let mut doomed = Batch::new();
    doomed
        .put(Space::Records, b"file".to_vec(), b"version-2".to_vec())
        .put(Space::Users, b"new-user".to_vec(), b"u".to_vec())
        .delete(Space::Grants, b"grant".to_vec())
        .put(
            Space::Blobs,
            b"chunk-2".to_vec(),
            value("chunk", 2, 64 * 1024),
        )
        .expect_absent(Space::Records, b"file".to_vec());
    assert_eq!(store.apply(doomed).await, Err(StoreError::Conflict));
    assert_eq!(
        dump(&store).await,
        before,
        "a failed batch must change nothing"
    );

    assert_eq!(
        store.apply(Batch::new()).await,
        Ok(()),
        "an empty batch is a no-op"
    );
}

/// `ExpectAbsent` and `ExpectValue` pass and fail as documented, see earlier
/// ops of their own batch, are per space, and a failure writes nothing.
pub async fn batch_preconditions<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    let s = Space::Users;
    let k = b"alice".to_vec();

    let create = |v: &[u8]| {
        let mut b = Batch::new();
        b.expect_absent(s, k.clone()).put(s, k.clone(), v.to_vec());
        b
    };
    store
        .apply(create(b"first"))
        .await
        .expect("absent key: create succeeds");
    assert_eq!(
        store.apply(create(b"second")).await,
        Err(StoreError::Conflict),
        "present key: create conflicts"
    );
    assert_eq!(store.get(s, &k).await.unwrap(), Some(b"first".to_vec()));

    let cas = |old: &[u8], new: &[u8]| {
        let mut b = Batch::new();
        b.expect_value(s, k.clone(), old.to_vec())
            .put(s, k.clone(), new.to_vec());
        b
    };
    store
        .apply(cas(b"first", b"second"))
        .await
        .expect("matching value: swap succeeds");
    assert_eq!(
        store.apply(cas(b"first", b"third")).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store.apply(cas(b"sec", b"third")).await,
        Err(StoreError::Conflict),
        "a prefix of the value is not the value"
    );
    assert_eq!(
        store.apply(cas(b"second-and-more", b"third")).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(store.get(s, &k).await.unwrap(), Some(b"second".to_vec()));

    let mut missing = Batch::new();
    missing.expect_value(s, b"bob".to_vec(), Vec::new());
    assert_eq!(
        store.apply(missing).await,
        Err(StoreError::Conflict),
        "a missing key does not hold the empty value"
    );

    // Preconditions alone: nothing to write, still checked.
    let mut only = Batch::new();
    only.expect_value(s, k.clone(), b"second".to_vec())
        .expect_absent(s, b"bob".to_vec());
    store.apply(only).await.unwrap();
    let mut only = Batch::new();
    only.expect_absent(s, k.clone());
    assert_eq!(store.apply(only).await, Err(StoreError::Conflict));

    // Preconditions are per space.
    let mut other = Batch::new();
    other
        .expect_absent(Space::Sessions, k.clone())
        .put(Space::Sessions, k.clone(), b"s".to_vec());
    store.apply(other).await.unwrap();

    // Ops run in order: a precondition sees the batch's own earlier writes.
    let mut own = Batch::new();
    own.put(s, b"carol".to_vec(), b"c".to_vec())
        .expect_value(s, b"carol".to_vec(), b"c".to_vec())
        .delete(s, k.clone())
        .expect_absent(s, k.clone());
    store.apply(own).await.unwrap();
    assert_eq!(store.get(s, &k).await.unwrap(), None);

    let before = dump(&store).await;
    let mut self_defeating = Batch::new();
    self_defeating
        .put(s, b"dave".to_vec(), b"d".to_vec())
        .delete(s, b"carol".to_vec())
        .expect_absent(s, b"dave".to_vec());
    assert_eq!(store.apply(self_defeating).await, Err(StoreError::Conflict));
    assert_eq!(
        dump(&store).await,
        before,
        "a failed batch must change nothing"
    );

    // Last write to a key in a batch wins.
    let mut twice = Batch::new();
    twice
        .put(s, b"erin".to_vec(), b"1".to_vec())
        .put(s, b"erin".to_vec(), b"2".to_vec());
    store.apply(twice).await.unwrap();
    assert_eq!(store.get(s, b"erin").await.unwrap(), Some(b"2".to_vec()));
}

/// Everything acknowledged before the store is dropped is there after reopening
/// the same directory, writes work after reopening, and twice over.
pub async fn reopen_keeps_acknowledged_data<S: Store>(open: &impl Fn(&Path) -> S) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut model = Dump::new();
    {
        let store = open(dir.path());
        for n in 0..60u64 {
            let space = Space::ALL[n as usize % Space::ALL.len()];
            let key = Key::new().u64(n).finish();
            let v = value("single", n, 100 + (n as usize * 37) % 3000);
            store.put(space, key.clone(), v.clone()).await.unwrap();
            model.insert((space, key), v);
        }
        for n in 0..10u64 {
            let mut batch = Batch::new();
            for space in [Space::Records, Space::Grants, Space::Audit] {
                let key = Key::new().u8(0xb0).u64(n).finish();
                let v = value(space.name(), n, 500);
                batch.put(space, key.clone(), v.clone());
                model.insert((space, key), v);
            }
            let gone = Key::new().u64(n).finish();
            let gone_space = Space::ALL[n as usize % Space::ALL.len()];
            batch.delete(gone_space, gone.clone());
            model.remove(&(gone_space, gone));
            store.apply(batch).await.unwrap();
        }
        let big = value("big", 9, 1 << 20);
        store
            .put(Space::Blobs, b"big".to_vec(), big.clone())
            .await
            .unwrap();
        model.insert((Space::Blobs, b"big".to_vec()), big);
        assert_eq!(dump(&store).await, model);
    }
    {
        let store = open(dir.path());
        assert_eq!(
            dump(&store).await,
            model,
            "first reopen lost or changed data"
        );
        store
            .put(Space::Meta, b"after".to_vec(), b"reopen".to_vec())
            .await
            .unwrap();
        model.insert((Space::Meta, b"after".to_vec()), b"reopen".to_vec());
        store.delete(Space::Blobs, b"big".to_vec()).await.unwrap();
        model.remove(&(Space::Blobs, b"big".to_vec()));
    }
    let store = open(dir.path());
    assert_eq!(
        dump(&store).await,
        model,
        "second reopen lost or changed data"
    );
}

/// Many tasks writing at once through one `Arc<dyn Store>` all land, and
/// survive a reopen.
pub async fn concurrent_writers_all_land<S: Store>(open: &impl Fn(&Path) -> S) {
    const TASKS: u64 = 16;
    const WRITES: u64 = 20;
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> = Arc::new(open(dir.path()));
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for n in 0..WRITES {
                let key = Key::new().u64(t).u64(n).finish();
                if n % 2 == 0 {
                    store
                        .put(Space::Records, key, value("c", t * 1000 + n, 700))
                        .await?;
                } else {
                    let mut batch = Batch::new();
                    batch
                        .put(Space::Records, key.clone(), value("c", t * 1000 + n, 700))
                        .put(Space::Audit, key, value("a", t * 1000 + n, 50));
                    store.apply(batch).await?;
                }
            }
            Ok::<(), StoreError>(())
        }));
    }
    for task in tasks {
        task.await.expect("writer task").expect("concurrent write");
    }
    let check = |dump: &Dump| {
        for t in 0..TASKS {
            for n in 0..WRITES {
                let key = Key::new().u64(t).u64(n).finish();
                assert_eq!(
                    dump.get(&(Space::Records, key.clone())),
                    Some(&value("c", t * 1000 + n, 700)),
                    "task {t} write {n}"
                );
                let audit = dump.get(&(Space::Audit, key));
                if n % 2 == 1 {
                    assert_eq!(audit, Some(&value("a", t * 1000 + n, 50)));
                } else {
                    assert_eq!(audit, None);
                }
            }
        }
        assert_eq!(dump.len() as u64, TASKS * WRITES + TASKS * WRITES / 2);
    };
    check(&dump(store.as_ref()).await);
    drop(store);
    let store = open(dir.path());
    check(&dump(&store).await);
}

/// Preconditions are checked and applied as one step even under contention:
/// one winner for a create-if-absent, no lost update in a compare-and-swap loop.
pub async fn concurrent_preconditions_serialize<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    let store: Arc<dyn Store> = Arc::new(store);

    let mut tasks = Vec::new();
    for t in 0..16u8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut batch = Batch::new();
            batch.expect_absent(Space::Users, b"username".to_vec()).put(
                Space::Users,
                b"username".to_vec(),
                vec![t],
            );
            store.apply(batch).await.map(|()| t)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("create task") {
            Ok(t) => winners.push(t),
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("create failed: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create-if-absent may win");
    assert_eq!(
        store.get(Space::Users, b"username").await.unwrap(),
        Some(winners.clone())
    );

    const TASKS: u64 = 8;
    const INCREMENTS: u64 = 10;
    store
        .put(
            Space::Meta,
            b"counter".to_vec(),
            0u64.to_be_bytes().to_vec(),
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for _ in 0..INCREMENTS {
                loop {
                    let old = store
                        .get(Space::Meta, b"counter")
                        .await?
                        .unwrap_or_default();
                    let n = u64::from_be_bytes(old.as_slice().try_into().unwrap());
                    let mut batch = Batch::new();
                    batch
                        .expect_value(Space::Meta, b"counter".to_vec(), old)
                        .put(Space::Meta, b"counter".to_vec(), (n + 1).to_be_bytes());
                    match store.apply(batch).await {
                        Ok(()) => break,
                        Err(StoreError::Conflict) => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok::<(), StoreError>(())
        }));
    }
    for task in tasks {
        task.await.expect("increment task").expect("increment");
    }
    assert_eq!(
        store.get(Space::Meta, b"counter").await.unwrap(),
        Some((TASKS * INCREMENTS).to_be_bytes().to_vec()),
        "compare-and-swap lost an update"
    );
}

/// The health check and an explicit flush succeed on a working store.
pub async fn flush_and_check<S: Store>(open: &impl Fn(&Path) -> S) {
    let (_dir, store) = fresh(open);
    store.check().await.expect("health check");
    store
        .put(Space::Meta, b"k".to_vec(), b"v".to_vec())
        .await
        .unwrap();
    store.flush().await.expect("flush");
    store.check().await.expect("health check after a write");
}
