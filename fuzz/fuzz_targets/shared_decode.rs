//! The browser's decoders in `shared` of what the server sends, chosen by the
//! first byte: file padding (`Unpadder`, padded lengths) and metadata padding,
//! sealed metadata and wrapped node keys, audit events, the audit log
//! verifier, sealed key pins, grants, the owner's record check, ids, and the
//! CSV writer fed untrusted names. Forged input must be refused without a
//! panic; every encoder must round-trip.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use medvault_fuzz::{hpke_secret, signing_key, sym_key, Cursor, NODE, USER};
use shared::api::records::RecordTree;
use shared::api::sharing::GrantView;
use shared::audit::{verify_log, AuditEvent, LogEntry};
use shared::crypto::aead::{self, Key256};
use shared::crypto::audit_chain::ChainHead;
use shared::crypto::context;
use shared::crypto::keyring::Keyring;
use shared::crypto::sign::{self, Signed};
use shared::model::{KeyEntry, Role};
use shared::pins::{open_pins, seal_pins, PinEnvelope, PinList};
use shared::records::keys;
use shared::records::model::NodeMetadata;
use shared::records::padding::{self, StreamLayout, Unpadder};
use shared::records::verify::{check_record, GrantKnowledge, OwnerKeys};
use shared::sharing::open_grant;

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    match c.u8() % 11 {
        0 => unpadder(c),
        1 => padded_lengths(c),
        2 => metadata(c),
        3 => node_keys(c),
        4 => audit_event(c),
        5 => audit_log(c),
        6 => pins(c),
        7 => grant(c),
        8 => record(c),
        9 => ids(c),
        _ => csv(c),
    }
});

/// A file of up to a few KiB padded and chunked as the uploader does, then
/// unpadded from pieces of any size; and any plaintext unpadded.
fn unpadder(mut c: Cursor) {
    let chunk_size = u32::from(c.u8()) * 64 + 1;
    let cuts: [u8; 4] = c.array();
    let file = c.rest();
    // Forged: whatever the bytes, an answer and never a panic.
    let mut out = Vec::new();
    let mut u = Unpadder::new();
    for piece in pieces(file, &cuts) {
        u.update(piece, &mut out);
    }
    if let Ok(len) = u.finish() {
        assert_eq!(len, out.len() as u64);
        assert!(file.starts_with(&out));
    }
    // Honest: padding then unpadding gives the file back.
    let layout = StreamLayout::new(file.len() as u64, chunk_size).expect("layout");
    assert!(padding::padding_fits(layout.file_len, layout.padded_len));
    let mut padded = Vec::new();
    for i in 0..layout.chunk_count() {
        let r = layout.file_range(i);
        layout.assemble(i, &file[r.start as usize..r.end as usize], &mut padded);
    }
    assert_eq!(padded.len() as u64, layout.padded_len);
    let mut out = Vec::new();
    let mut u = Unpadder::new();
    for piece in pieces(&padded, &cuts) {
        u.update(piece, &mut out);
    }
    assert_eq!(u.finish(), Ok(file.len() as u64));
    assert_eq!(out, file);
}

fn pieces<'a>(bytes: &'a [u8], cuts: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for &cut in cuts {
        let (a, b) = rest.split_at(usize::from(cut).min(rest.len()));
        out.push(a);
        rest = b;
    }
    out.push(rest);
    out
}

/// The length arithmetic a download runs on the sizes the server states.
fn padded_lengths(mut c: Cursor) {
    let file_len = c.u64();
    let padded = c.u64();
    let chunk_size = c.u32();
    let index = c.u64();
    let _ = padding::padme(file_len);
    let p = padding::padded_len(file_len);
    assert!(p >= file_len || p == u64::MAX);
    let _ = padding::legacy_padded_len(file_len);
    let _ = padding::padding_fits(file_len, padded);
    if let Ok(layout) = StreamLayout::new(file_len, chunk_size) {
        let count = layout.chunk_count();
        let _ = layout.ciphertext_len();
        let r = layout.file_range(index);
        assert!(r.start <= r.end && r.end <= file_len);
        let _ = layout.is_last(index % count);
    }
}

/// Sealed metadata as the server serves it: forged boxes, honest boxes of
/// any padded bytes (reaching the unpadding and the JSON), and a round trip
/// of any metadata that parses.
fn metadata(mut c: Cursor) {
    let key = sym_key();
    let bytes = c.rest();
    if let Ok(meta) = keys::open_metadata(&key, &NODE, bytes) {
        // Only a box sealed under this key opens (a seed is one).
        let sealed = keys::seal_metadata(&key, &NODE, &meta).expect("seal");
        assert_eq!(keys::open_metadata(&key, &NODE, &sealed), Ok(meta));
    }
    if let Ok(unpadded) = padding::unpad_metadata(bytes) {
        assert!(bytes.starts_with(unpadded));
    }
    let padded = padding::pad_metadata(bytes);
    assert_eq!(padded.len() % padding::METADATA_BLOCK, 0);
    assert_eq!(padding::unpad_metadata(&padded), Ok(bytes));
    let aad = context::bind(context::NODE_METADATA, &[&NODE]);
    let sealed = aead::seal(&key, &aad, bytes).expect("seal");
    let _ = keys::open_metadata(&key, &NODE, &sealed);
    if let Ok(meta) = serde_json::from_slice::<NodeMetadata>(bytes) {
        let _ = meta.validate();
        let sealed = keys::seal_metadata(&key, &NODE, &meta).expect("seal");
        assert_eq!(keys::open_metadata(&key, &NODE, &sealed), Ok(meta));
    }
}

fn node_keys(mut c: Cursor) {
    let key = sym_key();
    let version = c.u32();
    let inner = Key256::from_bytes(c.array());
    let bytes = c.rest();
    let _ = keys::unwrap_child_key(&key, &NODE, &USER, bytes);
    let _ = keys::unwrap_content_key(&key, &NODE, version, bytes);
    let _ = keys::unwrap_root_key(&hpke_secret(), &USER, &NODE, bytes);
    let w = keys::wrap_child_key(&key, &NODE, &USER, &inner).expect("wrap");
    assert_eq!(
        keys::unwrap_child_key(&key, &NODE, &USER, &w),
        Ok(inner.clone())
    );
    let w = keys::wrap_content_key(&key, &NODE, version, &inner).expect("wrap");
    assert_eq!(
        keys::unwrap_content_key(&key, &NODE, version, &w),
        Ok(inner.clone())
    );
    assert!(keys::unwrap_content_key(&key, &NODE, version.wrapping_add(1), &w).is_err());
}

fn audit_event(mut c: Cursor) {
    let bytes = c.rest();
    if let Some(event) = AuditEvent::decode(bytes) {
        // One event, one encoding.
        assert_eq!(event.encode(), bytes);
    }
    if let Ok(event) = serde_json::from_slice::<AuditEvent>(bytes) {
        let encoded = event.encode();
        assert_eq!(AuditEvent::decode(&encoded), Some(event));
    }
}

#[derive(serde::Deserialize)]
struct AuditPage {
    heads: Vec<Signed<ChainHead>>,
    entries: Vec<LogEntry>,
    #[serde(default)]
    resign: bool,
}

/// An audit page as the server serves it, verified against the fixed key;
/// with `resign`, the heads are signed by that key so the chain itself is
/// checked.
fn audit_log(mut c: Cursor) {
    let key = signing_key();
    let Ok(mut page) = serde_json::from_slice::<AuditPage>(c.rest()) else {
        return;
    };
    if page.resign {
        page.heads = page
            .heads
            .into_iter()
            .map(|h| sign::sign(&key, h.value))
            .collect();
    }
    let _ = verify_log(&key.verifying_key(), &page.heads, &page.entries);
}

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| Keyring::generate().expect("keyring"))
}

fn entry(keyring: &Keyring) -> KeyEntry {
    let public = keyring.public_keys();
    KeyEntry {
        user_id: USER,
        username: "fuzz".into(),
        role: Role::Patient,
        identity_key: public.identity,
        encryption_key: public.encryption.to_bytes(),
        created_at: 0,
    }
}

/// Sealed pins as the server serves them: forged envelopes, and a round
/// trip of any pin list that parses.
fn pins(mut c: Cursor) {
    let keyring = keyring();
    let me = entry(keyring);
    let seen = c.u64();
    let bytes = c.rest();
    if let Ok(envelope) = serde_json::from_slice::<Signed<PinEnvelope>>(bytes) {
        assert!(open_pins(keyring, &me, &envelope, Some(seen)).is_err());
    }
    if let Ok(list) = serde_json::from_slice::<PinList>(bytes) {
        let counter = seen.max(1);
        if let Ok(envelope) = seal_pins(keyring, &USER, counter, &list) {
            let opened = open_pins(keyring, &me, &envelope, Some(counter));
            if list.version == shared::pins::PINS_FORMAT {
                assert_eq!(opened, Ok(list));
            } else {
                assert!(opened.is_err());
            }
        }
    }
}

/// A grant as the server serves it to the doctor: forged, or re-signed by
/// the patient's key (then the key hash and the wrapped key are checked).
fn grant(mut c: Cursor) {
    let patient = signing_key();
    let entry = KeyEntry {
        identity_key: patient.verifying_key(),
        ..entry(keyring())
    };
    let resign = c.u8() & 1 == 1;
    let Ok(mut view) = serde_json::from_slice::<GrantView>(c.rest()) else {
        return;
    };
    if resign {
        view.grant = sign::sign(&patient, view.grant.value);
    }
    let _ = open_grant(&view, &entry, &NODE, &hpke_secret());
}

/// The owner's record tree as the server serves it, checked against the
/// fixed owner key; optionally with the head re-signed by that key, so the
/// checks behind the head's signature run.
fn record(mut c: Cursor) {
    let owner = signing_key();
    let now = c.u64() as i64;
    let resign = c.u8() & 1 == 1;
    let Ok(mut tree) = serde_json::from_slice::<RecordTree>(c.rest()) else {
        return;
    };
    if resign {
        tree.head = tree.head.map(|h| sign::sign(&owner, h.value));
    }
    let keys = OwnerKeys {
        user_id: tree.owner_id,
        identity_key: owner.verifying_key(),
    };
    let authors = |_: &shared::model::Id| None;
    let _ = check_record(&tree, &keys, &authors, &GrantKnowledge::at(now), None, &[]);
}

fn ids(mut c: Cursor) {
    let text = String::from_utf8_lossy(c.rest());
    if let Ok(id) = shared::api::parse_id(&text) {
        assert_eq!(
            shared::api::parse_id(&shared::crypto::b64::encode(&id)).ok(),
            Some(id)
        );
    }
}

/// The CSV writer with untrusted fields (names, descriptions from other
/// users), read back with an RFC 4180 reader.
fn csv(mut c: Cursor) {
    let text = String::from_utf8_lossy(c.rest());
    let fields: Vec<&str> = text.split('\u{1f}').collect();
    let line = shared::csv::row(&fields);
    assert!(line.ends_with("\r\n"));
    let back = read_row(&line[..line.len() - 2]).expect("a valid CSV row");
    assert_eq!(back.len(), fields.len());
    for (read, field) in back.iter().zip(&fields) {
        // A field a spreadsheet would run as a formula gains a leading '.
        let plain = read.strip_prefix('\'').filter(|r| r == field);
        assert!(read == field || plain.is_some(), "{read:?} vs {field:?}");
    }
}

fn read_row(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    ch => field.push(ch),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Some(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return None,
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Some(fields);
                    }
                    Some(',') => break,
                    Some('"' | '\r' | '\n') => return None,
                    Some(ch) => field.push(ch),
                }
            }
            fields.push(field);
        }
    }
}
