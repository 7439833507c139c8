//! Every label of protocol v1, and the canonical encoding that binds them.
//!
//! Domain separation is the point: each HKDF `info`, each associated data and
//! each signed message starts with exactly one of these labels, so a value made
//! for one purpose can never be accepted for another. Adding a use means adding a
//! label here (and to `docs/PROTOCOL.md`); never reuse one.

/// HKDF info for the key that seals a keyring, derived from OPAQUE's `export_key`.
pub const KEYRING_PASSWORD_KEY: &str = "medvault/v1/keyring/password-key";
/// HKDF info for the key that seals the recovery copy of a keyring.
pub const KEYRING_RECOVERY_KEY: &str = "medvault/v1/keyring/recovery-key";
/// Associated data of a sealed keyring.
pub const KEYRING_SEAL: &str = "medvault/v1/keyring/seal";
/// HKDF info deriving the recovery verifier's Ed25519 seed from the secret.
pub const RECOVERY_VERIFIER_KEY: &str = "medvault/v1/recovery/verifier-key";
/// Signed by the recovery verifier key to prove possession of the secret.
pub const RECOVERY_PROOF: &str = "medvault/v1/recovery/proof";
/// Hashed with the recovery secret to form the code's checksum.
pub const RECOVERY_CHECKSUM: &str = "medvault/v1/recovery/checksum";
/// OPAQUE's application context (bound into the key exchange transcript).
pub const OPAQUE_CONTEXT: &str = "medvault/v1/opaque";
/// HPKE `info` for wrapping a node key to a user's X25519 key.
pub const HPKE_NODE_KEY: &str = "medvault/v1/hpke/node-key";
/// Associated data of a node key wrapped under its parent's node key.
pub const NODE_KEY_WRAP: &str = "medvault/v1/tree/node-key";
/// Associated data of node metadata sealed under the node key.
pub const NODE_METADATA: &str = "medvault/v1/tree/metadata";
/// Associated data of a file version's content key wrapped under the node key.
pub const CONTENT_KEY_WRAP: &str = "medvault/v1/tree/content-key";
/// Associated data of every content chunk.
pub const STREAM_CHUNK: &str = "medvault/v1/stream/chunk";
/// Signed: a user's public key directory entry (self-signature).
pub const SIGN_KEY_ENTRY: &str = "medvault/v1/sign/key-entry";
/// Signed: an admin's certificate for a doctor's keys.
pub const SIGN_DOCTOR_CERT: &str = "medvault/v1/sign/doctor-certificate";
/// Signed: the installation's (org key's) certificate for an admin's keys.
pub const SIGN_ADMIN_CERT: &str = "medvault/v1/sign/admin-certificate";
/// Signed: a patient's grant of a node to a doctor.
pub const SIGN_GRANT: &str = "medvault/v1/sign/grant";
/// Signed: a file version's manifest.
pub const SIGN_MANIFEST: &str = "medvault/v1/sign/manifest";
/// Signed: the head of the audit hash chain.
pub const SIGN_AUDIT_HEAD: &str = "medvault/v1/sign/audit-head";
/// Hashed: one link of the audit chain.
pub const AUDIT_LINK: &str = "medvault/v1/audit/link";
/// Canonical encoding of one audit event (the `event` of a chain link).
pub const AUDIT_EVENT: &str = "medvault/v1/audit/event";
/// Hashed: a user's key fingerprint (safety number).
pub const FINGERPRINT: &str = "medvault/v1/fingerprint";
/// HKDF info for the key that seals a user's key pins, derived from their keyring.
pub const PINS_KEY: &str = "medvault/v1/pins/key";
/// Associated data of a user's sealed key pins.
pub const PINS_SEAL: &str = "medvault/v1/pins/seal";
/// Signed: the envelope of a user's sealed key pins.
pub const SIGN_PINS: &str = "medvault/v1/sign/pins";
/// Hashed: the fingerprint of an installation's org key (the directory's anchor).
pub const ORG_FINGERPRINT: &str = "medvault/v1/org-fingerprint";
/// Hashed: the fingerprint of the server's audit key (printed by the CLI,
/// shown to auditors).
pub const AUDIT_KEY_FINGERPRINT: &str = "medvault/v1/audit/key-fingerprint";
/// Signed: the state of one node of a record, by its author.
pub const SIGN_NODE_STATE: &str = "medvault/v1/sign/node-state";
/// Signed: a record's head (counter, previous head, hash of every node state).
pub const SIGN_RECORD_HEAD: &str = "medvault/v1/sign/record-head";
/// Hashed: one node's leaf (its signed state) in a record's state hash.
pub const RECORD_LEAF: &str = "medvault/v1/tree/leaf";
/// Hashed: the state of a whole record (every leaf, by node id).
pub const RECORD_STATE: &str = "medvault/v1/tree/state";
/// Hashed: a record head, as the next head names it.
pub const RECORD_HEAD_LINK: &str = "medvault/v1/tree/head-link";
/// Hashed: a file version as a node state names it (manifest, content key, sizes).
pub const NODE_VERSION: &str = "medvault/v1/tree/version";
/// HKDF info: the key of a user's notes about unfinished uploads in this
/// browser, derived from their plain keyring.
pub const UPLOAD_RESUME_KEY: &str = "medvault/v1/upload/resume-key";
/// HKDF info: the keyed tag that recognises a file picked again (its first
/// chunk's SHA-256, size, modification time and target) under the resume key.
pub const UPLOAD_RESUME_TAG: &str = "medvault/v1/upload/resume-tag";
/// AEAD associated data: an unfinished upload's content key wrapped under the
/// resume key in the browser's note.
pub const UPLOAD_RESUME_WRAP: &str = "medvault/v1/upload/resume-wrap";
/// Signed: a patient's profile (display name, date of birth), by the patient.
pub const SIGN_PROFILE: &str = "medvault/v1/sign/profile";
/// AEAD associated data: a patient's signed profile sealed under a node key
/// (the root's for the patient, a shared folder's for its doctors).
pub const PROFILE_SEAL: &str = "medvault/v1/profile/seal";

/// Every label, for the test that proves they are distinct and well-formed.
pub const ALL: &[&str] = &[
    KEYRING_PASSWORD_KEY,
    KEYRING_RECOVERY_KEY,
    KEYRING_SEAL,
    RECOVERY_VERIFIER_KEY,
    RECOVERY_PROOF,
    RECOVERY_CHECKSUM,
    OPAQUE_CONTEXT,
    HPKE_NODE_KEY,
    NODE_KEY_WRAP,
    NODE_METADATA,
    CONTENT_KEY_WRAP,
    STREAM_CHUNK,
    SIGN_KEY_ENTRY,
    SIGN_DOCTOR_CERT,
    SIGN_ADMIN_CERT,
    SIGN_GRANT,
    SIGN_MANIFEST,
    SIGN_AUDIT_HEAD,
    AUDIT_LINK,
    AUDIT_EVENT,
    FINGERPRINT,
    PINS_KEY,
    PINS_SEAL,
    SIGN_PINS,
    ORG_FINGERPRINT,
    AUDIT_KEY_FINGERPRINT,
    SIGN_NODE_STATE,
    SIGN_RECORD_HEAD,
    RECORD_LEAF,
    RECORD_STATE,
    RECORD_HEAD_LINK,
    NODE_VERSION,
    UPLOAD_RESUME_KEY,
    UPLOAD_RESUME_TAG,
    UPLOAD_RESUME_WRAP,
    SIGN_PROFILE,
    PROFILE_SEAL,
];

/// The canonical binary encoding of a labelled tuple of fields.
///
/// `bind(label, [a, b])` = `u32be(len(label)) || label || u32be(len(a)) || a ||
/// u32be(len(b)) || b`. Every field is length-prefixed, so no two different
/// tuples encode to the same bytes, and the result never depends on a
/// serialiser's whims (field order, whitespace) the way JSON would.
pub fn bind(label: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Encoder::new(label);
    for field in fields {
        out.bytes(field);
    }
    out.finish()
}

/// Builds a canonical encoding field by field (see [`bind`]).
///
/// Integers are written as fixed-width big-endian fields, strings as their UTF-8
/// bytes, each with its own length prefix.
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// Starts an encoding with its label as the first field.
    pub fn new(label: &str) -> Self {
        let mut encoder = Encoder { buf: Vec::new() };
        encoder.bytes(label.as_bytes());
        encoder
    }

    /// Appends one length-prefixed field.
    pub fn bytes(&mut self, field: &[u8]) -> &mut Self {
        // Fields are bounded by what the protocol carries (at most a few MiB of
        // hashes in a manifest), far below 4 GiB; saturate rather than wrap.
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(field);
        self
    }

    /// Appends a UTF-8 string field.
    pub fn str(&mut self, field: &str) -> &mut Self {
        self.bytes(field.as_bytes())
    }

    /// Appends a one-byte field.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes(&[value])
    }

    /// Appends a 4-byte big-endian field.
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    /// Appends an 8-byte big-endian field.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    /// Appends an 8-byte big-endian two's-complement field (times in Unix seconds).
    pub fn i64(&mut self, value: i64) -> &mut Self {
        self.bytes(&value.to_be_bytes())
    }

    /// The encoded bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Associated data of a node key wrapped under its parent's node key.
pub fn node_key_aad(node_id: &super::Id, parent_id: &super::Id) -> Vec<u8> {
    bind(NODE_KEY_WRAP, &[node_id, parent_id])
}

/// Associated data of a file version's content key wrapped under its node key.
pub fn content_key_aad(node_id: &super::Id, version: u32) -> Vec<u8> {
    bind(CONTENT_KEY_WRAP, &[node_id, &version.to_be_bytes()])
}

/// Associated data of a node's metadata sealed under its node key.
pub fn metadata_aad(node_id: &super::Id) -> Vec<u8> {
    bind(NODE_METADATA, &[node_id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_and_versioned() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(a.starts_with("medvault/v1/"), "{a}");
            assert!(a.is_ascii() && !a.contains(' '), "{a}");
            for b in &ALL[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn fail_key_moved_to_another_place_in_the_tree() {
        use crate::aead::{unwrap_key, wrap_key, Key256};
        let parent = Key256::from_bytes([1; 32]);
        let child = Key256::from_bytes([2; 32]);
        let wrapped = wrap_key(&parent, &node_key_aad(&[3; 16], &[4; 16]), &child).unwrap();
        assert!(unwrap_key(&parent, &node_key_aad(&[3; 16], &[4; 16]), &wrapped).is_ok());
        assert!(unwrap_key(&parent, &node_key_aad(&[3; 16], &[5; 16]), &wrapped).is_err());
        assert!(unwrap_key(&parent, &node_key_aad(&[6; 16], &[4; 16]), &wrapped).is_err());
        assert!(unwrap_key(&parent, &content_key_aad(&[3; 16], 1), &wrapped).is_err());
        let content = wrap_key(&parent, &content_key_aad(&[3; 16], 1), &child).unwrap();
        assert!(unwrap_key(&parent, &content_key_aad(&[3; 16], 2), &content).is_err());
        assert_ne!(metadata_aad(&[3; 16]), node_key_aad(&[3; 16], &[3; 16]));
    }

    #[test]
    fn bind_is_length_prefixed() {
        assert_eq!(
            bind("ab", &[b"c", b""]),
            [&[0, 0, 0, 2][..], b"ab", &[0, 0, 0, 1], b"c", &[0, 0, 0, 0]].concat()
        );
    }

    #[test]
    fn fail_shifted_field_boundaries_give_different_encodings() {
        assert_ne!(bind("x", &[b"ab", b"c"]), bind("x", &[b"a", b"bc"]));
        assert_ne!(bind("x", &[b"abc"]), bind("x", &[b"ab", b"c"]));
        assert_ne!(bind("xa", &[b"b"]), bind("x", &[b"ab"]));
    }

    #[test]
    fn encoder_matches_bind() {
        let mut e = Encoder::new("l");
        e.u8(1).u32(2).u64(3).i64(-1).str("s");
        assert_eq!(
            e.finish(),
            bind(
                "l",
                &[
                    &[1],
                    &2u32.to_be_bytes(),
                    &3u64.to_be_bytes(),
                    &(-1i64).to_be_bytes(),
                    b"s"
                ]
            )
        );
    }
}
