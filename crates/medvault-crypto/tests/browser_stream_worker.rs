//! The WebCrypto backend inside a dedicated worker, where there is no `window`:
//! `crypto.subtle` is found through the global object, so uploads and downloads
//! can run off the main thread. (Same command as `browser_stream`, with
//! `--test browser_stream_worker`.)
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use medvault_crypto::{
    aead::Key256,
    stream::{ready, AesGcmBackend, StreamCipher, WebCryptoBackend},
    CryptoError,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn webcrypto_works_in_a_worker_and_matches_the_reference() {
    let window = js_sys::Reflect::get(&js_sys::global(), &"window".into()).unwrap();
    assert!(window.is_undefined(), "this test must run in a worker");
    let key = Key256::from_bytes([5; 32]);
    let file = [1; 16];
    let plain: Vec<u8> = (0..100u8).collect();
    let web = || async {
        let backend = WebCryptoBackend::import(&key).await.unwrap();
        StreamCipher::new(backend, &file, 2, 32).unwrap()
    };
    let native = StreamCipher::new(AesGcmBackend::new(&key), &file, 2, 32).unwrap();
    let stream = web().await.encrypt_all(&plain).await.unwrap();
    assert_eq!(stream, ready(native.encrypt_all(&plain)).unwrap());
    assert_eq!(
        &web().await.decrypt_all(&stream).await.unwrap()[..],
        &plain[..]
    );
    let mut bad = stream.clone();
    bad[40] ^= 1;
    assert_eq!(
        web().await.decrypt_all(&bad).await.err(),
        Some(CryptoError::Decrypt)
    );
}
