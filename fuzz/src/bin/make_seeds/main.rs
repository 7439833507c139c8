//! Writes the seed corpora under `fuzz/corpus/<target>/` from real encodings
//! made by the project's own code: sealed boxes, wrapped keys, streams,
//! signatures, recovery codes, TOTP secrets, padded files, audit events and
//! pages, pin lists, request and answer bodies, stored values, keys and chunk
//! paths, OPAQUE messages and server states, requests to the router (chunk
//! bodies, queries, record changes), versions, grants, the auditor's memory,
//! signed record trees, vital readings and small files. Run from `fuzz/`: `cargo +nightly run --bin make_seeds`. The seeds
//! are committed; rerunning rewrites them (keys made here are random, so some
//! bytes differ each time).

mod checks;
mod handlers;

use std::fs;
use std::path::Path;

use medvault_crypto::aead::{self, Key256};
use medvault_crypto::audit_chain::{self, ChainHead};
use medvault_crypto::fingerprint::OrgFingerprint;
use medvault_crypto::hpke;
use medvault_crypto::keyring::Keyring;
use medvault_crypto::recovery::RecoverySecret;
use medvault_crypto::sign;
use medvault_crypto::stream::{ready, AesGcmBackend, StreamCipher};
use medvault_crypto::totp::TotpSecret;
use medvault_crypto::{b64, context};
use medvault_fuzz::{hpke_secret, signing_key, sym_key, NODE, USER};
use shared::api::ApiError;
use shared::audit::{AuditEvent, EventKind, LogEntry};
use shared::pins::{Pin, PinList, PINS_FORMAT};
use shared::records::keys;
use shared::records::model::{NodeMetadata, STARTER_FOLDERS};
use shared::records::state::{HeadLeaf, RecordHead};

use checks::shared_checks;
use handlers::{opaque, server_http};

// Built by `cargo fuzz build` with the targets, so it is instrumented like
// them: linking libFuzzer (whose `main` is not used) resolves the coverage
// hooks, and this empty target satisfies libFuzzer's entry point.
libfuzzer_sys::fuzz_target!(|_unused: &[u8]| {});

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).expect("corpus directory");
    fs::write(dir.join(name), bytes).expect("seed written");
}

fn with(op: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![op];
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON")
}

fn main() {
    crypto_open();
    shared_decode();
    wire_json();
    store_codec();
    tree_open();
    opaque();
    server_http();
    shared_checks();
}

fn crypto_open() {
    let t = "crypto_open";
    let key = sym_key();
    let inner = Key256::from_bytes([0x77; 32]);
    let sealed = aead::seal(&key, b"fuzz", b"Blood pressure 120/80").expect("seal");
    write(t, "sealed_box", &with(0, &[&sealed]));
    let wrapped = aead::wrap_key(&key, b"fuzz", &inner).expect("wrap");
    write(t, "wrapped_key", &with(1, &[inner.as_bytes(), &wrapped]));
    let hpke_wrapped =
        hpke::wrap_node_key(&hpke_secret().public_key(), &USER, &NODE, &inner).expect("wrap");
    write(t, "hpke_key", &with(2, &[inner.as_bytes(), &hpke_wrapped]));
    let cipher = StreamCipher::new(AesGcmBackend::new(&key), &NODE, 3, 16).expect("cipher");
    let stream = ready(cipher.encrypt_all(b"a scan of a few chunks, encrypted")).expect("stream");
    write(t, "stream", &with(3, &[&[15, 1, 0, 0, 0, 0, 20], &stream]));
    let signer = signing_key();
    let message = b"a signed message";
    let sig = signer.sign_bytes(message).to_bytes();
    let vk = signer.verifying_key().to_bytes();
    write(t, "signature", &with(4, &[&sig, &vk, message]));
    let keyring = Keyring::generate().expect("keyring");
    let sealed_ring = keyring.seal_with_password(&[9; 64], &USER).expect("seal");
    write(t, "keyring", &with(5, &[&[9; 64], &sealed_ring]));
    let code = RecoverySecret::from_bytes([0x5a; 32]).to_code();
    write(t, "recovery_code", &with(6, &[&[1; 32], code.as_bytes()]));
    let totp = TotpSecret::from_bytes([0x3c; 20]).to_base32();
    let now = 1_765_000_000u64.to_le_bytes();
    write(
        t,
        "totp",
        &with(7, &[&[2; 20], &now, &[0; 8], totp.as_bytes()]),
    );
    write(
        t,
        "totp_code",
        &with(7, &[&[2; 20], &now, &now, b"123 456"]),
    );
    let fp = OrgFingerprint::of(&[4; 32]).to_string();
    write(t, "fingerprint", &with(8, &[&[4; 32], fp.as_bytes()]));
    write(t, "base64", &with(9, &[b64::encode(&NODE).as_bytes()]));
    let event = b"an event";
    let h1 = audit_chain::link(&audit_chain::GENESIS, 1, event);
    write(
        t,
        "audit_chain",
        &with(10, &[&[0, 0], &[0; 32], &[8, 1], event, &h1]),
    );
    let mut lens = (1u64 << 20).to_le_bytes().to_vec();
    lens.extend_from_slice(&(1u32 << 20).to_le_bytes());
    write(t, "stream_lengths", &with(11, &[&lens]));
}

fn shared_decode() {
    let t = "shared_decode";
    write(
        t,
        "unpadder",
        &with(0, &[&[1, 7, 200, 3, 0], b"a small file\x80\0\0"]),
    );
    let mut lens = 5000u64.to_le_bytes().to_vec();
    lens.extend_from_slice(&8192u64.to_le_bytes());
    lens.extend_from_slice(&(1u32 << 20).to_le_bytes());
    lens.extend_from_slice(&0u64.to_le_bytes());
    write(t, "padded_lengths", &with(1, &[&lens]));
    let meta = NodeMetadata::new("Blood test 2026", STARTER_FOLDERS[0].1, 1_765_000_000);
    write(t, "metadata_json", &with(2, &[&json(&meta)]));
    let sealed = keys::seal_metadata(&sym_key(), &NODE, &meta).expect("seal");
    write(t, "metadata_sealed", &with(2, &[&sealed]));
    let inner = Key256::from_bytes([0x77; 32]);
    let wrapped = keys::wrap_content_key(&sym_key(), &NODE, 1, &inner).expect("wrap");
    write(
        t,
        "node_keys",
        &with(3, &[&1u32.to_le_bytes(), inner.as_bytes(), &wrapped]),
    );
    let event = AuditEvent {
        seq: 1,
        at: 1_765_000_000,
        actor: Some(USER),
        session: Some([7; 16]),
        kind: EventKind::from_code(1).expect("a kind"),
        subject: Some(NODE),
        item: None,
    };
    let encoded = event.encode();
    write(t, "audit_event", &with(4, &[&encoded]));
    write(t, "audit_event_json", &with(4, &[&json(&event)]));
    let hash = audit_chain::link(&audit_chain::GENESIS, 1, &encoded);
    let head = sign::sign(
        &signing_key(),
        ChainHead {
            seq: 1,
            hash,
            signed_at: 1_765_000_000,
        },
    );
    let page = serde_json::json!({
        "heads": [head],
        "entries": [LogEntry { seq: 1, event: encoded.clone(), hash }],
        "resign": false,
    });
    write(t, "audit_log", &with(5, &[&json(&page)]));
    let pins = PinList {
        version: PINS_FORMAT,
        pins: vec![Pin {
            username: "dr-grey".into(),
            user_id: NODE,
            safety_number: "1".repeat(60),
            pinned_at: 1_765_000_000,
        }],
    };
    write(
        t,
        "pins",
        &with(6, &[&[3, 0, 0, 0, 0, 0, 0, 0], &json(&pins)]),
    );
    let leaf = HeadLeaf {
        node_id: NODE,
        parent_id: None,
        leaf: [6; 32],
    };
    let genesis = sign::sign(
        &signing_key(),
        RecordHead::genesis(USER, NODE, std::slice::from_ref(&leaf), 1_765_000_000),
    );
    let tree = serde_json::json!({
        "owner_id": b64::encode(&USER),
        "root_id": b64::encode(&NODE),
        "head": genesis,
        "head_leaves": [leaf],
    });
    write(t, "record", &with(8, &[&[0; 8], &[1], &json(&tree)]));
    write(t, "id", &with(9, &[b64::encode(&NODE).as_bytes()]));
    let fields = ["Blood test", "=1+2", "say \"hi\"", "-3.5", "a,b\r\n"].join("\u{1f}");
    write(t, "csv", &with(10, &[fields.as_bytes()]));
    let _ = context::NODE_METADATA;
}

/// Index of a type in `wire_json`'s table: 0 is `ApiError`, then each server
/// function's request and answer, in the order of the table.
const FUNCTIONS: &str = include_str!("../../../fuzz_targets/wire_json.rs");

fn wire_index(name: &str, answer: bool) -> u8 {
    let list = FUNCTIONS.split("checks! {").nth(1).expect("the table");
    let position = list
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with(','))
        .position(|l| l.trim_end_matches(',').ends_with(&format!("::{name}")))
        .expect("listed");
    (1 + 2 * position + usize::from(answer)) as u8
}

fn wire_json() {
    let t = "wire_json";
    let error = ApiError::bad_request("The id is not valid (16 bytes, base64url).");
    write(t, "api_error", &with(0, &[&json(&error)]));
    let leaf = HeadLeaf {
        node_id: NODE,
        parent_id: None,
        leaf: [6; 32],
    };
    let genesis = sign::sign(
        &signing_key(),
        RecordHead::genesis(USER, NODE, std::slice::from_ref(&leaf), 1_765_000_000),
    );
    let bodies: Vec<(&str, bool, serde_json::Value)> = vec![
        ("RecordHeads", false, serde_json::json!({ "after": 5 })),
        ("RecordHeads", true, serde_json::json!([genesis])),
        ("FoldHead", false, serde_json::json!({ "head": genesis })),
        (
            "TotpDisable",
            false,
            serde_json::json!({ "code": "123 456" }),
        ),
        (
            "ListVersions",
            false,
            serde_json::json!({ "node_id": b64::encode(&NODE) }),
        ),
        (
            "LookupUser",
            false,
            serde_json::json!({ "username": "dr-grey" }),
        ),
        (
            "AuditLog",
            false,
            serde_json::json!({ "from": 1, "limit": 100 }),
        ),
        (
            "AuditLog",
            true,
            serde_json::json!({ "entries": [LogEntry { seq: 1, event: vec![1, 2], hash: [3; 32] }], "head_seq": 1 }),
        ),
    ];
    for (name, answer, body) in bodies {
        let file = format!("{name}_{}", if answer { "answer" } else { "request" });
        write(t, &file, &with(wire_index(name, answer), &[&json(&body)]));
    }
}

fn store_codec() {
    let t = "store_codec";
    let head = sign::sign(
        &signing_key(),
        ChainHead {
            seq: 9,
            hash: [1; 32],
            signed_at: 1_765_000_000,
        },
    );
    let mut value = vec![1u8];
    value.extend_from_slice(&json(&head));
    write(t, "chain_head", &with(0, &[&[10], &value]));
    let leaf = HeadLeaf {
        node_id: NODE,
        parent_id: Some(USER),
        leaf: [6; 32],
    };
    let mut value = vec![1u8];
    value.extend_from_slice(&json(&leaf));
    write(t, "head_leaf", &with(0, &[&[12], &value]));
    let key = server::store::keys::Key::new()
        .u8(3)
        .fixed(&NODE)
        .u32(7)
        .str("name")
        .finish();
    write(t, "key", &with(200, &[&[0, 4, 1, 6, 0, 0], &key]));
    let path = format!("{}/2/0", b64::encode(&NODE));
    write(t, "chunk_path", &with(230, &[path.as_bytes()]));
}

fn tree_open() {
    let t = "tree_open";
    let root = NODE;
    let child = [0x56; 16];
    let meta = |name: &str| {
        json(&NodeMetadata::new(
            name,
            STARTER_FOLDERS[1].1,
            1_765_000_000,
        ))
    };
    let node = |id: &[u8; 16], parent: Option<&[u8; 16]>, name: &str| {
        serde_json::json!({
            "node_id": b64::encode(id),
            "parent_id": parent.map(|p| b64::encode(p)),
            "kind": "folder",
            "wrapped_key": "",
            "metadata": b64::encode(&meta(name)),
            "revision": 1,
            "trashed_at": null,
            "current": null,
            "version_count": 0,
        })
    };
    let served = serde_json::json!({
        "top": b64::encode(&root),
        "nodes": [node(&root, None, "Records"), node(&child, Some(&root), "Lab results")],
    });
    write(
        t,
        "tree",
        &with(0, &[&[1], &0u64.to_le_bytes(), &json(&served)]),
    );
    let key = signing_key();
    let entry = sign::sign(
        &key,
        shared::model::KeyEntry {
            user_id: USER,
            username: "dr-grey".into(),
            role: shared::model::Role::Doctor,
            identity_key: key.verifying_key(),
            encryption_key: hpke_secret().public_key().to_bytes(),
            created_at: 1_765_000_000,
        },
    );
    let served = serde_json::json!({
        "entry": entry,
        "certificate": null,
        "certifier": null,
        "disabled": false,
    });
    write(
        t,
        "directory",
        &with(1, &[&[1, 0, 7], b"dr-grey", &json(&served)]),
    );
    let code = shared::client::admin_request_code(&entry);
    write(t, "admin_code", &with(2, &[code.as_bytes()]));
    write(t, "key_entry", &with(2, &[&json(&entry.value)]));
}
