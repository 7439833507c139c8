//! The crypto core in the browser: the same operations as the native tests, run
//! in headless Chromium so that the wasm32 build (randomness through
//! `crypto.getRandomValues`, no threads) is proven to work where users run it.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use shared::{
    crypto::{
        aead::{
            Key256, {self},
        },
        audit_chain, context,
        fingerprint::SafetyNumber,
        hpke,
        keyring::Keyring,
        recovery::{
            RecoverySecret, {self},
        },
        rng,
        sign::{
            SigningKey, {self},
        },
        CryptoError,
    },
    model::{Grant, Permission},
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn randomness_comes_from_the_browser() {
    let a: [u8; 32] = rng::bytes().unwrap();
    let b: [u8; 32] = rng::bytes().unwrap();
    assert_ne!(a, b);
}

#[wasm_bindgen_test]
fn sealed_box_round_trip_and_tamper() {
    let key = Key256::generate().unwrap();
    let aad = context::metadata_aad(&[1; 16]);
    let mut sealed = aead::seal(&key, &aad, b"blood panel, 2026-11-02").unwrap();
    assert_eq!(
        &aead::open(&key, &aad, &sealed).unwrap()[..],
        b"blood panel, 2026-11-02"
    );
    sealed[20] ^= 1;
    assert_eq!(aead::open(&key, &aad, &sealed), Err(CryptoError::Decrypt));
}

#[wasm_bindgen_test]
fn keyring_and_recovery_in_the_browser() {
    let user = rng::id().unwrap();
    let ring = Keyring::generate().unwrap();
    let export_key = [9u8; 64];
    let sealed = ring.seal_with_password(&export_key, &user).unwrap();
    let opened = Keyring::open_with_password(&export_key, &user, &sealed).unwrap();
    assert_eq!(opened.public_keys(), ring.public_keys());
    assert!(Keyring::open_with_password(&[8u8; 64], &user, &sealed).is_err());

    let secret = RecoverySecret::generate().unwrap();
    let code = secret.to_code();
    let typed = RecoverySecret::from_code(&code.to_lowercase()).unwrap();
    let copy = ring.seal_with_recovery(&secret, &user).unwrap();
    assert!(Keyring::open_with_recovery(&typed, &user, &copy).is_ok());
    let proof = typed.prove(&user, b"challenge").unwrap();
    recovery::verify_proof(
        &secret.verifier(&user).unwrap(),
        &user,
        b"challenge",
        &proof,
    )
    .unwrap();
}

#[wasm_bindgen_test]
fn signatures_and_numbers_in_the_browser() {
    let key = SigningKey::generate().unwrap();
    let grant = Grant {
        grant_id: [1; 16],
        patient_id: [2; 16],
        doctor_id: [3; 16],
        doctor_key: [5; 32],
        key_hash: [6; 32],
        node_id: [4; 16],
        permission: Permission::Read,
        created_at: 1,
        expires_at: None,
        revision: 0,
    };
    let signed = sign::sign(&key, grant);
    signed.verify(&key.verifying_key()).unwrap();
    let number = SafetyNumber::new(&[1; 16], &key.verifying_key().to_bytes(), &[2; 32]);
    assert_eq!(number.groups().len(), 12);
    let h1 = audit_chain::link(&audit_chain::GENESIS, 1, b"event");
    assert_ne!(h1, audit_chain::GENESIS);
}

#[wasm_bindgen_test]
fn hpke_wraps_a_node_key_in_the_browser() {
    let ring = Keyring::generate().unwrap();
    let node_key = Key256::generate().unwrap();
    let (user, node) = ([5; 16], [6; 16]);
    let wrapped =
        hpke::wrap_node_key(&ring.public_keys().encryption, &user, &node, &node_key).unwrap();
    assert_eq!(wrapped.len(), hpke::WRAPPED_LEN);
    let back = hpke::unwrap_node_key(ring.encryption(), &user, &node, &wrapped).unwrap();
    assert_eq!(back, node_key);
    assert!(hpke::unwrap_node_key(ring.encryption(), &user, &[7; 16], &wrapped).is_err());
}
