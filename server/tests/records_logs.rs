//! Neither the data directory nor the log (at every level) holds a file's
//! name, a marker from its content, a node key or a content key, after a real
//! upload and download. (Its own test binary: a thread-local log subscriber
//! misses events while other tests of the same binary run.)
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    files::{content, metadata},
    patient::{find, patient, CHUNK},
    Server,
};
use serde_json::json;
use shared::{api::records::NodeView, crypto::b64, records::seal_metadata};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Collects everything the log subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_name_content_or_key_reaches_the_disk_or_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = Server::new();
    let p = patient(&s, "disk.check").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let marker = "UNIQUE-MARKER-8f3a2c-haemoglobin";
    let name = "cholesterol-panel-2026-secret-name.pdf";
    let bytes = content(marker, 3 * CHUNK as usize + 7);
    let up = p.start_new(labs, name, &bytes, s.now()).await.unwrap();
    p.put_all(&up).await;
    let view = p.finish(&up, s.now()).await.unwrap();
    let meta = seal_metadata(
        &up.node_key,
        &up.node_id,
        &metadata(name, s.now(), Some(bytes.len() as u64)),
    )
    .unwrap();
    let mut body = json!({"request": {"node_id": b64::encode(&up.node_id), "revision": view.revision, "metadata": b64::encode(&meta)}});
    let revision = view.revision;
    p.sign_request(&mut body, &up.node_id, s.now(), |v| {
        v.metadata = meta.clone();
        v.revision = revision + 1;
    })
    .await;
    let _: NodeView = p.c.post("/api/records/node/update", &body).await.unwrap();
    assert_eq!(p.download_current(name).await, bytes);
    s.store.flush().await.unwrap();

    let disk = s.stored_bytes().await;
    let log = captured.0.lock().unwrap().clone();
    assert!(contains(&log, b"/api/records/chunk/"), "nothing captured");
    let tree = p.tree().await;
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("content marker".into(), marker.as_bytes().to_vec()),
        ("file name".into(), name.as_bytes().to_vec()),
        ("folder name".into(), b"Lab results".to_vec()),
        (
            "content key".into(),
            up.file.content_key.as_bytes().to_vec(),
        ),
        (
            "content key b64".into(),
            b64::encode(up.file.content_key.as_bytes()).into_bytes(),
        ),
    ];
    for node in tree.nodes() {
        needles.push(("node key".into(), node.key.as_bytes().to_vec()));
        needles.push((
            "node key b64".into(),
            b64::encode(node.key.as_bytes()).into_bytes(),
        ));
    }
    for (what, needle) in &needles {
        assert!(
            !contains(&disk, needle),
            "the data directory holds the {what}"
        );
        assert!(!contains(&log, needle), "the log holds the {what}");
    }
    // The ciphertext is there (the test would prove nothing otherwise).
    assert!(contains(&disk, &up.file.chunks[1]));
}
