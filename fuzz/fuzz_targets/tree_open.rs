//! What the browser builds from the server's answers, chosen by the first
//! byte: the decrypted record tree (`OpenTree::open_from` and every query on
//! it) from any list of nodes, directory entries with their certificates
//! (`verify_directory_entry`), and the admin request and certificate codes
//! people paste. Nodes and entries are taken as served (forged) or, with a
//! flag, re-keyed and re-signed under fixed keys, so that the code behind
//! the cryptographic checks runs on the fuzzer's structure.

#![no_main]

use libfuzzer_sys::fuzz_target;
use medvault_fuzz::{signing_key, Cursor, USER};
use shared::api::directory::DirectoryEntry;
use shared::api::records::{NodeView, Usage};
use shared::client::{
    admin_certificate_code, admin_request_code, parse_admin_certificate, parse_admin_request,
    verify_directory_entry,
};
use shared::crypto::aead::{self, Key256};
use shared::crypto::context;
use shared::crypto::fingerprint::OrgFingerprint;
use shared::crypto::hash::sha256;
use shared::crypto::sign::{self, Signed};
use shared::model::{AdminCertificate, KeyEntry, Role};
use shared::records::keys;
use shared::records::padding::pad_metadata;
use shared::records::tree::OpenTree;

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    match c.u8() % 3 {
        0 => tree(c),
        1 => directory(c),
        _ => codes(c),
    }
});

fn key_of(id: &[u8; 16]) -> Key256 {
    Key256::from_bytes(sha256(id))
}

#[derive(serde::Deserialize)]
struct Served {
    #[serde(with = "shared::crypto::b64::array")]
    top: [u8; 16],
    nodes: Vec<NodeView>,
}

/// Any list of nodes under any top. With `rekey`, each node's key is wrapped
/// under its stated parent's and its metadata bytes are sealed as padded
/// JSON, as an honest server's would be; the structure (ids, parents,
/// duplicates, cycles) stays the fuzzer's.
fn tree(mut c: Cursor) {
    let rekey = c.u8() & 1 == 1;
    let used = c.u64();
    let Ok(served) = serde_json::from_slice::<Served>(c.rest()) else {
        return;
    };
    let mut nodes = served.nodes;
    if rekey {
        for n in &mut nodes {
            let key = key_of(&n.node_id);
            if let Some(parent) = n.parent_id {
                n.wrapped_key = keys::wrap_child_key(&key_of(&parent), &n.node_id, &parent, &key)
                    .expect("wrap");
            }
            let aad = context::bind(context::NODE_METADATA, &[&n.node_id]);
            n.metadata = aead::seal(&key, &aad, &pad_metadata(&n.metadata)).expect("seal");
        }
    }
    let ids: Vec<[u8; 16]> = nodes.iter().map(|n| n.node_id).collect();
    let usage = Usage {
        used_bytes: used,
        quota_bytes: used.wrapping_mul(3),
        max_file_bytes: used / 2,
    };
    let Ok(tree) = OpenTree::open_from(USER, served.top, key_of(&served.top), nodes, usage) else {
        return;
    };
    assert!(tree.root().is_some());
    for id in &ids {
        let _ = tree.node(id);
        let _ = tree.children(id);
        let path = tree.path(id);
        assert!(path.len() <= ids.len() + 1);
        let _ = tree.in_trash(id);
        let _ = tree.is_within(id, &served.top);
        assert!(tree.covers(id, id));
        let _ = tree.covers(&served.top, id);
    }
    let _ = tree.trash();
    let _ = tree.search("", None);
    if let Some(first) = tree.nodes().next() {
        let name = first.metadata.name.clone();
        let _ = tree.search(&name, Some(first.metadata.record_type));
    }
    let _ = tree.vitals();
}

/// A directory entry as served for `asked`: forged, or with the entry, the
/// certifier and both certificates re-signed so the checks between them run.
fn directory(mut c: Cursor) {
    let resign = c.u8();
    let with_org = c.u8() & 1 == 1;
    let name_len = usize::from(c.u8() % 40);
    let asked = String::from_utf8_lossy(c.take(name_len)).into_owned();
    let Ok(mut served) = serde_json::from_slice::<DirectoryEntry>(c.rest()) else {
        return;
    };
    let key = signing_key();
    let vk = key.verifying_key();
    if resign & 1 == 1 {
        served.entry.value.identity_key = vk;
        served.entry = sign::sign(&key, served.entry.value);
    }
    if resign & 2 == 2 {
        if let Some(certifier) = served.certifier.take() {
            let mut admin = certifier.value;
            admin.identity_key = vk;
            served.certifier = Some(sign::sign(&key, admin));
        }
        if let Some(cert) = served.certificate.take() {
            served.certificate = Some(sign::sign(&key, cert.value));
        }
    }
    if resign & 4 == 4 {
        if let Some(cert) = served.certifier_certificate.take() {
            let mut value = cert.value;
            value.org_key = vk;
            served.certifier_certificate = Some(sign::sign(&key, value));
        }
    }
    let org = OrgFingerprint::of(&vk.to_bytes());
    let result = verify_directory_entry(&asked, &served, with_org.then_some(&org));
    if let Ok(verified) = result {
        assert_eq!(verified.entry, served.entry.value);
    }
}

/// Pasted codes: any text, and a round trip of any admin entry and
/// certificate the fuzzer describes.
fn codes(mut c: Cursor) {
    let bytes = c.rest();
    let text = String::from_utf8_lossy(bytes);
    let _ = parse_admin_request(&text);
    let _ = parse_admin_certificate(&text);
    let key = signing_key();
    if let Ok(mut entry) = serde_json::from_slice::<KeyEntry>(bytes) {
        entry.identity_key = key.verifying_key();
        let signed: Signed<KeyEntry> = sign::sign(&key, entry.clone());
        let parsed = parse_admin_request(&admin_request_code(&signed));
        if entry.role == Role::Admin {
            assert_eq!(parsed, Ok(entry));
        } else {
            assert!(parsed.is_err());
        }
    }
    if let Ok(mut cert) = serde_json::from_slice::<AdminCertificate>(bytes) {
        cert.org_key = key.verifying_key();
        let signed = sign::sign(&key, cert);
        assert_eq!(
            parse_admin_certificate(&admin_certificate_code(&signed)),
            Ok(signed)
        );
    }
}
