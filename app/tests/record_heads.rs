//! Signed records in the owner's browser, against a stand-in server: each
//! change carries the node's signed state and the record's next head, changes
//! go one at a time (each head links to the one before), a stale head (409) is
//! retried once after loading the record again, and a record older than, or
//! forked from, the head this browser remembers is refused with the alarm's
//! sentence and not shown. A keyring that names a record never creates one.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{cell::RefCell, rc::Rc, sync::Arc};

use app::{
    session::{Session, Unlocked},
    tasks::{nodes::rename, record::RecordStore, writer::Writer},
};
use leptos::prelude::*;
use shared::{
    api::{
        account::SessionInfo,
        records::{RecordTree, UpdateNodeRequest},
    },
    client::key_entry,
    crypto::{keyring::Keyring, sign::Signed},
    model::{Permission, Role},
    records::{
        change, head_link, state_hash,
        verify::{leaves_after, tree_leaves},
        RecordHead, RecordType, Signer,
    },
    sharing::{make_grant, GrantChoice},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod standin;
#[path = "common/sharing.rs"]
mod support;
use common::record::{forget_heads, meta, TestRecord};
use standin::{error, ok_json, serve, Call};

/// The owner's open keys (a copy of the record's keyring, from its seed).
fn owner_of(record: &TestRecord, keyring: Keyring) -> Unlocked {
    Unlocked {
        info: SessionInfo {
            user_id: record.owner,
            username: "maria".to_owned(),
            role: Role::Patient,
            totp_enabled: false,
            expires_at: i64::MAX,
            idle_timeout_secs: 3600,
            second_factor_required: false,
            second_factor_policy: false,
        },
        key_entry: key_entry(&keyring, record.owner, "maria", Role::Patient, 1),
        keyring: Arc::new(keyring),
    }
}

/// A fresh record, its owner's keys, and no head remembered.
fn setup() -> (TestRecord, Unlocked) {
    forget_heads();
    let record = TestRecord::new();
    let keyring = record.keyring_copy();
    let unlocked = owner_of(&record, keyring);
    (record, unlocked)
}

fn tree_json(tree: &RecordTree) -> (u16, Vec<u8>) {
    ok_json(serde_json::to_value(Some(tree)).unwrap())
}

/// The update request of a call.
fn update_of(call: &Call) -> UpdateNodeRequest {
    serde_json::from_value(call.json()["request"].clone()).unwrap()
}

/// The server's answer to an update: the node as it will be stored.
fn updated(tree: &RecordTree, request: &UpdateNodeRequest) -> (u16, Vec<u8>) {
    let mut view = tree
        .nodes
        .iter()
        .find(|n| n.node_id == request.node_id)
        .unwrap()
        .clone();
    view.metadata = request.metadata.clone();
    view.revision += 1;
    view.state = request.state.clone();
    ok_json(serde_json::to_value(view).unwrap())
}

#[wasm_bindgen_test]
async fn changes_go_one_at_a_time_each_with_the_next_head() {
    let (record, unlocked) = setup();
    let tree = record.tree();
    let served = tree.clone();
    let calls = serve(move |call| {
        if call.url.contains("records/tree") {
            tree_json(&served)
        } else if call.url.contains("records/node/update") {
            updated(&served, &update_of(call))
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let session = Session::new();
    let store = RecordStore::new();
    let opened = store.open(session, &unlocked).await.unwrap();
    let labs = record.folder("Lab results");
    let imaging = record.folder("Imaging");
    let writer = Writer::owner(session, &unlocked, store);
    // Two changes at once: the store sends them one after the other.
    let (a, b) = futures::join!(
        rename(&writer, &labs, "Labs"),
        rename(&writer, &imaging, "Scans")
    );
    a.unwrap();
    b.unwrap();
    drop(opened);

    let updates: Vec<UpdateNodeRequest> = calls
        .borrow()
        .iter()
        .filter(|c| c.url.contains("records/node/update"))
        .map(update_of)
        .collect();
    assert_eq!(updates.len(), 2);
    let key = record.keyring.public_keys().identity;
    let heads: Vec<Signed<RecordHead>> = updates.iter().map(|u| u.head.clone().unwrap()).collect();
    for head in &heads {
        head.verify(&key).unwrap();
    }
    let genesis = record.head.clone();
    assert_eq!(heads[0].value.counter, 2);
    assert_eq!(heads[0].value.previous, head_link(&genesis));
    assert_eq!(heads[1].value.counter, 3);
    assert_eq!(heads[1].value.previous, head_link(&heads[0]));
    // Each head covers the record after its change, the second both.
    let first = leaves_after(
        &tree_leaves(&tree.nodes),
        &[updates[0].state.clone().unwrap()],
        &[],
    );
    assert_eq!(heads[0].value.state_hash, state_hash(&first));
    let both = leaves_after(&first, &[updates[1].state.clone().unwrap()], &[]);
    assert_eq!(heads[1].value.state_hash, state_hash(&both));
    assert_eq!(store.head().unwrap(), heads[1]);
}

#[wasm_bindgen_test]
async fn a_stale_head_is_retried_once_after_loading_the_record_again() {
    let (mut record, unlocked) = setup();
    let before = record.tree();
    let labs = record.folder("Lab results");
    // Another window changed the record meanwhile (put another starter folder
    // in the Trash): the server holds head 2.
    let other = record
        .views
        .iter()
        .position(|v| v.parent_id.is_some() && v.node_id != *labs.id())
        .unwrap();
    record.views[other].trashed_at = Some(5);
    record.sign_head();
    let after = record.tree();
    let tries = Rc::new(RefCell::new(0));
    let counted = tries.clone();
    let (old, new) = (before.clone(), after.clone());
    let chain = vec![record.head.clone()];
    let calls = serve(move |call| {
        if call.url.contains("records/heads") {
            // The heads after the one this browser saw: the chain to the new one.
            ok_json(serde_json::to_value(&chain).unwrap())
        } else if call.url.contains("records/tree") {
            // The first load sees the old record, the next ones the new.
            let fetched = *counted.borrow();
            tree_json(if fetched == 0 { &old } else { &new })
        } else if call.url.contains("records/node/update") {
            let request = update_of(call);
            let head = request.head.clone().unwrap();
            if head.value.counter == 2 {
                *counted.borrow_mut() += 1;
                error(409, "conflict", "The record changed meanwhile; reload.")
            } else {
                updated(&new, &request)
            }
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let session = Session::new();
    let store = RecordStore::new();
    store.open(session, &unlocked).await.unwrap();
    let writer = Writer::owner(session, &unlocked, store);
    rename(&writer, &labs, "Labs").await.unwrap();
    let sent: Vec<UpdateNodeRequest> = calls
        .borrow()
        .iter()
        .filter(|c| c.url.contains("records/node/update"))
        .map(update_of)
        .collect();
    assert_eq!(sent.len(), 2, "one retry");
    let retry = sent[1].head.clone().unwrap();
    assert_eq!(retry.value.counter, 3);
    assert_eq!(retry.value.previous, head_link(&record.head));
    assert_eq!(
        calls
            .borrow()
            .iter()
            .filter(|c| c.url.contains("records/tree"))
            .count(),
        2,
        "the record was loaded (and checked) again before the retry"
    );
    assert!(
        calls
            .borrow()
            .iter()
            .any(|c| c.url.contains("records/heads?after=1")),
        "the chain from the head seen to the one served was checked"
    );
}

/// A conflict after which the record's head has not moved is about the change
/// itself (an upload still running, an item already in the Trash): the
/// person reads the server's own sentence, not "changed elsewhere".
#[wasm_bindgen_test]
async fn a_conflict_with_the_head_unmoved_gives_the_servers_own_sentence() {
    let (record, unlocked) = setup();
    let tree = record.tree();
    serve(move |call| {
        if call.url.contains("records/tree") {
            tree_json(&tree)
        } else {
            error(409, "conflict", "That item is already in the Trash.")
        }
    });
    let session = Session::new();
    let store = RecordStore::new();
    store.open(session, &unlocked).await.unwrap();
    let writer = Writer::owner(session, &unlocked, store);
    let refused = rename(&writer, &record.folder("Imaging"), "Scans")
        .await
        .unwrap_err();
    assert!(
        refused.contains("That item is already in the Trash."),
        "{refused}"
    );
}

#[wasm_bindgen_test]
async fn an_older_copy_than_the_one_seen_is_refused_and_not_shown() {
    let (mut record, unlocked) = setup();
    let old = record.tree();
    let mut other = record.copy();
    record.views[1].metadata.push(0);
    record.sign_head();
    let new = RecordTree {
        seq: 2,
        ..record.tree()
    };
    let serving = Rc::new(RefCell::new(new));
    let answer = serving.clone();
    serve(move |call| {
        if call.url.contains("records/tree") {
            tree_json(&answer.borrow())
        } else if call.url.contains("records/seq") {
            ok_json(serde_json::json!(answer.borrow().seq))
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let session = Session::new();
    let store = RecordStore::new();
    store.open(session, &unlocked).await.unwrap();
    // The server now replays the copy from before the change.
    *serving.borrow_mut() = RecordTree { seq: 3, ..old };
    let refused = store.open(session, &unlocked).await.err().unwrap();
    assert!(
        refused.starts_with("The server sent an older copy of this record (change 1; this browser has already seen change 2)."),
        "{refused}"
    );
    assert!(store.tree().get_untracked().is_none(), "nothing is shown");
    // A fork: another head 2 over other content.
    other.views[2].metadata.push(1);
    other.sign_head();
    *serving.borrow_mut() = RecordTree {
        seq: 4,
        ..other.tree()
    };
    let refused = store.reload(session, &unlocked).await.err().unwrap();
    assert!(
        refused.contains("whose history does not match"),
        "{refused}"
    );
}

#[wasm_bindgen_test]
async fn a_keyring_that_names_a_record_never_creates_one() {
    let (record, _) = setup();
    let unlocked = owner_of(&record, record.keyring_copy().with_record([9; 16]));
    let calls = serve(|call| {
        if call.url.contains("records/tree") {
            ok_json(serde_json::Value::Null)
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let refused = RecordStore::new()
        .open(Session::new(), &unlocked)
        .await
        .err()
        .unwrap();
    assert!(
        refused.starts_with("Your record is missing on the server"),
        "{refused}"
    );
    assert!(calls
        .borrow()
        .iter()
        .all(|c| !c.url.contains("records/create")));
}

#[wasm_bindgen_test]
async fn a_doctor_s_checked_change_is_taken_into_the_next_head() {
    let (mut record, unlocked) = setup();
    let labs = record.folder("Lab results");
    let (year, _) = record.add(
        &labs,
        shared::api::records::NodeKind::Folder,
        &meta("2024", RecordType::LabResult, ""),
    );
    let head_leaves = tree_leaves(&record.views);
    // A doctor with read and write access to Lab results trashes "2024".
    let doctor = support::Person::new(2, "drwho", Role::Doctor);
    let choice = GrantChoice {
        doctor: doctor.entry.value.clone(),
        node_id: *labs.id(),
        node_key: labs.key.clone(),
        permission: Permission::ReadWrite,
        expires_at: None,
        emergency: false,
    };
    let (grant, _) = make_grant(
        &unlocked.key_entry.value,
        record.keyring.identity(),
        &choice,
        app::session::now_unix(),
    )
    .unwrap();
    let signer = Signer {
        owner_id: record.owner,
        author_id: doctor.id(),
        key: doctor.keyring.identity(),
        now: 2,
    };
    let at = record.views.iter().position(|v| v.node_id == year).unwrap();
    let mut trashed = change::trashed(&record.views[at], 5);
    trashed.state = Some(signer.state(&trashed));
    trashed.write_grant = Some(grant);
    record.views[at] = trashed;
    let mut tree = record.tree();
    // The head has not moved: the doctor's change is pending.
    tree.head_leaves = head_leaves;
    let names = vec![shared::api::directory::UserName {
        user_id: doctor.id(),
        username: "drwho".to_owned(),
        role: Role::Doctor,
    }];
    let served = doctor.served();
    let served_tree = tree.clone();
    let calls = serve(move |call| {
        if call.url.contains("records/tree") {
            tree_json(&served_tree)
        } else if call.url.contains("directory/names") {
            ok_json(serde_json::to_value(&names).unwrap())
        } else if call.url.contains("directory/lookup") {
            ok_json(serde_json::to_value(&served).unwrap())
        } else if call.url.contains("records/head") {
            ok_json(serde_json::Value::Null)
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let store = RecordStore::new();
    let opened = store.open(Session::new(), &unlocked).await;
    assert!(opened.is_ok(), "{:?}", opened.err());
    let fold = calls
        .borrow()
        .iter()
        .find(|c| c.url.contains("records/head"))
        .cloned()
        .expect("the doctor's change is folded");
    let head: Signed<RecordHead> = serde_json::from_value(fold.json()["head"].clone()).unwrap();
    head.verify(&record.keyring.public_keys().identity).unwrap();
    assert_eq!(head.value.counter, record.head.value.counter + 1);
    assert_eq!(head.value.previous, head_link(&record.head));
    assert_eq!(head.value.state_hash, state_hash(&tree_leaves(&tree.nodes)));
    assert_eq!(store.head().unwrap(), head);
}

/// The record as a server from before signed records holds it: no states, no head.
fn unsigned(record: &TestRecord) -> RecordTree {
    let mut tree = record.tree();
    tree.head = None;
    tree.head_leaves = Vec::new();
    for node in &mut tree.nodes {
        node.state = None;
    }
    tree
}

#[wasm_bindgen_test]
async fn a_record_from_before_signed_records_is_signed_on_first_open() {
    let (record, unlocked) = setup();
    let old = unsigned(&record);
    let adopted = Rc::new(RefCell::new(None::<RecordTree>));
    let keep = adopted.clone();
    let calls = serve(move |call| {
        if call.url.contains("records/adopt") {
            let request: shared::api::records::AdoptRequest =
                serde_json::from_value(call.json()["request"].clone()).unwrap();
            let mut tree = old.clone();
            for (node, state) in tree.nodes.iter_mut().zip(&request.states) {
                node.state = Some(state.clone());
            }
            tree.head = Some(request.head.clone());
            tree.head_leaves = tree_leaves(&tree.nodes);
            *keep.borrow_mut() = Some(tree.clone());
            ok_json(serde_json::to_value(&tree).unwrap())
        } else if call.url.contains("records/tree") {
            tree_json(keep.borrow().as_ref().unwrap_or(&old))
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let store = RecordStore::new();
    let opened = store.open(Session::new(), &unlocked).await;
    assert!(opened.is_ok(), "{:?}", opened.err());
    assert_eq!(
        calls
            .borrow()
            .iter()
            .filter(|c| c.url.contains("records/adopt"))
            .count(),
        1
    );
    let tree = adopted.borrow().clone().unwrap();
    let head = tree.head.clone().unwrap();
    head.verify(&record.keyring.public_keys().identity).unwrap();
    assert_eq!(head.value.counter, 1);
    assert_eq!(head.value.node_count as usize, tree.nodes.len());
    for node in &tree.nodes {
        let state = node.state.as_ref().unwrap();
        assert!(
            state.value.matches(&record.owner, node),
            "signed exactly as stored"
        );
        assert_eq!(state.value.revision, node.revision, "revision unchanged");
    }
    assert_eq!(store.head().unwrap(), head);
}

#[wasm_bindgen_test]
async fn a_record_born_signed_served_without_its_head_is_refused() {
    let (record, _) = setup();
    let unlocked = owner_of(&record, record.keyring_copy().with_record(record.root));
    let old = unsigned(&record);
    let calls = serve(move |call| {
        if call.url.contains("records/tree") {
            tree_json(&old)
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let refused = RecordStore::new()
        .open(Session::new(), &unlocked)
        .await
        .err()
        .unwrap();
    assert!(
        refused.starts_with("The server sent your record without your signature"),
        "{refused}"
    );
    assert!(calls
        .borrow()
        .iter()
        .all(|c| !c.url.contains("records/adopt")));
}

/// A record whose served tree holds a doctor's new file in Lab results under
/// a read-and-write grant that ended an hour ago (the owner's head does not
/// cover it), with the stand-in server's directory answers.
struct LateFile {
    record: TestRecord,
    unlocked: Unlocked,
    head: Signed<RecordHead>,
    tree: RecordTree,
    late: shared::api::records::NodeView,
    file: shared::model::Id,
    names: Vec<shared::api::directory::UserName>,
    served: shared::api::directory::DirectoryEntry,
}

fn late_file() -> LateFile {
    let (mut record, unlocked) = setup();
    let labs = record.folder("Lab results");
    let before = record.views.clone();
    let head = record.head.clone();
    let (file, _) = record.add(
        &labs,
        shared::api::records::NodeKind::File,
        &meta("ecg.txt", RecordType::LabResult, ""),
    );
    // A doctor's read-and-write grant on Lab results that ended an hour ago;
    // the doctor's new file came before the owner took it in.
    let doctor = support::Person::new(2, "drwho", Role::Doctor);
    let now = app::session::now_unix();
    let choice = GrantChoice {
        doctor: doctor.entry.value.clone(),
        node_id: *labs.id(),
        node_key: labs.key.clone(),
        permission: Permission::ReadWrite,
        expires_at: Some(now - 3600),
        emergency: false,
    };
    let (grant, _) = make_grant(
        &unlocked.key_entry.value,
        record.keyring.identity(),
        &choice,
        now - 7200,
    )
    .unwrap();
    let signer = Signer {
        owner_id: record.owner,
        author_id: doctor.id(),
        key: doctor.keyring.identity(),
        now: 2,
    };
    let mut late = record
        .views
        .iter()
        .find(|v| v.node_id == file)
        .unwrap()
        .clone();
    late.state = Some(signer.state(&late));
    late.write_grant = Some(grant);
    let mut tree = record.tree();
    tree.head = Some(head.clone());
    tree.head_leaves = tree_leaves(&before);
    tree.nodes = before;
    tree.nodes.push(late.clone());
    let names = vec![shared::api::directory::UserName {
        user_id: doctor.id(),
        username: "drwho".to_owned(),
        role: Role::Doctor,
    }];
    let served = doctor.served();
    LateFile {
        record,
        unlocked,
        head,
        tree,
        late,
        file,
        names,
        served,
    }
}

#[wasm_bindgen_test]
async fn a_doctor_s_file_after_the_grant_ended_goes_to_the_trash_with_the_owner_s_head() {
    let LateFile {
        record,
        unlocked,
        head,
        tree,
        late,
        file,
        names,
        served,
    } = late_file();
    let served_tree = tree.clone();
    let stored = late.clone();
    let calls = serve(move |call| {
        if call.url.contains("records/tree") {
            tree_json(&served_tree)
        } else if call.url.contains("directory/names") {
            ok_json(serde_json::to_value(&names).unwrap())
        } else if call.url.contains("directory/lookup") {
            ok_json(serde_json::to_value(&served).unwrap())
        } else if call.url.contains("records/node/trash") {
            let request: shared::api::records::NodeRevision =
                serde_json::from_value(call.json()["request"].clone()).unwrap();
            let mut view = stored.clone();
            view.revision += 1;
            view.trashed_at = Some(9);
            view.state = request.state.clone();
            view.write_grant = None;
            ok_json(serde_json::to_value(view).unwrap())
        } else if call.url.contains("records/head") {
            ok_json(serde_json::Value::Null)
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let store = RecordStore::new();
    let opened = store.open(Session::new(), &unlocked).await;
    assert!(opened.is_ok(), "the record opens: {:?}", opened.err());
    let trash = calls
        .borrow()
        .iter()
        .find(|c| c.url.contains("records/node/trash"))
        .cloned()
        .expect("the late file is moved to the Trash");
    let request: shared::api::records::NodeRevision =
        serde_json::from_value(trash.json()["request"].clone()).unwrap();
    assert_eq!(request.node_id, file);
    assert_eq!(request.revision, late.revision);
    let state = request.state.clone().unwrap();
    let key = record.keyring.public_keys().identity;
    state.verify(&key).unwrap();
    assert_eq!(state.value.author_id, record.owner);
    assert_eq!(state.value.revision, late.revision + 1);
    let next = request.head.clone().unwrap();
    next.verify(&key).unwrap();
    assert_eq!(next.value.counter, head.value.counter + 1);
    assert_eq!(next.value.previous, head_link(&head));
    let leaves = leaves_after(&tree_leaves(&tree.nodes), &[state], &[]);
    assert_eq!(next.value.state_hash, state_hash(&leaves));
    assert_eq!(store.head().unwrap(), next);
    assert!(
        calls
            .borrow()
            .iter()
            .all(|c| !c.url.ends_with("records/head")),
        "nothing else to fold"
    );
    let shown = store.tree().get_untracked().unwrap();
    assert!(shown.in_trash(&file), "shown in the Trash");
    let notice = store.notice().get_untracked().unwrap();
    assert!(
        notice.starts_with("A file drwho wrote after their access ended"),
        "{notice}"
    );
}

#[wasm_bindgen_test]
async fn a_late_file_the_server_will_not_trash_says_so_and_what_to_do() {
    let LateFile {
        unlocked,
        tree,
        names,
        served,
        ..
    } = late_file();
    serve(move |call| {
        if call.url.contains("records/tree") {
            tree_json(&tree)
        } else if call.url.contains("directory/names") {
            ok_json(serde_json::to_value(&names).unwrap())
        } else if call.url.contains("directory/lookup") {
            ok_json(serde_json::to_value(&served).unwrap())
        } else if call.url.contains("records/node/trash") {
            error(400, "bad_request", "That change does not fit the record.")
        } else {
            error(404, "not_found", "Not found.")
        }
    });
    let store = RecordStore::new();
    let refused = store.open(Session::new(), &unlocked).await.err().unwrap();
    assert!(
        refused.starts_with(
            "A file a doctor wrote after their access ended could not be moved to the Trash:"
        ) && refused.ends_with("Reload the page to try again."),
        "{refused}"
    );
    assert!(store.tree().get_untracked().is_none(), "nothing is shown");
    assert!(store.notice().get_untracked().is_none());
}
