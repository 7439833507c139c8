//! Single keys: put, get and delete, keyspaces kept apart, and the health check and flush.

use std::future::Future;
use std::path::Path;

use super::{fresh, value};
use crate::store::{Space, Store};

/// Single puts overwrite, deletes remove, deleting a missing key is fine, and
/// empty and 1 MiB values (the chunk size) round-trip.
pub async fn put_get_delete<S: Store, O: Future<Output = S>>(open: &impl Fn(&Path) -> O) {
    let (_dir, store) = fresh(open).await;
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
pub async fn get_missing<S: Store, O: Future<Output = S>>(open: &impl Fn(&Path) -> O) {
    let (_dir, store) = fresh(open).await;
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
pub async fn spaces_are_independent<S: Store, O: Future<Output = S>>(open: &impl Fn(&Path) -> O) {
    let (_dir, store) = fresh(open).await;
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

/// The health check and an explicit flush succeed on a working store.
pub async fn flush_and_check<S: Store, O: Future<Output = S>>(open: &impl Fn(&Path) -> O) {
    let (_dir, store) = fresh(open).await;
    store.check().await.expect("health check");
    store
        .put(Space::Meta, b"k".to_vec(), b"v".to_vec())
        .await
        .unwrap();
    store.flush().await.expect("flush");
    store.check().await.expect("health check after a write");
}
