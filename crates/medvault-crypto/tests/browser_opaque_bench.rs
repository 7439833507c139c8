//! The browser target of the crypto core: an OPAQUE client login (client start +
//! client finish, Argon2id m = 19 MiB, t = 2, p = 1 included) at most 150 ms
//! median in Chromium. Ignored in the normal run (it takes a few seconds); run it
//! in release with:
//!
//! ```sh
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//! CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 \
//! cargo test -p medvault-crypto --release --target wasm32-unknown-unknown \
//!   --test browser_opaque_bench -- --nocapture --include-ignored
//! ```
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use medvault_crypto::opaque::{
    client_login_start, client_registration_start, server_login_start, server_registration_finish,
    server_registration_start, ServerSetup,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RUNS: usize = 10;

/// `performance.now()` in milliseconds (sub-millisecond resolution), read
/// through the global object so it works in a window or a worker.
fn now_ms() -> f64 {
    let global = js_sys::global();
    let performance = js_sys::Reflect::get(&global, &"performance".into()).unwrap();
    let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into())
        .unwrap()
        .unchecked_into();
    now.call0(&performance).unwrap().as_f64().unwrap()
}

#[wasm_bindgen_test]
#[ignore = "a timing measurement; run with --include-ignored in release"]
fn opaque_client_login_median_in_chromium() {
    let setup = ServerSetup::generate();
    let user = b"alice";
    let password = b"correct horse battery staple";
    let (state, request) = client_registration_start(password).unwrap();
    let response = server_registration_start(&setup, user, &request).unwrap();
    let file =
        server_registration_finish(&state.finish(password, &response).unwrap().upload).unwrap();

    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = now_ms();
        let (client, ke1) = client_login_start(password).unwrap();
        let mut client_ms = now_ms() - started;
        let (server, ke2) = server_login_start(&setup, user, Some(&file), &ke1).unwrap();
        let resumed = now_ms();
        let done = client.finish(password, &ke2).unwrap();
        client_ms += now_ms() - resumed;
        server.finish(&done.finalization).unwrap();
        times.push(client_ms);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = (times[RUNS / 2 - 1] + times[RUNS / 2]) / 2.0;
    console_log!(
        "OPAQUE client login (start + finish, Argon2id m=19456 KiB t=2 p=1), {RUNS} runs: \
         median {median:.1} ms, min {:.1} ms, max {:.1} ms; target <= 150 ms",
        times[0],
        times[RUNS - 1]
    );
}
