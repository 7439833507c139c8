//! Keyring sealing, recovery and signing: the small operations done at sign-in,
//! at registration and on every upload or grant.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use shared::{
    crypto::{
        keyring::Keyring,
        recovery::RecoverySecret,
        sign::{
            SigningKey, {self},
        },
    },
    model::FileManifest,
};

fn keyring(c: &mut Criterion) {
    let user = [1u8; 16];
    let export_key = [7u8; 64];
    let ring = Keyring::generate().unwrap();
    let sealed = ring.seal_with_password(&export_key, &user).unwrap();
    c.bench_function("keyring/generate", |b| {
        b.iter(|| Keyring::generate().unwrap())
    });
    c.bench_function("keyring/seal", |b| {
        b.iter(|| ring.seal_with_password(&export_key, &user).unwrap())
    });
    c.bench_function("keyring/unseal", |b| {
        b.iter(|| Keyring::open_with_password(&export_key, &user, &sealed).unwrap())
    });
    let secret = RecoverySecret::generate().unwrap();
    let code = secret.to_code();
    c.bench_function("recovery/parse_code_and_prove", |b| {
        b.iter(|| {
            RecoverySecret::from_code(&code)
                .unwrap()
                .prove(&user, b"challenge")
                .unwrap()
        })
    });
}

fn signatures(c: &mut Criterion) {
    let key = SigningKey::generate().unwrap();
    let manifest = FileManifest {
        node_id: [1; 16],
        parent_id: [2; 16],
        version: 1,
        size: 64 << 20,
        part_hashes: vec![[3; 32]; 64],
        author_id: [4; 16],
        created_at: 0,
    };
    let signed = sign::sign(&key, manifest.clone());
    let vk = key.verifying_key();
    c.bench_function("sign/manifest_64_parts", |b| {
        b.iter(|| sign::sign(&key, manifest.clone()))
    });
    c.bench_function("verify/manifest_64_parts", |b| {
        b.iter(|| signed.verify(&vk).unwrap())
    });
}

criterion_group!(benches, keyring, signatures);
criterion_main!(benches);
