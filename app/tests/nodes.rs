//! `tasks::nodes`: where a note goes, which folders an item may move to, and
//! each record change against a stand-in server: what is sent is sealed or
//! wrapped under the right key (the stand-in opens it), a bad name sends
//! nothing, and a refusal comes back as a sentence.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::{
    session::Session,
    tasks::{
        nodes::{create_folder, empty_trash, move_choices, move_node, note_target, rename, trash},
        upload::UploadTarget,
        writer::Writer,
    },
};
use shared::crypto::keyring::Keyring;
use shared::{
    api::records::{MoveNodeRequest, NewNode, NodeKind, NodeView, UpdateNodeRequest},
    records::{open_metadata, unwrap_child_key, OpenTree, RecordType},
};
use std::sync::Arc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod standin;
use common::record::{meta, stored, TestRecord};
use standin::{error, ok_json, serve};

fn path_names(tree: &OpenTree, choices: &[(shared::model::Id, String)]) -> Vec<String> {
    assert!(choices.iter().all(|(id, _)| tree.node(id).is_some()));
    choices.iter().map(|(_, path)| path.clone()).collect()
}

#[wasm_bindgen_test]
fn an_item_moves_only_where_it_can_go() {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    let (year, _) = record.add(
        &labs,
        NodeKind::Folder,
        &meta("2024", RecordType::LabResult, ""),
    );
    let imaging = record.folder("Imaging");
    let (old, _) = record.add(
        &imaging,
        NodeKind::Folder,
        &meta("old", RecordType::Imaging, ""),
    );
    record
        .views
        .iter_mut()
        .find(|v| v.node_id == old)
        .unwrap()
        .trashed_at = Some(1);
    let tree = record.open();

    let choices = move_choices(&tree, labs.id(), "My record");
    let paths = path_names(&tree, &choices);
    // Not itself, not below itself, not where it is (the top), not the trash.
    assert!(
        !paths.iter().any(|p| p.contains("Lab results")),
        "{paths:?}"
    );
    assert!(!paths.contains(&"My record".to_owned()), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains("old")), "{paths:?}");
    assert!(
        paths.contains(&"My record / Imaging".to_owned()),
        "{paths:?}"
    );
    // Sorted by path, ignoring case.
    let mut sorted = paths.clone();
    sorted.sort_by_key(|p| p.to_lowercase());
    assert_eq!(paths, sorted);

    // The subfolder may go to the top, or back beside its parent's siblings.
    let paths = path_names(&tree, &move_choices(&tree, &year, "My record"));
    assert!(paths.contains(&"My record".to_owned()), "{paths:?}");
    assert!(
        !paths.contains(&"My record / Lab results".to_owned()),
        "{paths:?}"
    );
    // An unknown item goes nowhere.
    assert!(move_choices(&tree, &[9u8; 16], "My record").is_empty());
}

#[wasm_bindgen_test]
fn a_note_gets_a_text_file_name_and_a_place() {
    let record = TestRecord::new();
    let labs = record.folder("Lab results");
    let (name, target) = note_target(None, Some(labs.clone()), "  Visit ").unwrap();
    assert_eq!(name, "Visit.txt");
    assert!(
        matches!(target, UploadTarget::NewFile { details, parent } if parent.id() == labs.id() && details.record_type == RecordType::Note)
    );
    let (name, _) = note_target(None, Some(labs.clone()), "visit.md").unwrap();
    assert_eq!(name, "visit.md");
    // Editing keeps the file's name, whatever the title field says.
    let (name, target) = note_target(Some(labs.clone()), None, "ignored").unwrap();
    assert_eq!(name, "Lab results");
    assert!(matches!(target, UploadTarget::NewVersion { .. }));
    // Failures: no title, a slash, no folder.
    assert_eq!(
        note_target(None, Some(labs.clone()), "  ").err().as_deref(),
        Some("Enter a name.")
    );
    assert!(note_target(None, Some(labs), "a/b").is_err());
    assert_eq!(
        note_target(None, None, "Visit").err().as_deref(),
        Some("Reload the page and try again.")
    );
}

#[wasm_bindgen_test]
async fn a_new_folder_is_made_under_its_parent_s_key() {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    let calls = serve(|call| {
        let node: NewNode = serde_json::from_value(call.json()["node"].clone()).unwrap();
        ok_json(serde_json::to_value(stored(node)).unwrap())
    });
    let done = create_folder(&writer(), &labs, RecordType::LabResult, "2025").await;
    assert_eq!(done.as_deref(), Ok("Folder “2025” created."));
    let sent: NewNode = serde_json::from_value(calls.borrow()[0].json()["node"].clone()).unwrap();
    assert!(calls.borrow()[0].url.ends_with("records/node/create"));
    assert_eq!(sent.kind, NodeKind::Folder);
    let state = sent
        .state
        .clone()
        .expect("a new folder carries its signed state");
    assert!(state.value.matches(&[7; 16], &stored(sent.clone())));
    assert_eq!(state.value.revision, 1);
    // The record's owner opens it like any other folder.
    let id = sent.node_id;
    record.views.push(stored(sent));
    let tree = record.open();
    let folder = tree.node(&id).unwrap();
    assert_eq!(folder.metadata.name, "2025");
    assert_eq!(folder.view.parent_id, Some(*labs.id()));

    // A bad name sends nothing.
    let before = calls.borrow().len();
    assert!(create_folder(&writer(), &labs, RecordType::LabResult, " ")
        .await
        .is_err());
    assert!(
        create_folder(&writer(), &labs, RecordType::LabResult, "a/b")
            .await
            .is_err()
    );
    assert_eq!(calls.borrow().len(), before);
}

#[wasm_bindgen_test]
async fn a_new_name_is_sealed_under_the_item_s_key() {
    let record = TestRecord::new();
    let labs = record.folder("Lab results");
    let calls = serve(|call| {
        let request: UpdateNodeRequest =
            serde_json::from_value(call.json()["request"].clone()).unwrap();
        let mut view = some_view();
        view.metadata = request.metadata;
        view.revision = request.revision + 1;
        ok_json(serde_json::to_value(view).unwrap())
    });
    let done = rename(&writer(), &labs, "Labs").await;
    assert_eq!(done.as_deref(), Ok("“Lab results” is now called “Labs”."));
    let request: UpdateNodeRequest =
        serde_json::from_value(calls.borrow()[0].json()["request"].clone()).unwrap();
    assert_eq!(request.node_id, *labs.id());
    assert_eq!(request.revision, labs.view.revision);
    let opened = open_metadata(&labs.key, labs.id(), &request.metadata).unwrap();
    assert_eq!(opened.name, "Labs");
    assert_eq!(opened.record_type, RecordType::LabResult);
    // The state of the renamed folder as it will be stored: one revision on,
    // the new sealed name.
    let state = request.state.expect("a rename carries the signed state");
    let mut after = labs.view.clone();
    after.revision += 1;
    after.metadata = request.metadata.clone();
    assert!(state.value.matches(&[7; 16], &after));
    assert_eq!(state.value.author_id, [7; 16]);

    // The server refuses (someone changed it meanwhile): a sentence, no panic.
    serve(|_| error(409, "conflict", "Changed meanwhile."));
    assert!(rename(&writer(), &labs, "Labs").await.is_err());
    // A bad name sends nothing.
    let calls = serve(|_| (500, Vec::new()));
    assert!(rename(&writer(), &labs, "").await.is_err());
    assert!(calls.borrow().is_empty());
}

/// The owner signing, without a record store (the heads are tested in
/// record_store.rs).
fn writer() -> Writer {
    Writer::doctor(
        Session::new(),
        [7; 16],
        Arc::new(Keyring::generate().unwrap()),
        [7; 16],
    )
}

/// A node view for the stand-in's answers (the tasks only need it to parse).
fn some_view() -> NodeView {
    let record = TestRecord::new();
    record.open().root().unwrap().view.clone()
}

#[wasm_bindgen_test]
async fn a_moved_item_s_key_is_wrapped_under_its_new_parent() {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    let (id, key) = record.add(
        &labs,
        NodeKind::Folder,
        &meta("2024", RecordType::LabResult, ""),
    );
    let tree = record.open();
    let node = tree.node(&id).unwrap().clone();
    let imaging = record.folder("Imaging");
    let calls = serve(|_| ok_json(serde_json::to_value(some_view()).unwrap()));
    move_node(&writer(), &node, &imaging).await.unwrap();
    let request: MoveNodeRequest =
        serde_json::from_value(calls.borrow()[0].json()["request"].clone()).unwrap();
    assert!(calls.borrow()[0].url.ends_with("records/node/move"));
    assert_eq!(request.node_id, id);
    assert_eq!(request.new_parent_id, *imaging.id());
    let state = request
        .state
        .clone()
        .expect("a move carries the signed state");
    assert_eq!(state.value.parent_id, Some(*imaging.id()));
    assert_eq!(state.value.revision, node.view.revision + 1);
    let unwrapped =
        unwrap_child_key(&imaging.key, &id, imaging.id(), &request.wrapped_key).unwrap();
    assert_eq!(unwrapped.as_bytes(), key.as_bytes());
    // Under the old parent's key it does not open.
    assert!(unwrap_child_key(&labs.key, &id, labs.id(), &request.wrapped_key).is_err());
}

#[wasm_bindgen_test]
async fn the_trash_says_why_it_could_not_do_it() {
    let record = TestRecord::new();
    let labs = record.folder("Lab results");
    let calls = serve(|call| {
        if call.url.ends_with("records/node/trash") {
            error(404, "not_found", "Not found.")
        } else {
            ok_json(serde_json::json!({ "used_bytes": 0, "quota_bytes": 1, "max_file_bytes": 1 }))
        }
    });
    assert!(trash(&writer(), &labs).await.is_err());
    assert_eq!(empty_trash(&writer(), &record.open()).await, Ok(()));
    let calls = calls.borrow();
    assert_eq!(calls.len(), 2);
    assert!(calls[1].url.ends_with("records/trash/empty"));
}
