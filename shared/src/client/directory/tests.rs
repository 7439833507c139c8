//! The directory's chain of trust, link by link, with a server that lies about
//! each one.

use super::*;
use crate::{
    client::{certify_doctor, key_entry},
    crypto::keyring::Keyring,
    model::Id,
};

struct Person {
    keyring: Keyring,
    entry: Signed<KeyEntry>,
}

fn person(id: u8, name: &str, role: Role) -> Person {
    let keyring = Keyring::generate().unwrap();
    let entry = key_entry(&keyring, [id; 16], name, role, 1);
    Person { keyring, entry }
}

fn doctor_cert(admin: &Person, doctor: &Person) -> Signed<crate::model::DoctorCertificate> {
    let admin_id: Id = admin.entry.value.user_id;
    certify_doctor(&admin.keyring, admin_id, &doctor.entry.value, "GMC 1", 2)
}

/// A doctor certified by an admin whom `org` certified.
fn chain(org: &SigningKey) -> (Person, Person, DirectoryEntry) {
    let admin = person(1, "admin", Role::Admin);
    let doctor = person(2, "dr.who", Role::Doctor);
    let served = DirectoryEntry {
        entry: doctor.entry.clone(),
        certificate: Some(doctor_cert(&admin, &doctor)),
        certifier: Some(admin.entry.clone()),
        certifier_certificate: Some(certify_admin(org, &admin.entry.value, 3)),
        disabled: false,
    };
    (admin, doctor, served)
}

fn fingerprint(key: &SigningKey) -> OrgFingerprint {
    OrgFingerprint::of(&key.verifying_key().to_bytes())
}

#[test]
fn doctor_chaining_to_the_built_in_key_is_verified() {
    let org = SigningKey::generate().unwrap();
    let (_, _, served) = chain(&org);
    let checked = verify_directory_entry("dr.who", &served, Some(&fingerprint(&org))).unwrap();
    assert_eq!(
        checked.verified_doctor,
        Some(("GMC 1".to_owned(), "admin".to_owned()))
    );
}

#[test]
fn without_a_built_in_fingerprint_no_doctor_is_verified() {
    let org = SigningKey::generate().unwrap();
    let (_, _, served) = chain(&org);
    let checked = verify_directory_entry("dr.who", &served, None).unwrap();
    assert_eq!(checked.verified_doctor, None);
}

#[test]
fn fail_server_minted_admin_without_org_certificate() {
    // The server makes an "admin" entry of its own, self-signed, and certifies
    // keys it chose: no org certificate, so not this installation's.
    let org = SigningKey::generate().unwrap();
    let (_, _, mut served) = chain(&org);
    served.certifier_certificate = None;
    assert_eq!(
        verify_directory_entry("dr.who", &served, Some(&fingerprint(&org))),
        Err(DirectoryError::NotThisInstallation)
    );
}

#[test]
fn fail_admin_certified_by_another_org_key() {
    let org = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let (_, _, served) = chain(&other);
    assert_eq!(
        verify_directory_entry("dr.who", &served, Some(&fingerprint(&org))),
        Err(DirectoryError::NotThisInstallation)
    );
}

#[test]
fn fail_org_certificate_over_another_admin_s_keys() {
    let org = SigningKey::generate().unwrap();
    let (_, _, mut served) = chain(&org);
    // A genuine org certificate, but for a different admin (or the same admin's
    // old keys): it does not cover the keys that signed the doctor.
    let other_admin = person(1, "admin", Role::Admin);
    served.certifier_certificate = Some(certify_admin(&org, &other_admin.entry.value, 3));
    assert_eq!(
        verify_directory_entry("dr.who", &served, Some(&fingerprint(&org))),
        Err(DirectoryError::NotThisInstallation)
    );
}

#[test]
fn fail_org_certificate_with_changed_field_or_swapped_org_key() {
    let org = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let (_, _, served) = chain(&org);
    let mut bad = served.clone();
    if let Some(c) = bad.certifier_certificate.as_mut() {
        c.value.issued_at += 1;
    }
    assert_eq!(
        verify_directory_entry("dr.who", &bad, Some(&fingerprint(&org))),
        Err(DirectoryError::NotThisInstallation)
    );
    // Names the installation's key, but signed by another.
    let mut bad = served;
    if let Some(c) = bad.certifier_certificate.as_mut() {
        let forged = certify_admin(&other, &c.value.clone_admin(), 3);
        c.signature = forged.signature;
    }
    assert_eq!(
        verify_directory_entry("dr.who", &bad, Some(&fingerprint(&org))),
        Err(DirectoryError::NotThisInstallation)
    );
}

#[test]
fn fail_doctor_certificate_not_by_the_certifier_is_a_forgery() {
    let org = SigningKey::generate().unwrap();
    let (_, doctor, mut served) = chain(&org);
    let impostor = person(3, "mallory", Role::Admin);
    served.certificate = Some(doctor_cert(&impostor, &doctor));
    assert_eq!(
        verify_directory_entry("dr.who", &served, Some(&fingerprint(&org))),
        Err(DirectoryError::Crypto(CryptoError::BadSignature))
    );
}

#[test]
fn request_and_certificate_codes_round_trip() {
    let org = SigningKey::generate().unwrap();
    let admin = person(1, "admin", Role::Admin);
    let code = admin_request_code(&admin.entry);
    let read = parse_admin_request(&format!("  {code}\n")).unwrap();
    assert_eq!(read, admin.entry.value);
    let cert = certify_admin(&org, &read, 5);
    let back = parse_admin_certificate(&admin_certificate_code(&cert)).unwrap();
    assert_eq!(back, cert);
    check_admin_certificate(&back, &admin.entry.value, &fingerprint(&org)).unwrap();
}

#[test]
fn fail_bad_codes() {
    let doctor = person(2, "dr.who", Role::Doctor);
    assert_eq!(
        parse_admin_request(&admin_request_code(&doctor.entry)),
        Err(CryptoError::Malformed)
    );
    let mut forged = doctor.entry.clone();
    forged.value.role = Role::Admin;
    assert_eq!(
        parse_admin_request(&admin_request_code(&forged)),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        parse_admin_request("not a code"),
        Err(CryptoError::Malformed)
    );
    assert_eq!(parse_admin_certificate("e30"), Err(CryptoError::Malformed));
}

trait CloneAdmin {
    fn clone_admin(&self) -> KeyEntry;
}

impl CloneAdmin for AdminCertificate {
    /// The admin entry this certificate describes (`created_at` aside).
    fn clone_admin(&self) -> KeyEntry {
        KeyEntry {
            user_id: self.admin_id,
            username: self.admin_username.clone(),
            role: Role::Admin,
            identity_key: self.admin_identity_key,
            encryption_key: self.admin_encryption_key,
            created_at: 1,
        }
    }
}

/// A role an admin gave is accepted by signing the same entry again: the keys
/// (so the safety number, so every pin) stay, the role is the new one, and a
/// certificate made for the old role no longer counts.
#[test]
fn a_renewed_entry_keeps_the_keys_and_carries_the_new_role() {
    let org = SigningKey::generate().unwrap();
    let (_, doctor, served) = chain(&org);
    let before = verify_directory_entry("dr.who", &served, Some(&fingerprint(&org))).unwrap();
    assert!(before.verified_doctor.is_some());

    let renewed =
        crate::client::renewed_key_entry(&doctor.keyring, &doctor.entry.value, Role::Auditor)
            .unwrap();
    assert_eq!(renewed.value.role, Role::Auditor);
    assert_eq!(renewed.value.created_at, doctor.entry.value.created_at);
    let plain = DirectoryEntry {
        entry: renewed.clone(),
        certificate: None,
        certifier: None,
        certifier_certificate: None,
        disabled: false,
    };
    let after = verify_directory_entry("dr.who", &plain, Some(&fingerprint(&org))).unwrap();
    assert_eq!(after.entry.role, Role::Auditor);
    assert_eq!(after.safety_number, before.safety_number);
    assert_eq!(after.verified_doctor, None);

    // The old certificate served beside the new entry is a lying server.
    let replayed = DirectoryEntry {
        entry: renewed,
        ..served
    };
    assert!(verify_directory_entry("dr.who", &replayed, Some(&fingerprint(&org))).is_err());

    // Never to or from patient.
    assert_eq!(
        crate::client::renewed_key_entry(&doctor.keyring, &doctor.entry.value, Role::Patient),
        Err(CryptoError::Malformed)
    );
    let patient = person(5, "pat", Role::Patient);
    assert_eq!(
        crate::client::renewed_key_entry(&patient.keyring, &patient.entry.value, Role::Doctor),
        Err(CryptoError::Malformed)
    );
    // Only the entry's own keys renew it.
    let stranger = Keyring::generate().unwrap();
    assert_eq!(
        crate::client::renewed_key_entry(&stranger, &doctor.entry.value, Role::Admin),
        Err(CryptoError::BadSignature)
    );
}
