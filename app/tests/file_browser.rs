//! The file browser's pure decisions: which files can be shown and how, the
//! kind of an item, which files are notes, where a folder's link goes, and
//! the record type of a new item.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::components::file_browser::{
    items::{display_name, folder_href, is_note, kind_label, type_for, ROOT_NAME},
    preview::{preview_kind, PreviewKind, MAX_TEXT_PREVIEW},
};
use shared::{api::records::NodeKind, records::RecordType};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::record::{meta, TestRecord};

#[wasm_bindgen_test]
fn preview_kinds() {
    assert_eq!(preview_kind("image/png"), Some(PreviewKind::Image));
    assert_eq!(preview_kind("application/pdf"), Some(PreviewKind::Pdf));
    assert_eq!(
        preview_kind("text/plain; charset=utf-8"),
        Some(PreviewKind::Text)
    );
    assert_eq!(preview_kind(" Text/CSV "), Some(PreviewKind::Text));
    // SVG can carry script; it is downloaded, not shown.
    assert_eq!(preview_kind("image/svg+xml"), None);
    assert!(preview_kind("text/html").is_some());
    assert_eq!(preview_kind("application/zip"), None);
    assert_eq!(preview_kind(""), None);
}

#[wasm_bindgen_test]
fn items_are_named_and_kinded_for_people() {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    let mut note = meta("Visit.txt", RecordType::Note, "");
    note.mime = Some("text/plain".into());
    note.size = Some(20);
    let (note_id, _) = record.add(&labs, NodeKind::File, &note);
    let mut big = note.clone();
    big.name = "log.txt".into();
    big.record_type = RecordType::Other;
    big.size = Some(MAX_TEXT_PREVIEW + 1);
    let (big_id, _) = record.add(&labs, NodeKind::File, &big);
    let mut scan = meta("scan.pdf", RecordType::Imaging, "");
    scan.mime = Some("application/pdf".into());
    let (scan_id, _) = record.add(&labs, NodeKind::File, &scan);
    let tree = record.open();
    let node = |id| tree.node(id).unwrap();

    assert_eq!(display_name(&tree, tree.root().unwrap()), ROOT_NAME);
    assert_eq!(display_name(&tree, &labs), "Lab results");
    assert_eq!(kind_label(&labs), "Folder");
    assert_eq!(kind_label(node(&note_id)), "Note");
    assert_eq!(kind_label(node(&big_id)), "Text");
    assert_eq!(kind_label(node(&scan_id)), "PDF");
    assert!(is_note(node(&note_id)));
    // Too long to edit in the page, and not text at all.
    assert!(!is_note(node(&big_id)));
    assert!(!is_note(node(&scan_id)));
    assert!(!is_note(&labs));

    // A new item takes its folder's type; at the top, "Other".
    assert_eq!(type_for(&tree, &labs), RecordType::LabResult);
    assert_eq!(type_for(&tree, tree.root().unwrap()), RecordType::Other);
    assert_eq!(folder_href(labs.id(), true), "/records");
    assert!(folder_href(labs.id(), false).starts_with("/records?folder="));
}
