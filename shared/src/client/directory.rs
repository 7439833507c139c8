//! Checking what the directory serves, up to the installation's anchor.
//!
//! The chain a browser accepts for a "verified doctor": the doctor's
//! self-signed entry; a doctor certificate over exactly those keys, signed by an
//! admin's self-signed entry; an admin certificate over exactly that admin's
//! keys, signed by an org key whose fingerprint the app was built with. The
//! server supplies every link and may lie about each; only the fingerprint
//! comes from elsewhere (the operator, at build time).
//!
//! Also the two codes an admin and the operator pass each other by hand: the
//! admin's certificate request (their signed key entry) and the certificate the
//! operator's `org-key certify-admin` prints.

use crate::{
    account::Username,
    api::directory::DirectoryEntry,
    crypto::keyring::Keyring,
    crypto::{
        b64,
        fingerprint::{OrgFingerprint, SafetyNumber},
        sign::{
            Signed, SigningKey, {self},
        },
        CryptoError,
    },
    model::{AdminCertificate, KeyEntry, Role},
};

/// Why a directory entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// A signature or a field does not hold: the server's answer is forged or
    /// mixed up.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A doctor's certificate that is itself well signed, but whose admin is not
    /// certified by this installation's org key (no admin certificate, one by
    /// another key, or one over other keys).
    #[error("the doctor's certificate does not chain to this installation's key")]
    NotThisInstallation,
}

/// A directory entry after the browser checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The self-signed entry.
    pub entry: KeyEntry,
    /// The safety number of its keys.
    pub safety_number: SafetyNumber,
    /// For a doctor whose certificate chains to the installation's org key:
    /// the licence id and the certifying admin's username.
    pub verified_doctor: Option<(String, String)>,
    /// Whether an admin disabled the account.
    pub disabled: bool,
}

/// Checks a directory entry: the self-signature, that it is the user asked for,
/// and for a doctor the certificate chain up to `org` (the fingerprint the app
/// was built with).
///
/// A doctor certificate that does not verify under its admin's entry is
/// [`DirectoryError::Crypto`]; one whose admin is not certified by `org` is
/// [`DirectoryError::NotThisInstallation`]: a present certificate that fails is
/// a lying server, never "unverified". With `org` `None` (an app built without
/// a fingerprint) no doctor is verified, and certificates are still checked.
pub fn verify_directory_entry(
    asked_username: &str,
    served: &DirectoryEntry,
    org: Option<&OrgFingerprint>,
) -> Result<VerifiedEntry, DirectoryError> {
    let entry = served.entry.verify_self()?.clone();
    let asked = Username::parse(asked_username).map_err(|_| CryptoError::Malformed)?;
    if entry.username != asked.as_str() {
        return Err(CryptoError::BadSignature.into());
    }
    let verified_doctor = match (&served.certificate, &served.certifier) {
        (None, _) => None,
        (Some(cert), Some(certifier)) => {
            let admin = certifier.verify_self()?;
            if admin.role != Role::Admin || entry.role != Role::Doctor {
                return Err(CryptoError::BadSignature.into());
            }
            let c = cert.verify(&admin.identity_key)?;
            if c.admin_id != admin.user_id
                || c.doctor_id != entry.user_id
                || c.doctor_username != entry.username
                || c.doctor_identity_key != entry.identity_key
                || c.doctor_encryption_key != entry.encryption_key
            {
                return Err(CryptoError::BadSignature.into());
            }
            match org {
                None => None,
                Some(org) => {
                    let admin_cert = served
                        .certifier_certificate
                        .as_ref()
                        .ok_or(DirectoryError::NotThisInstallation)?;
                    check_admin_certificate(admin_cert, admin, org)?;
                    Some((c.licence_id.clone(), admin.username.clone()))
                }
            }
        }
        (Some(_), None) => return Err(CryptoError::BadSignature.into()),
    };
    Ok(VerifiedEntry {
        safety_number: SafetyNumber::new(
            &entry.user_id,
            &entry.identity_key.to_bytes(),
            &entry.encryption_key,
        ),
        entry,
        verified_doctor,
        disabled: served.disabled,
    })
}

/// Checks that `cert` is signed by an org key with fingerprint `org` and names
/// exactly `admin`'s id, username and keys. Any failure is
/// [`DirectoryError::NotThisInstallation`].
pub fn check_admin_certificate(
    cert: &Signed<AdminCertificate>,
    admin: &KeyEntry,
    org: &OrgFingerprint,
) -> Result<(), DirectoryError> {
    let refused = DirectoryError::NotThisInstallation;
    let c = cert.verify_self().map_err(|_| refused)?;
    if OrgFingerprint::of(&c.org_key.to_bytes()) != *org
        || admin.role != Role::Admin
        || c.admin_id != admin.user_id
        || c.admin_username != admin.username
        || c.admin_identity_key != admin.identity_key
        || c.admin_encryption_key != admin.encryption_key
    {
        return Err(refused);
    }
    Ok(())
}

/// The certificate request an admin hands the operator: base64url of the JSON
/// of their signed key entry.
pub fn admin_request_code(entry: &Signed<KeyEntry>) -> String {
    b64::encode(serde_json::to_string(entry).unwrap_or_default().as_bytes())
}

/// Reads a certificate request (surrounding white space ignored): a
/// self-signed entry of an admin, or an error.
pub fn parse_admin_request(code: &str) -> Result<KeyEntry, CryptoError> {
    let signed: Signed<KeyEntry> = decode_code(code)?;
    let entry = signed.verify_self()?;
    if entry.role != Role::Admin {
        return Err(CryptoError::Malformed);
    }
    Ok(entry.clone())
}

/// The org key's certificate for a checked admin entry (the operator's
/// `org-key certify-admin`, and the tests' stand-in for it).
pub fn certify_admin(org_key: &SigningKey, admin: &KeyEntry, now: i64) -> Signed<AdminCertificate> {
    sign::sign(
        org_key,
        AdminCertificate {
            admin_id: admin.user_id,
            admin_username: admin.username.clone(),
            admin_identity_key: admin.identity_key,
            admin_encryption_key: admin.encryption_key,
            org_key: org_key.verifying_key(),
            issued_at: now,
        },
    )
}

/// The certificate code the operator hands back: base64url of the JSON of the
/// signed admin certificate.
pub fn admin_certificate_code(cert: &Signed<AdminCertificate>) -> String {
    b64::encode(serde_json::to_string(cert).unwrap_or_default().as_bytes())
}

/// Reads a certificate code (surrounding white space ignored) and checks its
/// signature under the org key it names. Whether that key is the
/// installation's is [`check_admin_certificate`]'s question.
pub fn parse_admin_certificate(code: &str) -> Result<Signed<AdminCertificate>, CryptoError> {
    let cert: Signed<AdminCertificate> = decode_code(code)?;
    cert.verify_self()?;
    Ok(cert)
}

fn decode_code<T: serde::de::DeserializeOwned>(code: &str) -> Result<T, CryptoError> {
    let compact: String = code.split_whitespace().collect();
    let bytes = b64::decode(&compact).ok_or(CryptoError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| CryptoError::Malformed)
}

/// `current` signed again with `role`, everything else kept (the keys and
/// when they were made): how a user accepts the role an admin gave them.
/// Refuses an entry whose keys are not `keyring`'s, and any change to or
/// from patient, which medvault never makes (a server asking for one lies).
pub fn renewed_key_entry(
    keyring: &Keyring,
    current: &KeyEntry,
    role: Role,
) -> Result<Signed<KeyEntry>, CryptoError> {
    super::check_keyring_matches(keyring, current)?;
    if (current.role == Role::Patient) != (role == Role::Patient) {
        return Err(CryptoError::Malformed);
    }
    Ok(super::key_entry(
        keyring,
        current.user_id,
        &current.username,
        role,
        current.created_at,
    ))
}

#[cfg(test)]
mod tests;
