//! Protocol v1: every cryptographic operation medvault performs, in one place.
//!
//! Nothing here does I/O, and nothing here is hand-rolled: each module wraps a
//! standard construction (OPAQUE, HPKE, HKDF, AES-256-GCM, Ed25519) with the
//! labels from [`context`] so that no two uses of a key can be confused. The
//! byte formats are specified in `docs/PROTOCOL.md`; the tests check them against
//! the published vectors in `tests/vectors/`.
//!
//! A crate of its own, with no Leptos and no knowledge of the API, so that the
//! crypto core can be audited, fuzzed and reused alone (as lldap does with its
//! `auth` crate and age with `age-core`). The `shared` crate re-exports it as
//! `shared::crypto`.

pub mod aead;
pub mod audit_chain;
pub mod b64;
pub mod context;
pub mod error;
pub mod fingerprint;
pub mod hash;
pub mod hpke;
pub mod kdf;
pub mod keyring;
pub mod opaque;
pub mod recovery;
pub mod rng;
pub mod sign;
pub mod stream;
pub mod totp;

pub use error::CryptoError;

/// The 16-byte identifiers (of users and nodes) that labels, associated data
/// and key derivations bind. The same type as `shared::model::Id`, where the
/// domain names it; the primitives only need its bytes.
pub type Id = [u8; 16];
