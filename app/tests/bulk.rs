//! `tasks::bulk`: which files go in a batch and how many, the folders of a
//! picked folder in order, and a small file sealed for `records/batch`: its
//! manifest signed over exactly its content, its state describing the file
//! as the batch stores it, its metadata readable under its key.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use app::tasks::{
    bulk::{batch_size, folder_of, folder_paths, seal_small, smaller_cap, Fill, FIRST_BATCH_CAP},
    upload::text_file,
    writer::Writer,
};
use shared::{
    api::records::{MAX_BATCH_CONTENT, MAX_BATCH_ITEMS},
    crypto::{keyring::Keyring, sign::part_hash},
    records::{open_metadata, unwrap_child_key, ItemDetails, RecordType},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::record::TestRecord;

#[wasm_bindgen_test]
fn folders_come_parents_first_each_once() {
    let paths = vec![
        "top/b/c/x.txt".to_owned(),
        "top/a.txt".to_owned(),
        "top/b/y.txt".to_owned(),
    ];
    assert_eq!(folder_paths(&paths), vec!["top", "top/b", "top/b/c"]);
    assert_eq!(folder_of("top/b/y.txt"), "top/b");
    assert_eq!(folder_of("x.txt"), "");
}

#[wasm_bindgen_test]
fn small_files_fit_a_batch_up_to_its_limits() {
    assert_eq!(batch_size(0), Some(4096 + 16));
    assert!(batch_size(10 * 1024).is_some());
    assert!(batch_size(200 * 1024).is_none(), "one by one");
    let one = Fill::default().with(4112, FIRST_BATCH_CAP).unwrap();
    assert_eq!(one.items, 1);
    let full = Fill {
        items: MAX_BATCH_ITEMS,
        content: 0,
        json: 0,
    };
    assert!(full.with(4112, FIRST_BATCH_CAP).is_none());
    let heavy = Fill {
        items: 1,
        content: MAX_BATCH_CONTENT,
        json: 0,
    };
    assert!(heavy.with(4112, FIRST_BATCH_CAP).is_none());
    // A first file always fits the cap, however small it became.
    assert!(Fill::default().with(60_000, 1).is_some());
    assert!(one.with(4112, 1).is_none());
    assert_eq!(smaller_cap(100_000), 50_000);
    assert_eq!(smaller_cap(1_000), 16 * 1024);
}

#[wasm_bindgen_test]
async fn a_small_file_is_sealed_and_signed_as_the_batch_stores_it() {
    let record = TestRecord::new();
    let keyring = Arc::new(Keyring::generate().unwrap());
    let writer = Writer::doctor(
        app::session::Session::new(),
        record.owner,
        keyring.clone(),
        record.owner,
    );
    let parent = record.folder("Lab results");
    let file = text_file("ferritin.txt", "Ferritin 40 ug/L").unwrap();
    let details =
        ItemDetails::from_form(RecordType::LabResult, "2026-03-14", "Fasting sample").unwrap();
    let sealed = seal_small(&file, &parent, &details, &writer).await.unwrap();
    let manifest = sealed
        .manifest
        .verify(&keyring.identity().verifying_key())
        .unwrap();
    assert_eq!(manifest.version, 1);
    assert_eq!(manifest.parent_id, *parent.id());
    assert_eq!(manifest.part_hashes, vec![part_hash(&sealed.content)]);
    assert_eq!(sealed.content.len(), 4096 + 16);
    let state = sealed.node.state.clone().unwrap();
    state.verify(&keyring.identity().verifying_key()).unwrap();
    assert!(state.value.matches(&record.owner, &sealed.stored_view()));
    assert_eq!(state.value.revision, 1);
    assert_eq!(state.value.current_version, 1);
    let key = unwrap_child_key(
        &parent.key,
        &sealed.node.node_id,
        parent.id(),
        &sealed.node.wrapped_key,
    )
    .unwrap();
    let meta = open_metadata(&key, &sealed.node.node_id, &sealed.node.metadata).unwrap();
    assert_eq!(meta.name, "ferritin.txt");
    assert_eq!(meta.size, Some(16));
    // The details chosen for the batch are sealed with the name.
    assert_eq!(ItemDetails::of(&meta), details);
}
