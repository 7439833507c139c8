//! HKDF-SHA256 (RFC 5869): every symmetric key medvault derives comes from here.

use hkdf::Hkdf;
use sha2::Sha256;

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
pub fn derive_key(ikm: &[u8], info: &[u8]) -> Key256 {
    let mut out = [0u8; 32];
    // A 32-byte output is always within HKDF's limit, so expand cannot fail; the
    // fallback keeps this function total without a panic path.
    let hk = Hkdf::<Sha256>::new(None, ikm);
    if hk.expand(info, &mut out).is_err() {
        out = [0u8; 32];
    }
    Key256::from_bytes(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::context;

    #[test]
    fn labels_separate_keys() {
        let ikm = [7u8; 64];
        let a = derive_key(&ikm, &context::bind(context::KEYRING_PASSWORD_KEY, &[b"u"]));
        let b = derive_key(&ikm, &context::bind(context::KEYRING_RECOVERY_KEY, &[b"u"]));
        let c = derive_key(&ikm, &context::bind(context::KEYRING_PASSWORD_KEY, &[b"v"]));
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
