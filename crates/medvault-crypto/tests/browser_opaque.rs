//! OPAQUE in the browser build: one registration and one login in headless
//! Chromium, with the real Argon2 parameters (proves the wasm32 build, its
//! randomness and its allocation of Argon2's 19 MiB all work).
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use medvault_crypto::opaque::{
    client_login_start, client_registration_start, server_login_start, server_registration_finish,
    server_registration_start, ServerSetup,
};
use medvault_crypto::CryptoError;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn opaque_registration_and_login_round_trip_in_the_browser() {
    let setup = ServerSetup::generate();
    let user = b"alice";
    let password = b"correct horse battery staple";

    let (state, request) = client_registration_start(password).unwrap();
    let response = server_registration_start(&setup, user, &request).unwrap();
    let registered = state.finish(password, &response).unwrap();
    let file = server_registration_finish(&registered.upload).unwrap();

    let (client, ke1) = client_login_start(password).unwrap();
    let (server, ke2) = server_login_start(&setup, user, Some(&file), &ke1).unwrap();
    let done = client.finish(password, &ke2).unwrap();
    let server_key = server.finish(&done.finalization).unwrap();

    assert!(bool::from(done.session_key.ct_eq(&server_key)));
    assert!(bool::from(done.export_key.ct_eq(&registered.export_key)));

    // And a wrong password is refused in the browser too.
    let (client, ke1) = client_login_start(b"wrong").unwrap();
    let (_, ke2) = server_login_start(&setup, user, Some(&file), &ke1).unwrap();
    assert_eq!(
        client.finish(b"wrong", &ke2).err(),
        Some(CryptoError::Login)
    );
}
