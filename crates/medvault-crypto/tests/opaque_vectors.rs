//! Published vectors for the primitives of the OPAQUE suite:
//!
//! - RFC 9807 Appendix C (ristretto255-SHA512, Identity KSF): the full
//!   registration and login, byte for byte, through opaque-ke's public API, with
//!   a scripted RNG that hands out exactly the RFC's blinds, nonces and seeds;
//! - RFC 9497 Appendix A.1.1 (ristretto255-SHA512 OPRF mode) through voprf;
//! - RFC 9106 section 5.3 (Argon2id) through the argon2 crate.
//!
//! Our own suite differs from RFC 9807's only in the KSF (Argon2id instead of
//! Identity) and the context string; `tests/opaque.rs` covers it by round trips.
//! Native only (it reads files and uses proptest); `browser_opaque.rs` covers wasm32.
#![cfg(not(target_arch = "wasm32"))]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::VecDeque;

use medvault_crypto::opaque as ours;
use opaque_ke::keypair::{PrivateKey, PublicKey};
use opaque_ke::{
    ClientLogin, ClientLoginFinishParameters, ClientRegistration,
    ClientRegistrationFinishParameters, CredentialFinalization, CredentialRequest,
    CredentialResponse, Identifiers, RegistrationRequest, RegistrationResponse, RegistrationUpload,
    ServerLogin, ServerLoginParameters, ServerRegistration, ServerSetup,
};
use serde_json::Value;
use voprf::Group;

/// RFC 9807's ristretto255-SHA512 configuration: our suite with the Identity KSF.
struct VectorSuite;

impl opaque_ke::CipherSuite for VectorSuite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::TripleDh<opaque_ke::Ristretto255, sha2::Sha512>;
    type Ksf = opaque_ke::ksf::Identity;
}

/// Hands out the given byte strings in order; each request must ask for exactly
/// the next one's length, which proves the vector's values land where the RFC
/// says they are used.
struct ScriptedRng(VecDeque<Vec<u8>>);

impl ScriptedRng {
    fn new(chunks: &[Vec<u8>]) -> Self {
        ScriptedRng(chunks.iter().cloned().collect())
    }

    fn assert_used_up(&self) {
        assert!(self.0.is_empty(), "{} scripted values unused", self.0.len());
    }
}

impl rand_core::RngCore for ScriptedRng {
    fn next_u32(&mut self) -> u32 {
        unimplemented!("the OPAQUE steps only fill byte buffers")
    }

    fn next_u64(&mut self) -> u64 {
        unimplemented!("the OPAQUE steps only fill byte buffers")
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let next = self.0.pop_front().expect("the script ran out");
        assert_eq!(next.len(), dest.len(), "scripted value of the wrong length");
        dest.copy_from_slice(&next);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for ScriptedRng {}

fn load(name: &str) -> Value {
    let json = common::load_vectors(name);
    assert!(json["source"]
        .as_str()
        .is_some_and(|s| s.starts_with("RFC ")));
    json
}

fn hex_of(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("missing {key}"))).unwrap()
}

/// Random scalars are drawn as 64 bytes reduced mod the group order, so a blind
/// `b` (already reduced) is produced by the bytes `b ‖ 0^32`.
fn scalar_draw(blind: &[u8]) -> Vec<u8> {
    [blind, &[0u8; 32]].concat()
}

/// RFC 9807 section 3.2 / 6.4: the OPRF key is
/// DeriveKeyPair(HKDF-Expand(oprf_seed, credential_identifier ‖ "OprfKey", Nok),
/// "OPAQUE-DeriveKeyPair").
fn oprf_key(oprf_seed: &[u8], credential_identifier: &[u8]) -> Vec<u8> {
    let hkdf = hkdf::Hkdf::<sha2::Sha512>::from_prk(oprf_seed).unwrap();
    let mut seed = [0u8; 32];
    hkdf.expand_multi_info(&[credential_identifier, b"OprfKey"], &mut seed)
        .unwrap();
    let key = voprf::derive_key::<opaque_ke::Ristretto255>(
        &seed,
        b"OPAQUE-DeriveKeyPair",
        voprf::Mode::Oprf,
    )
    .unwrap();
    <opaque_ke::Ristretto255 as Group>::serialize_scalar(key).to_vec()
}

/// `oprf_seed ‖ server_private_key ‖ fake_client_public_key`, the serialised form
/// of a server setup (the last key only serves fake responses).
fn server_setup(inputs: &Value, fake_client_public_key: &[u8]) -> ServerSetup<VectorSuite> {
    let bytes = [
        hex_of(inputs, "oprf_seed"),
        hex_of(inputs, "server_private_key"),
        fake_client_public_key.to_vec(),
    ]
    .concat();
    let setup = ServerSetup::<VectorSuite>::deserialize(&bytes).unwrap();
    assert_eq!(
        setup.keypair().public().serialize().to_vec(),
        hex_of(inputs, "server_public_key")
    );
    setup
}

fn opt_hex(v: &Value, key: &str) -> Option<Vec<u8>> {
    v.get(key).map(|_| hex_of(v, key))
}

fn run_real_vector(vector: &Value) {
    let name = vector["name"].as_str().unwrap();
    let config = &vector["configuration"];
    let inputs = &vector["inputs"];
    let inter = &vector["intermediates"];
    let outputs = &vector["outputs"];
    assert_eq!(config["OPRF"], "ristretto255-SHA512");
    assert_eq!(config["Group"], "ristretto255");
    assert_eq!(config["KSF"], "Identity");

    let context = hex::decode(config["Context"].as_str().unwrap()).unwrap();
    let password = hex_of(inputs, "password");
    let credential_identifier = hex_of(inputs, "credential_identifier");
    let client_identity = opt_hex(inputs, "client_identity");
    let server_identity = opt_hex(inputs, "server_identity");
    let identifiers = Identifiers {
        client: client_identity.as_deref(),
        server: server_identity.as_deref(),
    };
    let setup = server_setup(inputs, &hex_of(inputs, "server_public_key"));

    assert_eq!(
        oprf_key(&hex_of(inputs, "oprf_seed"), &credential_identifier),
        hex_of(inter, "oprf_key"),
        "{name}: oprf_key"
    );

    // Registration.
    let mut rng = ScriptedRng::new(&[scalar_draw(&hex_of(inputs, "blind_registration"))]);
    let started = ClientRegistration::<VectorSuite>::start(&mut rng, &password).unwrap();
    rng.assert_used_up();
    let request = started.message.serialize().to_vec();
    assert_eq!(request, hex_of(outputs, "registration_request"), "{name}");

    let response = ServerRegistration::<VectorSuite>::start(
        &setup,
        RegistrationRequest::deserialize(&request).unwrap(),
        &credential_identifier,
    )
    .unwrap()
    .message
    .serialize()
    .to_vec();
    assert_eq!(response, hex_of(outputs, "registration_response"), "{name}");

    let mut rng = ScriptedRng::new(&[hex_of(inputs, "envelope_nonce")]);
    let finished = started
        .state
        .finish(
            &mut rng,
            &password,
            RegistrationResponse::deserialize(&response).unwrap(),
            ClientRegistrationFinishParameters::new(identifiers, None),
        )
        .unwrap();
    rng.assert_used_up();
    let upload = finished.message.serialize().to_vec();
    assert_eq!(upload, hex_of(outputs, "registration_upload"), "{name}");
    assert_eq!(&upload[..32], &hex_of(inter, "client_public_key")[..]);
    assert_eq!(&upload[96..], &hex_of(inter, "envelope")[..]);
    assert_eq!(
        finished.export_key.to_vec(),
        hex_of(outputs, "export_key"),
        "{name}: export_key at registration"
    );
    let password_file = ServerRegistration::<VectorSuite>::finish(
        RegistrationUpload::deserialize(&upload).unwrap(),
    );

    // Login. Client start draws: blind, client keyshare seed, client nonce.
    let mut rng = ScriptedRng::new(&[
        scalar_draw(&hex_of(inputs, "blind_login")),
        hex_of(inputs, "client_keyshare_seed"),
        hex_of(inputs, "client_nonce"),
    ]);
    let client = ClientLogin::<VectorSuite>::start(&mut rng, &password).unwrap();
    rng.assert_used_up();
    let ke1 = client.message.serialize().to_vec();
    assert_eq!(ke1, hex_of(outputs, "KE1"), "{name}: KE1");

    // Server start draws: a masking key for the (discarded, constant-time) fake
    // record, the masking nonce, the server keyshare seed, the server nonce.
    let mut rng = ScriptedRng::new(&[
        vec![0x55; 64],
        hex_of(inputs, "masking_nonce"),
        hex_of(inputs, "server_keyshare_seed"),
        hex_of(inputs, "server_nonce"),
    ]);
    let params = ServerLoginParameters {
        context: Some(&context),
        identifiers,
    };
    let server = ServerLogin::start(
        &mut rng,
        &setup,
        Some(password_file),
        CredentialRequest::deserialize(&ke1).unwrap(),
        &credential_identifier,
        params.clone(),
    )
    .unwrap();
    rng.assert_used_up();
    let ke2 = server.message.serialize().to_vec();
    assert_eq!(ke2, hex_of(outputs, "KE2"), "{name}: KE2");

    let mut rng = ScriptedRng::new(&[]);
    let done = client
        .state
        .finish(
            &mut rng,
            &password,
            CredentialResponse::deserialize(&ke2).unwrap(),
            ClientLoginFinishParameters::new(Some(&context), identifiers, None),
        )
        .unwrap();
    let ke3 = done.message.serialize().to_vec();
    assert_eq!(ke3, hex_of(outputs, "KE3"), "{name}: KE3");
    assert_eq!(done.export_key.to_vec(), hex_of(outputs, "export_key"));
    assert_eq!(done.session_key.to_vec(), hex_of(outputs, "session_key"));
    assert_eq!(
        done.server_s_pk.serialize().to_vec(),
        hex_of(inputs, "server_public_key")
    );

    let server_done = server
        .state
        .finish(CredentialFinalization::deserialize(&ke3).unwrap(), params)
        .unwrap();
    assert_eq!(
        server_done.session_key.to_vec(),
        hex_of(outputs, "session_key"),
        "{name}: server session_key"
    );
}

fn vectors() -> Vec<Value> {
    load("rfc9807_opaque_ristretto255_sha512.json")["vectors"]
        .as_array()
        .unwrap()
        .clone()
}

fn vector(section: &str) -> Value {
    vectors()
        .into_iter()
        .find(|v| v["section"] == section)
        .unwrap()
}

#[test]
fn rfc9807_real_vector_1() {
    run_real_vector(&vector("C.1.1"));
}

#[test]
fn rfc9807_real_vector_2_with_identities() {
    run_real_vector(&vector("C.1.2"));
}

#[test]
fn rfc9807_fake_vector_1() {
    let vector = vector("C.2.1");
    let config = &vector["configuration"];
    let inputs = &vector["inputs"];
    let outputs = &vector["outputs"];
    let context = hex::decode(config["Context"].as_str().unwrap()).unwrap();
    let client_identity = hex_of(inputs, "client_identity");
    let server_identity = hex_of(inputs, "server_identity");

    // The fake record's client public key comes from the server setup.
    let client_public_key = hex_of(inputs, "client_public_key");
    let derived =
        PrivateKey::<opaque_ke::Ristretto255>::deserialize(&hex_of(inputs, "client_private_key"))
            .unwrap()
            .public_key()
            .serialize()
            .to_vec();
    assert_eq!(derived, client_public_key);
    PublicKey::<opaque_ke::Ristretto255>::deserialize(&client_public_key).unwrap();
    let setup = server_setup(inputs, &client_public_key);

    let mut rng = ScriptedRng::new(&[
        hex_of(inputs, "masking_key"),
        hex_of(inputs, "masking_nonce"),
        hex_of(inputs, "server_keyshare_seed"),
        hex_of(inputs, "server_nonce"),
    ]);
    let server = ServerLogin::start(
        &mut rng,
        &setup,
        None,
        CredentialRequest::<VectorSuite>::deserialize(&hex_of(inputs, "KE1")).unwrap(),
        &hex_of(inputs, "credential_identifier"),
        ServerLoginParameters {
            context: Some(&context),
            identifiers: Identifiers {
                client: Some(&client_identity),
                server: Some(&server_identity),
            },
        },
    )
    .unwrap();
    rng.assert_used_up();
    assert_eq!(
        server.message.serialize().to_vec(),
        hex_of(outputs, "KE2"),
        "fake KE2"
    );
}

#[test]
fn rfc9807_message_sizes_match_our_suite() {
    // Our suite differs only in the KSF, so every message has the RFC's size.
    let v = vector("C.1.1");
    let out = &v["outputs"];
    let len = |k: &str| hex_of(out, k).len();
    assert_eq!(len("registration_request"), ours::REGISTRATION_REQUEST_LEN);
    assert_eq!(
        len("registration_response"),
        ours::REGISTRATION_RESPONSE_LEN
    );
    assert_eq!(len("registration_upload"), ours::REGISTRATION_UPLOAD_LEN);
    assert_eq!(len("KE1"), ours::CREDENTIAL_REQUEST_LEN);
    assert_eq!(len("KE2"), ours::CREDENTIAL_RESPONSE_LEN);
    assert_eq!(len("KE3"), ours::CREDENTIAL_FINALIZATION_LEN);
    assert_eq!(len("export_key"), ours::EXPORT_KEY_LEN);
    assert_eq!(len("session_key"), ours::SESSION_KEY_LEN);
    let fake = vector("C.2.1");
    assert_eq!(
        hex_of(&fake["outputs"], "KE2").len(),
        ours::CREDENTIAL_RESPONSE_LEN
    );
}

#[test]
fn fail_rfc9807_vector_with_wrong_password() {
    // The vector's record does not open with another password.
    let v = vector("C.1.1");
    let inputs = &v["inputs"];
    let outputs = &v["outputs"];
    let context = hex::decode(v["configuration"]["Context"].as_str().unwrap()).unwrap();
    let mut rng = ScriptedRng::new(&[
        scalar_draw(&hex_of(inputs, "blind_login")),
        hex_of(inputs, "client_keyshare_seed"),
        hex_of(inputs, "client_nonce"),
    ]);
    let client = ClientLogin::<VectorSuite>::start(&mut rng, b"not the password").unwrap();
    let result = client.state.finish(
        &mut ScriptedRng::new(&[]),
        b"not the password",
        CredentialResponse::deserialize(&hex_of(outputs, "KE2")).unwrap(),
        ClientLoginFinishParameters::new(Some(&context), Identifiers::default(), None),
    );
    assert!(matches!(
        result,
        Err(opaque_ke::errors::ProtocolError::InvalidLoginError)
    ));
}

// ------------------------------------------------------------ RFC 9497 OPRF

#[test]
fn rfc9497_oprf_ristretto255_sha512() {
    let json = load("rfc9497_oprf_ristretto255_sha512.json");
    assert_eq!(json["mode"], "OPRF");
    let sk = voprf::derive_key::<opaque_ke::Ristretto255>(
        &hex_of(&json, "Seed"),
        &hex_of(&json, "KeyInfo"),
        voprf::Mode::Oprf,
    )
    .unwrap();
    let sk_bytes = <opaque_ke::Ristretto255 as Group>::serialize_scalar(sk).to_vec();
    assert_eq!(sk_bytes, hex_of(&json, "skSm"));
    let server = voprf::OprfServer::<opaque_ke::Ristretto255>::new_with_key(&sk_bytes).unwrap();

    let cases = json["vectors"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let input = hex_of(case, "Input");
        let blind =
            <opaque_ke::Ristretto255 as Group>::deserialize_scalar(&hex_of(case, "Blind")).unwrap();
        let blinded = voprf::OprfClient::<opaque_ke::Ristretto255>::deterministic_blind_unchecked(
            &input, blind,
        )
        .unwrap();
        assert_eq!(
            blinded.message.serialize().to_vec(),
            hex_of(case, "BlindedElement")
        );
        let evaluated = server.blind_evaluate(&blinded.message);
        assert_eq!(
            evaluated.serialize().to_vec(),
            hex_of(case, "EvaluationElement")
        );
        let output = blinded.state.finalize(&input, &evaluated).unwrap();
        assert_eq!(output.to_vec(), hex_of(case, "Output"));
        // The unblinded server-side evaluation agrees.
        assert_eq!(
            server.evaluate(&input).unwrap().to_vec(),
            hex_of(case, "Output")
        );
    }
}

// --------------------------------------------------------- RFC 9106 Argon2id

fn rfc9106_hasher(json: &Value) -> argon2::Argon2<'static> {
    assert_eq!(json["type"], "Argon2id");
    assert_eq!(json["version"], 19);
    let data = hex_of(json, "associated_data");
    let params = argon2::ParamsBuilder::new()
        .m_cost(json["memory_kib"].as_u64().unwrap() as u32)
        .t_cost(json["passes"].as_u64().unwrap() as u32)
        .p_cost(json["parallelism"].as_u64().unwrap() as u32)
        .output_len(json["tag_length"].as_u64().unwrap() as usize)
        .data(argon2::AssociatedData::new(&data).unwrap())
        .build()
        .unwrap();
    // The secret must outlive the hasher: leak it (a test, a few bytes).
    let secret: &'static [u8] = Box::leak(hex_of(json, "secret").into_boxed_slice());
    argon2::Argon2::new_with_secret(
        secret,
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    )
    .unwrap()
}

#[test]
fn rfc9106_argon2id() {
    let json = load("rfc9106_argon2id.json");
    let mut tag = vec![0u8; json["tag_length"].as_u64().unwrap() as usize];
    rfc9106_hasher(&json)
        .hash_password_into(&hex_of(&json, "password"), &hex_of(&json, "salt"), &mut tag)
        .unwrap();
    assert_eq!(tag, hex_of(&json, "tag"));
}

#[test]
fn fail_rfc9106_argon2id_with_other_salt() {
    let json = load("rfc9106_argon2id.json");
    let mut tag = vec![0u8; 32];
    let mut salt = hex_of(&json, "salt");
    salt[0] ^= 1;
    rfc9106_hasher(&json)
        .hash_password_into(&hex_of(&json, "password"), &salt, &mut tag)
        .unwrap();
    assert_ne!(tag, hex_of(&json, "tag"));
}
