//! The one error type of the crypto core.

use thiserror::Error;

/// Why a cryptographic operation failed.
///
/// Deliberately payload-free: an error must never carry a key, a plaintext, or a
/// hint an attacker could use (which byte was wrong, how far decryption got).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// Authentication failed: wrong key, wrong associated data, or altered bytes.
    #[error("the data could not be decrypted or verified")]
    Decrypt,
    /// A signature did not verify.
    #[error("the signature is not valid")]
    BadSignature,
    /// Bytes that should have a fixed shape do not (length, version, tag).
    #[error("the data is not in the expected format")]
    Malformed,
    /// A public key was rejected (a low-order point, a non-canonical encoding).
    #[error("the public key is not acceptable")]
    BadPublicKey,
    /// The password was wrong, or the server's answer was not genuine.
    #[error("the password is wrong or the server's response is not genuine")]
    Login,
    /// The recovery code has a typo (its checksum does not match).
    #[error("the recovery code is not valid; check it for typos")]
    RecoveryCode,
    /// A chunked stream ended early, went on after its end, or was reordered.
    #[error("the file is incomplete or its parts are out of order")]
    Stream,
    /// The platform could not give us randomness or a crypto primitive.
    #[error("the browser's cryptography is not available")]
    Unavailable,
}
