//! AES-256-GCM for small things: keys, keyrings, metadata.
//!
//! A sealed box is `0x01 || nonce (12) || ciphertext || tag (16)` with a fresh
//! random nonce; the associated data always starts with a `context` label. File
//! content does not come through here: it goes through `stream`, which uses the
//! same cipher in fixed-size chunks.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{rng, CryptoError};

/// Version byte that starts every sealed box of protocol v1.
pub const SEALED_VERSION: u8 = 1;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed box adds to its plaintext.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// A 256-bit symmetric key. Zeroized on drop; never printed, never serialised.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key256([u8; 32]);

impl Key256 {
    /// A fresh random key (node keys, content keys).
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Key256(rng::bytes()?))
    }

    /// Wraps existing key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Key256(bytes)
    }

    /// Reads a key from a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Malformed)?;
        Ok(Key256(arr))
    }

    /// The key bytes, for wrapping and for handing to WebCrypto.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Key256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key256(<redacted>)")
    }
}

impl PartialEq for Key256 {
    /// Constant time, so comparing keys leaks nothing through timing.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Key256 {}

/// Raw AES-256-GCM encryption with a caller-chosen nonce: `ciphertext || tag`.
///
/// Only for the published vectors and the stream's reference backend, where the
/// nonce comes from a counter under a single-use key. Everything else uses [`seal`].
pub fn encrypt_raw(
    key: &Key256,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).map_err(|_| CryptoError::Malformed)?;
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Malformed)
}

/// Raw AES-256-GCM decryption of `ciphertext || tag` (see [`encrypt_raw`]).
pub fn decrypt_raw(
    key: &Key256,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).map_err(|_| CryptoError::Malformed)?;
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)
}

/// Encrypts `plaintext` under `key` with a fresh random nonce, bound to `aad`.
pub fn seal(key: &Key256, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce: [u8; NONCE_LEN] = rng::bytes()?;
    let body = encrypt_raw(key, &nonce, aad, plaintext)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
    out.push(SEALED_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypts a box made by [`seal`] with the same key and associated data.
///
/// The plaintext is zeroized when dropped, since sealed boxes usually hold keys.
pub fn open(key: &Key256, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < SEAL_OVERHEAD || sealed[0] != SEALED_VERSION {
        return Err(CryptoError::Malformed);
    }
    let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN]
        .try_into()
        .map_err(|_| CryptoError::Malformed)?;
    decrypt_raw(key, &nonce, aad, &sealed[1 + NONCE_LEN..])
}

/// Wraps one key under another (node keys under their parent, content keys under
/// their node): a sealed box of the 32 key bytes.
pub fn wrap_key(wrapping: &Key256, aad: &[u8], key: &Key256) -> Result<Vec<u8>, CryptoError> {
    seal(wrapping, aad, key.as_bytes())
}

/// Unwraps a key made by [`wrap_key`].
pub fn unwrap_key(wrapping: &Key256, aad: &[u8], wrapped: &[u8]) -> Result<Key256, CryptoError> {
    if wrapped.len() != SEAL_OVERHEAD + 32 {
        return Err(CryptoError::Malformed);
    }
    let plain = open(wrapping, aad, wrapped)?;
    Key256::from_slice(&plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Key256 {
        Key256::from_bytes([b; 32])
    }

    #[test]
    fn round_trip() {
        let sealed = seal(&key(1), b"aad", b"hello").unwrap();
        assert_eq!(sealed.len(), 5 + SEAL_OVERHEAD);
        assert_eq!(&open(&key(1), b"aad", &sealed).unwrap()[..], b"hello");
    }

    #[test]
    fn nonces_are_fresh() {
        assert_ne!(
            seal(&key(1), b"", b"x").unwrap(),
            seal(&key(1), b"", b"x").unwrap()
        );
    }

    #[test]
    fn fail_wrong_key() {
        let sealed = seal(&key(1), b"aad", b"hello").unwrap();
        assert_eq!(open(&key(2), b"aad", &sealed), Err(CryptoError::Decrypt));
    }

    #[test]
    fn fail_wrong_aad() {
        let sealed = seal(&key(1), b"aad", b"hello").unwrap();
        assert_eq!(open(&key(1), b"aae", &sealed), Err(CryptoError::Decrypt));
    }

    #[test]
    fn fail_flipped_bit_anywhere() {
        let sealed = seal(&key(1), b"aad", b"hello").unwrap();
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[i] ^= 1 << bit;
                assert!(open(&key(1), b"aad", &bad).is_err(), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn fail_truncated_or_malformed() {
        let sealed = seal(&key(1), b"", b"").unwrap();
        for n in 0..sealed.len() {
            assert!(open(&key(1), b"", &sealed[..n]).is_err());
        }
        let mut v2 = sealed.clone();
        v2[0] = 2;
        assert_eq!(open(&key(1), b"", &v2), Err(CryptoError::Malformed));
    }

    #[test]
    fn key_wrap_round_trip_and_fail_wrong_length() {
        let inner = Key256::generate().unwrap();
        let wrapped = wrap_key(&key(3), b"n", &inner).unwrap();
        assert_eq!(unwrap_key(&key(3), b"n", &wrapped).unwrap(), inner);
        let short = seal(&key(3), b"n", &[0u8; 31]).unwrap();
        assert_eq!(
            unwrap_key(&key(3), b"n", &short),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", key(9)), "Key256(<redacted>)");
    }
}
