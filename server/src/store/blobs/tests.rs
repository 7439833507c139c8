//! The behaviour every chunk object store must show, run against the local
//! filesystem here and against S3 (Garage) by `scripts/garage-test.sh`:
//! put, get, delete, a missing object, an overwrite refused, and concurrent
//! puts of one name of which exactly one lands where the store refuses
//! overwrites itself (where it does not, as Garage, each lands whole).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use futures_util::stream::BoxStream;
use object_store::{
    memory::InMemory, CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    PutMultipartOptions, PutResult,
};

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
    let stored = blobs.get(&name).await.unwrap().unwrap();
    if blobs.refuses_overwrites_itself() {
        assert_eq!(landed.len(), 1, "exactly one concurrent put lands");
        assert_eq!(stored, vec![landed[0]; 1 << 20]);
    } else {
        // Racing puts both pass the look; the store keeps one of them whole.
        assert!(!landed.is_empty());
        assert!(
            landed.iter().any(|&i| stored == vec![i; 1 << 20]),
            "the object is one put's bytes, whole"
        );
    }

    // Listing finds what was written before a time, and only our names.
    let listed = blobs.written_before(i64::MAX).await.unwrap();
    assert!(listed.contains(&name));
    assert!(blobs.written_before(0).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_filesystem_blobs_pass_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("chunks").display());
    let blobs = Blobs::open_probed(&url).await.unwrap();
    assert!(blobs.refuses_overwrites_itself());
    conformance(&blobs).await;
    // The probe left nothing behind.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("chunks/probes"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(left.is_empty());
}

/// A store that overwrites whatever the put mode says, as Garage 2.5 does
/// with `If-None-Match: *`.
#[derive(Debug, Default)]
struct Overwrites(InMemory);

impl std::fmt::Display for Overwrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Overwrites")
    }
}

#[async_trait::async_trait]
impl ObjectStore for Overwrites {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        _: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.0
            .put_opts(location, payload, PutOptions::default())
            .await
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.0.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.0.get_opts(location, options).await
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.0.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.0.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.0.list_with_delimiter(prefix).await
    }
    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.0.copy_opts(from, to, options).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_overwrites_is_found_and_looked_at_first() {
    let blobs = Blobs::from_store(Arc::new(Overwrites::default()))
        .probed()
        .await
        .unwrap();
    assert!(!blobs.refuses_overwrites_itself());
    conformance(&blobs).await;
    // A store that honours the mode is trusted.
    let honest = Blobs::from_store(Arc::new(InMemory::new()))
        .probed()
        .await
        .unwrap();
    assert!(honest.refuses_overwrites_itself());
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
    let blobs = Blobs::open_probed(&format!("s3://{bucket}")).await.unwrap();
    eprintln!(
        "this S3 server refuses overwrites itself: {}",
        blobs.refuses_overwrites_itself()
    );
    conformance(&blobs).await;
}
