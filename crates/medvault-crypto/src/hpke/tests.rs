//! HPKE node-key wrapping: the RFC 9180 suite ids, round trips, the documented
//! info encoding, and the `fail_*` cases (wrong key or ids, flipped bits,
//! truncation, low-order and non-canonical points).

use super::*;

const ALICE: Id = [0xa1; 16];
const BOB: Id = [0xb0; 16];
const NODE: Id = [0x4e; 16];
const OTHER_NODE: Id = [0x4f; 16];

fn keypair() -> (EncryptionSecretKey, EncryptionPublicKey) {
    let sk = EncryptionSecretKey::generate().unwrap();
    let pk = sk.public_key();
    (sk, pk)
}

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// Small-order and non-canonical u-coordinates: the libsodium blacklist, the
/// Wycheproof x25519 "low order public key" inputs and their aliases
/// (u + p, and each with bit 255 set).
fn low_order_points() -> Vec<[u8; 32]> {
    let canonical = [
        // 0 (order 2)
        "0000000000000000000000000000000000000000000000000000000000000000",
        // 1 (order 4, on the twist)
        "0100000000000000000000000000000000000000000000000000000000000000",
        // order 8
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        // p - 1 (order 4)
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        // p (= 0)
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        // p + 1 (= 1)
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    let mut out = Vec::new();
    for h in canonical {
        let u = hex32(h);
        out.push(u);
        let mut high = u;
        high[31] |= 0x80;
        out.push(high);
    }
    out
}

#[test]
fn suite_ids_match_rfc9180() {
    assert_eq!(<Kem as hpke::Kem>::KEM_ID, KEM_ID);
    assert_eq!(
        <HkdfSha256 as hpke::kdf::Kdf>::KDF_ID,
        KDF_ID,
        "HKDF-SHA256"
    );
    assert_eq!(<AesGcm256 as hpke::aead::Aead>::AEAD_ID, AEAD_ID);
}

#[test]
fn round_trip() {
    let (sk, pk) = keypair();
    let key = Key256::generate().unwrap();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &key).unwrap();
    assert_eq!(wrapped.len(), WRAPPED_LEN);
    assert_eq!(wrapped.len(), 81);
    assert_eq!(wrapped[0], WRAPPED_VERSION);
    assert_eq!(unwrap_node_key(&sk, &ALICE, &NODE, &wrapped).unwrap(), key);
}

#[test]
fn wrapping_is_randomised() {
    let (_, pk) = keypair();
    let key = Key256::from_bytes([7; 32]);
    let a = wrap_node_key(&pk, &ALICE, &NODE, &key).unwrap();
    let b = wrap_node_key(&pk, &ALICE, &NODE, &key).unwrap();
    assert_ne!(a[1..33], b[1..33], "fresh ephemeral key");
    assert_ne!(a[33..], b[33..]);
}

#[test]
fn info_encoding_is_as_documented() {
    let info = node_key_info(&ALICE, &NODE);
    let expected = [
        &25u32.to_be_bytes()[..],
        b"medvault/v1/hpke/node-key",
        &16u32.to_be_bytes(),
        &ALICE,
        &16u32.to_be_bytes(),
        &NODE,
    ]
    .concat();
    assert_eq!(info, expected);
    assert_eq!(info.len(), 69);
}

#[test]
fn secret_key_bytes_round_trip() {
    let (sk, pk) = keypair();
    let again = EncryptionSecretKey::from_bytes(*sk.to_bytes());
    assert_eq!(again.public_key(), pk);
    let from_slice = EncryptionSecretKey::from_slice(sk.to_bytes().as_slice()).unwrap();
    assert_eq!(from_slice.public_key(), pk);
    assert_eq!(EncryptionPublicKey::from_bytes(pk.to_bytes()).unwrap(), pk);
    assert_eq!(EncryptionPublicKey::from_slice(pk.as_bytes()).unwrap(), pk);
}

#[test]
fn public_key_matches_rfc7748_alice() {
    // RFC 7748 section 6.1.
    let sk = EncryptionSecretKey::from_bytes(hex32(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    ));
    assert_eq!(
        sk.public_key().to_bytes(),
        hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
}

#[test]
fn debug_is_redacted() {
    let (sk, _) = keypair();
    assert_eq!(format!("{sk:?}"), "EncryptionSecretKey(<redacted>)");
}

#[test]
fn fail_wrong_recipient_key() {
    let (_, pk) = keypair();
    let (other_sk, _) = keypair();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &Key256::from_bytes([1; 32])).unwrap();
    assert_eq!(
        unwrap_node_key(&other_sk, &ALICE, &NODE, &wrapped),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn fail_wrong_user_id() {
    let (sk, pk) = keypair();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &Key256::from_bytes([1; 32])).unwrap();
    assert_eq!(
        unwrap_node_key(&sk, &BOB, &NODE, &wrapped),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn fail_wrong_node_id() {
    let (sk, pk) = keypair();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &Key256::from_bytes([1; 32])).unwrap();
    assert_eq!(
        unwrap_node_key(&sk, &ALICE, &OTHER_NODE, &wrapped),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn fail_swapped_ids() {
    let (sk, pk) = keypair();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &Key256::from_bytes([1; 32])).unwrap();
    assert!(unwrap_node_key(&sk, &NODE, &ALICE, &wrapped).is_err());
}

#[test]
fn fail_flipped_bit_anywhere() {
    let (sk, pk) = keypair();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &Key256::from_bytes([1; 32])).unwrap();
    for i in 0..wrapped.len() {
        for bit in 0..8 {
            let mut bad = wrapped.clone();
            bad[i] ^= 1 << bit;
            let expected = if i == 0 {
                CryptoError::Malformed
            } else {
                CryptoError::Decrypt
            };
            assert_eq!(
                unwrap_node_key(&sk, &ALICE, &NODE, &bad),
                Err(expected),
                "byte {i} bit {bit}"
            );
        }
    }
}

#[test]
fn fail_truncated_extended_or_wrong_version() {
    let (sk, pk) = keypair();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &Key256::from_bytes([1; 32])).unwrap();
    for n in 0..wrapped.len() {
        assert_eq!(
            unwrap_node_key(&sk, &ALICE, &NODE, &wrapped[..n]),
            Err(CryptoError::Malformed),
            "truncated to {n}"
        );
    }
    let mut longer = wrapped.clone();
    longer.push(0);
    assert_eq!(
        unwrap_node_key(&sk, &ALICE, &NODE, &longer),
        Err(CryptoError::Malformed)
    );
    for version in [0u8, 2, 0xff] {
        let mut bad = wrapped.clone();
        bad[0] = version;
        assert_eq!(
            unwrap_node_key(&sk, &ALICE, &NODE, &bad),
            Err(CryptoError::Malformed)
        );
    }
}

#[test]
fn fail_low_order_public_keys() {
    for u in low_order_points() {
        assert_eq!(
            EncryptionPublicKey::from_bytes(u),
            Err(CryptoError::BadPublicKey),
            "{}",
            hex::encode(u)
        );
    }
}

#[test]
fn fail_non_canonical_public_keys() {
    let (_, pk) = keypair();
    let mut high = pk.to_bytes();
    high[31] |= 0x80;
    assert_eq!(
        EncryptionPublicKey::from_bytes(high),
        Err(CryptoError::BadPublicKey)
    );
    // p + 2 .. 2^255 - 1 are aliases of 2 .. 18.
    for low in 0xefu8..=0xff {
        let mut u = [0xff; 32];
        u[0] = low;
        u[31] = 0x7f;
        assert_eq!(
            EncryptionPublicKey::from_bytes(u),
            Err(CryptoError::BadPublicKey)
        );
    }
    // The largest canonical value, p - 1, is small-order; p - 2 is fine.
    let mut below = [0xff; 32];
    below[0] = 0xeb;
    below[31] = 0x7f;
    assert!(EncryptionPublicKey::from_bytes(below).is_ok());
}

#[test]
fn fail_public_key_wrong_length() {
    assert_eq!(
        EncryptionPublicKey::from_slice(&[9u8; 31]),
        Err(CryptoError::Malformed)
    );
    assert_eq!(
        EncryptionPublicKey::from_slice(&[9u8; 33]),
        Err(CryptoError::Malformed)
    );
    assert!(EncryptionSecretKey::from_slice(&[9u8; 31]).is_err());
}

#[test]
fn fail_low_order_enc_on_unwrap() {
    let (sk, pk) = keypair();
    let wrapped = wrap_node_key(&pk, &ALICE, &NODE, &Key256::from_bytes([1; 32])).unwrap();
    for u in low_order_points() {
        let mut bad = wrapped.clone();
        bad[1..33].copy_from_slice(&u);
        assert_eq!(
            unwrap_node_key(&sk, &ALICE, &NODE, &bad),
            Err(CryptoError::Decrypt),
            "{}",
            hex::encode(u)
        );
    }
}

// proptest does not build for wasm32; the browser runs the fixed cases above.
#[cfg(not(target_arch = "wasm32"))]
mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn round_trip_any(
        key in any::<[u8; 32]>(),
        user in any::<[u8; 16]>(),
        node in any::<[u8; 16]>(),
        sk in any::<[u8; 32]>(),
    ) {
        let sk = EncryptionSecretKey::from_bytes(sk);
        let key = Key256::from_bytes(key);
        let wrapped = wrap_node_key(&sk.public_key(), &user, &node, &key).unwrap();
        prop_assert_eq!(unwrap_node_key(&sk, &user, &node, &wrapped).unwrap(), key);
    }
    }
}
