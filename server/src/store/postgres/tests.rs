//! The PostgreSQL backend against a real PostgreSQL: the same conformance
//! suite as sled, and what only this backend has (schema versions, prefix
//! bounds at `0xff`, several stores on one database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../tests/common/postgres.rs"]
mod cluster;

use std::path::Path;

use sha2::{Digest, Sha256};

use super::super::{blobs::Blobs, conformance};
use super::*;

/// The schema a conformance "directory" maps to, so that reopening the same
/// directory reopens the same rows.
fn schema_of(dir: &Path) -> String {
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("conf_{hex}")
}

async fn open_schema(name: &str) -> PgStore {
    let url = cluster::schema_url(name).await;
    PgStore::connect(&url, 8)
        .await
        .expect("open PostgreSQL store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_conformance() {
    conformance::run_all(|dir| {
        let name = schema_of(dir);
        async move { open_schema(&name).await }
    })
    .await;
}

/// Chunks in a directory of the conformance "directory", so that a reopen
/// finds them again.
async fn open_with_objects(name: &str, dir: &Path) -> PgStore {
    let url = cluster::schema_url(name).await;
    let blobs = Blobs::open(&format!("file://{}", dir.join("chunks").display())).unwrap();
    let store = PgStore::lazy(&url, 8).unwrap().with_blobs(blobs);
    store
        .ready()
        .await
        .expect("open PostgreSQL store with objects");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_with_chunk_objects_passes_conformance() {
    conformance::run_all(|dir| {
        let name = format!("obj{}", &schema_of(dir)[4..]);
        let dir = dir.to_owned();
        async move { open_with_objects(&name, &dir).await }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_objects_no_key_names_are_swept_and_named_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_objects(&cluster::unique_schema("sweep"), dir.path()).await;
    store
        .put(Space::Blobs, b"chunk".to_vec(), b"ciphertext".to_vec())
        .await
        .unwrap();
    // Replacing a chunk removes the object it replaced.
    store
        .put(Space::Blobs, b"chunk".to_vec(), b"ciphertext 2".to_vec())
        .await
        .unwrap();
    let blobs = store.blobs.clone().unwrap();
    assert_eq!(blobs.written_before(i64::MAX).await.unwrap().len(), 1);
    // An object a crash left behind, named by no key.
    blobs
        .put_new(&Blobs::new_name().unwrap(), b"orphan".to_vec())
        .await
        .unwrap();
    assert_eq!(store.sweep_objects(0).await.unwrap(), 0, "nothing that old");
    assert_eq!(store.sweep_objects(i64::MAX).await.unwrap(), 1);
    assert_eq!(blobs.written_before(i64::MAX).await.unwrap().len(), 1);
    assert_eq!(
        store.get(Space::Blobs, b"chunk").await.unwrap(),
        Some(b"ciphertext 2".to_vec())
    );
    // The database holds the name, never the bytes.
    let client = store.client().await.unwrap();
    let row = client
        .query_one(
            "SELECT value FROM kv_blobs WHERE key = $1",
            &[&b"chunk".as_slice()],
        )
        .await
        .unwrap();
    let stored: Vec<u8> = row.get(0);
    assert_eq!(stored.len(), super::super::blobs::NAME_LEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_a_server_looking_for_chunks_in_the_wrong_place_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let name = cluster::unique_schema("place");
    let with_objects = open_with_objects(&name, dir.path()).await;
    drop(with_objects);
    let url = cluster::schema_url(&name).await;
    let err = PgStore::connect(&url, 2).await.unwrap_err();
    assert!(err.to_string().contains("give --blobs"), "{err}");

    let name = cluster::unique_schema("place2");
    let in_database = open_schema(&name).await;
    in_database
        .put(Space::Blobs, b"chunk".to_vec(), b"bytes".to_vec())
        .await
        .unwrap();
    let url = cluster::schema_url(&name).await;
    let blobs = Blobs::open(&format!("file://{}", dir.path().join("c2").display())).unwrap();
    let err = PgStore::lazy(&url, 2)
        .unwrap()
        .with_blobs(blobs)
        .ready()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("start without --blobs"), "{err}");
}

#[test]
fn prefix_end_skips_trailing_ff() {
    assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
    assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
    assert_eq!(prefix_end(&[0xff, 0xff]), None);
    assert_eq!(prefix_end(b""), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_at_the_top_of_the_key_space() {
    let store = open_schema(&cluster::unique_schema("top")).await;
    for key in [
        vec![0xff],
        vec![0xff, 0xff],
        vec![0xff, 0xff, 0x00],
        vec![0xfe],
    ] {
        store.put(Space::Records, key, b"v".to_vec()).await.unwrap();
    }
    let keys: Vec<Vec<u8>> = store
        .scan_prefix(Space::Records, &[0xff, 0xff], None, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec![vec![0xff, 0xff], vec![0xff, 0xff, 0x00]]);
    let all = store
        .scan_prefix(Space::Records, b"", Some(&[0xfe]), usize::MAX)
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "a cursor continues after the given key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let name = cluster::unique_schema("newer");
    let store = open_schema(&name).await;
    let client = store.client().await.unwrap();
    client
        .execute("UPDATE medvault_schema SET version = version + 1", &[])
        .await
        .unwrap();
    drop(client);
    let url = cluster::schema_url(&name).await;
    let err = PgStore::connect(&url, 2).await.unwrap_err();
    assert!(
        err.to_string().contains("newer than this server's"),
        "unexpected: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_see_each_others_writes() {
    let name = cluster::unique_schema("two");
    let (a, b) = (open_schema(&name).await, open_schema(&name).await);
    a.put(Space::Users, b"k".to_vec(), b"1".to_vec())
        .await
        .unwrap();
    assert_eq!(
        b.get(Space::Users, b"k").await.unwrap(),
        Some(b"1".to_vec())
    );
    // A compare-and-swap made on one is a precondition on the other.
    let mut swap = Batch::new();
    swap.expect_value(Space::Users, b"k".to_vec(), b"1".to_vec())
        .put(Space::Users, b"k".to_vec(), b"2".to_vec());
    b.apply(swap.clone()).await.unwrap();
    assert_eq!(a.apply(swap).await, Err(StoreError::Conflict));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_connection_string_is_not_repeated() {
    let err = PgStore::connect("postgres://user:s3cret@[bad", 1)
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("s3cret"));
}
