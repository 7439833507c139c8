//! `tasks::authors`: who wrote a version, against a stand-in directory that
//! lies. The owner's own version needs no lookup; a version claimed by someone
//! else is refused without a patient-signed write grant, or when the directory
//! serves an entry that is not that person's; each author is looked up once
//! however many of their versions are checked.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::{
    session::{AuthState, Session},
    tasks::authors::{trusted_author, Authors, UNTRUSTED},
};
use shared::{
    api::records::VersionView,
    crypto::sign::sign,
    model::{FileManifest, Role},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "common/sharing.rs"]
mod support;

use support::{Person, StandIn};

const LOOKUP: &str = "directory/lookup";

/// A session with `reader`'s keys open (the pins are theirs).
fn signed_in(reader: &Person) -> Session {
    use leptos::prelude::Set;
    let session = Session::new();
    session.state.set(AuthState::Unlocked(reader.unlocked()));
    session
}

/// A version of a file in `patient`'s record, signed by `author`.
fn version_by(author: &Person, version: u32) -> VersionView {
    let manifest = FileManifest {
        node_id: [9; 16],
        parent_id: [8; 16],
        version,
        size: 10,
        part_hashes: vec![[0; 32]],
        author_id: author.id(),
        created_at: 1_795_000_100,
    };
    VersionView {
        node_id: [9; 16],
        version,
        chunk_size: 1 << 20,
        ciphertext_len: 1 << 20,
        wrapped_content_key: vec![0; 60],
        manifest: sign(author.keyring.identity(), manifest),
        author_id: author.id(),
        author_name: author.entry.value.username.clone(),
        stored_at: 1_795_000_100,
        write_grant: None,
    }
}

#[wasm_bindgen_test]
async fn the_owners_version_needs_no_lookup() {
    let server = StandIn::install();
    let patient = Person::new(1, "pat", Role::Patient);
    let (id, key) = trusted_author(
        signed_in(&patient),
        &version_by(&patient, 1),
        &patient.entry.value,
        |_, _| true,
    )
    .await
    .unwrap();
    assert_eq!(id, patient.id());
    assert_eq!(key, patient.entry.value.identity_key);
    assert_eq!(server.count(LOOKUP), 0);
}

#[wasm_bindgen_test]
async fn a_doctor_without_a_write_grant_is_refused() {
    let server = StandIn::install();
    let patient = Person::new(1, "pat", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    server.answer(LOOKUP, serde_json::to_string(&doctor.served()).unwrap());
    let refused = trusted_author(
        signed_in(&patient),
        &version_by(&doctor, 1),
        &patient.entry.value,
        |_, _| true,
    )
    .await;
    assert_eq!(refused, Err(UNTRUSTED.to_owned()));
    assert_eq!(server.count(LOOKUP), 1);
}

#[wasm_bindgen_test]
async fn an_entry_that_is_not_the_authors_is_refused() {
    let server = StandIn::install();
    let patient = Person::new(1, "pat", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    // The directory answers with someone else's (validly self-signed) entry.
    let mallory = Person::new(3, "mallory", Role::Doctor);
    server.answer(LOOKUP, serde_json::to_string(&mallory.served()).unwrap());
    let refused = trusted_author(
        signed_in(&patient),
        &version_by(&doctor, 1),
        &patient.entry.value,
        |_, _| true,
    )
    .await;
    assert_eq!(refused, Err(UNTRUSTED.to_owned()));
}

#[wasm_bindgen_test]
async fn each_author_is_looked_up_once_and_every_version_checked() {
    let server = StandIn::install();
    let patient = Person::new(1, "pat", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    server.answer(LOOKUP, serde_json::to_string(&doctor.served()).unwrap());
    let mut authors = Authors::default();
    for version in 1..=3 {
        let result = authors
            .trusted(
                signed_in(&patient),
                &version_by(&doctor, version),
                &patient.entry.value,
                |_, _| true,
            )
            .await;
        // No write grant: each version is refused on its own.
        assert_eq!(result, Err(UNTRUSTED.to_owned()));
    }
    assert_eq!(server.count(LOOKUP), 1, "the entry is remembered");
}

#[wasm_bindgen_test]
async fn an_author_whose_keys_changed_since_pinned_is_refused() {
    let server = StandIn::install();
    let patient = Person::new(1, "pat", Role::Patient);
    let doctor = Person::new(2, "drwho", Role::Doctor);
    server.answer(LOOKUP, serde_json::to_string(&doctor.served()).unwrap());
    // The first look pins the doctor's keys (the version itself is refused
    // here for want of a write grant).
    let _ = trusted_author(
        signed_in(&patient),
        &version_by(&doctor, 1),
        &patient.entry.value,
        |_, _| true,
    )
    .await;
    assert!(server.stored_pins().is_some());
    // Then the server serves other, validly self-signed keys for the doctor,
    // and a version signed with them.
    let impostor = Person::new(2, "drwho", Role::Doctor);
    server.answer(LOOKUP, serde_json::to_string(&impostor.served()).unwrap());
    let refused = trusted_author(
        signed_in(&patient),
        &version_by(&impostor, 2),
        &patient.entry.value,
        |_, _| true,
    )
    .await
    .unwrap_err();
    assert!(
        refused.starts_with(
            "drwho's keys have changed since you first saw them, so the version was not opened."
        ),
        "{refused}"
    );
}
