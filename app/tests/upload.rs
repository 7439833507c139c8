//! `tasks::upload`: the checks before anything is sent, the MIME type, notes
//! as files, and an upload against a stand-in server: what arrives is padded,
//! sealed and signed so that the download reads back the very bytes, and a
//! refused or cancelled upload sends nothing.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{cell::RefCell, collections::HashMap, rc::Rc, sync::Arc};

use app::tasks::{
    download::{download, DownloadJob},
    transfer::{Cancel, TransferError},
    upload::{check_fits, mime_for, text_file, upload, UploadJob, UploadTarget},
    writer::Writer,
};
use js_sys::Uint8Array;
use shared::{
    api::records::{
        FinishUploadRequest, NodeView, StartUploadRequest, UploadTicket, Usage, VersionView,
    },
    crypto::{keyring::Keyring, sign::part_hash, stream::CHUNK_SIZE},
    records::{open_metadata, ItemDetails, RecordType, StreamLayout},
};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod standin;
use common::record::{stored, TestRecord};
use standin::{ok_json, serve};

#[wasm_bindgen_test]
fn too_large_or_over_quota_is_refused_with_the_limit_named() {
    let usage = Usage {
        used_bytes: 900,
        quota_bytes: 10 * 1024 * 1024,
        max_file_bytes: 5 * 1024 * 1024,
    };
    assert!(check_fits("scan.pdf", 1024 * 1024, &usage).is_ok());
    assert!(check_fits("empty.txt", 0, &usage).is_ok());
    let big = check_fits("scan.pdf", 6 * 1024 * 1024, &usage).unwrap_err();
    assert!(big.contains("“scan.pdf” is 6 MB"), "{big}");
    assert!(big.contains("5 MB limit"), "{big}");
    assert!(big.contains("Nothing was sent"), "{big}");
    let full = Usage {
        used_bytes: 9 * 1024 * 1024,
        ..usage
    };
    let message = check_fits("scan.pdf", 2 * 1024 * 1024, &full).unwrap_err();
    assert!(message.contains("does not fit"), "{message}");
    assert!(message.contains("1 MB of 10 MB"), "{message}");
    // Used beyond the quota (an administrator lowered it): nothing fits.
    let over = Usage {
        used_bytes: 11 * 1024 * 1024,
        ..usage
    };
    assert!(check_fits("a.txt", 1, &over).is_err());
}

#[wasm_bindgen_test]
fn the_mime_type_is_the_browser_s_or_a_guess_from_the_name() {
    assert_eq!(mime_for("a.PDF", ""), "application/pdf");
    assert_eq!(mime_for("a.bin", "Image/PNG"), "image/png");
    assert_eq!(mime_for("scan.JPEG", "  "), "image/jpeg");
    assert_eq!(mime_for("notes.md", ""), "text/markdown");
    assert_eq!(mime_for("noext", ""), "application/octet-stream");
    assert_eq!(mime_for("archive.tar.gz", ""), "application/octet-stream");
}

#[wasm_bindgen_test]
async fn a_note_becomes_a_text_file() {
    let file = text_file("Visit.txt", "Blood pressure fine.").unwrap();
    assert_eq!(file.name(), "Visit.txt");
    assert_eq!(file.type_(), "text/plain");
    assert_eq!(file.size() as u64, 20);
}

fn job(record: &TestRecord, keyring: Arc<Keyring>, max_file_bytes: u64) -> UploadJob {
    let tree = record.open();
    UploadJob {
        target: UploadTarget::NewFile {
            parent: record.folder("Lab results"),
            details: ItemDetails::of_type(RecordType::LabResult),
        },
        // Signing only, no head: the record store's part is tested in
        // record_store.rs.
        writer: Writer::doctor(
            app::session::Session::new(),
            record.owner,
            keyring,
            record.owner,
        ),
        usage: Usage {
            max_file_bytes,
            ..tree.usage
        },
    }
}

#[wasm_bindgen_test]
async fn a_refused_or_cancelled_upload_sends_nothing() {
    let record = TestRecord::new();
    let keyring = Arc::new(Keyring::generate().unwrap());
    let calls = serve(|_| (500, Vec::new()));
    let file = text_file("big.txt", "more than ten bytes").unwrap();
    let refused = upload(
        &file,
        job(&record, keyring.clone(), 10),
        |_| {},
        &Cancel::new(),
    )
    .await;
    assert!(matches!(refused, Err(TransferError::Refused(m)) if m.contains("limit")));
    let cancel = Cancel::new();
    cancel.cancel();
    let cancelled = upload(&file, job(&record, keyring, 1 << 30), |_| {}, &cancel).await;
    assert!(matches!(cancelled, Err(TransferError::Cancelled)));
    assert!(calls.borrow().is_empty());
}

/// What the stand-in keeps of an upload.
#[derive(Default)]
struct Received {
    start: Option<StartUploadRequest>,
    chunks: HashMap<u32, Vec<u8>>,
    finish: Option<FinishUploadRequest>,
}

#[wasm_bindgen_test]
async fn an_uploaded_file_reads_back_byte_for_byte() {
    let mut record = TestRecord::new();
    // The author's signing keys (the record's owner, as far as ids go).
    let signer = Arc::new(Keyring::generate().unwrap());
    let content: Vec<u8> = (0..5000u32).map(|i| (i * 13 % 256) as u8).collect();
    let layout = StreamLayout::new(content.len() as u64, CHUNK_SIZE).unwrap();
    let received = Rc::new(RefCell::new(Received::default()));
    let kept = received.clone();
    let calls = serve(move |call| {
        let mut kept = kept.borrow_mut();
        if call.url.ends_with("records/upload/start") {
            let request: StartUploadRequest =
                serde_json::from_value(call.json()["request"].clone()).unwrap();
            let ticket = UploadTicket {
                node_id: request.node_id,
                version: 1,
                chunk_count: layout.chunk_count() as u32,
                expires_at: 0,
            };
            kept.start = Some(request);
            return ok_json(serde_json::to_value(&ticket).unwrap());
        }
        if call.url.ends_with("records/upload/finish") {
            let request: FinishUploadRequest =
                serde_json::from_value(call.json()["request"].clone()).unwrap();
            kept.finish = Some(request);
            let start = kept.start.as_ref().unwrap();
            let node: NodeView = stored(start.new_node.clone().unwrap());
            return ok_json(serde_json::to_value(&node).unwrap());
        }
        let index: u32 = call.url.rsplit('/').next().unwrap().parse().unwrap();
        if call.method == "PUT" {
            kept.chunks.insert(index, call.body.clone());
            let receipt = serde_json::json!({ "index": index, "next": index + 1 });
            return ok_json(receipt);
        }
        match kept.chunks.get(&index) {
            Some(bytes) => (200, bytes.clone()),
            None => standin::error(404, "not_found", "Not found."),
        }
    });

    let file = web_sys::File::new_with_u8_array_sequence(
        &js_sys::Array::of1(&Uint8Array::from(&content[..])),
        "blood-panel.bin",
    )
    .unwrap();
    let last = std::cell::Cell::new(None);
    upload(
        &file,
        job(&record, signer.clone(), 1 << 30),
        |p| last.set(Some(p)),
        &Cancel::new(),
    )
    .await
    .unwrap();
    let last = last.get().unwrap();
    assert_eq!((last.done, last.total), (5000, 5000));
    assert!(calls
        .borrow()
        .iter()
        .all(|c| !c.url.contains("upload/cancel")));

    // What the server got: a new node under Lab results, one sealed chunk per
    // manifest hash, and metadata sealed under the node's key.
    let (start, finish, chunks) = {
        let received = received.borrow();
        (
            received.start.clone().unwrap(),
            received.finish.clone().unwrap(),
            received.chunks.clone(),
        )
    };
    assert_eq!(start.ciphertext_len, layout.ciphertext_len());
    assert_eq!(chunks.len() as u64, layout.chunk_count());
    let manifest = finish
        .manifest
        .verify(&signer.identity().verifying_key())
        .unwrap();
    assert_eq!(manifest.part_hashes[0], part_hash(&chunks[&0]));
    assert!(!chunks[&0].windows(64).any(|w| w == &content[..64]));
    // The finish carries the new node's first state, signed by the uploader:
    // revision 1, this version current, one version.
    let state = finish
        .state
        .clone()
        .expect("the finish carries the node's signed state");
    let state = state.verify(&signer.identity().verifying_key()).unwrap();
    assert_eq!(
        (
            state.node_id,
            state.revision,
            state.current_version,
            state.version_count
        ),
        (start.node_id, 1, 1, 1)
    );
    assert_eq!(state.author_id, record.owner);
    assert!(
        start.new_node.as_ref().unwrap().state.is_none(),
        "the start signs nothing"
    );

    // The download reads it back, every check passing.
    record.views.push(stored(start.new_node.clone().unwrap()));
    let node_id = start.node_id;
    let version = VersionView {
        node_id,
        version: 1,
        chunk_size: CHUNK_SIZE,
        ciphertext_len: layout.ciphertext_len(),
        wrapped_content_key: finish.wrapped_content_key.clone(),
        manifest: finish.manifest.clone(),
        author_id: record.owner,
        author_name: "maria".into(),
        stored_at: 0,
        write_grant: None,
    };
    let tree = record.open();
    let mut node = tree.node(&node_id).unwrap().clone();
    node.metadata = open_metadata(&node.key, &node_id, &finish.metadata).unwrap();
    assert_eq!(node.metadata.name, "blood-panel.bin");
    assert_eq!(node.metadata.size, Some(5000));
    node.view.current = Some(version.clone());
    let job = DownloadJob {
        node,
        version,
        author_id: record.owner,
        author_key: signer.identity().verifying_key(),
    };
    let blob = download(&job, |_| {}, &Cancel::new()).await.unwrap();
    let bytes = JsFuture::from(blob.array_buffer()).await.unwrap();
    assert_eq!(Uint8Array::new(&bytes).to_vec(), content);
}
