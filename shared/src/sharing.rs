//! The browser's half of sharing: making a grant (the patient) and opening one
//! (the doctor). Pure functions; the app and the server's tests both use them.
//!
//! Nothing the server says about a grant is taken on trust: the doctor's side
//! checks the patient's signature, that the grant names this doctor and the
//! scope it claims, that the wrapped key is the one the patient signed (its
//! SHA-256 is the grant's `key_hash`), and opens it only as the key of that
//! node for this doctor (HPKE `info` binds both), so a swapped, replayed or
//! server-made key fails.
//!
//! Whether a grant allows something (open, not ended, covering the node,
//! allowing the permission) is [`grant_allows`], in `access.rs`: the one rule
//! that the server and the app are meant to call too. A key rotation's plan
//! (which grants keep access, the new keys, each kept grant signed again over
//! its new key) is in `rotation.rs`; re-signing a grant made before
//! `key_hash` existed is in `legacy.rs`.

mod access;
mod change;
mod legacy;
mod rotation;

pub use access::*;
pub use change::*;
pub use legacy::*;
pub use rotation::*;

use crate::{
    api::{records::VersionView, sharing::GrantView},
    crypto::{
        aead::Key256,
        hpke::{
            EncryptionPublicKey, EncryptionSecretKey, {self},
        },
        rng,
        sign::{
            Signed, SigningKey, {self},
        },
        CryptoError,
    },
    model::{FileManifest, Grant, Id, KeyEntry, Permission, Role},
    records::verify_version,
};

/// What a patient decided to share.
pub struct GrantChoice {
    /// The doctor's verified directory entry.
    pub doctor: KeyEntry,
    /// The folder shared (the root for the whole record).
    pub node_id: Id,
    /// Its node key (from the patient's open tree).
    pub node_key: Key256,
    /// Read, or read and write.
    pub permission: Permission,
    /// Optional end, Unix seconds.
    pub expires_at: Option<i64>,
    /// An emergency contact, who may be a patient as well as a doctor.
    pub emergency: bool,
}

/// Makes and signs a grant and wraps the folder's key to the doctor. The doctor
/// must be a doctor (an emergency contact may be a patient too) and not the
/// patient; the end date, if any, must be after `now`.
pub fn make_grant(
    patient: &KeyEntry,
    signing_key: &SigningKey,
    choice: &GrantChoice,
    now: i64,
) -> Result<(Signed<Grant>, Vec<u8>), String> {
    if choice.doctor.user_id == patient.user_id {
        return Err("You cannot share your record with yourself.".to_owned());
    }
    let allowed = match choice.doctor.role {
        Role::Doctor => true,
        Role::Patient => choice.emergency,
        Role::Admin | Role::Auditor => false,
    };
    if !allowed {
        return Err(if choice.emergency {
            format!(
                "{} is an administrator or auditor account; choose a doctor, a relative or a friend as your emergency contact.",
                choice.doctor.username
            )
        } else {
            format!(
                "{} is not a doctor in medvault, so your record cannot be shared with them.",
                choice.doctor.username
            )
        });
    }
    if choice.expires_at.is_some_and(|t| t <= now) {
        return Err("The end date has already passed. Choose a later date, or none.".to_owned());
    }
    let mut grant_id = [0u8; 16];
    rng::fill(&mut grant_id)
        .map_err(|_| "Your browser could not make a random id. Reload and try again.")?;
    let recipient = EncryptionPublicKey::from_bytes(choice.doctor.encryption_key)
        .map_err(|_| "The doctor's keys are not usable. Ask them to contact an administrator.")?;
    let wrapped = hpke::wrap_node_key(
        &recipient,
        &choice.doctor.user_id,
        &choice.node_id,
        &choice.node_key,
    )
    .map_err(|_| "Your browser could not wrap the key. Reload and try again.")?;
    let grant = Grant {
        grant_id,
        patient_id: patient.user_id,
        doctor_id: choice.doctor.user_id,
        doctor_key: choice.doctor.encryption_key,
        key_hash: wrapped_key_hash(&wrapped),
        node_id: choice.node_id,
        permission: choice.permission,
        created_at: now,
        expires_at: choice.expires_at,
        revision: 0,
    };
    Ok((sign::sign(signing_key, grant), wrapped))
}

/// SHA-256 of a grant's wrapped key, exactly as sent and stored: the value a
/// grant signs in `key_hash` (plain SHA-256 of the bytes, no label; the
/// same function that hashes a file's ciphertext parts).
pub fn wrapped_key_hash(wrapped: &[u8]) -> [u8; 32] {
    sign::part_hash(wrapped)
}

/// A grant the doctor checked and opened.
pub struct OpenGrant {
    /// The grant as the patient signed it.
    pub grant: Grant,
    /// The shared folder's node key.
    pub node_key: Key256,
}

/// Why a doctor's browser refused to open a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantOpenError {
    /// The patient did not sign it, or it is not for this doctor, this
    /// doctor's key and this patient.
    NotSigned,
    /// The patient signed it before grants signed their key's hash (the
    /// legacy encoding, [`verify_legacy`]) and has not signed it again
    /// since: nothing binds the key served to it.
    NotRenewed,
    /// The wrapped key served is not the one the patient signed
    /// (`SHA-256(wrapped) != grant.key_hash`): the server swapped it.
    KeyNotGiven,
    /// The wrapped key matches the grant but does not open as this node's
    /// key for this doctor.
    KeyUnusable,
}

impl GrantOpenError {
    /// The sentence the doctor (or emergency contact) reads.
    pub fn sentence(self) -> &'static str {
        match self {
            GrantOpenError::NotSigned => {
                "The server's answer about this share is not signed by the patient, so nothing was opened. Contact your administrator."
            }
            GrantOpenError::NotRenewed => {
                "This share was made before an update to medvault and the patient has not confirmed it since, so nothing was opened. Ask the patient to open the Sharing page in medvault once; the share then opens for you."
            }
            GrantOpenError::KeyNotGiven => {
                "The key for this shared folder was not the one the patient gave you, so nothing was opened and nothing you write can go there. Do not use this share; tell the patient and your administrator."
            }
            GrantOpenError::KeyUnusable => {
                "The key for this shared folder could not be opened with your keys, so nothing was opened. Ask the patient to share the folder again, and tell your administrator."
            }
        }
    }
}

impl std::fmt::Display for GrantOpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.sentence())
    }
}

/// Checks a grant served to `doctor_id` against the patient's key entry (from
/// the directory, self-signature already checked) and opens its key.
///
/// Errors: [`GrantOpenError::NotSigned`] if the patient did not sign it or it
/// is not for this doctor, this doctor's key and this patient;
/// [`GrantOpenError::NotRenewed`] if the patient signed it, for this doctor,
/// only under the encoding before `key_hash` (it is never opened);
/// [`GrantOpenError::KeyNotGiven`] if the wrapped key is not the one the
/// grant signs (`SHA-256(wrapped) == key_hash`, checked before any
/// unwrapping); [`GrantOpenError::KeyUnusable`] if it does not open as the
/// key of that node for this doctor.
pub fn open_grant(
    view: &GrantView,
    patient: &KeyEntry,
    doctor_id: &Id,
    doctor_secret: &EncryptionSecretKey,
) -> Result<OpenGrant, GrantOpenError> {
    let grant = view.grant.verify(&patient.identity_key).map_err(|_| {
        // Which refusal to give only; a legacy grant is never opened.
        match verify_legacy(&view.grant, &patient.identity_key) {
            Ok(g) if g.patient_id == patient.user_id && g.doctor_id == *doctor_id => {
                GrantOpenError::NotRenewed
            }
            _ => GrantOpenError::NotSigned,
        }
    })?;
    if grant.patient_id != patient.user_id
        || grant.doctor_id != *doctor_id
        || grant.doctor_key != doctor_secret.public_key().to_bytes()
    {
        return Err(GrantOpenError::NotSigned);
    }
    if wrapped_key_hash(&view.wrapped_key) != grant.key_hash {
        return Err(GrantOpenError::KeyNotGiven);
    }
    let node_key =
        hpke::unwrap_node_key(doctor_secret, doctor_id, &grant.node_id, &view.wrapped_key)
            .map_err(|_| GrantOpenError::KeyUnusable)?;
    Ok(OpenGrant {
        grant: grant.clone(),
        node_key,
    })
}

/// Checks a version before any of its content is used, and that its author
/// was allowed to write it: the record's owner, or a doctor whose
/// read-and-write grant, signed by the owner, covered the version's folder
/// (or was of that very file) when the manifest was made.
///
/// `owner` is the record owner's directory entry and `author` the author's,
/// both with their self-signatures already checked (the author's is needed
/// only for a version someone else wrote). `covers(folder, inner)` answers
/// whether `folder` is `inner` or a folder above it in the tree the reader
/// sees. Any failure is [`CryptoError::BadSignature`] or
/// [`CryptoError::Malformed`]: the version is not to be trusted.
pub fn check_version<'a>(
    version: &'a VersionView,
    owner: &KeyEntry,
    author: Option<&KeyEntry>,
    covers: impl Fn(&Id, &Id) -> bool,
) -> Result<&'a FileManifest, CryptoError> {
    if version.author_id == owner.user_id {
        return verify_version(version, &owner.identity_key);
    }
    let author = author
        .filter(|a| a.user_id == version.author_id && a.role == Role::Doctor)
        .ok_or(CryptoError::BadSignature)?;
    let grant = version
        .write_grant
        .as_ref()
        .ok_or(CryptoError::BadSignature)?
        .verify(&owner.identity_key)?;
    // A read-only grant is refused here already, before any work on the
    // manifest (grant_allows below says the same).
    if grant.patient_id != owner.user_id
        || grant.doctor_id != author.user_id
        || grant.permission != Permission::ReadWrite
    {
        return Err(CryptoError::BadSignature);
    }
    let manifest = verify_version(version, &author.identity_key)?;
    grant_allows(
        grant,
        None,
        Permission::ReadWrite,
        GrantTime::Signed(manifest.created_at),
        // A folder above the file, or the file itself (a share of one file).
        |top| covers(top, &manifest.parent_id) || *top == manifest.node_id,
    )
    .map_err(|_| CryptoError::BadSignature)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests;
