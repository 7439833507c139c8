//! Ed25519 signatures over canonical binary encodings.
//!
//! Every signed object implements [`Signable`]: a label from `context` and a
//! fixed field order written with [`context::Encoder`]. The signature covers those
//! bytes, never a JSON rendering, so any client that reproduces the encoding in
//! `docs/PROTOCOL.md` verifies the same bytes. Verification is `verify_strict`
//! (RFC 8032 with the malleability and small-order checks) and public keys that
//! are weak (small order) are refused when parsed.

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey as DalekVerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    b64,
    context::{self, Encoder},
    rng, CryptoError, Id,
};

/// An Ed25519 identity key. Zeroized on drop (ed25519-dalek does it); never printed.
pub struct SigningKey(DalekSigningKey);

impl SigningKey {
    /// A fresh random identity key.
    pub fn generate() -> Result<Self, CryptoError> {
        let seed = Zeroizing::new(rng::bytes::<32>()?);
        Ok(Self::from_seed(&seed))
    }

    /// The key for a 32-byte RFC 8032 secret seed (how keyrings store it).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SigningKey(DalekSigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for sealing into a keyring. Callers must not keep it.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key().to_bytes())
    }

    /// Signs raw bytes. Protocol code signs [`Signable`] values through [`sign`];
    /// this exists for the recovery proof and the RFC 8032 vectors.
    pub fn sign_bytes(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// An Ed25519 public key, as its 32-byte compressed encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VerifyingKey(#[serde(with = "b64::array")] [u8; 32]);

impl VerifyingKey {
    /// Parses a public key, refusing invalid and small-order (weak) points.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Malformed)?;
        let key = DalekVerifyingKey::from_bytes(&arr).map_err(|_| CryptoError::BadPublicKey)?;
        if key.is_weak() {
            return Err(CryptoError::BadPublicKey);
        }
        Ok(VerifyingKey(arr))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Verifies `signature` over raw `message` with RFC 8032's strict rules.
    pub fn verify_bytes(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        let key = DalekVerifyingKey::from_bytes(&self.0).map_err(|_| CryptoError::BadPublicKey)?;
        if key.is_weak() {
            return Err(CryptoError::BadPublicKey);
        }
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        key.verify_strict(message, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

/// A 64-byte Ed25519 signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(#[serde(with = "b64::array")] [u8; 64]);

impl Signature {
    /// Reads a signature that must be exactly 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        Ok(Signature(
            bytes.try_into().map_err(|_| CryptoError::Malformed)?,
        ))
    }

    /// The 64-byte encoding.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0
    }
}

/// A value with a canonical binary encoding that can be signed.
pub trait Signable {
    /// The `context` label that starts the signed bytes.
    const LABEL: &'static str;

    /// Writes the fields, in their fixed order, after the label.
    fn encode_fields(&self, out: &mut Encoder);

    /// The exact bytes a signature covers.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Encoder::new(Self::LABEL);
        self.encode_fields(&mut out);
        out.finish()
    }
}

/// A value together with its signature. The fields travel as JSON; the signature
/// covers their canonical encoding, which the verifier recomputes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed<T> {
    /// The signed value.
    pub value: T,
    /// The signature over `value.signed_bytes()`.
    pub signature: Signature,
}

/// Signs `value` with `key`.
pub fn sign<T: Signable>(key: &SigningKey, value: T) -> Signed<T> {
    let signature = key.sign_bytes(&value.signed_bytes());
    Signed { value, signature }
}

impl<T: Signable> Signed<T> {
    /// Checks the signature against `signer` and returns the value if it holds.
    pub fn verify(&self, signer: &VerifyingKey) -> Result<&T, CryptoError> {
        signer.verify_bytes(&self.value.signed_bytes(), &self.signature)?;
        Ok(&self.value)
    }
}

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

impl Signed<KeyEntry> {
    /// Verifies the self-signature with the entry's own identity key.
    pub fn verify_self(&self) -> Result<&KeyEntry, CryptoError> {
        self.verify(&self.value.identity_key)
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
    /// The shared node (the root or a folder).
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Read, or read and write.
    pub permission: Permission,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// When it stops, Unix seconds; `None` means until revoked.
    pub expires_at: Option<i64>,
}

impl Signable for Grant {
    const LABEL: &'static str = context::SIGN_GRANT;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.grant_id)
            .bytes(&self.patient_id)
            .bytes(&self.doctor_id)
            .bytes(&self.doctor_key)
            .bytes(&self.node_id)
            .u8(self.permission.code())
            .i64(self.created_at);
        match self.expires_at {
            // An absent expiry is an empty field; a present one is 8 bytes, so the
            // length prefix tells them apart.
            None => out.bytes(&[]),
            Some(t) => out.i64(t),
        };
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

/// SHA-256 of one ciphertext part, as listed in a [`FileManifest`].
pub fn part_hash(ciphertext: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(ciphertext).into()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            node_id: [4; 16],
            permission: Permission::Read,
            created_at: 10,
            expires_at: Some(20),
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
                bad.signature = Signature(s);
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
    fn fail_weak_and_malformed_public_keys() {
        // The identity point (small order) and a 31-byte key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            VerifyingKey::from_bytes(&identity),
            Err(CryptoError::BadPublicKey)
        );
        assert_eq!(
            VerifyingKey::from_bytes(&[0u8; 31]),
            Err(CryptoError::Malformed)
        );
        assert_eq!(
            Signature::from_bytes(&[0u8; 63]),
            Err(CryptoError::Malformed)
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

    #[test]
    fn debug_is_redacted() {
        let key = SigningKey::from_seed(&[3; 32]);
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }
}
