//! The doctor's view of a shared folder, checked against the patient's signed
//! head like the patient's own record: an honest view opens and its head is
//! remembered per patient; a view that leaves an item out, or an older view
//! than the one seen, is refused with the alarm's sentence.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::{session::Session, tasks::sharing::open_shared};
use shared::{
    api::{
        records::Usage,
        sharing::{GrantStatus, GrantView, SharedScope},
    },
    model::Permission,
    records::verify::tree_leaves,
    sharing::{make_grant, GrantChoice},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
#[path = "common/sharing.rs"]
mod support;

use common::record::{forget_heads, TestRecord};
use support::{listed, Person, StandIn};

/// Maria's whole record shared with the doctor, read only.
fn grant(maria: &Person, doctor: &Person, record: &TestRecord) -> GrantView {
    let tree = record.open();
    let choice = GrantChoice {
        doctor: doctor.entry.value.clone(),
        node_id: tree.root_id,
        node_key: tree.node(&tree.root_id).unwrap().key.clone(),
        permission: Permission::Read,
        expires_at: None,
        emergency: false,
    };
    let (grant, wrapped_key) = make_grant(
        &maria.entry.value,
        maria.keyring.identity(),
        &choice,
        app::session::now_unix(),
    )
    .unwrap();
    let mut view = listed(grant, GrantStatus::Active);
    view.wrapped_key = wrapped_key;
    view
}

/// What `sharing/shared` answers for `record` (`drop`: nodes left out).
fn scope(grant: &GrantView, record: &TestRecord, drop: usize) -> String {
    let nodes = record.views[..record.views.len() - drop].to_vec();
    serde_json::to_string(&SharedScope {
        grant: grant.clone(),
        nodes,
        usage: Usage {
            used_bytes: 0,
            quota_bytes: 1 << 30,
            max_file_bytes: 1 << 30,
        },
        head: Some(record.head.clone()),
        head_leaves: tree_leaves(&record.views),
        profile: None,
    })
    .unwrap()
}

#[wasm_bindgen_test]
async fn the_doctor_checks_the_shared_folder_against_the_patient_s_head() {
    forget_heads();
    let server = StandIn::install();
    let mut record = TestRecord::new();
    let maria = Person::with_keys(
        7,
        "maria",
        shared::model::Role::Patient,
        record.keyring_copy(),
    );
    let doctor = Person::new(2, "drwho", shared::model::Role::Doctor);
    server.answer(
        "directory/lookup",
        serde_json::to_string(&maria.served()).unwrap(),
    );
    let grant = grant(&maria, &doctor, &record);
    let id = app::platform::browser::id_text(&grant.grant.value.grant_id);
    let old = record.copy();

    // The patient changed the record once (head 2): the doctor opens it.
    record.views[2].trashed_at = Some(5);
    record.sign_head();
    server.answer("sharing/shared", scope(&grant, &record, 0));
    match open_shared(Session::new(), doctor.unlocked(), id.clone()).await {
        Ok(opened) => assert!(!opened.unsigned),
        Err(message) => panic!("an honest view opens: {message}"),
    }

    // An item left out.
    server.answer("sharing/shared", scope(&grant, &record, 1));
    let refused = open_shared(Session::new(), doctor.unlocked(), id.clone())
        .await
        .err()
        .unwrap();
    assert!(
        refused.starts_with("The server left out an item of this record"),
        "{refused}"
    );

    // The view from before the change, after this browser saw change 2.
    server.answer("sharing/shared", scope(&grant, &old, 0));
    let refused = open_shared(Session::new(), doctor.unlocked(), id)
        .await
        .err()
        .unwrap();
    assert!(
        refused.starts_with("The server sent an older copy of this record (change 1; this browser has already seen change 2)."),
        "{refused}"
    );
}
