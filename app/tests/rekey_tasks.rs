//! `tasks::sharing` rekey: which folders owe new keys after a share ended,
//! decided in the browser from the grants the patient signed, its clock and
//! its memory, together with the server's list, so that a server that leaves
//! a folder out, or keeps calling an expired grant active, changes nothing;
//! and replacing the keys of one, after which this browser remembers it.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use app::{
    session::{now_unix, Session},
    tasks::{
        record::RecordStore,
        sharing::{
            keys_owed, load_keys_owed, owed_reason, replace_owed_keys, Ending, KeysOwed, Memory,
        },
    },
};
use shared::{
    api::{
        records::{NodeKind, RecordTree},
        sharing::{GrantStatus, GrantView, OpenUpload, OwedRotations, RekeyDue, RotationTicket},
    },
    crypto::sign::sign,
    model::{Id, Permission, Role},
    records::{OpenTree, RecordType},
    sharing::{make_grant, GrantChoice},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
#[path = "common/sharing.rs"]
mod support;

use common::record::{forget_heads, meta, TestRecord};
use support::{listed, Person, StandIn};

const DAY: i64 = 24 * 60 * 60;

/// Maria's record (with "Lab results / 2024"), as stored and opened, and
/// Maria with its keys.
fn maria() -> (Person, RecordTree, OpenTree) {
    // Each test starts as a browser that has seen no head of this record.
    forget_heads();
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    record.add(
        &labs,
        NodeKind::Folder,
        &meta("2024", RecordType::LabResult, ""),
    );
    let tree = record.open();
    // As the server serves it: every node signed, with the owner's head.
    let stored = record.tree();
    let TestRecord { keyring, .. } = record;
    (
        Person::with_keys(7, "maria", Role::Patient, keyring),
        stored,
        tree,
    )
}

fn id_of(tree: &OpenTree, path: &[&str]) -> Id {
    let mut at = tree.root_id;
    for name in path {
        at = *tree
            .children(&at)
            .into_iter()
            .find(|n| n.metadata.name == *name)
            .unwrap()
            .id();
    }
    at
}

/// A grant of `node` from Maria to `doctor`, signed by `signer`, ending at
/// `expires_at`, listed with `status`.
fn grant(
    maria: &Person,
    signer: &Person,
    doctor: &Person,
    tree: &OpenTree,
    node: Id,
    expires_at: Option<i64>,
    status: GrantStatus,
) -> GrantView {
    let choice = GrantChoice {
        doctor: doctor.entry.value.clone(),
        node_id: node,
        node_key: tree.node(&node).unwrap().key.clone(),
        permission: Permission::Read,
        expires_at: None,
        emergency: false,
    };
    let (made, key) = make_grant(
        &maria.entry.value,
        maria.keyring.identity(),
        &choice,
        now_unix() - 2 * DAY,
    )
    .unwrap();
    let mut value = made.value;
    value.expires_at = expires_at;
    let mut view = listed(sign(signer.keyring.identity(), value), status);
    view.wrapped_key = key;
    view.doctor_name = doctor.entry.value.username.clone();
    view
}

fn scopes(list: &[KeysOwed]) -> Vec<Id> {
    list.iter().map(|o| o.scope).collect()
}

#[wasm_bindgen_test]
fn the_browser_finds_ended_shares_the_server_does_not_list() {
    let (maria, _, tree) = maria();
    let doctor = Person::new(2, "dr.who", Role::Doctor);
    let mallory = Person::new(6, "mallory", Role::Patient);
    let labs = id_of(&tree, &["Lab results"]);
    let notes = id_of(&tree, &["Notes"]);
    let imaging = id_of(&tree, &["Imaging"]);
    let now = now_unix();
    let none = OwedRotations::default();
    let me = &maria.entry.value;

    // A share that holds owes nothing.
    let holds = grant(
        &maria,
        &maria,
        &doctor,
        &tree,
        labs,
        None,
        GrantStatus::Active,
    );
    assert!(keys_owed(
        &tree,
        me,
        std::slice::from_ref(&holds),
        &none,
        &Memory::default(),
        now
    )
    .is_empty());

    // Its signed end date passed, though the server still calls it active.
    let lapsed = grant(
        &maria,
        &maria,
        &doctor,
        &tree,
        labs,
        Some(now - 60),
        GrantStatus::Active,
    );
    let owed = keys_owed(
        &tree,
        me,
        std::slice::from_ref(&lapsed),
        &none,
        &Memory::default(),
        now,
    );
    assert_eq!(scopes(&owed), vec![labs]);
    assert_eq!(owed[0].ended[0].how, Ending::Expired);
    assert_eq!(owed[0].ended[0].at, Some(now - 60));
    let reason = owed_reason(&owed[0]);
    assert!(reason.starts_with("dr.who's access ended on "), "{reason}");
    assert!(
        reason.ends_with(
            "replacing the keys of Lab results so that keys they kept open nothing new."
        ),
        "{reason}"
    );

    // Removed in this browser, though the server lists it active and owes nothing.
    let removed_here = grant(
        &maria,
        &maria,
        &doctor,
        &tree,
        notes,
        None,
        GrantStatus::Active,
    );
    let memory = Memory {
        removed: HashSet::from([removed_here.grant.value.grant_id]),
        rekeyed: HashSet::new(),
    };
    let owed = keys_owed(
        &tree,
        me,
        std::slice::from_ref(&removed_here),
        &none,
        &memory,
        now,
    );
    assert_eq!(scopes(&owed), vec![notes]);
    assert_eq!(owed[0].ended[0].how, Ending::Removed);

    // Declined by the doctor (the server's status).
    let declined = grant(
        &maria,
        &maria,
        &doctor,
        &tree,
        imaging,
        None,
        GrantStatus::Declined,
    );
    let owed = keys_owed(
        &tree,
        me,
        std::slice::from_ref(&declined),
        &none,
        &Memory::default(),
        now,
    );
    assert_eq!(owed[0].ended[0].how, Ending::Declined);
    assert!(owed_reason(&owed[0]).starts_with("dr.who declined your share"));

    // Once this browser replaced the keys after it, it owes nothing more.
    let done = Memory {
        removed: HashSet::new(),
        rekeyed: HashSet::from([lapsed.grant.value.grant_id]),
    };
    assert!(keys_owed(&tree, me, std::slice::from_ref(&lapsed), &none, &done, now).is_empty());

    // A grant Maria did not sign is not hers to act on.
    let forged = grant(
        &maria,
        &mallory,
        &doctor,
        &tree,
        labs,
        Some(now - 60),
        GrantStatus::Expired,
    );
    assert!(keys_owed(&tree, me, &[forged], &none, &Memory::default(), now).is_empty());
}

#[wasm_bindgen_test]
fn the_servers_list_adds_folders_and_inner_folders_fold_into_outer_ones() {
    let (maria, _, tree) = maria();
    let doctor = Person::new(2, "dr.who", Role::Doctor);
    let labs = id_of(&tree, &["Lab results"]);
    let y2024 = id_of(&tree, &["Lab results", "2024"]);
    let notes = id_of(&tree, &["Notes"]);
    let me = &maria.entry.value;
    let now = now_unix();
    let inner = grant(
        &maria,
        &maria,
        &doctor,
        &tree,
        y2024,
        Some(now - 60),
        GrantStatus::Expired,
    );
    let unknown: Id = [9; 16];
    let owed = OwedRotations {
        folders: vec![
            RekeyDue {
                node_id: labs,
                grant_ids: vec![unknown],
                since: now - 100,
            },
            // A folder no longer in the record: left out.
            RekeyDue {
                node_id: [5; 16],
                grant_ids: vec![],
                since: now - 100,
            },
        ],
        under_way: Some(notes),
        uploads: vec![
            OpenUpload {
                node_id: [4; 16],
                version: 1,
                target_id: y2024,
                uploader_id: doctor.id(),
                uploader_name: "dr.who".into(),
                started_at: now - 30,
            },
            OpenUpload {
                node_id: [3; 16],
                version: 1,
                target_id: id_of(&tree, &["Imaging"]),
                uploader_id: maria.id(),
                uploader_name: "maria".into(),
                started_at: now - 30,
            },
        ],
    };
    let list = keys_owed(
        &tree,
        me,
        std::slice::from_ref(&inner),
        &owed,
        &Memory::default(),
        now,
    );
    // "Lab results / 2024" is replaced with "Lab results"; the rotation left
    // unfinished on Notes is offered again.
    assert_eq!(scopes(&list), vec![labs, notes]);
    let ended: Vec<Id> = list[0].ended.iter().map(|e| e.grant_id).collect();
    assert_eq!(ended, vec![unknown, inner.grant.value.grant_id]);
    assert_eq!(list[0].ended[0].how, Ending::Listed);
    // The doctor's upload into 2024 holds up Lab results; the one into Imaging nothing.
    assert_eq!(list[0].uploads.len(), 1);
    assert_eq!(list[0].uploads[0].uploader_name, "dr.who");
    assert!(list[1].unfinished);
    assert!(list[1].uploads.is_empty());
    assert_eq!(
        owed_reason(&list[1]),
        "An earlier replacement of its keys did not finish; replacing the keys of Notes so that keys they kept open nothing new."
    );
    // The whole record on the list takes every folder in.
    let mut whole = owed.clone();
    whole.folders.push(RekeyDue {
        node_id: tree.root_id,
        grant_ids: vec![],
        since: now,
    });
    let list = keys_owed(&tree, me, &[inner], &whole, &Memory::default(), now);
    assert_eq!(scopes(&list), vec![tree.root_id]);
    assert_eq!(list[0].label, "Whole record");
    assert_eq!(list[0].uploads.len(), 2);
    assert!(list[0].unfinished);
}

#[wasm_bindgen_test]
async fn a_server_that_hides_an_expiry_still_gets_the_keys_replaced_once() {
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .clear()
        .unwrap();
    let server = StandIn::install();
    let (maria, stored, tree) = maria();
    let doctor = Person::new(2, "dr.who", Role::Doctor);
    let labs = id_of(&tree, &["Lab results"]);
    let lapsed = grant(
        &maria,
        &maria,
        &doctor,
        &tree,
        labs,
        Some(now_unix() - 60),
        GrantStatus::Active,
    );
    let unlocked = maria.unlocked();
    // The server lists nothing owed, then fails the call altogether: the
    // browser's own finding stands either way.
    server.answer(
        "sharing/rotation/pending",
        serde_json::to_string(&OwedRotations::default()).unwrap(),
    );
    let owed = load_keys_owed(&unlocked, &tree, std::slice::from_ref(&lapsed)).await;
    assert_eq!(scopes(&owed), vec![labs]);
    server.fail("sharing/rotation/pending", 500, "internal", "Boom.");
    let owed = load_keys_owed(&unlocked, &tree, std::slice::from_ref(&lapsed)).await;
    assert_eq!(scopes(&owed), vec![labs]);

    // A ticket that still lists the lapsed grant as keeping access is refused.
    server.answer("records/tree", serde_json::to_string(&stored).unwrap());
    server.answer("sharing/rotation/part", "null".into());
    server.answer("sharing/rotation/commit", "null".into());
    let ticket = |grants: Vec<GrantView>| RotationTicket {
        rotation_id: [8; 16],
        nodes: vec![labs, id_of(&tree, &["Lab results", "2024"])],
        versions: vec![],
        grants,
    };
    server.answer(
        "sharing/rotation/start",
        serde_json::to_string(&ticket(vec![lapsed.clone()])).unwrap(),
    );
    let store = RecordStore::new();
    let refused = replace_owed_keys(Session::new(), store, &unlocked, &owed[0], |_, _| {})
        .await
        .unwrap_err();
    assert!(refused.contains("No keys were replaced"), "{refused}");
    assert_eq!(server.count("sharing/rotation/commit"), 0);
    // Still owed after the failure (a reload offers it again).
    let again = load_keys_owed(&unlocked, &tree, std::slice::from_ref(&lapsed)).await;
    assert_eq!(scopes(&again), vec![labs]);

    // An honest ticket: the keys are replaced, and this browser remembers it.
    server.answer(
        "sharing/rotation/start",
        serde_json::to_string(&ticket(vec![])).unwrap(),
    );
    replace_owed_keys(Session::new(), store, &unlocked, &owed[0], |_, _| {})
        .await
        .unwrap();
    assert_eq!(server.count("sharing/rotation/commit"), 1);
    assert!(
        load_keys_owed(&unlocked, &tree, std::slice::from_ref(&lapsed))
            .await
            .is_empty()
    );
    // Unless the server still lists the folder: then it is done again.
    server.answer(
        "sharing/rotation/pending",
        serde_json::to_string(&OwedRotations {
            folders: vec![RekeyDue {
                node_id: labs,
                grant_ids: vec![lapsed.grant.value.grant_id],
                since: 0,
            }],
            under_way: None,
            uploads: vec![],
        })
        .unwrap(),
    );
    let listed_again = load_keys_owed(&unlocked, &tree, &[lapsed]).await;
    assert_eq!(scopes(&listed_again), vec![labs]);
}

#[wasm_bindgen_test]
async fn an_upload_that_holds_up_a_replacement_can_be_cancelled() {
    use app::tasks::sharing::cancel_open_upload;
    let server = StandIn::install();
    let upload = OpenUpload {
        node_id: [4; 16],
        version: 3,
        target_id: [5; 16],
        uploader_id: [2; 16],
        uploader_name: "dr.who".into(),
        started_at: 0,
    };
    server.answer("records/upload/cancel", "null".into());
    cancel_open_upload(Session::new(), &upload).await.unwrap();
    let body = server.last_body("records/upload/cancel");
    assert_eq!(body["request"]["version"], 3);
    assert_eq!(
        body["request"]["node_id"],
        shared::crypto::b64::encode(&[4u8; 16])
    );
    // A refusal comes back as the sentence to show.
    server.fail(
        "records/upload/cancel",
        404,
        "not_found",
        "This upload was cancelled or has expired. Start it again.",
    );
    let refused = cancel_open_upload(Session::new(), &upload)
        .await
        .unwrap_err();
    assert!(!refused.is_empty());
}
