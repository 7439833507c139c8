//! The stream in Chromium: the WebCrypto backend and the `aes-gcm` reference
//! produce identical bytes, open each other's output, and WebCrypto rejects
//! tampering like the reference does.
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p medvault-crypto
//! --target wasm32-unknown-unknown --test browser_stream`
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use medvault_crypto::{
    aead::Key256,
    stream::{
        ready, AesGcmBackend, Decryptor, Encryptor, StreamCipher, WebCryptoBackend, CHUNK_SIZE,
        TAG_LEN,
    },
    CryptoError, Id,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const FILE: Id = [0x3c; 16];
const VERSION: u32 = 9;

fn key(b: u8) -> Key256 {
    Key256::from_bytes([b; 32])
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + 17) as u8).collect()
}

fn reference(chunk: u32) -> StreamCipher<AesGcmBackend> {
    StreamCipher::new(AesGcmBackend::new(&key(1)), &FILE, VERSION, chunk).unwrap()
}

async fn webcrypto_with(key: &Key256, chunk: u32) -> StreamCipher<WebCryptoBackend> {
    let backend = WebCryptoBackend::import(key).await.unwrap();
    StreamCipher::new(backend, &FILE, VERSION, chunk).unwrap()
}

async fn webcrypto(chunk: u32) -> StreamCipher<WebCryptoBackend> {
    webcrypto_with(&key(1), chunk).await
}

fn sizes(c: usize) -> Vec<usize> {
    vec![0, 1, c - 1, c, c + 1, 2 * c, 3 * c + 5]
}

#[wasm_bindgen_test]
async fn backends_produce_identical_bytes_and_open_each_other() {
    for chunk in [16u32, 1000] {
        for len in sizes(chunk as usize) {
            let plain = data(len);
            let native = ready(reference(chunk).encrypt_all(&plain)).unwrap();
            let web = webcrypto(chunk).await.encrypt_all(&plain).await.unwrap();
            assert_eq!(web, native, "chunk {chunk} len {len}");
            let opened = webcrypto(chunk).await.decrypt_all(&native).await.unwrap();
            assert_eq!(&opened[..], &plain[..], "web opens native, len {len}");
            let opened = ready(reference(chunk).decrypt_all(&web)).unwrap();
            assert_eq!(&opened[..], &plain[..], "native opens web, len {len}");
        }
    }
}

#[wasm_bindgen_test]
async fn backends_agree_at_the_protocol_chunk_size_in_pieces() {
    let c = CHUNK_SIZE as usize;
    for len in [c, 2 * c + c / 3] {
        let plain = data(len);
        let native = ready(reference(CHUNK_SIZE).encrypt_all(&plain)).unwrap();
        // WebCrypto fed in odd pieces, both ways.
        let mut enc = Encryptor::new(webcrypto(CHUNK_SIZE).await);
        let mut web = Vec::new();
        for piece in plain.chunks(300_001) {
            enc.update(piece, &mut web).await.unwrap();
        }
        enc.finish(&mut web).await.unwrap();
        assert_eq!(web, native, "len {len}");
        let mut dec = Decryptor::new(webcrypto(CHUNK_SIZE).await);
        let mut opened = Vec::new();
        for piece in native.chunks(65_537) {
            dec.update(piece, &mut opened).await.unwrap();
        }
        dec.finish(&mut opened).await.unwrap();
        assert_eq!(opened, plain);
    }
}

#[wasm_bindgen_test]
async fn chunk_api_matches_the_reference() {
    let web = webcrypto(16).await;
    let native = reference(16);
    for (index, last, len) in [
        (0u32, true, 0usize),
        (0, false, 16),
        (5, true, 7),
        (7, true, 16),
    ] {
        let plain = data(len);
        let a = web.encrypt_chunk(index, last, &plain).await.unwrap();
        assert_eq!(a, ready(native.encrypt_chunk(index, last, &plain)).unwrap());
        assert_eq!(
            &web.decrypt_chunk(index, last, &a).await.unwrap()[..],
            &plain[..]
        );
    }
}

/// The chunk API on JavaScript buffers (what the app's transfers use for
/// every chunk of file bytes only) gives the reference's bytes.
#[wasm_bindgen_test]
async fn chunk_api_on_javascript_buffers_matches_the_reference() {
    let web = webcrypto(16).await;
    let native = reference(16);
    for (index, last, len) in [(0u32, false, 16usize), (5, true, 7), (7, true, 16)] {
        let plain = data(len);
        let sealed = web
            .encrypt_chunk_js(index, last, &js_sys::Uint8Array::from(&plain[..]))
            .await
            .unwrap();
        let expected = ready(native.encrypt_chunk(index, last, &plain)).unwrap();
        assert_eq!(sealed.to_vec(), expected, "chunk {index}");
        let opened = web.decrypt_chunk_js(index, last, &sealed).await.unwrap();
        assert_eq!(opened.to_vec(), plain);
    }
}

#[wasm_bindgen_test]
async fn fail_chunk_api_on_javascript_buffers_refuses_tampering_and_wrong_shapes() {
    let web = webcrypto(16).await;
    let sealed = ready(reference(16).encrypt_chunk(3, false, &data(16))).unwrap();
    for i in [0, 15, 16, 31] {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        let result = web
            .decrypt_chunk_js(3, false, &js_sys::Uint8Array::from(&bad[..]))
            .await;
        assert_eq!(result.err(), Some(CryptoError::Decrypt), "byte {i}");
    }
    let good = js_sys::Uint8Array::from(&sealed[..]);
    // Another index, or the last flag: it does not authenticate.
    assert_eq!(
        web.decrypt_chunk_js(4, false, &good).await.err(),
        Some(CryptoError::Decrypt)
    );
    assert_eq!(
        web.decrypt_chunk_js(3, true, &good).await.err(),
        Some(CryptoError::Decrypt)
    );
    // A short non-final chunk, or one without room for its tag: refused unread.
    let short = js_sys::Uint8Array::from(&data(15)[..]);
    assert_eq!(
        web.encrypt_chunk_js(0, false, &short).await.err(),
        Some(CryptoError::Stream)
    );
    assert_eq!(
        web.decrypt_chunk_js(0, true, &js_sys::Uint8Array::from(&data(15)[..]))
            .await
            .err(),
        Some(CryptoError::Stream)
    );
}

#[wasm_bindgen_test]
async fn fail_webcrypto_rejects_a_flipped_bit_in_any_chunk() {
    let stream = ready(reference(16).encrypt_all(&data(40))).unwrap();
    // One position in each chunk's ciphertext and in each tag.
    for i in [0, 20, 31, 32, 50, 63, 64, 70, stream.len() - 1] {
        let mut bad = stream.clone();
        bad[i] ^= 0x10;
        let result = webcrypto(16).await.decrypt_all(&bad).await;
        assert_eq!(result.err(), Some(CryptoError::Decrypt), "byte {i}");
    }
}

#[wasm_bindgen_test]
async fn fail_webcrypto_rejects_reordered_truncated_and_foreign_streams() {
    let stream = ready(reference(16).encrypt_all(&data(48))).unwrap();
    let frame = 16 + TAG_LEN;
    let decrypt =
        |bytes: Vec<u8>| async move { webcrypto(16).await.decrypt_all(&bytes).await.err() };
    let mut swapped = stream.clone();
    swapped[..2 * frame].rotate_left(frame);
    assert_eq!(decrypt(swapped).await, Some(CryptoError::Decrypt));
    assert_eq!(
        decrypt(stream[..2 * frame].to_vec()).await,
        Some(CryptoError::Decrypt)
    );
    assert_eq!(
        decrypt(stream[..2 * frame + 3].to_vec()).await,
        Some(CryptoError::Stream)
    );
    let other_key = webcrypto_with(&key(2), 16).await;
    assert_eq!(
        other_key.decrypt_all(&stream).await.err(),
        Some(CryptoError::Decrypt)
    );
    let web = webcrypto(16).await;
    let first = &stream[..frame];
    assert_eq!(
        web.decrypt_chunk(1, false, first).await.err(),
        Some(CryptoError::Decrypt)
    );
    assert_eq!(
        web.decrypt_chunk(0, true, first).await.err(),
        Some(CryptoError::Decrypt)
    );
    let mut out = b"kept".to_vec();
    assert_eq!(
        web.decrypt_chunk_into(1, false, first, &mut out).await,
        Err(CryptoError::Decrypt)
    );
    assert_eq!(out, b"kept");
}
