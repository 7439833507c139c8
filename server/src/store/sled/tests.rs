//! The sled backend's own tests: the conformance suite, and what only sled
//! has (blob files and their clean-up, a missing blob file, a second open).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::super::conformance;
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sled_store_passes_conformance() {
    conformance::run_all(|dir| std::future::ready(SledStore::open(dir).expect("open sled store")))
        .await;
}

fn blob_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir.join(BLOB_DIR)).unwrap() {
        for file in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            out.push(file.unwrap().path());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_are_files_and_no_file_outlives_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store
        .put(Space::Blobs, b"a".to_vec(), vec![1; 5000])
        .await
        .unwrap();
    let files = blob_files(dir.path());
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap(), vec![1; 5000]);

    // Replaced: the old file goes once the new one is committed.
    store
        .put(Space::Blobs, b"a".to_vec(), vec![2; 10])
        .await
        .unwrap();
    assert_eq!(blob_files(dir.path()).len(), 1);
    assert_eq!(
        store.get(Space::Blobs, b"a").await.unwrap(),
        Some(vec![2; 10])
    );

    // A failed batch leaves no file and changes nothing.
    let mut batch = Batch::new();
    batch
        .put(Space::Blobs, b"b".to_vec(), vec![3; 100])
        .put(Space::Blobs, b"a".to_vec(), vec![4; 100])
        .expect_value(Space::Blobs, b"a".to_vec(), vec![9; 10]);
    assert_eq!(store.apply(batch).await, Err(StoreError::Conflict));
    assert_eq!(blob_files(dir.path()).len(), 1);
    assert_eq!(store.get(Space::Blobs, b"b").await.unwrap(), None);

    // Preconditions compare the content, including a value put earlier in
    // the same batch; two puts of one key leave one file.
    let mut batch = Batch::new();
    batch
        .expect_value(Space::Blobs, b"a".to_vec(), vec![2; 10])
        .put(Space::Blobs, b"b".to_vec(), vec![5; 7])
        .put(Space::Blobs, b"b".to_vec(), vec![6; 7])
        .expect_value(Space::Blobs, b"b".to_vec(), vec![6; 7]);
    store.apply(batch).await.unwrap();
    assert_eq!(blob_files(dir.path()).len(), 2);

    // Deleted: the file goes too.
    store.delete(Space::Blobs, b"a".to_vec()).await.unwrap();
    assert_eq!(blob_files(dir.path()).len(), 1);
    let rows = store
        .scan_prefix(Space::Blobs, b"", None, 10)
        .await
        .unwrap();
    assert_eq!(rows, vec![(b"b".to_vec(), vec![6; 7])]);

    // A file no key names (a crash between writing it and committing) is
    // deleted at the next open; the named one stays.
    let stray = dir.path().join(BLOB_DIR).join("ab").join("ab".repeat(16));
    std::fs::write(&stray, b"orphan").unwrap();
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    assert!(!stray.exists());
    assert_eq!(blob_files(dir.path()).len(), 1);
    assert_eq!(
        store.get(Space::Blobs, b"b").await.unwrap(),
        Some(vec![6; 7])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_reading_a_blob_whose_file_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store
        .put(Space::Blobs, b"a".to_vec(), vec![1; 10])
        .await
        .unwrap();
    for file in blob_files(dir.path()) {
        std::fs::remove_file(file).unwrap();
    }
    assert!(matches!(
        store.get(Space::Blobs, b"a").await,
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn fail_second_open_of_the_same_dir() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStore::open(dir.path()).unwrap();
    assert!(matches!(
        SledStore::open(dir.path()),
        Err(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn small_reads_on_the_calling_thread_answer_like_get() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store
        .put(Space::Blobs, b"c".to_vec(), vec![7; 100 * 1024])
        .await
        .unwrap();
    store
        .put(Space::Records, b"r".to_vec(), vec![1, 2])
        .await
        .unwrap();
    for (space, key) in [
        (Space::Blobs, &b"c"[..]),
        (Space::Blobs, b"missing"),
        (Space::Records, b"r"),
    ] {
        assert_eq!(
            store.get_small(space, key).await.unwrap(),
            store.get(space, key).await.unwrap()
        );
    }
    // A missing file is the same error as through the blocking pool.
    for file in blob_files(dir.path()) {
        std::fs::remove_file(file).unwrap();
    }
    assert!(matches!(
        store.get_small(Space::Blobs, b"c").await,
        Err(StoreError::Corrupt(_))
    ));
}
