//! Stream encryption against the raw cipher: one AES-256-GCM call on a 64 MiB
//! buffer (in place, one nonce) versus the same 64 MiB through the chunked stream
//! (1 MiB chunks, `aes-gcm` backend), encrypting and decrypting. The stream
//! should reach at least 80% of the raw throughput.
//!
//! `cargo bench -p medvault-crypto --bench stream`
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aes_gcm::{
    aead::{AeadInPlace, KeyInit},
    Aes256Gcm, Nonce,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use medvault_crypto::{
    aead::Key256,
    stream::{ready, AesGcmBackend, Decryptor, Encryptor, StreamCipher, CHUNK_SIZE},
};

const LEN: usize = 64 << 20;
const FILE: [u8; 16] = [7; 16];

fn cipher(key: &Key256) -> StreamCipher<AesGcmBackend> {
    StreamCipher::new(AesGcmBackend::new(key), &FILE, 1, CHUNK_SIZE).unwrap()
}

fn bench(c: &mut Criterion) {
    let key = Key256::from_bytes([42; 32]);
    let plain: Vec<u8> = (0..LEN).map(|i| i as u8).collect();
    let stream = ready(cipher(&key).encrypt_all(&plain)).unwrap();

    let mut group = c.benchmark_group("aes256gcm_64MiB");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(20);

    let raw = Aes256Gcm::new(key.as_bytes().into());
    let mut buf = plain.clone();
    group.bench_function("raw_one_call_encrypt_in_place", |b| {
        b.iter(|| {
            let tag = raw
                .encrypt_in_place_detached(Nonce::from_slice(&[0; 12]), b"aad", &mut buf)
                .unwrap();
            black_box(tag);
        })
    });

    // Buffers are reused across iterations, as a caller streaming many files
    // would, so the comparison measures the cipher rather than page faults.
    let mut out = Vec::with_capacity(stream.len());
    group.bench_function("stream_encrypt_1MiB_chunks", |b| {
        b.iter(|| {
            out.clear();
            let mut enc = Encryptor::new(cipher(&key));
            ready(enc.update(black_box(&plain), &mut out)).unwrap();
            ready(enc.finish(&mut out)).unwrap();
            black_box(out.len());
        })
    });
    assert_eq!(out, stream);

    let mut out = Vec::with_capacity(plain.len());
    group.bench_function("stream_decrypt_1MiB_chunks", |b| {
        b.iter(|| {
            out.clear();
            let mut dec = Decryptor::new(cipher(&key));
            ready(dec.update(black_box(&stream), &mut out)).unwrap();
            ready(dec.finish(&mut out)).unwrap();
            black_box(out.len());
        })
    });
    assert_eq!(out, plain);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
