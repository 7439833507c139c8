//! Node keys wrapped to a user's X25519 key with HPKE (RFC 9180).
//!
//! Sharing a node means giving its 32-byte node key to another user without the
//! server ever seeing it. The sender knows only the recipient's public key, so
//! this is public-key encryption: RFC 9180 HPKE in base mode (no sender
//! authentication here; grants are signed separately).
//!
//! # Suite
//!
//! | part | choice                      | RFC 9180 id |
//! |------|-----------------------------|-------------|
//! | KEM  | DHKEM(X25519, HKDF-SHA256)  | `0x0020`    |
//! | KDF  | HKDF-SHA256                 | `0x0001`    |
//! | AEAD | AES-256-GCM                 | `0x0002`    |
//!
//! Mode: base (`0x00`), no PSK. One single-shot seal per context (sequence
//! number 0), so the AEAD nonce is the key schedule's `base_nonce`.
//!
//! # info and AAD
//!
//! `info = context::bind(HPKE_NODE_KEY, [recipient_user_id, node_id])`, that is
//!
//! ```text
//! u32be(25) || "medvault/v1/hpke/node-key" || u32be(16) || recipient_user_id (16)
//!           || u32be(16) || node_id (16)
//! ```
//!
//! (69 bytes). `info` enters the key schedule, so a wrapped key opens only for
//! that recipient and that node: moving it to another user's or another node's
//! record makes decryption fail. The AEAD's associated data is empty: everything
//! that must be bound is already in `info`, including the protocol version (the
//! label is versioned).
//!
//! # Wire format of a wrapped node key (81 bytes)
//!
//! ```text
//! 0x01 (version) || enc (32) || ciphertext (32) || tag (16)
//! ```
//!
//! `enc` is HPKE's encapsulated key, the sender's ephemeral X25519 public key
//! (RFC 7748 little-endian u-coordinate); `ciphertext || tag` is the AES-256-GCM
//! encryption of the 32 node-key bytes.
//!
//! # Key encodings
//!
//! * [`EncryptionSecretKey`]: the 32-byte X25519 scalar as RFC 7748 takes it
//!   (RFC 9180 `SerializePrivateKey`); clamping happens at use, so every 32-byte
//!   string is a valid secret key.
//! * [`EncryptionPublicKey`]: the 32-byte little-endian u-coordinate (RFC 9180
//!   `SerializePublicKey`). Accepted only if canonical (bit 255 clear and
//!   `u < 2^255 - 19`), not one of the five small-order u-coordinates
//!   (0, 1, p - 1 and the two points of order 8), and if a Diffie-Hellman with
//!   it yields a non-zero result. Otherwise [`CryptoError::BadPublicKey`].
//!   The same rule applies to `enc` when unwrapping (a rejected `enc` is
//!   reported as [`CryptoError::Decrypt`], like any other altered byte).

use hpke::{
    aead::{AeadTag, AesGcm256},
    kdf::HkdfSha256,
    kem::X25519HkdfSha256,
    Deserializable, OpModeR, OpModeS, Serializable,
};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::{aead::Key256, context, rng, CryptoError, Id};

/// Version byte that starts every wrapped node key of protocol v1.
pub const WRAPPED_VERSION: u8 = 1;
/// Length of an X25519 key (public or secret) and of `enc`.
pub const KEY_LEN: usize = 32;
/// Length of a wrapped node key: version, `enc`, ciphertext, tag.
pub const WRAPPED_LEN: usize = 1 + KEY_LEN + 32 + 16;
/// RFC 9180 KEM id of DHKEM(X25519, HKDF-SHA256).
pub const KEM_ID: u16 = 0x0020;
/// RFC 9180 KDF id of HKDF-SHA256.
pub const KDF_ID: u16 = 0x0001;
/// RFC 9180 AEAD id of AES-256-GCM.
pub const AEAD_ID: u16 = 0x0002;

type Kem = X25519HkdfSha256;
type HpkePublicKey = <Kem as hpke::Kem>::PublicKey;
type HpkePrivateKey = <Kem as hpke::Kem>::PrivateKey;
type HpkeEncappedKey = <Kem as hpke::Kem>::EncappedKey;

/// The small-order X25519 u-coordinates in canonical form (little-endian):
/// 0 and p - 1 (orders 2 and 4 on the curve), 1 (order 4 on the twist), and
/// the two points of order 8. Non-canonical aliases are refused separately.
const SMALL_ORDER: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
];

/// Any fixed scalar will do for the contributory check: after clamping it is a
/// multiple of the cofactor, so the DH result is zero exactly for small-order
/// inputs. It multiplies public data only, so it need not be secret.
const CHECK_SCALAR: [u8; 32] = [0x5a; 32];

/// A user's X25519 secret key, which opens node keys wrapped to them.
///
/// Zeroized on drop (the inner `StaticSecret` wipes itself), never printed, never
/// serialised: it leaves memory only inside the sealed keyring, via
/// [`to_bytes`](Self::to_bytes).
#[derive(Clone)]
pub struct EncryptionSecretKey(StaticSecret);

impl EncryptionSecretKey {
    /// A fresh random key pair's secret half.
    pub fn generate() -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(rng::bytes::<KEY_LEN>()?);
        Ok(Self::from_bytes(*bytes))
    }

    /// The key from its 32 stored bytes (from the keyring). Every 32-byte
    /// string is a valid X25519 secret key, so this cannot fail.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        EncryptionSecretKey(StaticSecret::from(bytes))
    }

    /// The key from a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: Zeroizing<[u8; KEY_LEN]> =
            Zeroizing::new(bytes.try_into().map_err(|_| CryptoError::Malformed)?);
        Ok(Self::from_bytes(*arr))
    }

    /// The 32 secret bytes, for sealing into the keyring; wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key, published in the user's key directory entry.
    ///
    /// Infallible: a clamped scalar times the base point is never of small order.
    pub fn public_key(&self) -> EncryptionPublicKey {
        EncryptionPublicKey(PublicKey::from(&self.0).to_bytes())
    }
}

impl std::fmt::Debug for EncryptionSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionSecretKey(<redacted>)")
    }
}

/// A user's X25519 public key, validated: never a small-order point.
///
/// Validation matters because a small-order key would make the DH output
/// predictable (all zero) and so the "encrypted" node key readable by anyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EncryptionPublicKey([u8; KEY_LEN]);

impl EncryptionPublicKey {
    /// Accepts a public key only if it is canonical and contributory (see the
    /// module docs); otherwise [`CryptoError::BadPublicKey`].
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Result<Self, CryptoError> {
        if !is_canonical(&bytes) || SMALL_ORDER.contains(&bytes) {
            return Err(CryptoError::BadPublicKey);
        }
        let check = StaticSecret::from(CHECK_SCALAR).diffie_hellman(&PublicKey::from(bytes));
        if !check.was_contributory() {
            return Err(CryptoError::BadPublicKey);
        }
        Ok(EncryptionPublicKey(bytes))
    }

    /// [`from_bytes`](Self::from_bytes) from a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::Malformed)?;
        Self::from_bytes(arr)
    }

    /// The 32-byte encoding (little-endian u-coordinate).
    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        self.0
    }

    /// The 32-byte encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// True if `u` is the unique encoding of its field element: bit 255 clear and
/// the value below p = 2^255 - 19. (X25519 itself would silently reduce the
/// others; refusing them keeps one byte string per key for fingerprints.)
fn is_canonical(u: &[u8; KEY_LEN]) -> bool {
    if u[31] & 0x80 != 0 {
        return false;
    }
    // u >= p only if u = 0x7fff...ff followed by a low byte of 0xed..=0xff.
    let top_all_ones = u[31] == 0x7f && u[1..31].iter().all(|&b| b == 0xff);
    !(top_all_ones && u[0] >= 0xed)
}

/// HPKE `info` binding a wrapped node key to its recipient and its node.
fn node_key_info(recipient_user_id: &Id, node_id: &Id) -> Vec<u8> {
    context::bind(context::HPKE_NODE_KEY, &[recipient_user_id, node_id])
}

/// Wraps `node_key` so that only the holder of `recipient`'s secret key can
/// open it, and only as the key of `node_id` given to `recipient_user_id`.
///
/// Each call uses a fresh ephemeral key, so wrapping the same key twice gives
/// unrelated outputs. Output: [`WRAPPED_LEN`] bytes (see the module docs).
pub fn wrap_node_key(
    recipient: &EncryptionPublicKey,
    recipient_user_id: &Id,
    node_id: &Id,
    node_key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    let pk_recip =
        HpkePublicKey::from_bytes(recipient.as_bytes()).map_err(|_| CryptoError::BadPublicKey)?;
    let info = node_key_info(recipient_user_id, node_id);
    let mut body = Zeroizing::new(*node_key.as_bytes());
    let (enc, tag) = hpke::single_shot_seal_in_place_detached::<AesGcm256, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &pk_recip,
        &info,
        body.as_mut_slice(),
        b"",
        &mut rng::Rng,
    )
    .map_err(|e| match e {
        // Only an all-zero DH fails encapsulation; validation already excludes it.
        hpke::HpkeError::EncapError => CryptoError::BadPublicKey,
        _ => CryptoError::Malformed,
    })?;
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.push(WRAPPED_VERSION);
    out.extend_from_slice(&enc.to_bytes());
    out.extend_from_slice(body.as_slice());
    out.extend_from_slice(&tag.to_bytes());
    Ok(out)
}

/// Opens a node key made by [`wrap_node_key`] for this recipient and node.
///
/// Wrong length or version: [`CryptoError::Malformed`]. Wrong secret key, wrong
/// user or node id, an altered byte, or an unacceptable `enc`:
/// [`CryptoError::Decrypt`].
pub fn unwrap_node_key(
    secret: &EncryptionSecretKey,
    recipient_user_id: &Id,
    node_id: &Id,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    if wrapped.len() != WRAPPED_LEN || wrapped[0] != WRAPPED_VERSION {
        return Err(CryptoError::Malformed);
    }
    let (enc, rest) = wrapped[1..].split_at(KEY_LEN);
    let (ciphertext, tag) = rest.split_at(32);

    // The same rule as for published keys: a small-order `enc` would make the
    // shared secret independent of our secret key.
    EncryptionPublicKey::from_slice(enc).map_err(|_| CryptoError::Decrypt)?;
    let enc = HpkeEncappedKey::from_bytes(enc).map_err(|_| CryptoError::Malformed)?;
    let tag = AeadTag::<AesGcm256>::from_bytes(tag).map_err(|_| CryptoError::Malformed)?;
    // The hpke copy of the secret wipes itself on drop, like ours.
    let sk = HpkePrivateKey::from_bytes(secret.to_bytes().as_slice())
        .map_err(|_| CryptoError::Malformed)?;

    let info = node_key_info(recipient_user_id, node_id);
    let mut body = Zeroizing::new([0u8; 32]);
    body.copy_from_slice(ciphertext);
    hpke::single_shot_open_in_place_detached::<AesGcm256, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        &info,
        body.as_mut_slice(),
        b"",
        &tag,
    )
    .map_err(|_| CryptoError::Decrypt)?;
    Ok(Key256::from_bytes(*body))
}

#[cfg(test)]
mod tests;
