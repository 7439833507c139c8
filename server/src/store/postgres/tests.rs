//! The PostgreSQL backend against a real PostgreSQL: the same conformance
//! suite as sled, and what only this backend has (schema versions, prefix
//! bounds at `0xff`, several stores on one database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../tests/common/postgres.rs"]
mod cluster;

use std::path::Path;

use sha2::{Digest, Sha256};

use super::super::conformance;
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
