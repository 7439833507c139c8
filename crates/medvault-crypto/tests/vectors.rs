//! Published test vectors for every primitive the crypto core builds on.
//!
//! Each data file in `tests/vectors/` names its source (RFC and section, or the
//! Wycheproof / NIST file). The tests go through medvault's own wrappers where
//! one exists (`crypto::kdf`, `crypto::aead`, `crypto::hpke`) and through the
//! pinned crate otherwise. Native only: the browser cannot read the data files.
#![cfg(not(target_arch = "wasm32"))]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::Value;

use common::load_vectors as load;

fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list"))
}

fn h(v: &Value, key: &str) -> Vec<u8> {
    let s = v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a hex string"));
    hex::decode(s).unwrap()
}

fn h32(v: &Value, key: &str) -> [u8; 32] {
    h(v, key).try_into().unwrap()
}

fn h64(v: &Value, key: &str) -> [u8; 64] {
    h(v, key).try_into().unwrap()
}

mod hkdf_rfc5869 {
    use super::*;
    use medvault_crypto::kdf::hkdf_sha256;

    #[test]
    fn rfc5869_sha256_cases() {
        let file = load("rfc5869_hkdf_sha256.json");
        let vectors = list(&file, "vectors");
        assert_eq!(vectors.len(), 3);
        for v in vectors {
            let salt = h(v, "salt");
            let ikm = h(v, "ikm");
            let info = h(v, "info");
            let okm = h(v, "okm");
            assert_eq!(okm.len() as u64, v["L"].as_u64().unwrap());

            let salt_opt = if salt.is_empty() {
                None
            } else {
                Some(&salt[..])
            };
            let mut out = vec![0u8; okm.len()];
            hkdf_sha256(salt_opt, &ikm, &info, &mut out).unwrap();
            assert_eq!(out, okm, "{}", v["name"]);

            // An empty salt is the same as none (RFC 5869 section 2.2).
            let mut out2 = vec![0u8; okm.len()];
            hkdf_sha256(Some(&salt), &ikm, &info, &mut out2).unwrap();
            assert_eq!(out2, okm, "{}", v["name"]);

            let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(salt_opt, &ikm);
            assert_eq!(prk.to_vec(), h(v, "prk"), "{}", v["name"]);
        }
    }
}

mod aes_gcm {
    use super::*;
    use medvault_crypto::{
        aead::{decrypt_raw, encrypt_raw, Key256},
        CryptoError,
    };

    fn parts(v: &Value, pt_key: &str) -> (Key256, [u8; 12], Vec<u8>, Vec<u8>, Vec<u8>) {
        let key = Key256::from_slice(&h(v, "key")).unwrap();
        let iv: [u8; 12] = h(v, "iv").try_into().unwrap();
        let mut ct = h(v, "ct");
        ct.extend_from_slice(&h(v, "tag"));
        (key, iv, h(v, "aad"), h(v, pt_key), ct)
    }

    #[test]
    fn nist_gcmvs_encrypt_and_decrypt() {
        let file = load("aes256gcm_nist_gcmvs.json");
        let vectors = list(&file, "vectors");
        assert!(vectors.len() >= 300);
        let (mut empty_pt, mut empty_aad) = (0, 0);
        for (i, v) in vectors.iter().enumerate() {
            let (key, iv, aad, pt, ct) = parts(v, "pt");
            empty_pt += usize::from(pt.is_empty());
            empty_aad += usize::from(aad.is_empty());
            assert_eq!(encrypt_raw(&key, &iv, &aad, &pt).unwrap(), ct, "case {i}");
            assert_eq!(
                &decrypt_raw(&key, &iv, &aad, &ct).unwrap()[..],
                &pt[..],
                "case {i}"
            );
        }
        assert!(empty_pt > 0 && empty_aad > 0);
    }

    #[test]
    fn fail_nist_gcmvs_altered_tag_or_aad() {
        let file = load("aes256gcm_nist_gcmvs.json");
        for (i, v) in list(&file, "vectors").iter().enumerate().step_by(7) {
            let (key, iv, aad, _, ct) = parts(v, "pt");
            let mut bad = ct.clone();
            *bad.last_mut().unwrap() ^= 1;
            assert_eq!(
                decrypt_raw(&key, &iv, &aad, &bad).map(|_| ()),
                Err(CryptoError::Decrypt),
                "case {i}"
            );
            let mut bad_aad = aad.clone();
            bad_aad.push(0);
            assert_eq!(
                decrypt_raw(&key, &iv, &bad_aad, &ct).map(|_| ()),
                Err(CryptoError::Decrypt),
                "case {i}"
            );
        }
    }

    #[test]
    fn wycheproof_valid_and_invalid() {
        let file = load("aes256gcm_wycheproof.json");
        let vectors = list(&file, "vectors");
        let (mut valid, mut invalid) = (0, 0);
        for (i, v) in vectors.iter().enumerate() {
            let (key, iv, aad, msg, ct) = parts(v, "msg");
            match v["result"].as_str().unwrap() {
                "valid" => {
                    valid += 1;
                    assert_eq!(encrypt_raw(&key, &iv, &aad, &msg).unwrap(), ct, "case {i}");
                    assert_eq!(
                        &decrypt_raw(&key, &iv, &aad, &ct).unwrap()[..],
                        &msg[..],
                        "case {i}"
                    );
                }
                "invalid" => {
                    invalid += 1;
                    assert_eq!(
                        decrypt_raw(&key, &iv, &aad, &ct).map(|_| ()),
                        Err(CryptoError::Decrypt),
                        "case {i} must not decrypt"
                    );
                }
                other => panic!("case {i}: unexpected result {other}"),
            }
        }
        assert!(valid > 0 && invalid > 0);
    }
}

mod x25519_rfc7748 {
    use super::*;
    use medvault_crypto::hpke::{EncryptionPublicKey, EncryptionSecretKey};
    use x25519_dalek::{x25519, PublicKey, StaticSecret};

    #[test]
    fn section_5_2_scalar_mult() {
        let file = load("rfc7748_x25519.json");
        for v in list(&file, "scalar_mult") {
            assert_eq!(
                x25519(h32(v, "scalar"), h32(v, "u")),
                h32(v, "output"),
                "{v}"
            );
        }
    }

    #[test]
    fn section_5_2_iterated() {
        let file = load("rfc7748_x25519.json");
        let mut k = [0u8; 32];
        k[0] = 9;
        let mut u = k;
        let mut done = 0u64;
        for v in list(&file, "iterated") {
            let target = v["iterations"].as_u64().unwrap();
            while done < target {
                let next = x25519(k, u);
                u = k;
                k = next;
                done += 1;
            }
            assert_eq!(k, h32(v, "k"), "after {target} iterations");
        }
    }

    #[test]
    fn section_6_1_diffie_hellman() {
        let file = load("rfc7748_x25519.json");
        let dh = &file["diffie_hellman"];
        let alice = StaticSecret::from(h32(dh, "alice_private"));
        let bob = StaticSecret::from(h32(dh, "bob_private"));
        assert_eq!(PublicKey::from(&alice).to_bytes(), h32(dh, "alice_public"));
        assert_eq!(PublicKey::from(&bob).to_bytes(), h32(dh, "bob_public"));
        let shared = h32(dh, "shared");
        let ab = alice.diffie_hellman(&PublicKey::from(h32(dh, "bob_public")));
        let ba = bob.diffie_hellman(&PublicKey::from(h32(dh, "alice_public")));
        assert_eq!(ab.to_bytes(), shared);
        assert_eq!(ba.to_bytes(), shared);

        // medvault's key types agree, and accept the RFC's public keys.
        for who in ["alice", "bob"] {
            let sk = EncryptionSecretKey::from_bytes(h32(dh, &format!("{who}_private")));
            let pk = h32(dh, &format!("{who}_public"));
            assert_eq!(sk.public_key().to_bytes(), pk);
            assert_eq!(EncryptionPublicKey::from_bytes(pk).unwrap().to_bytes(), pk);
        }
    }
}

mod ed25519_rfc8032 {
    use super::*;
    use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

    #[test]
    fn section_7_1_tests() {
        let file = load("rfc8032_ed25519.json");
        let vectors = list(&file, "vectors");
        assert_eq!(vectors.len(), 5);
        for v in vectors {
            let name = v["name"].as_str().unwrap();
            let signing = SigningKey::from_bytes(&h32(v, "secret_key"));
            let public = h32(v, "public_key");
            assert_eq!(signing.verifying_key().to_bytes(), public, "{name}");
            let msg = h(v, "message");
            let expected = h64(v, "signature");
            let sig = signing.sign(&msg);
            assert_eq!(sig.to_bytes(), expected, "{name}");
            let verifying = VerifyingKey::from_bytes(&public).unwrap();
            verifying
                .verify_strict(&msg, &Signature::from_bytes(&expected))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(
            h(&vectors[1], "message").len() + h(&vectors[3], "message").len(),
            1 + 1023
        );
    }

    #[test]
    fn fail_section_7_1_flipped_bits() {
        let file = load("rfc8032_ed25519.json");
        for v in list(&file, "vectors") {
            let name = v["name"].as_str().unwrap();
            let verifying = VerifyingKey::from_bytes(&h32(v, "public_key")).unwrap();
            let msg = h(v, "message");
            let sig = h64(v, "signature");
            for i in 0..sig.len() {
                let mut bad = sig;
                bad[i] ^= 1 << (i % 8);
                assert!(
                    verifying
                        .verify_strict(&msg, &Signature::from_bytes(&bad))
                        .is_err(),
                    "{name}: flipped signature byte {i}"
                );
            }
            let mut bad_msg = msg.clone();
            match bad_msg.first_mut() {
                Some(b) => *b ^= 0x80,
                None => bad_msg.push(0),
            }
            assert!(
                verifying
                    .verify_strict(&bad_msg, &Signature::from_bytes(&sig))
                    .is_err(),
                "{name}: altered message"
            );
        }
    }
}

mod hpke_rfc9180 {
    use super::*;
    use hpke::{
        aead::AesGcm256, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, Kem, OpModeR,
        OpModeS, Serializable,
    };
    use medvault_crypto::{
        aead::{decrypt_raw, Key256},
        context,
        hpke::{unwrap_node_key, EncryptionSecretKey, AEAD_ID, KDF_ID, KEM_ID},
        Id,
    };

    type PrivateKey = <X25519HkdfSha256 as Kem>::PrivateKey;
    type PublicKey = <X25519HkdfSha256 as Kem>::PublicKey;
    type EncappedKey = <X25519HkdfSha256 as Kem>::EncappedKey;

    /// Hands out fixed bytes: setup_sender draws its ephemeral key's `ikm`
    /// (Nsk = 32 bytes) from the generator, so feeding it `ikmE` reproduces
    /// the RFC's deterministic sender through the public API.
    struct FixedRng(Vec<u8>);

    impl hpke::rand_core::RngCore for FixedRng {
        fn next_u32(&mut self) -> u32 {
            unimplemented!("HPKE draws only whole byte strings")
        }
        fn next_u64(&mut self) -> u64 {
            unimplemented!("HPKE draws only whole byte strings")
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            assert!(dest.len() <= self.0.len(), "FixedRng ran dry");
            let rest = self.0.split_off(dest.len());
            dest.copy_from_slice(&self.0);
            self.0 = rest;
        }
    }

    impl hpke::rand_core::CryptoRng for FixedRng {}

    fn vector() -> Value {
        let file = load("rfc9180_hpke_x25519_sha256_aes256gcm.json");
        let vectors = list(&file, "vectors");
        assert_eq!(vectors.len(), 1);
        let v = vectors[0].clone();
        assert_eq!(v["mode"], 0);
        assert_eq!(v["kem_id"].as_u64(), Some(u64::from(KEM_ID)));
        assert_eq!(v["kdf_id"].as_u64(), Some(u64::from(KDF_ID)));
        assert_eq!(v["aead_id"].as_u64(), Some(u64::from(AEAD_ID)));
        v
    }

    #[test]
    fn derive_keypairs() {
        let v = vector();
        for (ikm, sk, pk) in [("ikmR", "skRm", "pkRm"), ("ikmE", "skEm", "pkEm")] {
            let (sk_derived, pk_derived) = X25519HkdfSha256::derive_keypair(&h(&v, ikm));
            assert_eq!(sk_derived.to_bytes().to_vec(), h(&v, sk), "{sk}");
            assert_eq!(pk_derived.to_bytes().to_vec(), h(&v, pk), "{pk}");
        }
        assert_eq!(h(&v, "enc"), h(&v, "pkEm"), "DHKEM's enc is pkE");
    }

    #[test]
    fn receiver_opens_every_encryption_and_exports() {
        let v = vector();
        let sk = PrivateKey::from_bytes(&h(&v, "skRm")).unwrap();
        let enc = EncappedKey::from_bytes(&h(&v, "enc")).unwrap();
        let mut ctx = hpke::setup_receiver::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &sk,
            &enc,
            &h(&v, "info"),
        )
        .unwrap();
        let encryptions = list(&v, "encryptions");
        assert_eq!(encryptions.len(), 257);
        for (i, e) in encryptions.iter().enumerate() {
            assert_eq!(e["seq"].as_u64(), Some(i as u64));
            let pt = ctx.open(&h(e, "ct"), &h(e, "aad")).unwrap();
            assert_eq!(pt, h(e, "pt"), "seq {i}");
        }
        for x in list(&v, "exports") {
            let mut out = vec![0u8; x["L"].as_u64().unwrap() as usize];
            ctx.export(&h(x, "exporter_context"), &mut out).unwrap();
            assert_eq!(out, h(x, "exported_value"));
        }
    }

    #[test]
    fn fail_receiver_with_other_info_or_out_of_order() {
        let v = vector();
        let sk = PrivateKey::from_bytes(&h(&v, "skRm")).unwrap();
        let enc = EncappedKey::from_bytes(&h(&v, "enc")).unwrap();
        let e = &list(&v, "encryptions")[0];
        let mut wrong_info = h(&v, "info");
        wrong_info.push(0);
        let mut ctx = hpke::setup_receiver::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &sk,
            &enc,
            &wrong_info,
        )
        .unwrap();
        assert!(ctx.open(&h(e, "ct"), &h(e, "aad")).is_err());

        let mut ctx = hpke::setup_receiver::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &sk,
            &enc,
            &h(&v, "info"),
        )
        .unwrap();
        let second = &list(&v, "encryptions")[1];
        assert!(ctx.open(&h(second, "ct"), &h(second, "aad")).is_err());
    }

    #[test]
    fn deterministic_sender_matches_enc_and_ciphertexts() {
        let v = vector();
        let pk = PublicKey::from_bytes(&h(&v, "pkRm")).unwrap();
        let mut rng = FixedRng(h(&v, "ikmE"));
        let (enc, mut ctx) = hpke::setup_sender::<AesGcm256, HkdfSha256, X25519HkdfSha256, _>(
            &OpModeS::Base,
            &pk,
            &h(&v, "info"),
            &mut rng,
        )
        .unwrap();
        assert!(rng.0.is_empty(), "exactly Nsk bytes drawn");
        assert_eq!(enc.to_bytes().to_vec(), h(&v, "enc"));
        for (i, e) in list(&v, "encryptions").iter().enumerate() {
            assert_eq!(
                ctx.seal(&h(e, "pt"), &h(e, "aad")).unwrap(),
                h(e, "ct"),
                "seq {i}"
            );
        }
        for x in list(&v, "exports") {
            let mut out = vec![0u8; x["L"].as_u64().unwrap() as usize];
            ctx.export(&h(x, "exporter_context"), &mut out).unwrap();
            assert_eq!(out, h(x, "exported_value"));
        }
    }

    /// RFC 9180's labelled HKDF, written out here so the key schedule values
    /// in the vector (which the hpke crate keeps private) are checked too.
    fn suite_id() -> Vec<u8> {
        [
            &b"HPKE"[..],
            &KEM_ID.to_be_bytes(),
            &KDF_ID.to_be_bytes(),
            &AEAD_ID.to_be_bytes(),
        ]
        .concat()
    }

    fn labeled_extract(suite: &[u8], salt: &[u8], label: &str, ikm: &[u8]) -> Vec<u8> {
        let labeled = [&b"HPKE-v1"[..], suite, label.as_bytes(), ikm].concat();
        let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(salt), &labeled);
        prk.to_vec()
    }

    fn labeled_expand(suite: &[u8], prk: &[u8], label: &str, info: &[u8], len: u16) -> Vec<u8> {
        let labeled = [
            &len.to_be_bytes()[..],
            b"HPKE-v1",
            suite,
            label.as_bytes(),
            info,
        ]
        .concat();
        let mut out = vec![0u8; usize::from(len)];
        hkdf::Hkdf::<sha2::Sha256>::from_prk(prk)
            .unwrap()
            .expand(&labeled, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn key_schedule_values() {
        let v = vector();
        // DHKEM (RFC 9180 section 4.1).
        let kem_suite = [&b"KEM"[..], &KEM_ID.to_be_bytes()].concat();
        let dh = x25519_dalek::x25519(h32(&v, "skEm"), h32(&v, "pkRm"));
        let kem_context = [h(&v, "enc"), h(&v, "pkRm")].concat();
        let eae_prk = labeled_extract(&kem_suite, b"", "eae_prk", &dh);
        let shared_secret = labeled_expand(&kem_suite, &eae_prk, "shared_secret", &kem_context, 32);
        assert_eq!(shared_secret, h(&v, "shared_secret"));

        // Key schedule, base mode (section 5.1).
        let suite = suite_id();
        let psk_id_hash = labeled_extract(&suite, b"", "psk_id_hash", b"");
        let info_hash = labeled_extract(&suite, b"", "info_hash", &h(&v, "info"));
        let ks_context = [&[0u8][..], &psk_id_hash, &info_hash].concat();
        assert_eq!(ks_context, h(&v, "key_schedule_context"));
        let secret = labeled_extract(&suite, &shared_secret, "secret", b"");
        assert_eq!(secret, h(&v, "secret"));
        assert_eq!(
            labeled_expand(&suite, &secret, "key", &ks_context, 32),
            h(&v, "key")
        );
        assert_eq!(
            labeled_expand(&suite, &secret, "base_nonce", &ks_context, 12),
            h(&v, "base_nonce")
        );
        assert_eq!(
            labeled_expand(&suite, &secret, "exp", &ks_context, 32),
            h(&v, "exporter_secret")
        );

        // Each nonce is base_nonce XOR seq, and the raw AES-256-GCM of
        // crypto::aead opens each ciphertext under `key`.
        let key = Key256::from_slice(&h(&v, "key")).unwrap();
        let base: [u8; 12] = h(&v, "base_nonce").try_into().unwrap();
        for e in list(&v, "encryptions") {
            let seq = e["seq"].as_u64().unwrap();
            let mut nonce = base;
            for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                *n ^= s;
            }
            assert_eq!(nonce.to_vec(), h(e, "nonce"), "seq {seq}");
            let pt = decrypt_raw(&key, &nonce, &h(e, "aad"), &h(e, "ct")).unwrap();
            assert_eq!(&pt[..], &h(e, "pt")[..], "seq {seq}");
        }
        for x in list(&v, "exports") {
            let len = u16::try_from(x["L"].as_u64().unwrap()).unwrap();
            let exported = labeled_expand(
                &suite,
                &h(&v, "exporter_secret"),
                "sec",
                &h(x, "exporter_context"),
                len,
            );
            assert_eq!(exported, h(x, "exported_value"));
        }
    }

    /// medvault's wrapped node key is plain RFC 9180 single-shot seal with the
    /// documented info and empty AAD: build one with the hpke crate alone (the
    /// RFC's deterministic ephemeral key) and open it with `unwrap_node_key`.
    #[test]
    fn wrapped_node_key_is_plain_rfc9180() {
        let v = vector();
        let recipient = EncryptionSecretKey::from_bytes(h32(&v, "skRm"));
        let user: Id = [0x11; 16];
        let node: Id = [0x22; 16];
        let node_key = Key256::from_bytes([0x33; 32]);
        let info = context::bind(context::HPKE_NODE_KEY, &[&user, &node]);
        let (enc, ct) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, X25519HkdfSha256, _>(
            &OpModeS::Base,
            &PublicKey::from_bytes(&h(&v, "pkRm")).unwrap(),
            &info,
            node_key.as_bytes(),
            b"",
            &mut FixedRng(h(&v, "ikmE")),
        )
        .unwrap();
        let wrapped = [&[1u8][..], &enc.to_bytes(), &ct].concat();
        assert_eq!(wrapped.len(), 81);
        assert_eq!(
            unwrap_node_key(&recipient, &user, &node, &wrapped).unwrap(),
            node_key
        );
    }
}
