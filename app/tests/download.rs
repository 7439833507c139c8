//! `tasks::download` against a stand-in for the chunk route: a version made
//! with the real steps (padding, STREAM chunks, signed manifest) comes back
//! byte for byte with its exact size, and a flipped byte, swapped chunks, a
//! missing chunk, another signer or a wrong size each refuse the whole file;
//! an ended session and a cancel say so instead.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use app::{
    session::Session,
    tasks::{
        download::{download, exact_size, first_marker_chunk, verified_job, DownloadJob},
        transfer::{Cancel, TransferError},
    },
};
use js_sys::Uint8Array;
use shared::{
    api::{
        records::{NodeKind, VersionView, MIN_CHUNK_SIZE},
        ErrorCode,
    },
    crypto::{
        aead::Key256,
        keyring::Keyring,
        sign::{part_hash, sign},
        stream::{ready, AesGcmBackend, StreamCipher},
    },
    model::{FileManifest, KeyEntry, Role},
    records::{
        legacy_padded_len, padded_len, wrap_content_key, OpenNode, RecordType, StreamLayout,
    },
};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod standin;
use common::record::{meta, TestRecord};

#[wasm_bindgen_test]
fn the_marker_chunk_is_where_the_smallest_file_of_that_padded_size_ends() {
    assert_eq!(first_marker_chunk(0, 4096), 0);
    let chunk = 4096u32;
    for len in [0u64, 1, 4095, 4096, 4097, 100_000, 1_000_000, 5_000_000] {
        let padded = padded_len(len);
        let first = first_marker_chunk(padded, chunk);
        // The file's own marker is at byte `len`: never before the first chunk
        // searched.
        assert!(first <= len / u64::from(chunk), "{len}");
        // And the smallest file with this padded length starts there.
        let smallest = (0..=len)
            .rev()
            .take_while(|l| padded_len(*l) == padded)
            .last()
            .unwrap_or(len);
        assert_eq!(first, smallest / u64::from(chunk), "{len}");
    }
}

/// Chunks served by the stand-in, by index; `None` answers with this status.
type Served = Rc<RefCell<HashMap<u32, Vec<u8>>>>;

fn serve_chunks(served: Served, missing_status: u16) {
    standin::serve(move |call| {
        let index = call
            .url
            .rsplit('/')
            .next()
            .and_then(|i| i.parse::<u32>().ok());
        match index.and_then(|i| served.borrow().get(&i).cloned()) {
            Some(bytes) => (200, bytes),
            None if missing_status == 401 => standin::error(401, "unauthorized", "Sign in."),
            None => standin::error(missing_status, "not_found", "Not found."),
        }
    });
}

/// A record with one file of `content` in chunks of the smallest size, as
/// the upload makes it; returns the file and its chunks.
fn a_version(record: &mut TestRecord, content: &[u8]) -> (OpenNode, Vec<Vec<u8>>) {
    let layout = StreamLayout::new(content.len() as u64, MIN_CHUNK_SIZE).unwrap();
    a_version_laid_out(record, content, layout)
}

/// [`a_version`] with the stream padded as `layout` says (a version written
/// before the 4 KiB floor, say).
fn a_version_laid_out(
    record: &mut TestRecord,
    content: &[u8],
    layout: StreamLayout,
) -> (OpenNode, Vec<Vec<u8>>) {
    let labs = record.folder("Lab results");
    let mut metadata = meta("scan.bin", RecordType::Imaging, "");
    metadata.size = Some(content.len() as u64);
    metadata.mime = Some("application/octet-stream".into());
    let (file_id, file_key) = record.add(&labs, NodeKind::File, &metadata);
    let content_key = Key256::generate().unwrap();
    let cipher = StreamCipher::new(
        AesGcmBackend::new(&content_key),
        &file_id,
        1,
        MIN_CHUNK_SIZE,
    )
    .unwrap();
    let chunks: Vec<Vec<u8>> = (0..layout.chunk_count())
        .map(|i| {
            let range = layout.file_range(i);
            let mut plain = Vec::new();
            layout.assemble(
                i,
                &content[range.start as usize..range.end as usize],
                &mut plain,
            );
            ready(cipher.encrypt_chunk(i as u32, layout.is_last(i), &plain)).unwrap()
        })
        .collect();
    let manifest = FileManifest {
        node_id: file_id,
        parent_id: *labs.id(),
        version: 1,
        size: layout.padded_len,
        part_hashes: chunks.iter().map(|c| part_hash(c)).collect(),
        author_id: record.owner,
        created_at: 1_795_422_600,
    };
    record.set_current(
        &file_id,
        VersionView {
            node_id: file_id,
            version: 1,
            chunk_size: MIN_CHUNK_SIZE,
            ciphertext_len: layout.ciphertext_len(),
            wrapped_content_key: wrap_content_key(&file_key, &file_id, 1, &content_key).unwrap(),
            manifest: sign(record.keyring.identity(), manifest),
            author_id: record.owner,
            author_name: "maria".into(),
            stored_at: 1_795_422_600,
            write_grant: None,
        },
    );
    let node = record.open().node(&file_id).unwrap().clone();
    (node, chunks)
}

fn owner_entry(record: &TestRecord) -> KeyEntry {
    KeyEntry {
        user_id: record.owner,
        username: "maria".into(),
        role: Role::Patient,
        identity_key: record.keyring.identity().verifying_key(),
        encryption_key: record.keyring.public_keys().encryption.to_bytes(),
        created_at: 1,
    }
}

async fn bytes_of(blob: &web_sys::Blob) -> Vec<u8> {
    let buffer = JsFuture::from(blob.array_buffer()).await.unwrap();
    Uint8Array::new(&buffer).to_vec()
}

#[wasm_bindgen_test]
async fn small_files_pad_to_4_kib_and_versions_from_before_the_floor_still_open() {
    let content = b"ferritin 40 ug/L".to_vec();
    let owner_of = |record: &TestRecord| owner_entry(record);
    for legacy in [false, true] {
        let mut record = TestRecord::new();
        let mut layout = StreamLayout::new(content.len() as u64, MIN_CHUNK_SIZE).unwrap();
        assert_eq!(layout.padded_len, 4096);
        if legacy {
            // Written before the floor: Padmé of the file and its marker only.
            layout.padded_len = legacy_padded_len(content.len() as u64);
            assert_eq!(layout.padded_len, 18);
        }
        let (node, chunks) = a_version_laid_out(&mut record, &content, layout);
        let job = verified_job(Session::new(), &node, None, &owner_of(&record), |_, _| {
            false
        })
        .await
        .unwrap();
        let served: Served = Rc::new(RefCell::new(
            chunks
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, c)| (i as u32, c))
                .collect(),
        ));
        serve_chunks(served, 404);
        let blob = download(&job, |_| {}, &Cancel::new()).await.unwrap();
        assert_eq!(bytes_of(&blob).await, content, "legacy {legacy}");
        assert_eq!(
            exact_size(&job, &Cancel::new()).await,
            Ok(content.len() as u64)
        );
    }
}

#[wasm_bindgen_test]
async fn a_version_comes_back_whole_and_any_change_refuses_it() {
    let mut record = TestRecord::new();
    let content: Vec<u8> = (0..(3 * MIN_CHUNK_SIZE as usize + 123))
        .map(|i| (i * 7 % 256) as u8)
        .collect();
    let (node, chunks) = a_version(&mut record, &content);

    // The owner wrote it: no directory lookup, the owner's key counts.
    let session = Session::new();
    let owner = owner_entry(&record);
    let job = verified_job(session, &node, None, &owner, |_, _| false)
        .await
        .unwrap();
    assert_eq!(job.author_id, record.owner);

    let served: Served = Rc::new(RefCell::new(
        chunks
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, c)| (i as u32, c))
            .collect(),
    ));
    serve_chunks(served.clone(), 404);
    let last = std::cell::Cell::new(None);
    let blob = download(&job, |p| last.set(Some(p)), &Cancel::new())
        .await
        .unwrap();
    assert_eq!(bytes_of(&blob).await, content);
    assert_eq!(blob.type_(), "application/octet-stream");
    let last = last.get().unwrap();
    assert_eq!(
        (last.done, last.total),
        (content.len() as u64, content.len() as u64)
    );
    // The exact size, from the last chunks only.
    assert_eq!(
        exact_size(&job, &Cancel::new()).await,
        Ok(content.len() as u64)
    );

    let fetch = |job: &DownloadJob| {
        let job = DownloadJob {
            node: job.node.clone(),
            version: job.version.clone(),
            author_id: job.author_id,
            author_key: job.author_key,
        };
        async move { download(&job, |_| {}, &Cancel::new()).await.map(|_| ()) }
    };
    let tampered = Err(TransferError::Tampered);

    // One flipped bit in the third chunk.
    served.borrow_mut().get_mut(&2).unwrap()[10] ^= 1;
    assert_eq!(fetch(&job).await, tampered);
    served.borrow_mut().get_mut(&2).unwrap()[10] ^= 1;
    assert_eq!(fetch(&job).await, Ok(()));

    // Two chunks swapped.
    {
        let mut map = served.borrow_mut();
        let first = map.remove(&0).unwrap();
        let second = map.insert(1, first).unwrap();
        map.insert(0, second);
    }
    assert_eq!(fetch(&job).await, tampered);
    served.borrow_mut().extend(
        chunks
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, c)| (i as u32, c)),
    );

    // Signed by someone else.
    let stranger = DownloadJob {
        author_key: Keyring::generate().unwrap().identity().verifying_key(),
        ..job_clone(&job)
    };
    assert_eq!(fetch(&stranger).await, tampered);

    // The metadata states another size for the current version.
    let mut wrong_size = job_clone(&job);
    wrong_size.node.metadata.size = Some(content.len() as u64 - 1);
    assert_eq!(fetch(&wrong_size).await, tampered);

    // A cancel stops before the first chunk.
    let cancel = Cancel::new();
    cancel.cancel();
    assert_eq!(
        download(&job, |_| {}, &cancel).await.map(|_| ()),
        Err(TransferError::Cancelled)
    );

    // A chunk the server no longer has, for a version it lists as complete,
    // is as untrustworthy as a changed one.
    served.borrow_mut().remove(&1);
    assert_eq!(fetch(&job).await, tampered);
    // But an ended session is said as such.
    serve_chunks(Rc::new(RefCell::new(HashMap::new())), 401);
    match fetch(&job).await {
        Err(TransferError::Api(e)) => assert_eq!(e.code, ErrorCode::Unauthorized),
        other => panic!("{other:?}"),
    }
}

fn job_clone(job: &DownloadJob) -> DownloadJob {
    DownloadJob {
        node: job.node.clone(),
        version: job.version.clone(),
        author_id: job.author_id,
        author_key: job.author_key,
    }
}

#[wasm_bindgen_test]
async fn a_file_without_content_has_no_job() {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    let (id, _) = record.add(&labs, NodeKind::File, &meta("empty", RecordType::Other, ""));
    let node = record.open().node(&id).unwrap().clone();
    let owner = owner_entry(&record);
    let missing = verified_job(Session::new(), &node, None, &owner, |_, _| false).await;
    assert_eq!(
        missing.err().as_deref(),
        Some("This file has no content yet.")
    );
}
