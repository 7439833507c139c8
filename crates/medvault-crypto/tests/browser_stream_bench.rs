//! Stream throughput in Chromium on 64 MiB (numbers printed, nothing asserted
//! about speed): (a) one raw WebCrypto AES-GCM call on the whole buffer, (b)/(c)
//! stream encrypt/decrypt through WebCrypto, (d)/(e) the same through the
//! `aes-gcm` crate compiled to WASM. Median of a few runs. Ignored by default:
//!
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=300 cargo test -p
//! medvault-crypto --release --target wasm32-unknown-unknown --test browser_stream_bench
//! -- --include-ignored --nocapture`
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Array, Function, Reflect, Uint8Array};
use medvault_crypto::{
    aead::Key256,
    stream::{
        ready, AesGcmBackend, Decryptor, Encryptor, StreamCipher, WebCryptoBackend, CHUNK_SIZE,
    },
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

wasm_bindgen_test_configure!(run_in_browser);

const LEN: usize = 64 << 20;
const FILE: [u8; 16] = [7; 16];

fn now_ms() -> f64 {
    let perf = Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now: Function = Reflect::get(&perf, &"now".into()).unwrap().unchecked_into();
    now.call0(&perf).unwrap().as_f64().unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn mb_per_s(ms: f64) -> f64 {
    LEN as f64 / 1e6 / (ms / 1e3)
}

fn subtle() -> SubtleCrypto {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).unwrap();
    Reflect::get(&crypto, &"subtle".into())
        .unwrap()
        .unchecked_into()
}

async fn raw_key(subtle: &SubtleCrypto, key: &Key256) -> CryptoKey {
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let raw = Uint8Array::from(&key.as_bytes()[..]);
    let promise = subtle
        .import_key_with_str("raw", &raw, "AES-GCM", false, &usages)
        .unwrap();
    JsFuture::from(promise).await.unwrap().unchecked_into()
}

/// One raw WebCrypto encryption of the whole buffer; also returns the time
/// including the copy of the result back into WASM memory.
async fn raw_webcrypto(
    subtle: &SubtleCrypto,
    key: &CryptoKey,
    plain: &[u8],
    out: &mut Vec<u8>,
) -> (f64, f64) {
    let start = now_ms();
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(&[0u8; 12][..]));
    params.set_additional_data(&Uint8Array::from(&b"aad"[..]));
    params.set_tag_length(128);
    let promise = subtle
        .encrypt_with_object_and_u8_array(&params, key, plain)
        .unwrap();
    let sealed: JsValue = JsFuture::from(promise).await.unwrap();
    let call = now_ms() - start;
    let bytes = Uint8Array::new(&sealed);
    out.clear();
    out.resize(bytes.length() as usize, 0);
    bytes.copy_to(out);
    (call, now_ms() - start)
}

async fn web_cipher(key: &Key256) -> StreamCipher<WebCryptoBackend> {
    let backend = WebCryptoBackend::import(key).await.unwrap();
    StreamCipher::new(backend, &FILE, 1, CHUNK_SIZE).unwrap()
}

fn native_cipher(key: &Key256) -> StreamCipher<AesGcmBackend> {
    StreamCipher::new(AesGcmBackend::new(key), &FILE, 1, CHUNK_SIZE).unwrap()
}

#[wasm_bindgen_test]
#[ignore]
async fn bench_stream_64mib() {
    const RUNS: usize = 5;
    const SLOW_RUNS: usize = 3;
    let key = Key256::from_bytes([42; 32]);
    let plain: Vec<u8> = (0..LEN).map(|i| i as u8).collect();
    let stream = ready(native_cipher(&key).encrypt_all(&plain)).unwrap();
    let mut ct = Vec::with_capacity(stream.len());
    let mut pt = Vec::with_capacity(LEN);
    let subtle = subtle();
    let raw = raw_key(&subtle, &key).await;

    let (mut a_call, mut a_copy, mut b, mut c, mut d, mut e) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        let (call, with_copy) = raw_webcrypto(&subtle, &raw, &plain, &mut ct).await;
        a_call.push(call);
        a_copy.push(with_copy);

        // Key import is part of every stream, so it is timed too.
        let t = now_ms();
        ct.clear();
        let mut enc = Encryptor::new(web_cipher(&key).await);
        enc.update(&plain, &mut ct).await.unwrap();
        enc.finish(&mut ct).await.unwrap();
        b.push(now_ms() - t);
        assert!(ct == stream);

        let t = now_ms();
        pt.clear();
        let mut dec = Decryptor::new(web_cipher(&key).await);
        dec.update(&stream, &mut pt).await.unwrap();
        dec.finish(&mut pt).await.unwrap();
        c.push(now_ms() - t);
        assert!(pt == plain);
    }
    for _ in 0..SLOW_RUNS {
        let t = now_ms();
        ct.clear();
        let mut enc = Encryptor::new(native_cipher(&key));
        ready(enc.update(&plain, &mut ct)).unwrap();
        ready(enc.finish(&mut ct)).unwrap();
        d.push(now_ms() - t);
        assert!(ct == stream);

        let t = now_ms();
        pt.clear();
        let mut dec = Decryptor::new(native_cipher(&key));
        ready(dec.update(&stream, &mut pt)).unwrap();
        ready(dec.finish(&mut pt)).unwrap();
        e.push(now_ms() - t);
        assert!(pt == plain);
    }

    let raw_call = mb_per_s(median(a_call));
    let raw_copy = mb_per_s(median(a_copy));
    let rows = [
        ("(a) raw WebCrypto, one call (no copy back)", raw_call),
        ("(a') raw WebCrypto, one call + copy into WASM", raw_copy),
        ("(b) stream encrypt, WebCrypto", mb_per_s(median(b.clone()))),
        ("(c) stream decrypt, WebCrypto", mb_per_s(median(c.clone()))),
        ("(d) stream encrypt, aes-gcm (WASM)", mb_per_s(median(d))),
        ("(e) stream decrypt, aes-gcm (WASM)", mb_per_s(median(e))),
    ];
    console_log!("64 MiB, 1 MiB chunks, median of {RUNS} (aes-gcm: {SLOW_RUNS}) runs:");
    for (name, speed) in rows {
        console_log!(
            "{name:<48} {speed:8.1} MB/s  {:5.1}% of (a)  {:5.1}% of (a')",
            100.0 * speed / raw_call,
            100.0 * speed / raw_copy
        );
    }
}
