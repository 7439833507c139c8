//! The export's download of one file (`fetch_file`) against a stand-in for the
//! chunk route: a version made with the real steps (padding, STREAM chunks,
//! signed manifest) comes back byte for byte, and a flipped byte, swapped chunks,
//! a missing chunk or another signer each refuse the whole file.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use app::{
    tasks::export::{fetch_file, untrusted, ExportError},
    tasks::transfer::Cancel,
};
use js_sys::{Promise, Uint8Array};
use shared::{
    api::records::{NodeKind, VersionView, MIN_CHUNK_SIZE},
    crypto::{
        aead::Key256,
        keyring::Keyring,
        sign::{part_hash, sign, VerifyingKey},
        stream::{ready, AesGcmBackend, StreamCipher},
    },
    model::FileManifest,
    records::{wrap_content_key, OpenNode, RecordType, StreamLayout},
};
use wasm_bindgen::{closure::Closure, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::record::{meta, TestRecord};

/// Chunks served by the stand-in, by their index (the path's last segment).
type Served = Rc<RefCell<HashMap<u32, Vec<u8>>>>;

/// Replaces `window.fetch` with one that answers chunk requests from `served`
/// (404 for anything else). The closure is leaked: it must outlive the test.
fn serve(served: Served) {
    let answer = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |url: JsValue| {
        let url = url.as_string().unwrap_or_default();
        let index = url.rsplit('/').next().and_then(|i| i.parse::<u32>().ok());
        let response = match index.and_then(|i| served.borrow().get(&i).cloned()) {
            Some(mut bytes) => web_sys::Response::new_with_opt_u8_array(Some(&mut bytes)).unwrap(),
            None => {
                let init = web_sys::ResponseInit::new();
                init.set_status(404);
                web_sys::Response::new_with_opt_str_and_init(
                    Some(r#"{"code":"not_found","message":"Not found."}"#),
                    &init,
                )
                .unwrap()
            }
        };
        Promise::resolve(&JsValue::from(response))
    });
    let window = web_sys::window().unwrap();
    js_sys::Reflect::set(&window, &"fetch".into(), answer.as_ref()).unwrap();
    answer.forget();
}

async fn bytes_of(blob: &web_sys::Blob) -> Vec<u8> {
    let buffer = JsFuture::from(blob.array_buffer()).await.unwrap();
    Uint8Array::new(&buffer).to_vec()
}

async fn try_fetch(node: &OpenNode, key: &VerifyingKey) -> Result<(), ExportError> {
    fetch_file(node, key, &mut |_| {}, &Cancel::new())
        .await
        .map(|_| ())
}

#[wasm_bindgen_test]
async fn a_file_comes_back_whole_and_any_change_refuses_it() {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    let content: Vec<u8> = (0..(3 * MIN_CHUNK_SIZE as usize + 123))
        .map(|i| (i * 7 % 256) as u8)
        .collect();
    let mut metadata = meta("scan.bin", RecordType::Imaging, "");
    metadata.size = Some(content.len() as u64);
    metadata.mime = Some("application/octet-stream".into());
    let (file_id, file_key) = record.add(&labs, NodeKind::File, &metadata);

    // One version, as the upload makes it: padded, sealed in chunks, signed.
    let content_key = Key256::generate().unwrap();
    let layout = StreamLayout::new(content.len() as u64, MIN_CHUNK_SIZE).unwrap();
    let cipher = StreamCipher::new(
        AesGcmBackend::new(&content_key),
        &file_id,
        1,
        MIN_CHUNK_SIZE,
    )
    .unwrap();
    let mut chunks = Vec::new();
    for i in 0..layout.chunk_count() {
        let range = layout.file_range(i);
        let mut plain = Vec::new();
        layout.assemble(
            i,
            &content[range.start as usize..range.end as usize],
            &mut plain,
        );
        chunks.push(ready(cipher.encrypt_chunk(i as u32, layout.is_last(i), &plain)).unwrap());
    }
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
    let tree = record.open();
    let node = tree.node(&file_id).unwrap();
    let owner_key = record.keyring.identity().verifying_key();

    let served: Served = Rc::new(RefCell::new(
        chunks
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, c)| (i as u32, c))
            .collect(),
    ));
    serve(served.clone());
    let mut received = 0u64;
    let blob = fetch_file(node, &owner_key, &mut |n| received += n, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(bytes_of(&blob).await, content);
    assert_eq!(blob.type_(), "application/octet-stream");
    // Progress counts the file's bytes as they are decrypted.
    assert_eq!(received, content.len() as u64);

    let refused = Err(ExportError::Failed(untrusted("scan.bin")));
    let fetch = |key| try_fetch(node, key);

    // One flipped bit in the third chunk.
    served.borrow_mut().get_mut(&2).unwrap()[10] ^= 1;
    assert_eq!(fetch(&owner_key).await, refused);
    served.borrow_mut().get_mut(&2).unwrap()[10] ^= 1;

    // Two chunks swapped.
    {
        let mut map = served.borrow_mut();
        let first = map.remove(&0).unwrap();
        let second = map.insert(1, first).unwrap();
        map.insert(0, second);
    }
    assert_eq!(fetch(&owner_key).await, refused);

    // A version signed by someone else.
    let stranger = Keyring::generate().unwrap().identity().verifying_key();
    assert_eq!(fetch(&stranger).await, refused);

    // A chunk the server no longer has, for a version it lists as complete,
    // is as untrustworthy as a changed one: the whole file is refused.
    served.borrow_mut().clear();
    assert_eq!(fetch(&owner_key).await, refused);

    // Cancel stops before the next chunk.
    let cancelled = Cancel::new();
    cancelled.cancel();
    assert_eq!(
        fetch_file(node, &owner_key, &mut |_| {}, &cancelled)
            .await
            .map(|_| ()),
        Err(ExportError::Cancelled)
    );
}
