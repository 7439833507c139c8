//! Every OPAQUE message the server or the browser decodes, chosen by the first
//! byte. The server's come through its real account handlers (sign-up start
//! and finish, sign-in start and finish) on a backend with one account, over
//! an in-memory store copied fresh for each input; the stored server setup is
//! read back from a forged store value by the sign-in handler. The server's
//! own steps are also fed directly: a stored password file, a pending login
//! state, the setup, and the registration upload (whose password file must be
//! the same bytes). The browser's two (the registration response and KE2) go
//! through opaque-ke's decoder with our suite, as `ClientRegistration::finish`
//! and `ClientLogin::finish` call it; what it refuses, those must refuse as
//! malformed. What it accepts is only re-encoded (to the same bytes): the
//! client steps would then run Argon2 (20 ms) on every such input.

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use medvault_crypto::opaque::{self, ServerLoginState, ServerSetup, Suite};
use medvault_crypto::CryptoError;
use medvault_fuzz::accounts::{backend, caller, world, ALICE, BOB, PASSWORD};
use medvault_fuzz::mem::MemStore;
use medvault_fuzz::Cursor;
use server::store::{codec, keys::Key, Space};
use shared::api::account::{
    LoginBackend, LoginFinishRequest, LoginStartRequest, SignupBackend, SignupStartRequest,
};
use shared::client::Login;

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    match c.u8() % 11 {
        0 => signup_start(c),
        1 => signup_finish(c),
        2 => login_start(c),
        3 => login_finish(c),
        4 => stored_secrets(c),
        5 => password_file(c),
        6 => setup(c),
        7 => login_state(c),
        8 => registration_upload(c),
        9 => registration_response(c),
        _ => credential_response(c),
    }
});

/// A fresh backend over a copy of the store with Alice's account.
fn fresh() -> (Arc<MemStore>, server::backend::ServerBackend) {
    let store = Arc::new(MemStore::copy_of(&world().store));
    let server = backend(store.clone());
    (store, server)
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    world().runtime.block_on(f)
}

/// A name the handlers know (Alice), one free for sign-up (Bob), or any text.
fn name(c: &mut Cursor) -> String {
    match c.u8() % 4 {
        0 => ALICE.into(),
        1 => BOB.into(),
        2 => "nobody".into(),
        _ => {
            let len = usize::from(c.u8() % 40);
            String::from_utf8_lossy(c.take(len)).into_owned()
        }
    }
}

/// KE1 as the browser makes it (no Argon2 before KE1).
fn real_ke1() -> Vec<u8> {
    Login::start(ALICE, PASSWORD).expect("login start").1.ke1
}

/// A registration request: the server answers with a response the browser
/// decodes, of the documented size.
fn signup_start(mut c: Cursor) {
    let username = name(&mut c);
    let req = SignupStartRequest {
        username,
        invite: None,
        registration_request: c.rest().to_vec(),
    };
    let (_, server) = fresh();
    if let Ok(started) = run(server.signup_start(&caller(), req)) {
        let response = &started.registration_response;
        assert_eq!(response.len(), opaque::REGISTRATION_RESPONSE_LEN);
        assert!(
            opaque_ke::RegistrationResponse::<Suite>::deserialize(response).is_ok(),
            "the browser must decode the server's registration response"
        );
    }
}

/// A registration upload, after a real start: Bob's other fields are whole,
/// so an upload that decodes reaches the checks behind it.
fn signup_finish(c: Cursor) {
    let (_, server) = fresh();
    let (_, req) = shared::client::Signup::start(BOB, PASSWORD, None).expect("start");
    let Ok(started) = run(server.signup_start(&caller(), req)) else {
        panic!("a real sign-up start is refused");
    };
    let mut req = world().bob.clone();
    req.registration_id = started.registration_id;
    req.registration_upload = c.0.to_vec();
    // The key entry names Bob's first user id, not this one.
    assert!(run(server.signup_finish(&caller(), req)).is_err());
}

/// KE1 for any name: a known one with its password file, an unknown one
/// with the fake record. Whatever is answered, the browser decodes.
fn login_start(mut c: Cursor) {
    let username = name(&mut c);
    let req = LoginStartRequest {
        username,
        ke1: c.rest().to_vec(),
    };
    let (_, server) = fresh();
    if let Ok(started) = run(server.login_start(&caller(), req)) {
        assert_eq!(started.ke2.len(), opaque::CREDENTIAL_RESPONSE_LEN);
        assert!(
            opaque_ke::CredentialResponse::<Suite>::deserialize(&started.ke2).is_ok(),
            "the browser must decode the server's KE2"
        );
    }
}

/// KE3 (any length) after a real KE1, to a real or a forged login id. Only
/// the password's holder can make a KE3 that signs in.
fn login_finish(mut c: Cursor) {
    let (_, server) = fresh();
    let forged_id = c.u8() & 1 == 1;
    let id: [u8; 16] = if forged_id { c.array() } else { [0; 16] };
    let start = LoginStartRequest {
        username: ALICE.into(),
        ke1: real_ke1(),
    };
    let Ok(started) = run(server.login_start(&caller(), start)) else {
        panic!("a real KE1 is refused");
    };
    let req = LoginFinishRequest {
        login_id: if forged_id { id } else { started.login_id },
        ke3: c.rest().to_vec(),
    };
    assert!(run(server.login_finish(&caller(), req)).is_err());
}

/// The stored server setup, as the sign-in handler reads it from the store:
/// the raw value, or a well-formed value around a forged setup.
fn stored_secrets(mut c: Cursor) {
    #[derive(serde::Serialize)]
    struct StoredSecrets {
        #[serde(with = "medvault_crypto::b64::vec")]
        opaque_setup: Vec<u8>,
        #[serde(with = "medvault_crypto::b64::array")]
        fake_seed: [u8; 32],
    }
    let mode = c.u8();
    let value = if mode & 1 == 0 {
        c.rest().to_vec()
    } else {
        codec::encode(&StoredSecrets {
            opaque_setup: c.rest().to_vec(),
            fake_seed: [7; 32],
        })
        .expect("encode")
    };
    let (store, server) = fresh();
    let key = Key::new().str("account-secrets").finish();
    store.set(Space::Meta, &key, &value);
    let req = LoginStartRequest {
        username: ALICE.into(),
        ke1: real_ke1(),
    };
    let _ = run(server.login_start(&caller(), req));
}

fn fixed_setup() -> &'static ServerSetup {
    static SETUP: OnceLock<ServerSetup> = OnceLock::new();
    SETUP.get_or_init(ServerSetup::generate)
}

/// A password file as the store holds it, with a real or a forged KE1.
fn password_file(mut c: Cursor) {
    let real = c.u8() & 1 == 0;
    let file = c.take(opaque::PASSWORD_FILE_LEN);
    let ke1 = if real { real_ke1() } else { c.rest().to_vec() };
    if let Ok((_, ke2)) =
        opaque::server_login_start(fixed_setup(), ALICE.as_bytes(), Some(file), &ke1)
    {
        assert_eq!(ke2.len(), opaque::CREDENTIAL_RESPONSE_LEN);
    }
}

/// The stored setup: what decodes re-encodes to the same bytes.
fn setup(c: Cursor) {
    if let Ok(setup) = ServerSetup::from_bytes(c.0) {
        assert_eq!(setup.to_bytes().as_bytes(), c.0);
    }
}

/// A pending login state and a KE3 for it (the state's expected MAC is in
/// the fuzzer's hands, so a KE3 may well match it).
fn login_state(mut c: Cursor) {
    let state = c.take(opaque::SERVER_LOGIN_STATE_LEN);
    let Ok(decoded) = ServerLoginState::from_bytes(state) else {
        return;
    };
    assert_eq!(decoded.to_bytes().as_bytes(), state);
    let _ = decoded.finish(c.rest());
}

/// The registration upload: the password file kept is the upload itself;
/// and a registration request, answered by the server's first step.
fn registration_upload(mut c: Cursor) {
    if c.u8() & 1 == 0 {
        if let Ok(file) = opaque::server_registration_finish(c.0) {
            assert_eq!(file, c.0);
        }
    } else if let Ok(response) =
        opaque::server_registration_start(fixed_setup(), ALICE.as_bytes(), c.0)
    {
        assert_eq!(response.len(), opaque::REGISTRATION_RESPONSE_LEN);
    }
}

/// The server's registration response, as the browser decodes it.
fn registration_response(c: Cursor) {
    if c.0.len() == opaque::REGISTRATION_RESPONSE_LEN {
        if let Ok(response) = opaque_ke::RegistrationResponse::<Suite>::deserialize(c.0) {
            assert_eq!(response.serialize().as_slice(), c.0);
            return;
        }
    }
    let (client, _) = opaque::client_registration_start(PASSWORD.as_bytes()).expect("start");
    assert!(matches!(
        client.finish(PASSWORD.as_bytes(), c.0),
        Err(CryptoError::Malformed)
    ));
}

/// KE2, as the browser decodes it.
fn credential_response(c: Cursor) {
    if c.0.len() == opaque::CREDENTIAL_RESPONSE_LEN {
        if let Ok(response) = opaque_ke::CredentialResponse::<Suite>::deserialize(c.0) {
            assert_eq!(response.serialize().as_slice(), c.0);
            return;
        }
    }
    let (client, _) = opaque::client_login_start(PASSWORD.as_bytes()).expect("start");
    assert!(matches!(
        client.finish(PASSWORD.as_bytes(), c.0),
        Err(CryptoError::Malformed)
    ));
}
