//! `tasks::sharing`: the decisions behind the Sharing and Patients pages
//! (with their failure cases), and its flows against a stand-in server that
//! lies: a forged directory entry, an answer naming another account, and a
//! share not signed by the patient are each refused before anything is
//! shared or opened; an honest answer gets a grant the doctor can open. A key
//! rotation reports its progress, and refuses a list of grants that holds one
//! the patient did not sign or just removed, before a single key is sent.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{cell::RefCell, rc::Rc};

use leptos::prelude::GetUntracked;

use app::{
    session::Session,
    tasks::{
        record::RecordStore,
        sharing::{
            access_request, approve, can_now, choice, doctor_allowed, end_of_day, end_text,
            id_text, made_by, open_shared, permission_of, permission_text, rekey_percent,
            rotate_keys, scope_label, shareable, split_requests, verified_doctor, verified_entry,
        },
    },
};
use shared::{
    api::{
        records::{NodeKind, RecordTree, Usage},
        sharing::{
            AccessRequestView, GrantStatus, RequestStatus, RotationPart, RotationTicket,
            SharedScope,
        },
    },
    crypto::{
        b64,
        sign::{sign, Signed},
    },
    model::{Grant, Permission, Role},
    records::{OpenTree, RecordHead, RecordType},
    sharing::{make_grant, open_grant, GrantChoice},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
#[path = "common/sharing.rs"]
mod support;

use common::record::{meta, TestRecord};
use support::{listed, Person, StandIn};

/// A day, in seconds.
const DAY: i64 = 24 * 60 * 60;

/// The record of "maria" (id 7, as `TestRecord` makes it), with a
/// "Lab results / 2024" folder and a trashed "Old" folder.
fn record() -> (TestRecord, OpenTree) {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    record.add(
        &labs,
        NodeKind::Folder,
        &meta("2024", RecordType::LabResult, ""),
    );
    let notes = record.folder("Notes");
    let (old, _) = record.add(&notes, NodeKind::Folder, &meta("Old", RecordType::Note, ""));
    let view = record.views.iter_mut().find(|v| v.node_id == old).unwrap();
    view.trashed_at = Some(1_795_422_600);
    let tree = record.open();
    (record, tree)
}

fn folder_id(tree: &OpenTree, label: &str) -> shared::model::Id {
    shareable(tree)
        .into_iter()
        .find(|(_, l)| l == label)
        .map(|(id, _)| id)
        .unwrap()
}

#[wasm_bindgen_test]
fn scope_labels_name_the_path_below_the_top() {
    let (_, tree) = record();
    assert_eq!(scope_label(&tree, &tree.root_id), "Whole record");
    let labs = folder_id(&tree, "Lab results");
    assert_eq!(scope_label(&tree, &labs), "Lab results");
    let year = tree.children(&labs)[0].id().to_owned();
    assert_eq!(scope_label(&tree, &year), "Lab results / 2024");
    assert_eq!(
        scope_label(&tree, &[9; 16]),
        "A folder that no longer exists"
    );
}

#[wasm_bindgen_test]
fn shareable_puts_the_whole_record_first_and_leaves_the_trash_out() {
    let (_, tree) = record();
    let labels: Vec<String> = shareable(&tree).into_iter().map(|(_, l)| l).collect();
    assert_eq!(
        labels,
        [
            "Whole record",
            "Imaging",
            "Lab results",
            "Lab results / 2024",
            "Notes",
            "Prescriptions",
            "Vital signs",
        ]
    );
    assert!(!labels.iter().any(|l| l.contains("Old")));
}

#[wasm_bindgen_test]
fn an_end_date_is_the_end_of_a_day_still_ahead() {
    assert_eq!(end_of_day(""), Ok(None));
    assert_eq!(end_of_day("  "), Ok(None));
    let end = end_of_day("2999-12-31").unwrap().unwrap();
    let start = app::platform::browser::parse_date_input("2999-12-31").unwrap();
    assert_eq!(end, start + DAY);
    for bad in ["tomorrow", "31/12/2999", "2999-12"] {
        assert_eq!(
            end_of_day(bad),
            Err("The end date is not a date. Pick one from the calendar.".to_owned()),
            "{bad}"
        );
    }
    assert_eq!(
        end_of_day("2000-01-01"),
        Err("The end date has already passed. Choose a later date, or none.".to_owned())
    );
}

#[wasm_bindgen_test]
fn a_choice_needs_a_folder_and_a_good_date() {
    let (_, tree) = record();
    let root = id_text(&tree.root_id);
    assert_eq!(choice(&root, ""), Ok((tree.root_id, None)));
    let no_folder = Err("Choose what to share.".to_owned());
    assert_eq!(choice("", ""), no_folder);
    assert_eq!(choice("not base64!", ""), no_folder);
    // Valid base64, but not 16 bytes.
    assert_eq!(choice(&b64::encode(&[1u8; 5]), ""), no_folder);
    // The date is checked first.
    assert!(choice("", "2000-01-01")
        .unwrap_err()
        .contains("already passed"));
}

#[wasm_bindgen_test]
fn permissions_and_their_words() {
    assert_eq!(permission_of("write"), Permission::ReadWrite);
    assert_eq!(permission_of("read"), Permission::Read);
    assert_eq!(permission_of(""), Permission::Read);
    assert_eq!(permission_of("WRITE"), Permission::Read);
    assert_eq!(can_now(Permission::Read), "can now read");
    assert_eq!(can_now(Permission::ReadWrite), "can now read and add to");
    assert_eq!(permission_text(Permission::Read), "Read");
    assert_eq!(permission_text(Permission::ReadWrite), "Read and write");
}

#[wasm_bindgen_test]
fn rekey_percent_never_divides_by_zero() {
    assert_eq!(rekey_percent(None), 0);
    assert_eq!(rekey_percent(Some((0, 0))), 0);
    assert_eq!(rekey_percent(Some((1, 4))), 25);
    assert_eq!(rekey_percent(Some((4, 4))), 100);
}

#[wasm_bindgen_test]
fn requests_split_into_waiting_and_answered() {
    let request = |n: u8, status| AccessRequestView {
        request_id: [n; 16],
        patient_id: [7; 16],
        patient_name: "maria".into(),
        doctor_id: [2; 16],
        doctor_name: "drwho".into(),
        reason: "Follow-up".into(),
        created_at: 1,
        status,
        decided_at: None,
        grant_id: None,
    };
    let all = [
        request(1, RequestStatus::Approved),
        request(2, RequestStatus::Pending),
        request(3, RequestStatus::Denied),
        request(4, RequestStatus::Pending),
    ];
    let (pending, answered) = split_requests(&all);
    let ids = |l: &[AccessRequestView]| l.iter().map(|r| r.request_id[0]).collect::<Vec<_>>();
    assert_eq!(ids(&pending), [2, 4]);
    assert_eq!(ids(&answered), [1, 3]);
}

#[wasm_bindgen_test]
fn an_access_request_needs_a_username_and_a_reason() {
    let ok = access_request("  DrWho ", "Follow-up after surgery").unwrap();
    assert_eq!(ok.patient_username, "drwho");
    assert_eq!(ok.reason, "Follow-up after surgery");
    assert!(access_request("", "Follow-up").unwrap_err().ends_with('.'));
    assert!(access_request("dr who", "Follow-up").is_err());
    assert!(access_request("maria", "").is_err());
    assert!(access_request("maria", &"x".repeat(501)).is_err());
}

#[wasm_bindgen_test]
fn only_an_enabled_doctor_may_receive_a_share() {
    let doctor = Person::new(2, "drwho", Role::Doctor).verified();
    assert_eq!(doctor_allowed(&doctor), Ok(()));
    let patient = Person::new(3, "jon", Role::Patient).verified();
    assert_eq!(
        doctor_allowed(&patient),
        Err("jon is not a doctor in medvault, so your record cannot be shared with them.".into())
    );
    let mut disabled = doctor.clone();
    disabled.disabled = true;
    assert!(doctor_allowed(&disabled)
        .unwrap_err()
        .contains("disabled by an administrator"));
}

/// A grant of `tree`'s root from `patient` to `doctor`, as the patient's
/// browser makes it.
fn grant_of(patient: &Person, doctor: &Person, tree: &OpenTree) -> shared::api::sharing::GrantView {
    let choice = GrantChoice {
        doctor: doctor.entry.value.clone(),
        node_id: tree.root_id,
        node_key: tree.node(&tree.root_id).unwrap().key.clone(),
        permission: Permission::Read,
        expires_at: None,
        emergency: false,
    };
    let now = app::session::now_unix();
    let (grant, wrapped_key) = make_grant(
        &patient.entry.value,
        patient.keyring.identity(),
        &choice,
        now,
    )
    .unwrap();
    let mut view = listed(grant, GrantStatus::Active);
    view.wrapped_key = wrapped_key;
    view
}

#[wasm_bindgen_test]
fn made_by_accepts_only_grants_the_patient_signed_for_themselves() {
    let (_, tree) = record();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let mallory = Person::new(6, "mallory", Role::Patient);
    let honest = grant_of(&maria, &doctor, &tree);
    assert!(made_by(&honest, &maria.entry.value));
    // Signed by someone else, in maria's name.
    let mut forged = honest.clone();
    forged.grant = sign(mallory.keyring.identity(), honest.grant.value.clone());
    assert!(!made_by(&forged, &maria.entry.value));
    // Changed after signing.
    let mut changed = honest.clone();
    changed.grant.value.permission = Permission::ReadWrite;
    assert!(!made_by(&changed, &maria.entry.value));
    // Signed by maria, but naming another patient.
    let mut other: Grant = honest.grant.value.clone();
    other.patient_id = mallory.id();
    let mut elsewhere = honest.clone();
    elsewhere.grant = sign(maria.keyring.identity(), other);
    assert!(!made_by(&elsewhere, &maria.entry.value));
}

#[wasm_bindgen_test]
fn end_text_says_removed_until_or_no_end() {
    let (_, tree) = record();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let mut view = grant_of(&maria, &doctor, &tree);
    assert_eq!(end_text(&view), "No end date");
    view.grant.value.expires_at = Some(1_795_422_600);
    assert!(end_text(&view).starts_with("Until "));
    view.status = GrantStatus::Revoked;
    view.revoked_at = Some(1_795_422_600);
    assert!(end_text(&view).starts_with("Removed "));
}

#[wasm_bindgen_test]
async fn a_forged_directory_entry_is_refused_and_nothing_is_shared() {
    let server = StandIn::install();
    let (_, tree) = record();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let mallory = Person::new(6, "mallory", Role::Doctor);
    // The server swaps in mallory's keys under the doctor's signed entry.
    let mut served = doctor.served();
    served.entry.value.identity_key = mallory.entry.value.identity_key;
    served.entry.value.encryption_key = mallory.entry.value.encryption_key;
    server.answer("directory/lookup", serde_json::to_string(&served).unwrap());
    let session = Session::new();
    let refused = verified_doctor(session, &maria.unlocked(), "drwho")
        .await
        .unwrap_err();
    assert!(refused.starts_with("The server's answer did not match your keys"));

    let request = AccessRequestView {
        request_id: [5; 16],
        patient_id: maria.id(),
        patient_name: "maria".into(),
        doctor_id: doctor.id(),
        doctor_name: "drwho".into(),
        reason: "Follow-up".into(),
        created_at: 1,
        status: RequestStatus::Pending,
        decided_at: None,
        grant_id: None,
    };
    let chosen = (tree.root_id, Permission::Read, None);
    let refused = approve(session, &maria.unlocked(), &tree, &request, chosen)
        .await
        .unwrap_err();
    assert!(refused.starts_with("The server's answer did not match your keys"));

    // An honest entry for another account than the one that asked.
    server.answer(
        "directory/lookup",
        serde_json::to_string(&mallory.served()).unwrap(),
    );
    let mut asked_as_mallory = request.clone();
    asked_as_mallory.doctor_name = "mallory".into();
    let refused = approve(session, &maria.unlocked(), &tree, &asked_as_mallory, chosen)
        .await
        .unwrap_err();
    assert!(refused.starts_with("The directory's answer for this doctor does not match"));
    assert_eq!(server.count("sharing/grant/create"), 0);

    // The honest answer: a grant signed by maria that the doctor can open.
    server.answer(
        "directory/lookup",
        serde_json::to_string(&doctor.served()).unwrap(),
    );
    let stored = grant_of(&maria, &doctor, &tree);
    server.answer(
        "sharing/grant/create",
        serde_json::to_string(&stored).unwrap(),
    );
    let labs = folder_id(&tree, "Lab results");
    let chosen = (labs, Permission::ReadWrite, None);
    let (label, note) = approve(session, &maria.unlocked(), &tree, &request, chosen)
        .await
        .unwrap();
    assert_eq!(label, "Lab results");
    // The doctor's keys were seen for the first time: pinned, and the
    // safety number is shown to compare.
    let number = doctor.verified().safety_number.groups().join(" ");
    assert_eq!(
        note.unwrap(),
        format!("First time you share with drwho. Safety number: {number}; compare it with them in person or on the phone.")
    );
    let sent = server.last_body("sharing/grant/create");
    let sent: shared::api::sharing::CreateGrantRequest =
        serde_json::from_value(sent["request"].clone()).unwrap();
    assert_eq!(sent.request_id, Some([5; 16]));
    assert_eq!(sent.emergency_wait_secs, None);
    let mut view = stored.clone();
    view.grant = sent.grant;
    view.wrapped_key = sent.wrapped_key;
    let opened = open_grant(
        &view,
        &maria.entry.value,
        &doctor.id(),
        doctor.keyring.encryption(),
    )
    .unwrap();
    assert_eq!(opened.grant.node_id, labs);
    assert_eq!(opened.grant.permission, Permission::ReadWrite);
    assert_eq!(opened.node_key, tree.node(&labs).unwrap().key);
}

#[wasm_bindgen_test]
async fn looking_up_a_name_nobody_has_says_so() {
    let server = StandIn::install();
    server.fail("directory/lookup", 404, "not_found", "No such user.");
    let maria = Person::new(7, "maria", Role::Patient);
    let refused = verified_entry(Session::new(), &maria.unlocked(), "nobody")
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        "There is no user named nobody. Check the spelling with them."
    );
    // A name that cannot be one is refused before anything is sent.
    let calls = server.count("directory/lookup");
    assert!(verified_entry(Session::new(), &maria.unlocked(), "no body")
        .await
        .is_err());
    assert_eq!(server.count("directory/lookup"), calls);
}

#[wasm_bindgen_test]
async fn a_share_not_signed_by_the_patient_opens_nothing() {
    let server = StandIn::install();
    let (_, tree) = record();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let mallory = Person::new(6, "mallory", Role::Patient);
    server.answer(
        "directory/lookup",
        serde_json::to_string(&maria.served()).unwrap(),
    );
    let usage = Usage {
        used_bytes: 0,
        quota_bytes: 1 << 30,
        max_file_bytes: 1 << 30,
    };
    let scope = |grant| SharedScope {
        grant,
        nodes: vec![],
        usage,
        head: None,
        head_leaves: vec![],
        profile: None,
    };
    // Signed by mallory in maria's name.
    let mut forged = grant_of(&maria, &doctor, &tree);
    forged.grant = sign(mallory.keyring.identity(), forged.grant.value.clone());
    server.answer(
        "sharing/shared",
        serde_json::to_string(&scope(forged)).unwrap(),
    );
    let grant = id_text(&[1; 16]);
    let refused = open_shared(Session::new(), doctor.unlocked(), grant.clone())
        .await
        .err()
        .unwrap();
    assert_eq!(
        refused,
        "The server's answer about this share is not signed by the patient, so nothing was opened. Contact your administrator."
    );
    // The patient's genuine grant served with a key the server chose,
    // wrapped to the doctor's real key for the right folder.
    let mut swapped = grant_of(&maria, &doctor, &tree);
    swapped.wrapped_key = shared::crypto::hpke::wrap_node_key(
        &doctor.keyring.encryption().public_key(),
        &doctor.id(),
        &tree.root_id,
        &shared::crypto::aead::Key256::generate().unwrap(),
    )
    .unwrap();
    server.answer(
        "sharing/shared",
        serde_json::to_string(&scope(swapped)).unwrap(),
    );
    let refused = open_shared(Session::new(), doctor.unlocked(), grant.clone())
        .await
        .err()
        .unwrap();
    assert!(
        refused.starts_with("The key for this shared folder was not the one the patient gave you"),
        "{refused}"
    );
    // An ended share is a plain "no longer shared".
    server.fail("sharing/shared", 404, "not_found", "Not found.");
    let ended = open_shared(Session::new(), doctor.unlocked(), grant)
        .await
        .err()
        .unwrap();
    assert!(ended.starts_with("This record is not shared with you, or no longer"));
}

/// Maria (id 7) owning a fresh record, the record as the server stores it,
/// and the record opened.
fn owner_with_record() -> (Person, RecordTree, OpenTree) {
    common::record::forget_heads();
    let record = TestRecord::new();
    let stored = record.tree();
    let keyring = record.keyring;
    let tree = OpenTree::open(stored.clone(), keyring.encryption()).unwrap();
    let maria = Person::with_keys(7, "maria", Role::Patient, keyring);
    (maria, stored, tree)
}

#[wasm_bindgen_test]
async fn rotation_replaces_the_keys_and_reports_progress() {
    let server = StandIn::install();
    let (maria, stored, tree) = owner_with_record();
    let labs = folder_id(&tree, "Lab results");
    server.answer("records/tree", serde_json::to_string(&stored).unwrap());
    let ticket = RotationTicket {
        rotation_id: [8; 16],
        nodes: vec![labs],
        versions: vec![],
        grants: vec![],
    };
    server.answer(
        "sharing/rotation/start",
        serde_json::to_string(&ticket).unwrap(),
    );
    server.answer("sharing/rotation/part", "null".into());
    server.answer("sharing/rotation/commit", "null".into());
    let store = RecordStore::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let progress = {
        let seen = seen.clone();
        move |done, total| seen.borrow_mut().push((done, total))
    };
    rotate_keys(
        Session::new(),
        store,
        &maria.unlocked(),
        labs,
        [3; 16],
        progress,
    )
    .await
    .unwrap();
    let parts = server.count("sharing/rotation/part") as u32;
    assert!(parts >= 1);
    let seen = seen.borrow().clone();
    assert_eq!(seen.first(), Some(&(0, parts + 1)));
    assert_eq!(seen.last(), Some(&(parts + 1, parts + 1)));
    let commit = server.last_body("sharing/rotation/commit");
    assert_eq!(commit["request"]["parts"], parts);
    // The re-keyed folder's new state, signed by the patient, and the
    // record's next head over it with the commit.
    let part: RotationPart =
        serde_json::from_value(server.last_body("sharing/rotation/part")["request"].clone())
            .unwrap();
    let state = part.nodes[0]
        .state
        .clone()
        .expect("the re-keyed node's state");
    let identity = maria.keyring.public_keys().identity;
    let state = state.verify(&identity).unwrap();
    assert_eq!(state.node_id, labs);
    assert_eq!(state.revision, 2);
    let head: Signed<RecordHead> =
        serde_json::from_value(commit["request"]["head"].clone()).unwrap();
    head.verify(&identity).unwrap();
    assert_eq!(
        head.value.counter,
        stored.head.as_ref().unwrap().value.counter + 1
    );
    // The tree from before, whose keys the removed doctor holds, is gone.
    assert!(store.tree().get_untracked().is_none());
}

#[wasm_bindgen_test]
async fn rotation_refuses_grants_the_server_should_not_list() {
    let server = StandIn::install();
    let (maria, stored, tree) = owner_with_record();
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let mallory = Person::new(6, "mallory", Role::Patient);
    let labs = folder_id(&tree, "Lab results");
    server.answer("records/tree", serde_json::to_string(&stored).unwrap());
    server.answer("sharing/rotation/part", "null".into());
    server.answer("sharing/rotation/commit", "null".into());
    let honest = {
        let choice = GrantChoice {
            doctor: doctor.entry.value.clone(),
            node_id: labs,
            node_key: tree.node(&labs).unwrap().key.clone(),
            permission: Permission::Read,
            expires_at: None,
            emergency: false,
        };
        let now = app::session::now_unix();
        let (grant, key) =
            make_grant(&maria.entry.value, maria.keyring.identity(), &choice, now).unwrap();
        let mut view = listed(grant, GrantStatus::Active);
        view.wrapped_key = key;
        view
    };
    let mut forged = honest.clone();
    forged.grant = sign(mallory.keyring.identity(), honest.grant.value.clone());
    let removed = honest.grant.value.grant_id;
    for (grants, why) in [
        (vec![forged], "a share that you did not sign"),
        // The grant just removed, listed as if it kept access.
        (vec![honest.clone()], "a share that you removed"),
    ] {
        let ticket = RotationTicket {
            rotation_id: [8; 16],
            nodes: vec![labs],
            versions: vec![],
            grants,
        };
        server.answer(
            "sharing/rotation/start",
            serde_json::to_string(&ticket).unwrap(),
        );
        let store = RecordStore::new();
        let refused = rotate_keys(
            Session::new(),
            store,
            &maria.unlocked(),
            labs,
            removed,
            |_, _| {},
        )
        .await
        .unwrap_err();
        assert!(refused.contains(why), "{refused}");
        assert!(refused.contains("No keys were replaced"), "{refused}");
        assert!(store.tree().get_untracked().is_none());
    }
    assert_eq!(server.count("sharing/rotation/part"), 0);
    assert_eq!(server.count("sharing/rotation/commit"), 0);
}
