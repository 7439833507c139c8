//! The domain's data: ids, roles, permissions and the signed statements that
//! carry them (key entries, admin and doctor certificates, grants, file
//! manifests).
//!
//! These are what the app, the server and the protocol talk about, so they live
//! apart from the crypto primitives: a page that needs a role imports the model,
//! not crypto. Each signed type implements [`Signable`] here, with the label and
//! field order of `docs/PROTOCOL.md`; changing an encoding changes every
//! signature, and `model/tests.rs` pins the signed bytes of each type.

use serde::{Deserialize, Serialize};

use crate::crypto::{
    b64,
    context::{
        Encoder, {self},
    },
    sign::{SelfSigned, Signable, VerifyingKey},
};

/// A 16-byte identifier (user, node, file, grant). Random, never secret.
///
/// The same type as `crypto::Id`: the primitives bind these bytes into labels
/// and associated data, but what they name belongs to the domain.
pub type Id = [u8; 16];

/// What a user may do; part of what their key entry signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns records.
    Patient,
    /// Reads (and may add to) records shared by patients.
    Doctor,
    /// Invites and certifies doctors; reads no records.
    Admin,
    /// Reads the audit log; reads no records.
    Auditor,
}

impl Role {
    /// The role's byte in canonical encodings.
    pub fn code(self) -> u8 {
        match self {
            Role::Patient => 1,
            Role::Doctor => 2,
            Role::Admin => 3,
            Role::Auditor => 4,
        }
    }
}

/// A user's public key directory entry, signed by the user's own identity key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// The user's id.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// The user's login name (as registered).
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// Ed25519 identity key (verifies this entry and everything the user signs).
    pub identity_key: VerifyingKey,
    /// X25519 encryption key (receives wrapped node keys).
    #[serde(with = "b64::array")]
    pub encryption_key: [u8; 32],
    /// When the keys were made, Unix seconds.
    pub created_at: i64,
}

impl Signable for KeyEntry {
    const LABEL: &'static str = context::SIGN_KEY_ENTRY;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.user_id)
            .str(&self.username)
            .u8(self.role.code())
            .bytes(&self.identity_key.to_bytes())
            .bytes(&self.encryption_key)
            .i64(self.created_at);
    }
}

/// An entry is signed by the identity key it carries (`Signed::verify_self`).
impl SelfSigned for KeyEntry {
    fn own_key(&self) -> &VerifyingKey {
        &self.identity_key
    }
}

/// An admin's statement that these keys belong to a doctor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorCertificate {
    /// The doctor's user id.
    #[serde(with = "b64::array")]
    pub doctor_id: Id,
    /// The doctor's login name.
    pub doctor_username: String,
    /// The doctor's identity key being certified.
    pub doctor_identity_key: VerifyingKey,
    /// The doctor's encryption key being certified.
    #[serde(with = "b64::array")]
    pub doctor_encryption_key: [u8; 32],
    /// The professional licence number the admin checked (as the licensing body
    /// writes it), so a patient can look the doctor up there.
    pub licence_id: String,
    /// The admin who signs.
    #[serde(with = "b64::array")]
    pub admin_id: Id,
    /// When it was issued, Unix seconds.
    pub issued_at: i64,
}

impl Signable for DoctorCertificate {
    const LABEL: &'static str = context::SIGN_DOCTOR_CERT;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.doctor_id)
            .str(&self.doctor_username)
            .bytes(&self.doctor_identity_key.to_bytes())
            .bytes(&self.doctor_encryption_key)
            .str(&self.licence_id)
            .bytes(&self.admin_id)
            .i64(self.issued_at);
    }
}

/// The installation's statement, signed offline with its org key, that these
/// keys belong to an admin. The anchor of the directory: a doctor's
/// certificate counts only if its admin holds one of these over exactly the
/// admin's current keys, by an org key whose fingerprint the app was built with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminCertificate {
    /// The admin's user id.
    #[serde(with = "b64::array")]
    pub admin_id: Id,
    /// The admin's login name.
    pub admin_username: String,
    /// The admin's identity key being certified.
    pub admin_identity_key: VerifyingKey,
    /// The admin's encryption key being certified.
    #[serde(with = "b64::array")]
    pub admin_encryption_key: [u8; 32],
    /// The org key that signs (its fingerprint is what browsers check).
    pub org_key: VerifyingKey,
    /// When it was issued, Unix seconds.
    pub issued_at: i64,
}

impl Signable for AdminCertificate {
    const LABEL: &'static str = context::SIGN_ADMIN_CERT;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.admin_id)
            .str(&self.admin_username)
            .bytes(&self.admin_identity_key.to_bytes())
            .bytes(&self.admin_encryption_key)
            .bytes(&self.org_key.to_bytes())
            .i64(self.issued_at);
    }
}

/// An admin certificate is signed by the org key it names
/// (`Signed::verify_self`); whether that key is the installation's is the
/// fingerprint check's business.
impl SelfSigned for AdminCertificate {
    fn own_key(&self) -> &VerifyingKey {
        &self.org_key
    }
}

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read the node and everything under it.
    Read,
    /// Read, and add new files or versions under the node.
    ReadWrite,
}

impl Permission {
    /// The permission's byte in canonical encodings.
    pub fn code(self) -> u8 {
        match self {
            Permission::Read => 1,
            Permission::ReadWrite => 2,
        }
    }
}

/// A patient's grant of a node (and its subtree) to a doctor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The grant's id.
    #[serde(with = "b64::array")]
    pub grant_id: Id,
    /// The patient who owns the record and signs.
    #[serde(with = "b64::array")]
    pub patient_id: Id,
    /// The doctor who receives access.
    #[serde(with = "b64::array")]
    pub doctor_id: Id,
    /// The doctor's X25519 encryption key that the patient checked when sharing.
    /// Signed, so that a later re-wrap (a key rotation) goes to this key and
    /// never to one the server names afterwards.
    #[serde(with = "b64::array")]
    pub doctor_key: [u8; 32],
    /// SHA-256 of the exact wrapped-key bytes this grant delivers (the
    /// shared node's key, HPKE-wrapped to `doctor_key`). Signed, so that the
    /// server cannot hand the doctor a key of its own choosing under a
    /// genuine grant; a key rotation re-signs the grant with the new hash.
    /// A grant stored before this field existed reads as all zeros (so a
    /// store keeps loading), and its signature then no longer verifies: it
    /// is refused like any grant the patient did not sign.
    #[serde(with = "b64::array", default)]
    pub key_hash: [u8; 32],
    /// The shared node (the root or a folder).
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Read, or read and write.
    pub permission: Permission,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// When it stops, Unix seconds; `None` means until revoked.
    pub expires_at: Option<i64>,
    /// 0 as made, one more at each change of its terms
    /// (`sharing/grant/change`). Signed, so that a browser that has seen a
    /// later change refuses the earlier terms when a server serves them
    /// again (a replay: write access or an end date taken back would
    /// otherwise come back). Absent in JSON and in the signed bytes while 0,
    /// so grants made before it existed keep their bytes and signatures.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revision: u32,
}

fn is_zero(revision: &u32) -> bool {
    *revision == 0
}

impl Grant {
    /// The fields in their signed order; `key_hash` only when `with_hash`
    /// (the encoding before it existed left it out).
    fn encode(&self, out: &mut Encoder, with_hash: bool) {
        out.bytes(&self.grant_id)
            .bytes(&self.patient_id)
            .bytes(&self.doctor_id)
            .bytes(&self.doctor_key);
        if with_hash {
            out.bytes(&self.key_hash);
        }
        out.bytes(&self.node_id)
            .u8(self.permission.code())
            .i64(self.created_at);
        match self.expires_at {
            // An absent expiry is an empty field; a present one is 8 bytes, so the
            // length prefix tells them apart.
            None => out.bytes(&[]),
            Some(t) => out.i64(t),
        };
        if self.revision > 0 {
            out.u32(self.revision);
        }
    }

    /// The bytes a grant made before `key_hash` existed was signed over: the
    /// same label and fields in the same order, without `key_hash`
    /// (PROTOCOL.md section 9, "Legacy grants"). Only ever verified, to
    /// recognise such a grant and sign it again; never signed anew.
    pub fn legacy_signed_bytes(&self) -> Vec<u8> {
        let mut out = Encoder::new(context::SIGN_GRANT);
        self.encode(&mut out, false);
        out.finish()
    }
}

impl Signable for Grant {
    const LABEL: &'static str = context::SIGN_GRANT;
    fn encode_fields(&self, out: &mut Encoder) {
        self.encode(out, true);
    }
}

/// The signed description of one file version: which ciphertext parts make it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileManifest {
    /// The file node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Its parent folder.
    #[serde(with = "b64::array")]
    pub parent_id: Id,
    /// The version number, from 1.
    pub version: u32,
    /// Plaintext size in bytes (also implied by the parts; stated to catch mix-ups).
    pub size: u64,
    /// SHA-256 of each ciphertext chunk, in order.
    #[serde(with = "b64::hashes")]
    pub part_hashes: Vec<[u8; 32]>,
    /// Who wrote this version (the patient or a doctor with a write grant).
    #[serde(with = "b64::array")]
    pub author_id: Id,
    /// When it was written, Unix seconds.
    pub created_at: i64,
}

impl Signable for FileManifest {
    const LABEL: &'static str = context::SIGN_MANIFEST;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.node_id)
            .bytes(&self.parent_id)
            .u32(self.version)
            .u64(self.size)
            .u32(u32::try_from(self.part_hashes.len()).unwrap_or(u32::MAX));
        for hash in &self.part_hashes {
            out.bytes(hash);
        }
        out.bytes(&self.author_id).i64(self.created_at);
    }
}

#[cfg(test)]
mod tests;
