//! `tasks::emergency`: waiting periods and their words, who may be an
//! emergency contact, and the flows against a stand-in server: a forged
//! contact entry is refused before anything is shared, naming a contact
//! sends a read grant of the whole record that the contact can open, asking
//! is checked before it is sent, and a refusal the server rejects says why.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::{
    session::Session,
    tasks::emergency::{
        ask, contact_allowed, name_contact, refuse, state_text, verified_contact, wait_of,
        wait_text, waiting_for, DEFAULT_WAIT, WAITS,
    },
};
use shared::{
    api::sharing::{CreateGrantRequest, Emergency, GrantStatus},
    model::{Permission, Role},
    sharing::{make_grant, open_grant, GrantChoice},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
#[path = "common/sharing.rs"]
mod support;

use common::record::TestRecord;
use support::{listed, Person, StandIn};

const HOUR: i64 = 60 * 60;
const DAY: i64 = 24 * HOUR;

#[wasm_bindgen_test]
fn waiting_periods_in_words() {
    let words: Vec<String> = WAITS.iter().map(|(s, _)| wait_text(*s)).collect();
    assert_eq!(
        words,
        ["1 hour", "1 day", "2 days", "7 days", "14 days", "30 days"]
    );
    assert_eq!(wait_text(3 * DAY), "3 days");
    assert_eq!(wait_text(5 * HOUR), "5 hours");
    assert_eq!(DEFAULT_WAIT, 2 * DAY);
}

#[wasm_bindgen_test]
fn a_waiting_period_is_a_number_within_limits() {
    assert_eq!(wait_of("3600"), Ok(HOUR));
    assert_eq!(wait_of(&(30 * DAY).to_string()), Ok(30 * DAY));
    assert_eq!(wait_of(""), Err("Choose a waiting period.".to_owned()));
    assert_eq!(
        wait_of("two days"),
        Err("Choose a waiting period.".to_owned())
    );
    let limits = Err("The waiting period must be between 1 hour and 30 days.".to_owned());
    assert_eq!(wait_of("60"), limits);
    assert_eq!(wait_of(&(31 * DAY).to_string()), limits);
    assert_eq!(wait_of("-3600"), limits);
}

#[wasm_bindgen_test]
fn the_state_of_an_emergency_grant_in_words() {
    let quiet = Emergency {
        wait_secs: DAY,
        requested_at: None,
        reason: None,
        refused_at: None,
    };
    assert_eq!(state_text(&quiet, GrantStatus::Standby), "Not asked for");
    let refused = Emergency {
        refused_at: Some(1_795_422_600),
        ..quiet.clone()
    };
    assert!(state_text(&refused, GrantStatus::Standby).starts_with("Last request refused "));
    let asked = Emergency {
        requested_at: Some(1_795_422_600),
        reason: Some("Unconscious in A&E".into()),
        ..quiet.clone()
    };
    let waiting = state_text(&asked, GrantStatus::Waiting);
    assert!(waiting.starts_with("Asked "), "{waiting}");
    assert!(waiting.ends_with(" unless refused"), "{waiting}");
    assert!(state_text(&asked, GrantStatus::Active).starts_with("Open since "));
    // Waiting without a request time (a server that lies) falls back.
    assert_eq!(state_text(&quiet, GrantStatus::Waiting), "Not asked for");
}

#[wasm_bindgen_test]
fn a_contact_is_a_patient_or_doctor_enabled_and_not_oneself() {
    let maria = Person::new(7, "maria", Role::Patient);
    let me = maria.id();
    assert_eq!(
        contact_allowed(&Person::new(2, "drwho", Role::Doctor).verified(), &me),
        Ok(())
    );
    assert_eq!(
        contact_allowed(&Person::new(3, "jon", Role::Patient).verified(), &me),
        Ok(())
    );
    for role in [Role::Admin, Role::Auditor] {
        assert_eq!(
            contact_allowed(&Person::new(4, "boss", role).verified(), &me),
            Err(
                "boss is an administrator or auditor account and cannot be an emergency contact."
                    .into()
            )
        );
    }
    let mut disabled = Person::new(3, "jon", Role::Patient).verified();
    disabled.disabled = true;
    assert!(contact_allowed(&disabled, &me)
        .unwrap_err()
        .contains("disabled by an administrator"));
    assert_eq!(
        contact_allowed(&maria.verified(), &me),
        Err("You cannot be your own emergency contact.".into())
    );
}

#[wasm_bindgen_test]
async fn a_forged_contact_is_refused_and_an_honest_one_gets_a_read_grant() {
    let server = StandIn::install();
    let record = TestRecord::new();
    let tree = record.open();
    let maria = Person::new(7, "maria", Role::Patient);
    let jon = Person::new(3, "jon", Role::Patient);
    let mallory = Person::new(6, "mallory", Role::Patient);
    let session = Session::new();

    // The server answers for "jon" with mallory's entry.
    server.answer(
        "directory/lookup",
        serde_json::to_string(&mallory.served()).unwrap(),
    );
    let refused = verified_contact(session, &maria.unlocked(), "jon")
        .await
        .unwrap_err();
    assert!(refused.starts_with("The server's answer did not match your keys"));
    // Or with maria's own, under her name.
    server.answer(
        "directory/lookup",
        serde_json::to_string(&maria.served()).unwrap(),
    );
    let refused = verified_contact(session, &maria.unlocked(), "maria")
        .await
        .unwrap_err();
    assert_eq!(refused, "You cannot be your own emergency contact.");
    assert_eq!(server.count("sharing/grant/create"), 0);

    server.answer(
        "directory/lookup",
        serde_json::to_string(&jon.served()).unwrap(),
    );
    let checked = verified_contact(session, &maria.unlocked(), "jon")
        .await
        .unwrap();
    assert!(checked.first_contact);
    let contact = checked.entry;

    // Later, the server swaps in other keys for jon: refused, nothing shared.
    let impostor = Person::new(3, "jon", Role::Patient);
    server.answer(
        "directory/lookup",
        serde_json::to_string(&impostor.served()).unwrap(),
    );
    let refused = verified_contact(session, &maria.unlocked(), "jon")
        .await
        .unwrap_err();
    assert!(
        refused.starts_with(
            "jon's keys have changed since you first saw them, so nothing was shared."
        ),
        "{refused}"
    );
    assert_eq!(server.count("sharing/grant/create"), 0);
    // Whatever the server stores, it answers with a grant view.
    let choice = GrantChoice {
        doctor: jon.entry.value.clone(),
        node_id: tree.root_id,
        node_key: tree.node(&tree.root_id).unwrap().key.clone(),
        permission: Permission::Read,
        expires_at: None,
        emergency: true,
    };
    let (grant, _) = make_grant(&maria.entry.value, maria.keyring.identity(), &choice, 1).unwrap();
    let stored = listed(grant, GrantStatus::Standby);
    server.answer(
        "sharing/grant/create",
        serde_json::to_string(&stored).unwrap(),
    );
    name_contact(session, &maria.unlocked(), &tree, &contact, 7 * DAY)
        .await
        .unwrap();
    let sent: CreateGrantRequest =
        serde_json::from_value(server.last_body("sharing/grant/create")["request"].clone())
            .unwrap();
    assert_eq!(sent.emergency_wait_secs, Some(7 * DAY));
    assert_eq!(sent.request_id, None);
    let mut view = stored.clone();
    view.grant = sent.grant;
    view.wrapped_key = sent.wrapped_key;
    let opened = open_grant(
        &view,
        &maria.entry.value,
        &jon.id(),
        jon.keyring.encryption(),
    )
    .unwrap();
    assert_eq!(opened.grant.node_id, tree.root_id);
    assert_eq!(opened.grant.permission, Permission::Read);
    assert_eq!(opened.grant.expires_at, None);
}

#[wasm_bindgen_test]
async fn asking_checks_the_reason_before_sending() {
    let server = StandIn::install();
    let session = Session::new();
    assert!(ask(session, [1; 16], "").await.is_err());
    assert!(ask(session, [1; 16], &"x".repeat(501)).await.is_err());
    assert_eq!(server.count("sharing/emergency/request"), 0);

    let record = TestRecord::new();
    let tree = record.open();
    let maria = Person::new(7, "maria", Role::Patient);
    let jon = Person::new(3, "jon", Role::Patient);
    let choice = GrantChoice {
        doctor: jon.entry.value.clone(),
        node_id: tree.root_id,
        node_key: tree.node(&tree.root_id).unwrap().key.clone(),
        permission: Permission::Read,
        expires_at: None,
        emergency: true,
    };
    let (grant, _) = make_grant(&maria.entry.value, maria.keyring.identity(), &choice, 1).unwrap();
    let mut waiting = listed(grant, GrantStatus::Waiting);
    waiting.emergency = Some(Emergency {
        wait_secs: DAY,
        requested_at: Some(1_795_422_600),
        reason: Some("Unconscious in A&E".into()),
        refused_at: None,
    });
    server.answer(
        "sharing/emergency/request",
        serde_json::to_string(&waiting).unwrap(),
    );
    let answered = ask(session, [1; 16], "Unconscious in A&E").await.unwrap();
    assert_eq!(answered.status, GrantStatus::Waiting);
    let body = server.last_body("sharing/emergency/request");
    assert_eq!(body["request"]["reason"], "Unconscious in A&E");

    // The patient's notice lists only waiting requests to them.
    let mut to_someone_else = waiting.clone();
    to_someone_else.grant.value.patient_id = [9; 16];
    let standby = listed(waiting.grant.clone(), GrantStatus::Standby);
    server.answer(
        "sharing/grants",
        serde_json::to_string(&vec![waiting.clone(), to_someone_else, standby]).unwrap(),
    );
    let notices = waiting_for(maria.id()).await;
    assert_eq!(notices, vec![waiting]);
}

#[wasm_bindgen_test]
async fn a_refusal_the_server_rejects_says_why() {
    let server = StandIn::install();
    server.fail(
        "sharing/emergency/refuse",
        409,
        "conflict",
        "This request has already opened.",
    );
    let refused = refuse(Session::new(), [1; 16]).await.unwrap_err();
    assert_eq!(refused, "This request has already opened.");
    assert_eq!(server.count("sharing/emergency/refuse"), 1);
    // The notice shows nothing when the list cannot be loaded.
    server.fail("sharing/grants", 500, "internal", "Boom.");
    assert!(waiting_for([7; 16]).await.is_empty());
}
