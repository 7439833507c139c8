//! Concurrent writers: every write lands, and preconditions serialize.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use super::{dump, fresh, value, Dump};
use crate::store::{keys::Key, Batch, Space, Store, StoreError};

/// Many tasks writing at once through one `Arc<dyn Store>` all land, and
/// survive a reopen.
pub async fn concurrent_writers_all_land<S: Store, O: Future<Output = S>>(
    open: &impl Fn(&Path) -> O,
) {
    const TASKS: u64 = 16;
    const WRITES: u64 = 20;
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> = Arc::new(open(dir.path()).await);
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
    let store = open(dir.path()).await;
    check(&dump(&store).await);
}

/// Preconditions are checked and applied as one step even under contention:
/// one winner for a create-if-absent, no lost update in a compare-and-swap loop.
pub async fn concurrent_preconditions_serialize<S: Store, O: Future<Output = S>>(
    open: &impl Fn(&Path) -> O,
) {
    let (_dir, store) = fresh(open).await;
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
