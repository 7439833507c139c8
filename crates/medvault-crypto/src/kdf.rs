//! HKDF-SHA256 (RFC 5869): every symmetric key medvault derives comes from here.

use hkdf::Hkdf;
use sha2::Sha256;

use zeroize::Zeroizing;

use super::{aead::Key256, CryptoError};

/// Raw HKDF-SHA256 extract-and-expand into `out` (at most 255 × 32 bytes).
///
/// Exposed for the RFC 5869 vectors; protocol code uses [`derive_key`], which
/// always carries a label.
pub fn hkdf_sha256(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, out)
        .map_err(|_| CryptoError::Malformed)
}

/// A 256-bit key derived from `ikm` for one purpose.
///
/// `info` is the canonical encoding of a label from `context` and the values the
/// key is bound to (`context::bind`), so keys for different purposes or different
/// users never coincide. No salt: the inputs are already uniformly random keys.
/// A 32-byte output is within HKDF's limit, so this does not fail in practice;
/// the error is passed on rather than replaced by a made-up key.
pub fn derive_key(ikm: &[u8], info: &[u8]) -> Result<Key256, CryptoError> {
    let mut out = Zeroizing::new([0u8; 32]);
    hkdf_sha256(None, ikm, info, &mut out[..])?;
    Ok(Key256::from_bytes(*out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context;

    #[test]
    fn labels_separate_keys() {
        let ikm = [7u8; 64];
        let a = derive_key(&ikm, &context::bind(context::KEYRING_PASSWORD_KEY, &[b"u"])).unwrap();
        let b = derive_key(&ikm, &context::bind(context::KEYRING_RECOVERY_KEY, &[b"u"])).unwrap();
        let c = derive_key(&ikm, &context::bind(context::KEYRING_PASSWORD_KEY, &[b"v"])).unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), c.as_bytes());
    }

    #[test]
    fn fail_output_too_long() {
        let mut out = vec![0u8; 255 * 32 + 1];
        assert_eq!(
            hkdf_sha256(None, b"k", b"", &mut out),
            Err(CryptoError::Malformed)
        );
    }
}
