//! The group writer over the sled store: every caller gets its own batch's
//! answer, a failed precondition fails only its batch, and no blob file of a
//! failed batch stays.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use super::*;
use crate::store::{
    sled::{SledStore, BLOB_DIR},
    Space,
};

fn blob_files(dir: &Path) -> usize {
    let mut n = 0;
    for shard in std::fs::read_dir(dir.join(BLOB_DIR)).unwrap() {
        n += std::fs::read_dir(shard.unwrap().path()).unwrap().count();
    }
    n
}

fn chunk(key: &[u8], value: Vec<u8>) -> Batch {
    let mut batch = Batch::new();
    batch
        .expect_absent(Space::Records, key.to_vec())
        .put(Space::Records, key.to_vec(), b"hash".to_vec())
        .put(Space::Blobs, key.to_vec(), value);
    batch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_each_get_their_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let writer = GroupWriter::new(store.clone(), 8);
    let mut tasks = Vec::new();
    for i in 0..40u8 {
        let writer = writer.clone();
        // Every fifth writer repeats an earlier key: one of the two wins.
        let key = if i % 5 == 4 { vec![i - 1] } else { vec![i] };
        tasks.push(tokio::spawn(async move {
            writer.apply(chunk(&key, vec![i; 70_000])).await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict) => conflicts += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!((ok, conflicts), (32, 8));
    // Each key holds the bytes of the writer that won, and no other file is left.
    for i in (0..40u8).filter(|i| i % 5 != 4) {
        let value = store.get(Space::Blobs, &[i]).await.unwrap().unwrap();
        assert!(value == vec![i; 70_000] || (i % 5 == 3 && value == vec![i + 1; 70_000]));
    }
    assert_eq!(blob_files(dir.path()), 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_batch_of_a_group_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let results = store
        .apply_group(vec![
            chunk(b"a", vec![1; 10]),
            chunk(b"a", vec![2; 10]),
            chunk(b"b", vec![3; 10]),
        ])
        .await;
    assert_eq!(results, vec![Ok(()), Err(StoreError::Conflict), Ok(())]);
    assert_eq!(
        store.get(Space::Blobs, b"a").await.unwrap(),
        Some(vec![1; 10])
    );
    assert_eq!(
        store.get(Space::Blobs, b"b").await.unwrap(),
        Some(vec![3; 10])
    );
    assert_eq!(blob_files(dir.path()), 2);
    drop(store);
    // Durable: a reopen finds both and deletes nothing.
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(
        store.get(Space::Blobs, b"a").await.unwrap(),
        Some(vec![1; 10])
    );
    assert_eq!(blob_files(dir.path()), 2);
}
