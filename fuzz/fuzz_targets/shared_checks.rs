//! The browser's checks in `shared` of signed things the server serves, and
//! the vital-sign and bulk-upload helpers, chosen by the first byte: file
//! versions and their manifests (`check_version`, `verify_version`), the
//! grants a rotation keeps (`trusted_rotation_grants`), legacy grants, the
//! auditor's remembered chain (`AuditMemory` and
//! `ChainVerifier::with_memory`), signed node states below a forged head
//! (owner's and doctor's view), vital readings, and small files for
//! `records/batch`. As in `shared_decode`, what is signed is taken forged or,
//! with a flag, re-signed under the fixed keys, so that the checks behind
//! the signatures run on the fuzzer's values.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use medvault_fuzz::{hpke_secret, signing_key, sym_key, Cursor, NODE, USER};
use shared::api::records::{NewNode, NodeView, RecordTree, VersionView};
use shared::api::sharing::GrantView;
use shared::audit::{AuditMemory, ChainVerifier, LogEntry};
use shared::crypto::audit_chain::ChainHead;
use shared::crypto::sign::{self, Signed, SigningKey};
use shared::model::{Grant, KeyEntry, Role};
use shared::records::bulk::{small_file, SealedContent};
use shared::records::state::{state_hash, HeadLeaf, RecordHead};
use shared::records::verify::{check_record, check_shared, GrantKnowledge, OwnerKeys, SharedView};
use shared::records::{keys, verify_version, Signer, VitalReading};
use shared::sharing::{
    check_version, is_legacy_only, reissue_legacy, trusted_rotation_grants, verify_legacy,
    RotationOwner,
};
use shared::vitals::{self, VitalUnit};

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    match c.u8() % 8 {
        0 => version(c),
        1 => rotation(c),
        2 => legacy(c),
        3 => audit_memory(c),
        4 => states(c),
        5 => vitals(c),
        6 => bulk(c),
        _ => doctor_states(c),
    }
});

/// The doctor who may write, with a key of its own.
fn doctor_key() -> SigningKey {
    SigningKey::from_seed(&[0x66; 32])
}

const DOCTOR: [u8; 16] = [0x77; 16];

fn owner_entry() -> KeyEntry {
    KeyEntry {
        user_id: USER,
        username: "patient".into(),
        role: Role::Patient,
        identity_key: signing_key().verifying_key(),
        encryption_key: hpke_secret().public_key().to_bytes(),
        created_at: 0,
    }
}

fn doctor_entry() -> KeyEntry {
    KeyEntry {
        user_id: DOCTOR,
        username: "doctor".into(),
        role: Role::Doctor,
        identity_key: doctor_key().verifying_key(),
        encryption_key: hpke_secret().public_key().to_bytes(),
        created_at: 0,
    }
}

/// A stored version checked as a reader does: forged, or with its manifest
/// signed by the author it names (the owner or the doctor) and its write
/// grant by the owner. Whatever passes is consistent with the ciphertext.
fn version(mut c: Cursor) {
    let flags = c.u8();
    let folder_covers = c.u8();
    let Ok(mut view) = serde_json::from_slice::<VersionView>(c.rest()) else {
        return;
    };
    if flags & 1 == 1 {
        let author = if view.author_id == DOCTOR {
            doctor_key()
        } else {
            signing_key()
        };
        view.manifest = sign::sign(&author, view.manifest.value);
    }
    if flags & 2 == 2 {
        view.write_grant = view
            .write_grant
            .map(|g| sign::sign(&signing_key(), g.value));
    }
    let owner = owner_entry();
    let doctor = doctor_entry();
    let author = (flags & 4 == 0).then_some(&doctor);
    let covers = |folder: &[u8; 16], inner: &[u8; 16]| folder == inner || folder_covers & 1 == 1;
    if let Ok(manifest) = check_version(&view, &owner, author, covers) {
        assert_eq!(manifest.node_id, view.node_id);
        assert_eq!(manifest.version, view.version);
        assert_eq!(manifest.author_id, view.author_id);
        let key = if view.author_id == owner.user_id {
            owner.identity_key
        } else {
            doctor.identity_key
        };
        assert_eq!(verify_version(&view, &key).ok(), Some(manifest));
    }
    let _ = verify_version(&view, &owner.identity_key);
}

/// The grants a rotation ticket lists, forged or re-signed by the patient;
/// each kept one verifies under the patient's key and is in the subtree.
fn rotation(mut c: Cursor) {
    let resign = c.u8() & 1 == 1;
    let now = c.u64() as i64;
    let subtree: [u8; 16] = c.array();
    let removed: [u8; 16] = c.array();
    let Ok(mut grants) = serde_json::from_slice::<Vec<GrantView>>(c.rest()) else {
        return;
    };
    let key = signing_key();
    if resign {
        for g in &mut grants {
            g.grant = sign::sign(&key, g.grant.value.clone());
        }
    }
    let entry = owner_entry();
    let removed: HashSet<[u8; 16]> = [removed].into();
    let subtree: HashSet<[u8; 16]> = [subtree, NODE].into();
    let owner = RotationOwner {
        entry: &entry,
        removed: &removed,
        now,
        signing_key: &key,
    };
    if let Ok(kept) = trusted_rotation_grants(&owner, &subtree, &grants) {
        assert_eq!(kept.len(), grants.len());
        for (grant, doctor_key) in kept {
            assert_eq!(grant.patient_id, USER);
            assert!(!removed.contains(&grant.grant_id));
            assert_eq!(doctor_key.to_bytes(), grant.doctor_key);
        }
    }
}

/// A grant signed under the legacy encoding (by the patient, or forged), and
/// its reissue: the new grant verifies under the current encoding, differs
/// only in `key_hash`, and its wrapped key opens to the folder key.
fn legacy(mut c: Cursor) {
    let mode = c.u8();
    let Ok(mut grant) = serde_json::from_slice::<Signed<Grant>>(c.rest()) else {
        return;
    };
    let key = signing_key();
    let patient = key.verifying_key();
    match mode % 3 {
        0 => grant.signature = key.sign_bytes(&grant.value.legacy_signed_bytes()),
        1 => grant = sign::sign(&key, grant.value),
        _ => {}
    }
    let legacy = verify_legacy(&grant, &patient).is_ok();
    assert_eq!(
        is_legacy_only(&grant, &patient),
        legacy && grant.verify(&patient).is_err()
    );
    if !legacy {
        return;
    }
    let node_key = sym_key();
    if let Ok((renewed, wrapped)) = reissue_legacy(&grant.value, &node_key, &key) {
        let value = renewed.verify(&patient).expect("a reissued grant verifies");
        assert!(!is_legacy_only(&renewed, &patient));
        let mut same = value.clone();
        same.key_hash = grant.value.key_hash;
        assert_eq!(same, grant.value);
        if grant.value.doctor_key == hpke_secret().public_key().to_bytes() {
            let opened = keys::unwrap_root_key(
                &hpke_secret(),
                &grant.value.doctor_id,
                &grant.value.node_id,
                &wrapped,
            );
            assert_eq!(opened.ok(), Some(node_key));
        }
    }
}

#[derive(serde::Deserialize)]
struct AuditCheck {
    memory: serde_json::Value,
    heads: Vec<Signed<ChainHead>>,
    entries: Vec<LogEntry>,
}

/// The auditor's remembered state as the browser's storage holds it
/// (round trip), and a log checked against it, the heads re-signed with the
/// remembered key or a retired one as the flags say.
fn audit_memory(mut c: Cursor) {
    let flags = c.u8();
    let bytes = c.rest();
    if let Ok(memory) = serde_json::from_slice::<AuditMemory>(bytes) {
        let again: AuditMemory =
            serde_json::from_slice(&serde_json::to_vec(&memory).expect("JSON")).expect("own JSON");
        assert_eq!(again, memory);
        let _ = memory.fingerprint();
        let moved = memory.trust_new_key(signing_key().verifying_key());
        assert_eq!(moved.seq, memory.seq);
        assert_eq!(moved.hash, memory.hash);
    }
    let Ok(check) = serde_json::from_slice::<AuditCheck>(bytes) else {
        return;
    };
    let Ok(mut memory) = serde_json::from_value::<AuditMemory>(check.memory) else {
        return;
    };
    let key = signing_key();
    let retired = doctor_key();
    if flags & 1 == 1 {
        memory.key = key.verifying_key();
    }
    if flags & 2 == 2 {
        memory.retired = vec![retired.verifying_key()];
    }
    let heads: Vec<Signed<ChainHead>> = check
        .heads
        .into_iter()
        .enumerate()
        .map(|(i, h)| match (flags >> 2) & 3 {
            0 => h,
            1 => sign::sign(&key, h.value),
            // The first heads under the retired key, the rest under the new.
            _ if i == 0 => sign::sign(&retired, h.value),
            _ => sign::sign(&key, h.value),
        })
        .collect();
    let Ok(mut verifier) = ChainVerifier::with_memory(&key.verifying_key(), &heads, Some(&memory))
    else {
        return;
    };
    if verifier.feed(&check.entries).is_ok() {
        if let Ok(verified) = verifier.finish() {
            // The chain passed through the remembered event.
            assert!(verified.events >= memory.seq);
            let next = AuditMemory::after(Some(&memory), key.verifying_key(), &verified);
            assert_eq!(next.retired, memory.retired);
        }
    }
}

/// Re-signs every node's state with `key` and, with `cover`, makes the head
/// cover exactly the served nodes' leaves (then signed by the owner), so
/// that the rules below the head's signature judge the fuzzer's states.
fn resign_tree(nodes: &mut [NodeView], key: &SigningKey) {
    for n in nodes {
        n.state = n.state.take().map(|s| sign::sign(key, s.value));
    }
}

fn cover(head: &mut Option<Signed<RecordHead>>, leaves: &mut Vec<HeadLeaf>, nodes: &[NodeView]) {
    *leaves = shared::records::verify::tree_leaves(nodes);
    if let Some(h) = head {
        let mut value = h.value.clone();
        value.state_hash = state_hash(leaves);
        value.node_count = u32::try_from(leaves.len()).unwrap_or(u32::MAX);
        *h = sign::sign(&signing_key(), value);
    }
}

/// The owner's tree: states signed by the owner or the doctor under a head
/// the fuzzer shaped and the owner signed.
fn states(mut c: Cursor) {
    let flags = c.u8();
    let now = c.u64() as i64;
    let Ok(mut tree) = serde_json::from_slice::<RecordTree>(c.rest()) else {
        return;
    };
    let by = if flags & 1 == 0 {
        signing_key()
    } else {
        doctor_key()
    };
    resign_tree(&mut tree.nodes, &by);
    if flags & 2 == 0 {
        cover(&mut tree.head, &mut tree.head_leaves, &tree.nodes);
    }
    let keys = OwnerKeys {
        user_id: tree.owner_id,
        identity_key: signing_key().verifying_key(),
    };
    let doctor = doctor_key().verifying_key();
    let authors = |id: &[u8; 16]| (*id == DOCTOR).then_some(doctor);
    if let Ok(checked) = check_record(&tree, &keys, &authors, &GrantKnowledge::at(now), None, &[]) {
        // Only a head the owner signed passes.
        let head = tree.head.as_ref().expect("a checked record has a head");
        assert!(head.verify(&keys.identity_key).is_ok());
        let _ = checked;
    }
}

/// A doctor's view of one shared folder under a forged head.
fn doctor_states(mut c: Cursor) {
    let flags = c.u8();
    let now = c.u64() as i64;
    let folder: [u8; 16] = c.array();
    let Ok(mut tree) = serde_json::from_slice::<RecordTree>(c.rest()) else {
        return;
    };
    let by = if flags & 1 == 0 {
        signing_key()
    } else {
        doctor_key()
    };
    resign_tree(&mut tree.nodes, &by);
    if flags & 2 == 0 {
        cover(&mut tree.head, &mut tree.head_leaves, &tree.nodes);
    }
    let keys = OwnerKeys {
        user_id: tree.owner_id,
        identity_key: signing_key().verifying_key(),
    };
    let doctor = doctor_key().verifying_key();
    let authors = |id: &[u8; 16]| (*id == DOCTOR).then_some(doctor);
    let view = SharedView {
        nodes: &tree.nodes,
        head: tree.head.as_ref(),
        head_leaves: &tree.head_leaves,
        folder,
    };
    let _ = check_shared(&view, &keys, &authors, &GrantKnowledge::at(now), None, &[]);
}

/// Vital readings from an entry's metadata, and the units people type:
/// checked, written out for the table, CSV and JSON export, converted.
fn vitals(mut c: Cursor) {
    let unit = VitalUnit::ALL[usize::from(c.u8()) % VitalUnit::ALL.len()];
    let typed = f64::from_le_bytes(c.array());
    let bytes = c.rest();
    let code = String::from_utf8_lossy(bytes);
    if let Some(u) = VitalUnit::from_code(&code) {
        assert_eq!(u.code(), code);
    }
    assert_eq!(VitalUnit::from_code(unit.code()), Some(unit));
    let stored = vitals::to_stored(typed, unit);
    let _ = vitals::format_number(unit.kind(), stored);
    assert!(vitals::units(unit.kind()).contains(&unit));
    let Ok(readings) = serde_json::from_slice::<Vec<VitalReading>>(bytes) else {
        return;
    };
    for r in &readings {
        let _ = r.validate();
        let _ = vitals::format_reading(r);
        let _ = vitals::iso_utc(r.taken_at);
        let _ = vitals::format_number(r.kind, r.value);
    }
    let csv = vitals::readings_csv(&readings);
    assert_eq!(csv.matches("\r\n").count(), readings.len() + 1);
    let json = vitals::readings_json(&readings, 0);
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
}

/// A small file for `records/batch` from any new node and content: its
/// manifest and state verify under the signer's key and describe it.
fn bulk(mut c: Cursor) {
    let now = c.u64() as i64;
    let chunk_size = c.u32();
    let padded_len = c.u64();
    let content_len = usize::from(c.u8());
    let content = c.take(content_len).to_vec();
    let Ok(node) = serde_json::from_slice::<NewNode>(c.rest()) else {
        return;
    };
    let key = signing_key();
    let signer = Signer {
        owner_id: USER,
        author_id: USER,
        key: &key,
        now,
    };
    let node_key = sym_key();
    let sealed = SealedContent {
        content,
        padded_len,
        chunk_size,
        content_key: sym_key(),
    };
    let node_id = node.node_id;
    let Ok(file) = small_file(node, &node_key, sealed, &signer) else {
        return;
    };
    let manifest = file
        .manifest
        .verify(&key.verifying_key())
        .expect("the manifest verifies");
    assert_eq!(manifest.node_id, node_id);
    assert_eq!(manifest.version, 1);
    assert_eq!(manifest.part_hashes.len(), 1);
    let state = file.node.state.as_ref().expect("a state");
    assert!(state.verify(&key.verifying_key()).is_ok());
    assert!(state.value.matches(&USER, &file.stored_view()));
    assert_eq!(
        keys::unwrap_content_key(&node_key, &node_id, 1, &file.wrapped_content_key).ok(),
        Some(sym_key())
    );
}
