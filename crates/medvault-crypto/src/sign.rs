//! Ed25519 signatures over canonical binary encodings.
//!
//! Every signed object implements [`Signable`]: a label from `context` and a
//! fixed field order written with [`crate::context::Encoder`]. The signature
//! covers those bytes, never a JSON rendering, so any client that reproduces
//! the encoding in `docs/PROTOCOL.md` verifies the same bytes. Verification is `verify_strict`
//! (RFC 8032 with the malleability and small-order checks) and public keys that
//! are weak (small order) are refused when parsed.
//!
//! The signed types themselves (key entries, grants, manifests) are domain data
//! and live in `shared::model`; this module only signs and verifies them.

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey as DalekVerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{b64, context::Encoder, rng, CryptoError};

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

/// A [`Signable`] value that names its own signer (a key directory entry is
/// signed by the identity key it carries). A trait, so that the domain types
/// outside this module get [`Signed::verify_self`] without an inherent impl.
pub trait SelfSigned: Signable {
    /// The key that must have signed this value.
    fn own_key(&self) -> &VerifyingKey;
}

impl<T: SelfSigned> Signed<T> {
    /// Verifies the self-signature with the value's own key.
    pub fn verify_self(&self) -> Result<&T, CryptoError> {
        self.verify(self.value.own_key())
    }
}

/// SHA-256 of one ciphertext part, as listed in a file manifest
/// (`shared::model::FileManifest`).
pub fn part_hash(ciphertext: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(ciphertext).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context;

    /// A stand-in signed type: the real ones are in `shared::model`.
    #[derive(Clone)]
    struct Note {
        key: VerifyingKey,
        text: &'static str,
    }

    impl Signable for Note {
        const LABEL: &'static str = context::SIGN_GRANT;
        fn encode_fields(&self, out: &mut Encoder) {
            out.bytes(&self.key.to_bytes()).str(self.text);
        }
    }

    impl SelfSigned for Note {
        fn own_key(&self) -> &VerifyingKey {
            &self.key
        }
    }

    #[test]
    fn sign_verify_and_self_signature() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let note = Note {
            key: key.verifying_key(),
            text: "hello",
        };
        let signed = sign(&key, note.clone());
        assert_eq!(signed.verify(&key.verifying_key()).unwrap().text, "hello");
        assert_eq!(signed.verify_self().unwrap().text, "hello");
        assert_eq!(
            signed.verify(&other.verifying_key()).err(),
            Some(CryptoError::BadSignature)
        );
        let forged = sign(&other, note);
        assert_eq!(forged.verify_self().err(), Some(CryptoError::BadSignature));
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
    fn debug_is_redacted() {
        let key = SigningKey::from_seed(&[3; 32]);
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }
}
