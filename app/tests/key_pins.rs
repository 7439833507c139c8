//! `tasks::directory`'s key pins against a stand-in server that lies: the
//! first keys seen are pinned (the user's own sealed, signed object on the
//! server) and reported as a first contact; the same keys pass; other keys,
//! validly self-signed, stop the action until the user trusts them; an older
//! copy of the pin object, a hidden one, or one the user did not sign is
//! refused; the keys this browser remembered before are migrated into the
//! object. The doctor's view of a patient's record refuses a changed patient
//! key the same way.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::{
    session::Session,
    tasks::{
        directory::{checked_keys, look_up_pinned, trust_new_keys, Purpose},
        sharing::{id_text, open_shared},
    },
};
use shared::{
    api::{
        records::Usage,
        sharing::{GrantStatus, SharedScope},
    },
    crypto::{aead::Key256, b64},
    model::{Permission, Role},
    pins::{digits, open_pins, seal_pins, PinList},
    sharing::{make_grant, GrantChoice},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "common/sharing.rs"]
mod support;

use support::{listed, Person, StandIn};

const LOOKUP: &str = "directory/lookup";
const PINS: &str = "account/pins";

fn explain(e: &shared::api::ApiError) -> String {
    e.message.clone()
}

/// The directory answers for `person`.
fn serve_entry(server: &StandIn, person: &Person) {
    server.answer(LOOKUP, serde_json::to_string(&person.served()).unwrap());
}

/// How many saves of the pin object were sent.
fn saves(server: &StandIn) -> usize {
    server
        .calls
        .borrow()
        .iter()
        .filter(|(e, body)| e == PINS && !body.is_empty())
        .count()
}

#[wasm_bindgen_test]
async fn first_contact_is_pinned_then_a_change_stops_until_trusted() {
    let server = StandIn::install();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let session = Session::new();
    serve_entry(&server, &doctor);

    let first = checked_keys(
        session,
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap();
    assert!(first.first_contact);
    let number = doctor.verified().safety_number.groups().join(" ");
    assert_eq!(
        first.first_contact_note(Purpose::Share).unwrap(),
        format!("First time you share with drwho. Safety number: {number}; compare it with them in person or on the phone.")
    );
    // Pinned in maria's own object: sealed, signed, counter 1.
    let stored = server.stored_pins().unwrap();
    assert_eq!(stored.value.counter, 1);
    let list = open_pins(&maria.keyring, &maria.entry.value, &stored, None).unwrap();
    assert_eq!(
        list.get("drwho").unwrap().safety_number,
        digits(&doctor.verified().safety_number)
    );

    // The same keys again: no note, nothing saved.
    let again = checked_keys(
        session,
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap();
    assert!(!again.first_contact);
    assert_eq!(again.first_contact_note(Purpose::Share), None);
    assert_eq!(saves(&server), 1);

    // The server swaps in other keys, validly self-signed, for the doctor.
    let impostor = Person::new(2, "drwho", Role::Doctor);
    serve_entry(&server, &impostor);
    let refused = checked_keys(
        session,
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused,
        "drwho's keys have changed since you first saw them, so nothing was shared. They may have set up their account again, or someone may be pretending to be them. Compare the new safety number with drwho in person or on the phone, then choose \"Trust the new keys\" on the Directory page."
    );
    assert_eq!(saves(&server), 1, "a change is never pinned silently");

    // The Directory page shows the change, and trusting re-pins.
    let found = look_up_pinned(session, &maria.unlocked(), "drwho", explain)
        .await
        .unwrap();
    assert_eq!(found.same_as_before, Some(false));
    trust_new_keys(session, &maria.unlocked(), &found.entry)
        .await
        .unwrap();
    assert_eq!(server.stored_pins().unwrap().value.counter, 2);
    let now = checked_keys(
        session,
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap();
    assert!(!now.first_contact);
}

#[wasm_bindgen_test]
async fn an_older_hidden_or_forged_pin_object_is_refused() {
    let server = StandIn::install();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let nurse = Person::new(3, "nurse.jo", Role::Doctor);
    let session = Session::new();
    serve_entry(&server, &doctor);
    checked_keys(
        session,
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap();
    let first_copy = server.stored_pins().unwrap();
    serve_entry(&server, &nurse);
    checked_keys(
        session,
        &maria.unlocked(),
        "nurse.jo",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap();
    assert_eq!(server.stored_pins().unwrap().value.counter, 2);

    // The server serves the first copy again (without the nurse's pin).
    server.answer(PINS, serde_json::to_string(&first_copy).unwrap());
    let refused = checked_keys(
        session,
        &maria.unlocked(),
        "nurse.jo",
        Purpose::Open,
        explain,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused,
        "The server sent an older copy of your saved keys (copy 1; this browser has already seen copy 2), so nothing was opened. Reload the page and try again; if this message comes back, contact your administrator."
    );
    // Or none at all.
    server.answer(PINS, "null".to_owned());
    let refused = checked_keys(
        session,
        &maria.unlocked(),
        "nurse.jo",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        refused.starts_with("The server sent an older copy of your saved keys (copy 0;"),
        "{refused}"
    );

    // Or a list of its choosing, signed with another key.
    let server_keys = Person::new(7, "maria", Role::Patient);
    let forged = seal_pins(&server_keys.keyring, &maria.id(), 9, &PinList::default()).unwrap();
    server.answer(PINS, serde_json::to_string(&forged).unwrap());
    let refused = checked_keys(
        session,
        &maria.unlocked(),
        "nurse.jo",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused,
        "The server's copy of your saved keys is not signed by you, so nothing was shared. Contact your administrator."
    );
}

#[wasm_bindgen_test]
async fn keys_this_browser_saw_before_are_migrated() {
    let server = StandIn::install();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let verified = doctor.verified();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage
        .set_item(
            "medvault.seen.drwho",
            &format!(
                "{} {}",
                b64::encode(&doctor.id()),
                verified.safety_number.to_string().replace('\n', " ")
            ),
        )
        .unwrap();
    // The server swaps the doctor's keys before the first use of pins: the
    // old local pin catches it, and is now saved with maria's keys.
    let impostor = Person::new(2, "drwho", Role::Doctor);
    serve_entry(&server, &impostor);
    let refused = checked_keys(
        session(),
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        refused.starts_with("drwho's keys have changed"),
        "{refused}"
    );
    let stored = server.stored_pins().unwrap();
    let list = open_pins(&maria.keyring, &maria.entry.value, &stored, None).unwrap();
    assert_eq!(list.get("drwho").unwrap().user_id, doctor.id());

    // The real keys pass, and are no first contact.
    serve_entry(&server, &doctor);
    let same = checked_keys(
        session(),
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap();
    assert!(!same.first_contact);
}

#[wasm_bindgen_test]
async fn a_save_that_loses_to_another_tab_is_merged_and_retried() {
    let server = StandIn::install();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let nurse = Person::new(3, "nurse.jo", Role::Doctor);
    // Another tab pins the nurse (copy 1) just before this tab saves.
    let mut theirs = PinList::default();
    theirs.pin(&nurse.verified(), 5);
    let other = seal_pins(&maria.keyring, &maria.id(), 1, &theirs).unwrap();
    *server.other_tab.borrow_mut() = Some(serde_json::to_string(&other).unwrap());

    serve_entry(&server, &doctor);
    let first = checked_keys(
        session(),
        &maria.unlocked(),
        "drwho",
        Purpose::Share,
        explain,
        None,
    )
    .await
    .unwrap();
    assert!(first.first_contact);
    // The retry read copy 1 and saved copy 2 on top: both pins are kept.
    let stored = server.stored_pins().unwrap();
    assert_eq!(stored.value.counter, 2);
    let list = open_pins(&maria.keyring, &maria.entry.value, &stored, Some(2)).unwrap();
    assert!(list.get("drwho").is_some());
    assert!(list.get("nurse.jo").is_some());
    let sent = server.last_body(PINS);
    assert_eq!(sent["request"]["expected_counter"], 1);
}

fn session() -> Session {
    Session::new()
}

#[wasm_bindgen_test]
async fn the_doctor_view_refuses_a_changed_patient_key() {
    let server = StandIn::install();
    let maria = Person::new(7, "maria", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    let choice = GrantChoice {
        doctor: doctor.entry.value.clone(),
        node_id: [4; 16],
        node_key: Key256::generate().unwrap(),
        permission: Permission::Read,
        expires_at: None,
        emergency: false,
    };
    let (grant, wrapped_key) =
        make_grant(&maria.entry.value, maria.keyring.identity(), &choice, 1).unwrap();
    let mut view = listed(grant, GrantStatus::Active);
    view.wrapped_key = wrapped_key;
    let scope = SharedScope {
        grant: view,
        nodes: vec![],
        usage: Usage {
            used_bytes: 0,
            quota_bytes: 1 << 30,
            max_file_bytes: 1 << 30,
        },
        head: None,
        head_leaves: Vec::new(),
        profile: None,
    };
    server.answer("sharing/shared", serde_json::to_string(&scope).unwrap());
    serve_entry(&server, &maria);
    // The first open pins maria's keys (the empty scope then fails to open
    // as a tree, which does not matter here).
    let _ = open_shared(Session::new(), doctor.unlocked(), id_text(&[1; 16])).await;
    let stored = server.stored_pins().unwrap();
    let list = open_pins(&doctor.keyring, &doctor.entry.value, &stored, None).unwrap();
    assert!(list.get("maria").is_some());

    // Then the server serves other keys for maria (and a grant signed with them).
    let impostor = Person::new(7, "maria", Role::Patient);
    serve_entry(&server, &impostor);
    let refused = open_shared(Session::new(), doctor.unlocked(), id_text(&[1; 16]))
        .await
        .err()
        .unwrap();
    assert!(
        refused.starts_with(
            "maria's keys have changed since you first saw them, so nothing was opened."
        ),
        "{refused}"
    );
}
