//! The behaviour every chunk object store must show, run against the local
//! filesystem here and against S3 (Garage) by `scripts/garage-test.sh`:
//! put, get, delete, a missing object, an overwrite refused, and concurrent
//! puts of one name of which exactly one lands.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

async fn conformance(blobs: &Blobs) {
    // Put, get, delete; a second delete is fine.
    let name = Blobs::new_name().unwrap();
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    blobs.put_new(&name, bytes.clone()).await.unwrap();
    assert_eq!(blobs.get(&name).await.unwrap(), Some(bytes.clone()));
    blobs.delete(&name).await.unwrap();
    assert_eq!(blobs.get(&name).await.unwrap(), None);
    blobs.delete(&name).await.unwrap();

    // A missing object is None, not an error.
    assert_eq!(blobs.get(&Blobs::new_name().unwrap()).await.unwrap(), None);

    // An overwrite is refused and changes nothing.
    let name = Blobs::new_name().unwrap();
    blobs.put_new(&name, b"first".to_vec()).await.unwrap();
    assert_eq!(
        blobs.put_new(&name, b"second".to_vec()).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(blobs.get(&name).await.unwrap(), Some(b"first".to_vec()));

    // Concurrent puts of one name: one lands, whole; the rest are refused.
    let name = Blobs::new_name().unwrap();
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let (blobs, name) = (blobs.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            let bytes = vec![i; 1 << 20];
            (i, blobs.put_new(&name, bytes).await)
        }));
    }
    let mut landed = Vec::new();
    for t in tasks {
        let (i, result) = t.await.unwrap();
        match result {
            Ok(()) => landed.push(i),
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("put {i}: {e}"),
        }
    }
    assert_eq!(landed.len(), 1, "exactly one concurrent put lands");
    assert_eq!(
        blobs.get(&name).await.unwrap(),
        Some(vec![landed[0]; 1 << 20])
    );

    // Listing finds what was written before a time, and only our names.
    let listed = blobs.written_before(i64::MAX).await.unwrap();
    assert!(listed.contains(&name));
    assert!(blobs.written_before(0).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_filesystem_blobs_pass_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("chunks").display());
    conformance(&Blobs::open(&url).unwrap()).await;
}

#[test]
fn fail_bad_urls_and_references() {
    assert!(Blobs::open("http://example.org/bucket").is_err());
    assert!(Blobs::open("s3://").is_err());
    assert!(Blobs::open("s3://bucket/folder").is_err());
    assert!(name_of(b"../../etc/passwd").is_err());
    assert!(name_of(&[b'a'; NAME_LEN]).is_ok());
    assert!(name_of(&[b'g'; NAME_LEN]).is_err());
}

/// S3 through a real server: `scripts/garage-test.sh` starts Garage, makes a
/// bucket and key, sets `AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP` and
/// `MEDVAULT_TEST_S3_BUCKET`, and runs the ignored tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server: scripts/garage-test.sh"]
async fn s3_blobs_pass_conformance() {
    let bucket = std::env::var("MEDVAULT_TEST_S3_BUCKET").expect("MEDVAULT_TEST_S3_BUCKET");
    let blobs = Blobs::open(&format!("s3://{bucket}")).unwrap();
    conformance(&blobs).await;
}
