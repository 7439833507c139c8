//! `tasks::sharing::legacy`: shares made before grants signed their key's
//! hash. The decision which grants the patient's browser signs again (only
//! its own live grants that verify under the old encoding alone, not one it
//! removed, past its signed end date, or of a folder gone), and the step
//! itself against a stand-in server: the new grant verifies, its hash is the
//! fresh wrap's, the wrap opens for the doctor as the folder's key from the
//! patient's own record; a refusal is said in an alert.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use app::{
    session::Session,
    tasks::sharing::{legacy_plan, made_by, reissue_legacy_grants, LegacyPlan},
};
use shared::{
    api::sharing::{GrantStatus, GrantView},
    crypto::{
        hpke,
        sign::{sign, Signed, SigningKey},
    },
    model::{Grant, Id, Permission, Role},
    records::OpenTree,
    sharing::{verify_legacy, wrapped_key_hash},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
#[path = "common/sharing.rs"]
mod support;

use common::record::TestRecord;
use support::{listed, Person, StandIn};

const NOW: i64 = 1_795_500_000;

/// A grant of `node` from `patient` (id 7) to `doctor`, its value only.
fn value(id: u8, patient: &Person, doctor: &Person, node: Id) -> Grant {
    Grant {
        grant_id: [id; 16],
        patient_id: patient.id(),
        doctor_id: doctor.id(),
        doctor_key: doctor.entry.value.encryption_key,
        key_hash: [0; 32],
        node_id: node,
        permission: Permission::Read,
        created_at: NOW - 1000,
        expires_at: None,
        revision: 0,
    }
}

/// Signed as the release before `key_hash` signed it.
fn legacy(key: &SigningKey, value: Grant) -> Signed<Grant> {
    let signature = key.sign_bytes(&value.legacy_signed_bytes());
    Signed { value, signature }
}

/// maria (the record's owner, id 7), a doctor, and maria's record.
fn people() -> (Person, Person, OpenTree) {
    let record = TestRecord::new();
    let tree = record.open();
    let maria = Person::with_keys(7, "maria", Role::Patient, record.keyring);
    (maria, Person::new(2, "drwho", Role::Doctor), tree)
}

#[wasm_bindgen_test]
fn only_the_patients_own_live_legacy_grants_are_signed_again() {
    let (maria, doctor, tree) = people();
    let mallory = Person::new(6, "mallory", Role::Patient);
    let key = maria.keyring.identity();
    let root = tree.root_id;
    let old = |id: u8| legacy(key, value(id, &maria, &doctor, root));
    let mut grants: Vec<GrantView> = vec![
        // 1: legacy, active: signed again.
        listed(old(1), GrantStatus::Active),
        // 2: legacy, an emergency contact's on standby: signed again.
        listed(old(2), GrantStatus::Standby),
        // 3: signed under the current encoding already.
        listed(
            sign(key, value(3, &maria, &doctor, root)),
            GrantStatus::Active,
        ),
        // 4: legacy but ended.
        listed(old(4), GrantStatus::Revoked),
        // 5: legacy-signed by mallory in maria's name.
        listed(
            legacy(mallory.keyring.identity(), value(5, &maria, &doctor, root)),
            GrantStatus::Active,
        ),
        // 6: legacy, then changed by the server: verifies under neither.
        {
            let mut g = old(6);
            g.value.permission = Permission::ReadWrite;
            listed(g, GrantStatus::Active)
        },
        // 7: legacy, removed in this browser (the server still lists it).
        listed(old(7), GrantStatus::Active),
        // 8: legacy, past its signed end date by this browser's clock.
        {
            let mut v = value(8, &maria, &doctor, root);
            v.expires_at = Some(NOW - 1);
            listed(legacy(key, v), GrantStatus::Active)
        },
        // 9: legacy, of a folder no longer in the record.
        listed(
            legacy(key, value(9, &maria, &doctor, [99; 16])),
            GrantStatus::Active,
        ),
        // 10: signed by maria, but naming mallory as the patient.
        listed(
            legacy(key, value(10, &mallory, &doctor, root)),
            GrantStatus::Active,
        ),
    ];
    grants[3].revoked_at = Some(NOW - 10);
    let removed = HashSet::from([[7u8; 16]]);
    let plan = legacy_plan(
        &grants,
        &maria.entry.value,
        &removed,
        |id| tree.node(id).is_some(),
        NOW,
    );
    assert_eq!(
        plan,
        LegacyPlan {
            renew: vec![[1; 16], [2; 16]],
            left: 3,
        }
    );
    // Nothing to do in a list without legacy grants.
    let none = legacy_plan(&grants[2..3], &maria.entry.value, &removed, |_| true, NOW);
    assert_eq!(none, LegacyPlan::default());
    // The list calls a legacy grant maria's; one under neither encoding not.
    assert!(made_by(&grants[0], &maria.entry.value));
    assert!(made_by(&grants[3], &maria.entry.value));
    assert!(!made_by(&grants[4], &maria.entry.value));
    assert!(!made_by(&grants[5], &maria.entry.value));
}

#[wasm_bindgen_test]
async fn legacy_shares_are_signed_again_over_a_fresh_wrap() {
    let server = StandIn::install();
    let (maria, doctor, tree) = people();
    let key = maria.keyring.identity();
    let labs = tree
        .nodes()
        .find(|n| n.metadata.name == "Lab results")
        .map(|n| *n.id())
        .unwrap();
    let old = legacy(key, value(1, &maria, &doctor, labs));
    let mut neither = legacy(key, value(2, &maria, &doctor, tree.root_id));
    neither.value.created_at += 1;
    let mut grants = vec![
        listed(old.clone(), GrantStatus::Active),
        listed(neither.clone(), GrantStatus::Active),
        listed(
            legacy(key, value(3, &maria, &doctor, tree.root_id)),
            GrantStatus::Waiting,
        ),
    ];
    server.answer(
        "sharing/grant/renew",
        serde_json::to_string(&grants[0]).unwrap(),
    );
    let said = reissue_legacy_grants(Session::new(), &maria.unlocked(), &tree, &mut grants).await;
    assert_eq!(
        said,
        Some((
            false,
            "2 shares made before this update were signed again; nothing else changed.".to_owned()
        ))
    );
    assert_eq!(server.count("sharing/grant/renew"), 2);
    let body = server.last_body("sharing/grant/renew");
    let sent: Signed<Grant> = serde_json::from_value(body["request"]["grant"].clone()).unwrap();
    assert_eq!(sent.value.grant_id, [3; 16]);
    let first = &grants[0];
    // The same grant, signed again under the current encoding ...
    let renewed = first.grant.verify(&maria.entry.value.identity_key).unwrap();
    let mut same = renewed.clone();
    same.key_hash = old.value.key_hash;
    assert_eq!(same, old.value);
    assert!(verify_legacy(&first.grant, &maria.entry.value.identity_key).is_err());
    // ... over a wrap it names, which opens for the doctor as the folder's
    // key from maria's own record.
    let calls = server.calls.borrow();
    let (_, first_body) = calls
        .iter()
        .find(|(e, _)| e == "sharing/grant/renew")
        .unwrap();
    let first_body: serde_json::Value = serde_json::from_str(first_body).unwrap();
    let wrapped =
        shared::crypto::b64::decode(first_body["request"]["wrapped_key"].as_str().unwrap())
            .unwrap();
    assert_eq!(renewed.key_hash, wrapped_key_hash(&wrapped));
    let opened =
        hpke::unwrap_node_key(doctor.keyring.encryption(), &doctor.id(), &labs, &wrapped).unwrap();
    assert_eq!(opened.as_bytes(), tree.node(&labs).unwrap().key.as_bytes());
    // The grant under neither encoding is left exactly as listed.
    assert_eq!(grants[1].grant, neither);
}

#[wasm_bindgen_test]
async fn a_refused_renewal_is_said_in_an_alert_and_changes_nothing() {
    let server = StandIn::install();
    let (maria, doctor, tree) = people();
    let old = legacy(
        maria.keyring.identity(),
        value(1, &maria, &doctor, tree.root_id),
    );
    let mut grants = vec![listed(old.clone(), GrantStatus::Active)];
    server.fail(
        "sharing/grant/renew",
        409,
        "conflict",
        "This share has already ended, so there is nothing to sign again.",
    );
    let (alert, text) =
        reissue_legacy_grants(Session::new(), &maria.unlocked(), &tree, &mut grants)
            .await
            .unwrap();
    assert!(alert);
    assert!(
        text.starts_with(
            "1 share made before this update was not signed again: This share has already ended"
        ),
        "{text}"
    );
    assert!(text.contains("reload the page to try again"), "{text}");
    assert_eq!(grants[0].grant, old);
    // With no legacy grant, nothing is sent and nothing said.
    let mut current = vec![listed(
        sign(
            maria.keyring.identity(),
            value(2, &maria, &doctor, tree.root_id),
        ),
        GrantStatus::Active,
    )];
    assert_eq!(
        reissue_legacy_grants(Session::new(), &maria.unlocked(), &tree, &mut current).await,
        None
    );
    assert_eq!(server.count("sharing/grant/renew"), 1);
}
