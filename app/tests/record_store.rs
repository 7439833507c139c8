//! The session's record store against a stand-in server: the record is fetched
//! and decrypted once, a second open comes from memory once the change counter
//! says nothing changed (and fetches when it moved on), a reload fetches again,
//! forgetting empties it, opens that overlap share one fetch, and only a
//! patient's keys ask for a record at all.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use app::{
    session::{Session, Unlocked},
    tasks::record::RecordStore,
};
use leptos::prelude::*;
use shared::{
    api::{account::SessionInfo, records::RecordTree},
    client::key_entry,
    model::Role,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{
    record::{forget_heads, TestRecord},
    server::{answer, asked, serve, Server},
};

const TREE: &str = "/api/records/tree";
const SEQ: &str = "/api/records/seq";

/// A patient's open keys for `record`, and the server's copy of the record.
fn patient(record: TestRecord, role: Role) -> (Unlocked, RecordTree) {
    // Each test's record is new: forget the heads earlier tests remembered.
    forget_heads();
    let tree = RecordTree {
        seq: 7,
        ..record.tree()
    };
    let entry = key_entry(&record.keyring, record.owner, "pat", role, 1);
    let unlocked = Unlocked {
        info: SessionInfo {
            user_id: record.owner,
            username: "pat".to_owned(),
            role,
            totp_enabled: false,
            expires_at: i64::MAX,
            idle_timeout_secs: 3600,
            second_factor_required: false,
            second_factor_policy: false,
        },
        keyring: Arc::new(record.keyring),
        key_entry: entry,
    };
    (unlocked, tree)
}

/// A stand-in that serves `tree` after `delay_ms`.
fn serving(tree: &RecordTree, delay_ms: i32) -> Server {
    let server = serve(delay_ms);
    answer(
        &server,
        TREE,
        200,
        serde_json::to_string(&Some(tree)).unwrap(),
    );
    answer(&server, SEQ, 200, tree.seq.to_string());
    server
}

#[wasm_bindgen_test]
async fn the_second_open_comes_from_memory_and_a_reload_fetches() {
    let (unlocked, tree) = patient(TestRecord::new(), Role::Patient);
    let server = serving(&tree, 0);
    let session = Session::new();
    let store = RecordStore::new();
    assert!(store.tree().get_untracked().is_none());

    let first = store.open(session, &unlocked).await.unwrap();
    assert_eq!(asked(&server, TREE), 1);
    assert_eq!(first.root_id, tree.root_id);
    assert_eq!(
        first.children(&first.root_id).len(),
        5,
        "the starter folders, decrypted"
    );
    assert!(store.tree().get_untracked().is_some());

    let second = store.open(session, &unlocked).await.unwrap();
    assert_eq!(asked(&server, TREE), 1, "the second open must not fetch");
    assert_eq!(asked(&server, SEQ), 1, "it asks the change counter instead");
    assert_eq!(second.root_id, first.root_id);

    store.reload(session, &unlocked).await.unwrap();
    assert_eq!(asked(&server, TREE), 2, "a reload fetches again");
    store.open(session, &unlocked).await.unwrap();
    assert_eq!(asked(&server, TREE), 2);
}

#[wasm_bindgen_test]
async fn a_change_elsewhere_moves_the_counter_and_the_next_open_fetches() {
    let (unlocked, tree) = patient(TestRecord::new(), Role::Patient);
    let server = serving(&tree, 0);
    let session = Session::new();
    let store = RecordStore::new();
    store.open(session, &unlocked).await.unwrap();
    // A doctor added a file: the server's counter moved on.
    let mut changed = tree.clone();
    changed.seq += 1;
    answer(
        &server,
        TREE,
        200,
        serde_json::to_string(&Some(&changed)).unwrap(),
    );
    answer(&server, SEQ, 200, changed.seq.to_string());
    store.open(session, &unlocked).await.unwrap();
    assert_eq!(asked(&server, TREE), 2, "a moved counter fetches the tree");
    store.open(session, &unlocked).await.unwrap();
    assert_eq!(asked(&server, TREE), 2, "and then it is current again");
    assert_eq!(asked(&server, SEQ), 2);
}

#[wasm_bindgen_test]
async fn a_failed_counter_says_why_and_keeps_the_tree() {
    let (unlocked, tree) = patient(TestRecord::new(), Role::Patient);
    let server = serving(&tree, 0);
    let session = Session::new();
    let store = RecordStore::new();
    store.open(session, &unlocked).await.unwrap();
    answer(
        &server,
        SEQ,
        500,
        r#"{"code":"internal","message":"The server ran into a problem."}"#.to_owned(),
    );
    let refused = store.open(session, &unlocked).await;
    let Err(message) = refused else {
        panic!("an open whose counter failed must fail");
    };
    assert!(message.contains("server ran into a problem"));
    assert!(store.tree().get_untracked().is_some());
    assert_eq!(asked(&server, TREE), 1);
}

#[wasm_bindgen_test]
async fn forget_empties_the_store_and_the_next_open_fetches() {
    let (unlocked, tree) = patient(TestRecord::new(), Role::Patient);
    let server = serving(&tree, 0);
    let session = Session::new();
    let store = RecordStore::new();
    store.open(session, &unlocked).await.unwrap();
    store.forget();
    assert!(store.tree().get_untracked().is_none());
    store.open(session, &unlocked).await.unwrap();
    assert_eq!(asked(&server, TREE), 2);
}

#[wasm_bindgen_test]
async fn opens_that_overlap_share_one_fetch() {
    let (unlocked, tree) = patient(TestRecord::new(), Role::Patient);
    let server = serving(&tree, 200);
    let session = Session::new();
    let store = RecordStore::new();
    let (a, b, c) = futures::join!(
        store.open(session, &unlocked),
        store.open(session, &unlocked),
        store.open(session, &unlocked),
    );
    assert_eq!(asked(&server, TREE), 1, "three opens at once, one request");
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert_eq!(a.root_id, b.root_id);
    assert_eq!(b.root_id, c.root_id);
}

#[wasm_bindgen_test]
async fn a_forget_during_a_load_keeps_the_old_load_out_of_the_store() {
    let (unlocked, tree) = patient(TestRecord::new(), Role::Patient);
    let _server = serving(&tree, 200);
    let session = Session::new();
    let store = RecordStore::new();
    let (opened, ()) = futures::join!(store.open(session, &unlocked), async {
        common::sleep_ms(50).await;
        store.forget();
    });
    // The caller still gets its tree, but the store stays empty: the keys
    // were closed while it loaded.
    assert!(opened.is_ok());
    assert!(store.tree().get_untracked().is_none());
}

#[wasm_bindgen_test]
async fn only_a_patient_asks_for_a_record() {
    let (unlocked, tree) = patient(TestRecord::new(), Role::Doctor);
    let server = serving(&tree, 0);
    let store = RecordStore::new();
    let refused = store.open(Session::new(), &unlocked).await;
    assert_eq!(
        refused.err().as_deref(),
        Some("Only patients keep a record in medvault.")
    );
    assert_eq!(asked(&server, TREE), 0);
}

#[wasm_bindgen_test]
async fn a_tree_for_other_keys_is_refused() {
    // The server answers with a record wrapped for someone else's keys.
    let (unlocked, _) = patient(TestRecord::new(), Role::Patient);
    let (_, foreign) = patient(TestRecord::new(), Role::Patient);
    let _server = serving(&foreign, 0);
    let store = RecordStore::new();
    let refused = store.open(Session::new(), &unlocked).await;
    // Its head is not signed by this patient: refused before any key is tried.
    assert!(refused
        .err()
        .unwrap()
        .starts_with("The server sent a summary of this record that its owner did not sign."));
    assert!(store.tree().get_untracked().is_none());
}
