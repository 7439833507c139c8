//! OPAQUE through medvault's API: round trips with the real Argon2 suite, every
//! rejection, and the Argon2 parameters themselves.
//! Native only (it reads files and uses proptest); `browser_opaque.rs` covers wasm32.
#![cfg(not(target_arch = "wasm32"))]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use medvault_crypto::opaque::{
    client_login_start, client_registration_start, server_login_start, server_registration_finish,
    server_registration_start, Argon2Ksf, ClientLoginFinish, ExportKey, ServerLoginState,
    ServerSetup, SessionKey, ARGON2_M_COST_KIB, ARGON2_P_COST, ARGON2_SALT, ARGON2_T_COST,
    CREDENTIAL_FINALIZATION_LEN, CREDENTIAL_REQUEST_LEN, CREDENTIAL_RESPONSE_LEN,
    PASSWORD_FILE_LEN, REGISTRATION_REQUEST_LEN, REGISTRATION_RESPONSE_LEN,
    REGISTRATION_UPLOAD_LEN, SERVER_LOGIN_STATE_LEN, SERVER_SETUP_LEN,
};
use medvault_crypto::CryptoError;
use opaque_ke::ksf::Ksf;
use proptest::prelude::*;

const USER: &[u8] = b"alice";
const PASSWORD: &[u8] = b"correct horse battery staple";

/// Registers `password` for `user`; returns the stored password file and the
/// registration's export key.
fn register(setup: &ServerSetup, user: &[u8], password: &[u8]) -> (Vec<u8>, ExportKey) {
    let (state, request) = client_registration_start(password).unwrap();
    let response = server_registration_start(setup, user, &request).unwrap();
    let finished = state.finish(password, &response).unwrap();
    let file = server_registration_finish(&finished.upload).unwrap();
    (file, finished.export_key)
}

/// A whole login; on success returns the client's result and the server's key.
fn login(
    setup: &ServerSetup,
    user: &[u8],
    file: Option<&[u8]>,
    password: &[u8],
) -> Result<(ClientLoginFinish, SessionKey), CryptoError> {
    let (client, ke1) = client_login_start(password)?;
    let (server, ke2) = server_login_start(setup, user, file, &ke1)?;
    let finished = client.finish(password, &ke2)?;
    let server_key = server.finish(&finished.finalization)?;
    Ok((finished, server_key))
}

fn same<T: AsRef<[u8]>>(a: T, b: T) -> bool {
    a.as_ref() == b.as_ref()
}

fn keys_equal(a: &SessionKey, b: &SessionKey) -> bool {
    bool::from(a.ct_eq(b))
}

fn export_equal(a: &ExportKey, b: &ExportKey) -> bool {
    bool::from(a.ct_eq(b))
}

/// `bytes` with one bit flipped.
fn flipped(bytes: &[u8], index: usize, bit: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[index] ^= 1 << (bit % 8);
    out
}

/// The first and last byte of each field of a message, given its field lengths:
/// every field gets tampered with at both of its ends.
fn field_edges(fields: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut start = 0;
    for len in fields {
        out.push(start);
        out.push(start + len - 1);
        start += len;
    }
    out
}

// ------------------------------------------------------------------- suite

fn ksf_input(
    bytes: &[u8; 64],
) -> opaque_ke::generic_array::GenericArray<u8, opaque_ke::generic_array::typenum::U64> {
    opaque_ke::generic_array::GenericArray::clone_from_slice(bytes)
}

#[test]
fn argon2_parameters_are_the_ones_we_state() {
    assert_eq!(ARGON2_M_COST_KIB, 19456, "19 MiB");
    assert_eq!(ARGON2_T_COST, 2);
    assert_eq!(ARGON2_P_COST, 1);
    assert_eq!(ARGON2_SALT, [0u8; 16]);
    let params = Argon2Ksf::params(64).unwrap();
    assert_eq!(params.m_cost(), 19456);
    assert_eq!(params.t_cost(), 2);
    assert_eq!(params.p_cost(), 1);
    assert_eq!(params.output_len(), Some(64));
    let hasher = Argon2Ksf::hasher(64).unwrap();
    assert_eq!(hasher.params(), &params);
}

#[test]
fn argon2_ksf_is_argon2id_v13_with_our_parameters() {
    // The KSF must equal a direct Argon2id call with the numbers written here,
    // not with constants that could drift together with the code.
    let input: [u8; 64] = core::array::from_fn(|i| i as u8);
    let ours = Argon2Ksf.hash(ksf_input(&input)).unwrap();
    let direct = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19456, 2, 1, Some(64)).unwrap(),
    );
    let mut expected = [0u8; 64];
    direct
        .hash_password_into(&input, &[0u8; 16], &mut expected)
        .unwrap();
    assert_eq!(ours.as_slice(), &expected[..]);
    // Any parameter change would show here.
    let weaker = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19456, 1, 1, Some(64)).unwrap(),
    );
    let mut other = [0u8; 64];
    weaker
        .hash_password_into(&input, &[0u8; 16], &mut other)
        .unwrap();
    assert_ne!(ours.as_slice(), &other[..]);
}

#[test]
fn argon2_ksf_known_answer() {
    // Our own regression value (computed once with the suite's parameters, the
    // input bytes 0..64 and the zero salt): if the `argon2` crate or our
    // parameters ever change what the KSF computes, every stored password file
    // would stop opening, and this test says so first.
    let input: [u8; 64] = core::array::from_fn(|i| i as u8);
    let out = Argon2Ksf.hash(ksf_input(&input)).unwrap();
    assert_eq!(hex::encode(out), KSF_KNOWN_ANSWER);
}

const KSF_KNOWN_ANSWER: &str = "c0861792b1201a4dba8cda5280f23a5679c981332c43183826a6a04ece581169b0615eb9c12d1b03afdf6d39813054f1e36fd091d549e27bd306e1411bba7fdf";

#[test]
fn message_sizes_are_fixed() {
    let setup = ServerSetup::generate();
    assert_eq!(setup.to_bytes().as_bytes().len(), SERVER_SETUP_LEN);
    let (state, request) = client_registration_start(PASSWORD).unwrap();
    assert_eq!(request.len(), REGISTRATION_REQUEST_LEN);
    let response = server_registration_start(&setup, USER, &request).unwrap();
    assert_eq!(response.len(), REGISTRATION_RESPONSE_LEN);
    assert_eq!(&response[32..], &setup.public_key());
    let finished = state.finish(PASSWORD, &response).unwrap();
    assert_eq!(finished.upload.len(), REGISTRATION_UPLOAD_LEN);
    let file = server_registration_finish(&finished.upload).unwrap();
    assert_eq!(file.len(), PASSWORD_FILE_LEN);
    assert_eq!(file, finished.upload);

    let (client, ke1) = client_login_start(PASSWORD).unwrap();
    assert_eq!(ke1.len(), CREDENTIAL_REQUEST_LEN);
    let (server, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    assert_eq!(ke2.len(), CREDENTIAL_RESPONSE_LEN);
    assert_eq!(server.to_bytes().as_bytes().len(), SERVER_LOGIN_STATE_LEN);
    let done = client.finish(PASSWORD, &ke2).unwrap();
    assert_eq!(done.finalization.len(), CREDENTIAL_FINALIZATION_LEN);
    assert_eq!(done.session_key.as_bytes().len(), 64);
    assert_eq!(done.export_key.as_bytes().len(), 64);
}

// -------------------------------------------------------------- round trips

#[test]
fn round_trip_registration_and_login() {
    let setup = ServerSetup::generate();
    let (file, registered) = register(&setup, USER, PASSWORD);
    let (client, server_key) = login(&setup, USER, Some(&file), PASSWORD).unwrap();
    assert!(keys_equal(&client.session_key, &server_key));
    assert!(export_equal(&client.export_key, &registered));
    assert_ne!(client.session_key.as_bytes(), &[0u8; 64]);
}

#[test]
fn export_key_is_stable_across_logins_and_session_keys_are_fresh() {
    let setup = ServerSetup::generate();
    let (file, registered) = register(&setup, USER, PASSWORD);
    let (first, first_server) = login(&setup, USER, Some(&file), PASSWORD).unwrap();
    let (second, second_server) = login(&setup, USER, Some(&file), PASSWORD).unwrap();
    assert!(export_equal(&first.export_key, &registered));
    assert!(export_equal(&second.export_key, &registered));
    assert!(keys_equal(&first.session_key, &first_server));
    assert!(keys_equal(&second.session_key, &second_server));
    assert!(!keys_equal(&first.session_key, &second.session_key));
}

#[test]
fn export_key_differs_for_another_password_or_registration() {
    let setup = ServerSetup::generate();
    let (_, a) = register(&setup, USER, PASSWORD);
    let (_, b) = register(&setup, USER, b"another password");
    let (_, c) = register(&setup, USER, PASSWORD);
    assert!(!export_equal(&a, &b));
    // A new registration (new envelope nonce) gives a new export key even for
    // the same password: re-registering means re-sealing the keyring.
    assert!(!export_equal(&a, &c));
}

#[test]
fn server_setup_survives_serialisation() {
    let setup = ServerSetup::generate();
    let (file, registered) = register(&setup, USER, PASSWORD);
    let restored = ServerSetup::from_bytes(setup.to_bytes().as_bytes()).unwrap();
    assert_eq!(restored.public_key(), setup.public_key());
    assert!(same(
        restored.to_bytes().as_bytes(),
        setup.to_bytes().as_bytes()
    ));
    let (client, server_key) = login(&restored, USER, Some(&file), PASSWORD).unwrap();
    assert!(keys_equal(&client.session_key, &server_key));
    assert!(export_equal(&client.export_key, &registered));
}

#[test]
fn server_login_state_survives_serialisation() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    let (client, ke1) = client_login_start(PASSWORD).unwrap();
    let (server, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    let stored = server.to_bytes();
    drop(server);
    let restored = ServerLoginState::from_bytes(stored.as_bytes()).unwrap();
    let done = client.finish(PASSWORD, &ke2).unwrap();
    let server_key = restored.finish(&done.finalization).unwrap();
    assert!(keys_equal(&done.session_key, &server_key));
}

#[test]
fn empty_and_long_passwords_work() {
    let setup = ServerSetup::generate();
    for password in [&b""[..], &[0xffu8; 1000][..]] {
        let (file, registered) = register(&setup, USER, password);
        let (client, server_key) = login(&setup, USER, Some(&file), password).unwrap();
        assert!(keys_equal(&client.session_key, &server_key));
        assert!(export_equal(&client.export_key, &registered));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_random_credentials(
        user in proptest::collection::vec(any::<u8>(), 0..64),
        password in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let setup = ServerSetup::generate();
        let (file, registered) = register(&setup, &user, &password);
        let (client, server_key) = login(&setup, &user, Some(&file), &password).unwrap();
        prop_assert!(keys_equal(&client.session_key, &server_key));
        prop_assert!(export_equal(&client.export_key, &registered));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary bytes of any length never panic the server-side parsers.
    #[test]
    fn fail_arbitrary_bytes_never_panic_the_server(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let setup = ServerSetup::generate();
        let _ = ServerSetup::from_bytes(&bytes);
        let _ = ServerLoginState::from_bytes(&bytes);
        let _ = server_registration_start(&setup, USER, &bytes);
        let _ = server_registration_finish(&bytes);
        let _ = server_login_start(&setup, USER, None, &bytes);
        let _ = server_login_start(&setup, USER, Some(&bytes), &[0u8; CREDENTIAL_REQUEST_LEN]);
    }
}

// ----------------------------------------------------------------- failures

#[test]
fn fail_wrong_password() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    let (client, ke1) = client_login_start(b"wrong password").unwrap();
    let (server, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    assert_eq!(
        client.finish(b"wrong password", &ke2).err(),
        Some(CryptoError::Login)
    );
    // And the server never accepts a finalization it did not get.
    assert_eq!(
        server.finish(&[0u8; CREDENTIAL_FINALIZATION_LEN]).err(),
        Some(CryptoError::Login)
    );
}

#[test]
fn fail_password_file_of_another_username() {
    // The OPRF key depends on the username: a file presented under another name
    // does not open.
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    assert_eq!(
        login(&setup, b"mallory", Some(&file), PASSWORD).err(),
        Some(CryptoError::Login)
    );
}

#[test]
fn fail_other_server_setup() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    let other = ServerSetup::generate();
    assert_eq!(
        login(&other, USER, Some(&file), PASSWORD).err(),
        Some(CryptoError::Login)
    );
}

#[test]
fn fail_unknown_user_fake_response() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);

    let (_, ke1) = client_login_start(PASSWORD).unwrap();
    let (_, real) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();

    let (client, ke1) = client_login_start(PASSWORD).unwrap();
    let (server, fake) = server_login_start(&setup, b"nobody", None, &ke1).unwrap();
    assert_eq!(fake.len(), real.len());
    assert_eq!(fake.len(), CREDENTIAL_RESPONSE_LEN);
    // The public key the fake carries is the real server's (same shape), and the
    // masked part is fresh each time.
    let (_, fake_again) = server_login_start(&setup, b"nobody", None, &ke1).unwrap();
    assert_ne!(fake[64..192], fake_again[64..192]);
    // The same OPRF evaluation as a real user of that name would get: a fake
    // cannot be told apart by asking twice.
    assert_eq!(fake[..32], fake_again[..32]);

    assert_eq!(
        client.finish(PASSWORD, &fake).err(),
        Some(CryptoError::Login)
    );
    assert_eq!(
        server.finish(&[0u8; CREDENTIAL_FINALIZATION_LEN]).err(),
        Some(CryptoError::Login)
    );
}

#[test]
fn fail_replayed_finalization() {
    // KE3 of one login does not finish another.
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    let (first, _) = login(&setup, USER, Some(&file), PASSWORD).unwrap();
    let (_, ke1) = client_login_start(PASSWORD).unwrap();
    let (server, _) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    assert_eq!(
        server.finish(&first.finalization).err(),
        Some(CryptoError::Login)
    );
}

/// Registers with one message tampered at `index`; the registration must be
/// rejected, or the resulting password file must not log in.
fn tampered_registration(which: &str, index: usize, bit: u8) {
    let setup = ServerSetup::generate();
    let attempt = || -> Result<Vec<u8>, CryptoError> {
        let (state, mut request) = client_registration_start(PASSWORD)?;
        if which == "request" {
            request = flipped(&request, index, bit);
        }
        let mut response = server_registration_start(&setup, USER, &request)?;
        if which == "response" {
            response = flipped(&response, index, bit);
        }
        let mut upload = state.finish(PASSWORD, &response)?.upload;
        if which == "upload" {
            upload = flipped(&upload, index, bit);
        }
        server_registration_finish(&upload)
    };
    if let Ok(file) = attempt() {
        assert!(
            login(&setup, USER, Some(&file), PASSWORD).is_err(),
            "{which} tampered at {index} still logs in"
        );
    }
}

#[test]
fn fail_tampered_registration_request() {
    for (n, index) in field_edges(&[32]).into_iter().enumerate() {
        tampered_registration("request", index, n as u8);
    }
}

#[test]
fn fail_tampered_registration_response() {
    for (n, index) in field_edges(&[32, 32]).into_iter().enumerate() {
        tampered_registration("response", index, n as u8);
    }
}

#[test]
fn fail_tampered_registration_upload() {
    for (n, index) in field_edges(&[32, 64, 32, 64]).into_iter().enumerate() {
        tampered_registration("upload", index, n as u8);
    }
}

#[test]
fn fail_tampered_password_file() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    for (n, index) in field_edges(&[32, 64, 32, 64]).into_iter().enumerate() {
        let bad = flipped(&file, index, n as u8);
        assert!(
            login(&setup, USER, Some(&bad), PASSWORD).is_err(),
            "password file tampered at {index} still logs in"
        );
    }
}

#[test]
fn fail_tampered_credential_request() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    for (n, index) in field_edges(&[32, 32, 32]).into_iter().enumerate() {
        let result = (|| {
            let (client, ke1) = client_login_start(PASSWORD)?;
            let (server, ke2) =
                server_login_start(&setup, USER, Some(&file), &flipped(&ke1, index, n as u8))?;
            let done = client.finish(PASSWORD, &ke2)?;
            server.finish(&done.finalization)
        })();
        assert!(result.is_err(), "KE1 tampered at {index} still logs in");
    }
}

#[test]
fn fail_tampered_credential_response() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    // evaluated element, masking nonce, masked response, server nonce,
    // server keyshare, server MAC.
    for (n, index) in field_edges(&[32, 32, 128, 32, 32, 64])
        .into_iter()
        .enumerate()
    {
        let (client, ke1) = client_login_start(PASSWORD).unwrap();
        let (_, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
        let result = client.finish(PASSWORD, &flipped(&ke2, index, n as u8));
        assert!(
            matches!(
                result.as_ref().err(),
                Some(CryptoError::Login | CryptoError::Malformed)
            ),
            "KE2 tampered at {index} accepted"
        );
    }
}

#[test]
fn fail_tampered_credential_finalization() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    let (client, ke1) = client_login_start(PASSWORD).unwrap();
    let (server, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    let done = client.finish(PASSWORD, &ke2).unwrap();
    let stored = server.to_bytes();
    for index in 0..CREDENTIAL_FINALIZATION_LEN {
        let server = ServerLoginState::from_bytes(stored.as_bytes()).unwrap();
        assert_eq!(
            server
                .finish(&flipped(&done.finalization, index, index as u8))
                .err(),
            Some(CryptoError::Login),
            "KE3 tampered at {index} accepted"
        );
    }
    let server = ServerLoginState::from_bytes(stored.as_bytes()).unwrap();
    assert!(server.finish(&done.finalization).is_ok());
}

#[test]
fn fail_tampered_server_login_state() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    let (client, ke1) = client_login_start(PASSWORD).unwrap();
    let (server, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    let done = client.finish(PASSWORD, &ke2).unwrap();
    let stored = server.to_bytes();
    // Only the expected MAC (second half) decides acceptance; a changed session
    // key (first half) is accepted by OPAQUE but then differs from the client's.
    for index in 0..SERVER_LOGIN_STATE_LEN {
        let bad = flipped(stored.as_bytes(), index, index as u8);
        match ServerLoginState::from_bytes(&bad).and_then(|s| s.finish(&done.finalization)) {
            Err(_) => {}
            Ok(key) => {
                assert!(index < 64, "state tampered at {index} accepted");
                assert!(!keys_equal(&key, &done.session_key));
            }
        }
    }
}

#[test]
fn fail_tampered_server_setup() {
    // A changed private key or seed: the registered user can no longer log in.
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    let bytes = setup.to_bytes();
    for (n, index) in field_edges(&[64, 32]).into_iter().enumerate() {
        if let Ok(bad) = ServerSetup::from_bytes(&flipped(bytes.as_bytes(), index, n as u8)) {
            assert!(
                login(&bad, USER, Some(&file), PASSWORD).is_err(),
                "setup tampered at {index} still logs in"
            );
        }
    }
}

// --------------------------------------------------------------- malformed

/// Lengths that are wrong for a message of `len` bytes.
fn wrong_lengths(len: usize) -> [usize; 4] {
    [0, 1, len - 1, len + 1]
}

#[test]
fn fail_malformed_registration_messages() {
    let setup = ServerSetup::generate();
    for n in wrong_lengths(REGISTRATION_REQUEST_LEN) {
        assert_eq!(
            server_registration_start(&setup, USER, &vec![1u8; n]).err(),
            Some(CryptoError::Malformed)
        );
    }
    let (_, request) = client_registration_start(PASSWORD).unwrap();
    let response = server_registration_start(&setup, USER, &request).unwrap();
    for n in wrong_lengths(REGISTRATION_RESPONSE_LEN) {
        let (state, _) = client_registration_start(PASSWORD).unwrap();
        let mut bad = response.clone();
        bad.resize(n, 0);
        assert_eq!(
            state.finish(PASSWORD, &bad).err(),
            Some(CryptoError::Malformed)
        );
    }
    for n in wrong_lengths(REGISTRATION_UPLOAD_LEN) {
        assert_eq!(
            server_registration_finish(&vec![1u8; n]).err(),
            Some(CryptoError::Malformed)
        );
    }
    // Right length, but not a group element (all 0xff is non-canonical).
    assert_eq!(
        server_registration_start(&setup, USER, &[0xff; REGISTRATION_REQUEST_LEN]).err(),
        Some(CryptoError::Malformed)
    );
    assert_eq!(
        server_registration_finish(&[0xff; REGISTRATION_UPLOAD_LEN]).err(),
        Some(CryptoError::Malformed)
    );
}

#[test]
fn fail_malformed_login_messages() {
    let setup = ServerSetup::generate();
    let (file, _) = register(&setup, USER, PASSWORD);
    for n in wrong_lengths(CREDENTIAL_REQUEST_LEN) {
        assert_eq!(
            server_login_start(&setup, USER, Some(&file), &vec![1u8; n]).err(),
            Some(CryptoError::Malformed)
        );
    }
    assert_eq!(
        server_login_start(&setup, USER, Some(&file), &[0xff; CREDENTIAL_REQUEST_LEN]).err(),
        Some(CryptoError::Malformed)
    );
    let (_, ke1) = client_login_start(PASSWORD).unwrap();
    for n in wrong_lengths(PASSWORD_FILE_LEN) {
        assert_eq!(
            server_login_start(&setup, USER, Some(&vec![0u8; n]), &ke1).err(),
            Some(CryptoError::Malformed)
        );
    }
    let (_, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    for n in wrong_lengths(CREDENTIAL_RESPONSE_LEN) {
        let (client, _) = client_login_start(PASSWORD).unwrap();
        let mut bad = ke2.clone();
        bad.resize(n, 0);
        assert_eq!(
            client.finish(PASSWORD, &bad).err(),
            Some(CryptoError::Malformed)
        );
    }
    let (server, _) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
    let stored = server.to_bytes();
    for n in wrong_lengths(CREDENTIAL_FINALIZATION_LEN) {
        let server = ServerLoginState::from_bytes(stored.as_bytes()).unwrap();
        assert_eq!(
            server.finish(&vec![0u8; n]).err(),
            Some(CryptoError::Malformed)
        );
    }
}

#[test]
fn fail_malformed_stored_state() {
    for n in wrong_lengths(SERVER_SETUP_LEN) {
        assert!(matches!(
            ServerSetup::from_bytes(&vec![1u8; n]),
            Err(CryptoError::Malformed)
        ));
    }
    // A zero private key, or non-canonical scalars and points, are refused.
    assert!(matches!(
        ServerSetup::from_bytes(&[0u8; SERVER_SETUP_LEN]),
        Err(CryptoError::Malformed)
    ));
    assert!(matches!(
        ServerSetup::from_bytes(&[0xffu8; SERVER_SETUP_LEN]),
        Err(CryptoError::Malformed)
    ));
    for n in wrong_lengths(SERVER_LOGIN_STATE_LEN) {
        assert!(matches!(
            ServerLoginState::from_bytes(&vec![1u8; n]),
            Err(CryptoError::Malformed)
        ));
    }
}
