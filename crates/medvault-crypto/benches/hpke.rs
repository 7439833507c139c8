//! Cost of giving a node key to a user (wrap) and of opening it (unwrap).
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use medvault_crypto::{
    aead::Key256,
    hpke::{unwrap_node_key, wrap_node_key, EncryptionPublicKey, EncryptionSecretKey},
};

fn bench(c: &mut Criterion) {
    let sk = EncryptionSecretKey::generate().unwrap();
    let pk = sk.public_key();
    let user = [1u8; 16];
    let node = [2u8; 16];
    let key = Key256::generate().unwrap();
    let wrapped = wrap_node_key(&pk, &user, &node, &key).unwrap();

    c.bench_function("hpke/wrap_node_key", |b| {
        b.iter(|| wrap_node_key(&pk, &user, &node, &key).unwrap())
    });
    c.bench_function("hpke/unwrap_node_key", |b| {
        b.iter(|| unwrap_node_key(&sk, &user, &node, &wrapped).unwrap())
    });
    c.bench_function("hpke/public_key_from_bytes", |b| {
        b.iter(|| EncryptionPublicKey::from_bytes(pk.to_bytes()).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
