//! The signed domain types: every field is covered, and a signature made for
//! one type never verifies as another.

use super::*;
use crate::crypto::{
    sign::{part_hash, sign, Signature, Signed, SigningKey},
    CryptoError,
};

fn entry(key: &SigningKey) -> KeyEntry {
    KeyEntry {
        user_id: [1; 16],
        username: "ada".into(),
        role: Role::Patient,
        identity_key: key.verifying_key(),
        encryption_key: [9; 32],
        created_at: 1_700_000_000,
    }
}

fn grant() -> Grant {
    Grant {
        grant_id: [1; 16],
        patient_id: [2; 16],
        doctor_id: [3; 16],
        doctor_key: [5; 32],
        key_hash: [6; 32],
        node_id: [4; 16],
        permission: Permission::Read,
        created_at: 10,
        expires_at: Some(20),
        revision: 0,
    }
}

fn manifest() -> FileManifest {
    FileManifest {
        node_id: [1; 16],
        parent_id: [2; 16],
        version: 3,
        size: 5,
        part_hashes: vec![part_hash(b"a"), part_hash(b"b")],
        author_id: [4; 16],
        created_at: 99,
    }
}

#[test]
fn key_entry_self_signature_verifies() {
    let key = SigningKey::generate().unwrap();
    let signed = sign(&key, entry(&key));
    assert_eq!(signed.verify_self().unwrap(), &entry(&key));
    // JSON round trip keeps it verifiable: the signature is over the encoding.
    let json = serde_json::to_string(&signed).unwrap();
    let back: Signed<KeyEntry> = serde_json::from_str(&json).unwrap();
    back.verify_self().unwrap();
}

#[test]
fn fail_key_entry_with_changed_field() {
    let key = SigningKey::generate().unwrap();
    let signed = sign(&key, entry(&key));
    let mut c = signed.clone();
    c.value.username = "eve".into();
    assert_eq!(c.verify_self(), Err(CryptoError::BadSignature));
    let mut c = signed.clone();
    c.value.role = Role::Doctor;
    assert_eq!(c.verify_self(), Err(CryptoError::BadSignature));
    let mut c = signed.clone();
    c.value.encryption_key[0] ^= 1;
    assert_eq!(c.verify_self(), Err(CryptoError::BadSignature));
    let mut c = signed.clone();
    c.value.created_at += 1;
    assert_eq!(c.verify_self(), Err(CryptoError::BadSignature));
    let mut c = signed;
    c.value.user_id[15] ^= 1;
    assert_eq!(c.verify_self(), Err(CryptoError::BadSignature));
}

#[test]
fn fail_entry_signed_by_someone_else() {
    let alice = SigningKey::generate().unwrap();
    let mallory = SigningKey::generate().unwrap();
    let forged = sign(&mallory, entry(&alice));
    assert_eq!(forged.verify_self(), Err(CryptoError::BadSignature));
}

#[test]
fn fail_flipped_bit_in_signature() {
    let key = SigningKey::generate().unwrap();
    let signed = sign(&key, grant());
    let vk = key.verifying_key();
    signed.verify(&vk).unwrap();
    for i in 0..64 {
        for bit in 0..8 {
            let mut bad = signed.clone();
            let mut s = bad.signature.to_bytes();
            s[i] ^= 1 << bit;
            bad.signature = Signature::from_bytes(&s).unwrap();
            assert!(bad.verify(&vk).is_err(), "byte {i} bit {bit}");
        }
    }
}

#[test]
fn fail_signature_for_other_type_with_same_fields() {
    // Domain separation: a signature over one label never verifies another.
    let key = SigningKey::generate().unwrap();
    let signed = sign(&key, grant());
    let bytes = signed.value.signed_bytes();
    let mut relabelled = bytes.clone();
    relabelled[4..4 + context::SIGN_GRANT.len()]
        .copy_from_slice(&context::SIGN_MANIFEST.as_bytes()[..context::SIGN_GRANT.len()]);
    assert!(key
        .verifying_key()
        .verify_bytes(&relabelled, &signed.signature)
        .is_err());
}

#[test]
fn fail_grant_changes() {
    let key = SigningKey::generate().unwrap();
    let vk = key.verifying_key();
    let signed = sign(&key, grant());
    for change in [
        (|g: &mut Grant| g.permission = Permission::ReadWrite) as fn(&mut Grant),
        |g| g.expires_at = None,
        |g| g.expires_at = Some(21),
        |g| g.doctor_id[0] ^= 1,
        |g| g.doctor_key[31] ^= 1,
        |g| g.key_hash[0] ^= 1,
        |g| g.node_id[0] ^= 1,
        |g| g.patient_id[0] ^= 1,
        |g| g.grant_id[0] ^= 1,
        |g| g.created_at = 11,
    ] {
        let mut bad = signed.clone();
        change(&mut bad.value);
        assert_eq!(bad.verify(&vk), Err(CryptoError::BadSignature));
    }
}

#[test]
fn fail_manifest_changes() {
    let key = SigningKey::generate().unwrap();
    let vk = key.verifying_key();
    let signed = sign(&key, manifest());
    signed.verify(&vk).unwrap();
    for change in [
        (|m: &mut FileManifest| m.part_hashes.swap(0, 1)) as fn(&mut FileManifest),
        |m| {
            m.part_hashes.pop();
        },
        |m| m.part_hashes.push([0; 32]),
        |m| m.part_hashes[1][31] ^= 1,
        |m| m.version = 4,
        |m| m.size = 6,
        |m| m.author_id[0] ^= 1,
        |m| m.parent_id[0] ^= 1,
    ] {
        let mut bad = signed.clone();
        change(&mut bad.value);
        assert_eq!(bad.verify(&vk), Err(CryptoError::BadSignature));
    }
}

#[test]
fn doctor_certificate_verifies_only_with_admin_key() {
    let admin = SigningKey::generate().unwrap();
    let doctor = SigningKey::generate().unwrap();
    let cert = DoctorCertificate {
        doctor_id: [5; 16],
        doctor_username: "dr.who".into(),
        doctor_identity_key: doctor.verifying_key(),
        doctor_encryption_key: [6; 32],
        licence_id: "GMC 1234567".into(),
        admin_id: [7; 16],
        issued_at: 1,
    };
    let signed = sign(&admin, cert.clone());
    signed.verify(&admin.verifying_key()).unwrap();
    // The licence id is covered by the signature.
    let mut changed = signed.clone();
    changed.value.licence_id = "GMC 7654321".into();
    assert_eq!(
        changed.verify(&admin.verifying_key()),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        signed.verify(&doctor.verifying_key()),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn fail_malformed_json() {
    let key = SigningKey::generate().unwrap();
    let signed = sign(&key, entry(&key));
    let mut json: serde_json::Value = serde_json::to_value(&signed).unwrap();
    json["signature"] = serde_json::Value::String("AAAA".into());
    assert!(serde_json::from_value::<Signed<KeyEntry>>(json).is_err());
}

/// The SHA-256 of each type's signed bytes, pinned: moving these types out of
/// `crypto` (issue 18) or any later change must not change what is signed.
/// (The grant and manifest values were also computed independently from the
/// encoding in `docs/PROTOCOL.md`.)
#[test]
fn signed_bytes_are_pinned() {
    use crate::crypto::b64;
    let key = SigningKey::from_seed(&[3; 32]);
    let mut open_ended = grant();
    open_ended.expires_at = None;
    let cert = DoctorCertificate {
        doctor_id: [5; 16],
        doctor_username: "dr.who".into(),
        doctor_identity_key: key.verifying_key(),
        doctor_encryption_key: [6; 32],
        licence_id: "GMC 1234567".into(),
        admin_id: [7; 16],
        issued_at: 1,
    };
    let digests = [
        entry(&key).signed_bytes(),
        grant().signed_bytes(),
        open_ended.signed_bytes(),
        manifest().signed_bytes(),
        cert.signed_bytes(),
    ]
    .map(|bytes| b64::encode(&part_hash(&bytes)));
    assert_eq!(
        digests,
        [
            "n-Dq1Iz5nNiZaL2SXr-U1h8i2oDs9HnfWwxgpAmSMp8",
            "Ho_HEaqk0iJ8f0D7lZY8bd90wt0vUfVioUt6XR2CR6k",
            "zupUQ7vv8CLhmamaJ9cgOGFMCARchvXKp7O84Aa25sk",
            "7LOkW9FCVA3u3aUvClbe7fxs8gs3dlu_a_PJLNPVjDU",
            "SWf7Z4MtMn5KX9LCsGmS0hpLDNy_1J61OOi67AKcPZg",
        ]
    );
}

fn admin_cert(org: &SigningKey) -> AdminCertificate {
    AdminCertificate {
        admin_id: [7; 16],
        admin_username: "root.admin".into(),
        admin_identity_key: SigningKey::from_seed(&[4; 32]).verifying_key(),
        admin_encryption_key: [8; 32],
        org_key: org.verifying_key(),
        issued_at: 2,
    }
}

/// The admin certificate's signed bytes, pinned like the others (the value was
/// also computed from the encoding in `docs/PROTOCOL.md` by hand).
#[test]
fn admin_certificate_signed_bytes_are_pinned() {
    use crate::crypto::b64;
    let org = SigningKey::from_seed(&[3; 32]);
    let bytes = admin_cert(&org).signed_bytes();
    assert!(
        bytes.starts_with(&[&[0, 0, 0, 34][..], b"medvault/v1/sign/admin-certificate"].concat())
    );
    assert_eq!(
        b64::encode(&part_hash(&bytes)),
        "xmW67xW9exuN1R0TWYAjxf_EJxczEtK_QzblNOrgx5A"
    );
}

#[test]
fn admin_certificate_verifies_under_its_org_key_only() {
    let org = SigningKey::from_seed(&[3; 32]);
    let other = SigningKey::from_seed(&[9; 32]);
    let signed = sign(&org, admin_cert(&org));
    assert_eq!(signed.verify_self().unwrap(), &admin_cert(&org));
    // Signed by another key while naming the org key: refused.
    assert_eq!(
        sign(&other, admin_cert(&org)).verify_self(),
        Err(CryptoError::BadSignature)
    );
    for change in [
        (|c: &mut AdminCertificate| c.admin_id[0] ^= 1) as fn(&mut AdminCertificate),
        |c| c.admin_username.push('x'),
        |c| c.admin_identity_key = SigningKey::from_seed(&[5; 32]).verifying_key(),
        |c| c.admin_encryption_key[31] ^= 1,
        |c| c.issued_at += 1,
    ] {
        let mut bad = signed.clone();
        change(&mut bad.value);
        assert_eq!(bad.verify_self(), Err(CryptoError::BadSignature));
    }
    // The JSON round trip keeps it verifiable.
    let json = serde_json::to_string(&signed).unwrap();
    let back: Signed<AdminCertificate> = serde_json::from_str(&json).unwrap();
    back.verify_self().unwrap();
}

/// The legacy grant encoding (before `key_hash`) is exactly what the
/// previous release signed: these are the digests `signed_bytes_are_pinned`
/// pinned for the same grants at commit 4e0378c. `key_hash` is not in it.
#[test]
fn legacy_grant_bytes_are_the_old_release_bytes() {
    use crate::crypto::b64;
    let mut open_ended = grant();
    open_ended.expires_at = None;
    let mut other_hash = grant();
    other_hash.key_hash = [0; 32];
    let digests = [grant(), open_ended, other_hash]
        .map(|g| b64::encode(&part_hash(&g.legacy_signed_bytes())));
    assert_eq!(
        digests,
        [
            "fWbEb59iH9wzskYIuhne9PxRsm1AQa2oFzPXlZ5m0Io",
            "JVw6Qv7nj4M5GrKXhGNgGukjv-ZxISrV9z8ownxwpbA",
            "fWbEb59iH9wzskYIuhne9PxRsm1AQa2oFzPXlZ5m0Io",
        ]
    );
    assert_ne!(grant().legacy_signed_bytes(), grant().signed_bytes());
}
