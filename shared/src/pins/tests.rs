//! The pin comparison, merge and migration, and the sealed, signed pin object
//! against a server that forges, swaps or rolls it back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::{
    api::directory::DirectoryEntry,
    client::{key_entry, verify_directory_entry},
    model::Role,
};

fn person(id: u8, name: &str) -> (Keyring, Signed<KeyEntry>) {
    let keyring = Keyring::generate().unwrap();
    let entry = key_entry(&keyring, [id; 16], name, Role::Doctor, 1_795_000_000);
    (keyring, entry)
}

fn verified(entry: &Signed<KeyEntry>) -> VerifiedEntry {
    let served = DirectoryEntry {
        entry: entry.clone(),
        certificate: None,
        certifier: None,
        certifier_certificate: None,
        disabled: false,
    };
    verify_directory_entry(&entry.value.username, &served, None).unwrap()
}

#[test]
fn first_contact_then_same_then_changed() {
    let (_, doctor) = person(2, "drwho");
    let mut pins = PinList::default();
    assert_eq!(pins.check(&verified(&doctor)), PinCheck::FirstContact);
    pins.pin(&verified(&doctor), 10);
    assert_eq!(pins.check(&verified(&doctor)), PinCheck::Same);

    // The server swaps in other keys, validly self-signed, for the same name.
    let (_, impostor) = person(2, "drwho");
    let PinCheck::Changed(old) = pins.check(&verified(&impostor)) else {
        panic!("a key change must be caught");
    };
    assert_eq!(old.safety_number, digits(&verified(&doctor).safety_number));

    // Or another account under the same name, even with the same keys.
    let (keyring, _) = person(2, "drwho");
    let other_account = key_entry(&keyring, [3; 16], "drwho", Role::Doctor, 1);
    let mut pins2 = PinList::default();
    let mut first = verified(&other_account);
    pins2.pin(&first, 1);
    first.entry.user_id = [4; 16];
    assert!(matches!(pins2.check(&first), PinCheck::Changed(_)));

    // Trusting the new keys re-pins them, in place of the old.
    pins.pin(&verified(&impostor), 20);
    assert_eq!(pins.check(&verified(&impostor)), PinCheck::Same);
    assert_eq!(pins.pins.len(), 1);
}

#[test]
fn the_list_stays_sorted_and_unique() {
    let mut pins = PinList::default();
    for (id, name) in [(3, "zed"), (1, "anna"), (2, "mike"), (4, "anna")] {
        pins.pin(&verified(&person(id, name).1), i64::from(id));
    }
    let names: Vec<_> = pins.pins.iter().map(|p| p.username.as_str()).collect();
    assert_eq!(names, ["anna", "mike", "zed"]);
    assert_eq!(pins.get("anna").unwrap().user_id, [4; 16]);
}

#[test]
fn a_merge_keeps_both_sides_and_the_newer_pin() {
    let (_, a) = person(1, "anna");
    let (_, b) = person(2, "bob");
    let (_, b2) = person(2, "bob");
    let mut mine = PinList::default();
    mine.pin(&verified(&a), 5);
    mine.pin(&verified(&b), 5);
    let mut theirs = PinList::default();
    theirs.pin(&verified(&b2), 9);
    let (_, c) = person(3, "carol");
    theirs.pin(&verified(&c), 1);

    let mut merged = mine.clone();
    merged.merge(&theirs);
    assert_eq!(merged.pins.len(), 3);
    assert_eq!(merged.check(&verified(&b2)), PinCheck::Same);

    // An older copy never overrides a newer pin.
    let mut newer_first = theirs.clone();
    newer_first.merge(&mine);
    assert_eq!(newer_first.check(&verified(&b2)), PinCheck::Same);
    assert_eq!(newer_first.check(&verified(&a)), PinCheck::Same);
}

#[test]
fn migration_takes_well_formed_local_pins_only() {
    let (_, doctor) = person(2, "drwho");
    let v = verified(&doctor);
    let id = b64::encode(&v.entry.user_id);
    let number = v.safety_number.to_string().replace('\n', " ");
    let mut pins = PinList::default();
    pins.migrate("drwho", &id, &number, 1);
    pins.migrate("bad", "not-an-id", &number, 1);
    pins.migrate("short", &id, "12345 67890", 1);
    pins.migrate("Bad Name!", &id, &number, 1);
    assert_eq!(pins.pins.len(), 1);
    assert_eq!(pins.check(&v), PinCheck::Same);
    // A pin already there is not replaced by a migrated one.
    let (_, other) = person(2, "drwho");
    let o = verified(&other);
    pins.migrate(
        "drwho",
        &id,
        &o.safety_number.to_string().replace('\n', " "),
        2,
    );
    assert_eq!(pins.check(&v), PinCheck::Same);
}

fn sealed_list(me: (&Keyring, &KeyEntry), counter: u64) -> (PinList, Signed<PinEnvelope>) {
    let mut list = PinList::default();
    list.pin(&verified(&person(2, "drwho").1), 3);
    let envelope = seal_pins(me.0, &me.1.user_id, counter, &list).unwrap();
    (list, envelope)
}

#[test]
fn the_object_opens_for_its_owner_on_any_device() {
    let (keyring, me) = person(1, "maria");
    let (list, envelope) = sealed_list((&keyring, &me.value), 4);
    assert_eq!(
        open_pins(&keyring, &me.value, &envelope, None).unwrap(),
        list
    );
    assert_eq!(
        open_pins(&keyring, &me.value, &envelope, Some(4)).unwrap(),
        list
    );
    // As JSON on the wire and back.
    let wire: Signed<PinEnvelope> =
        serde_json::from_str(&serde_json::to_string(&envelope).unwrap()).unwrap();
    assert_eq!(
        open_pins(&keyring, &me.value, &wire, Some(3)).unwrap(),
        list
    );
}

#[test]
fn a_rolled_back_or_hidden_object_is_refused() {
    let (keyring, me) = person(1, "maria");
    let (_, old) = sealed_list((&keyring, &me.value), 2);
    assert_eq!(
        open_pins(&keyring, &me.value, &old, Some(3)),
        Err(PinsError::Rollback { seen: 3, served: 2 })
    );
    assert_eq!(
        check_absent(Some(3)),
        Err(PinsError::Rollback { seen: 3, served: 0 })
    );
    assert_eq!(check_absent(None), Ok(()));
}

#[test]
fn a_forged_swapped_or_altered_object_is_refused() {
    let (keyring, me) = person(1, "maria");
    let (_, envelope) = sealed_list((&keyring, &me.value), 2);

    // The server signs a list of its own choosing with another key.
    let (server_keys, _) = person(1, "maria");
    let (_, forged) = sealed_list((&server_keys, &me.value), 9);
    assert_eq!(
        open_pins(&keyring, &me.value, &forged, None),
        Err(PinsError::Forged)
    );

    // Another user's valid object served as mine.
    let (other_keys, other) = person(5, "olga");
    let (_, theirs) = sealed_list((&other_keys, &other.value), 9);
    assert_eq!(
        open_pins(&keyring, &me.value, &theirs, None),
        Err(PinsError::Forged)
    );

    // A raised counter, or one altered byte, breaks the signature.
    let mut raised = envelope.clone();
    raised.value.counter = 7;
    assert_eq!(
        open_pins(&keyring, &me.value, &raised, None),
        Err(PinsError::Forged)
    );
    let mut flipped = envelope.clone();
    flipped.value.sealed[20] ^= 1;
    assert_eq!(
        open_pins(&keyring, &me.value, &flipped, None),
        Err(PinsError::Forged)
    );

    // Re-signed by me but with the counter moved: the sealed list is bound
    // to its counter, so an old list cannot be relabelled as new.
    let relabelled = sign::sign(
        keyring.identity(),
        PinEnvelope {
            counter: 8,
            ..envelope.value.clone()
        },
    );
    assert_eq!(
        open_pins(&keyring, &me.value, &relabelled, None),
        Err(PinsError::Forged)
    );
}

#[test]
fn an_oversized_list_is_refused_before_sending() {
    let (keyring, me) = person(1, "maria");
    let mut list = PinList::default();
    for i in 0..4000u32 {
        list.pins.push(Pin {
            username: format!("user{i:05}"),
            user_id: [1; 16],
            safety_number: "0".repeat(60),
            pinned_at: 1,
        });
    }
    assert_eq!(
        seal_pins(&keyring, &me.value.user_id, 1, &list),
        Err(PinsError::TooLarge)
    );
}

#[test]
fn the_envelope_signs_the_documented_bytes() {
    // docs/PROTOCOL.md section 9: bind("medvault/v1/sign/pins",
    // [user_id (16), u64be counter, sealed]).
    let envelope = PinEnvelope {
        user_id: [5; 16],
        counter: 258,
        sealed: vec![1, 2, 3],
    };
    let mut expected = Vec::new();
    for field in [
        b"medvault/v1/sign/pins".as_slice(),
        &[5; 16],
        &258u64.to_be_bytes(),
        &[1, 2, 3],
    ] {
        expected.extend_from_slice(&(field.len() as u32).to_be_bytes());
        expected.extend_from_slice(field);
    }
    assert_eq!(envelope.signed_bytes(), expected);
    // And the JSON field names of section 15.10.
    let json = serde_json::to_value(&envelope).unwrap();
    assert_eq!(json["user_id"], b64::encode(&[5; 16]));
    assert_eq!(json["counter"], 258);
    assert_eq!(json["sealed"], "AQID");
    let list = serde_json::to_value(PinList::default()).unwrap();
    assert_eq!(list, serde_json::json!({"version": 1, "pins": []}));
}
