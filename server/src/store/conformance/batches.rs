//! Atomic batches: all or nothing across keyspaces, and their preconditions.

use std::future::Future;
use std::path::Path;

use super::{dump, fresh, value};
use crate::store::{Batch, Space, Store, StoreError};

/// A batch over several spaces lands whole; one that fails its last
/// precondition leaves every space exactly as it was.
pub async fn batch_is_atomic_across_spaces<S: Store, O: Future<Output = S>>(
    open: &impl Fn(&Path) -> O,
) {
    let (_dir, store) = fresh(open).await;
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
pub async fn batch_preconditions<S: Store, O: Future<Output = S>>(open: &impl Fn(&Path) -> O) {
    let (_dir, store) = fresh(open).await;
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
