//! OPAQUE steps with the real suite (Argon2id m = 19 MiB, t = 2, p = 1).
//! Client registration finish and client login finish include the Argon2 run.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, BatchSize, Criterion};
    use medvault_crypto::opaque::{
        client_login_start, client_registration_start, server_login_start,
        server_registration_finish, server_registration_start, ServerLoginState, ServerSetup,
    };

    const USER: &[u8] = b"alice";
    const PASSWORD: &[u8] = b"correct horse battery staple";

    fn registered(setup: &ServerSetup) -> Vec<u8> {
        let (state, request) = client_registration_start(PASSWORD).unwrap();
        let response = server_registration_start(setup, USER, &request).unwrap();
        let upload = state.finish(PASSWORD, &response).unwrap().upload;
        server_registration_finish(&upload).unwrap()
    }

    fn bench(c: &mut Criterion) {
        let setup = ServerSetup::generate();
        let file = registered(&setup);
        let mut group = c.benchmark_group("opaque");
        group.sample_size(10);

        group.bench_function("client registration start+finish (Argon2)", |b| {
            // Only the client's two steps are timed, not the server's answer.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let (state, request) = client_registration_start(PASSWORD).unwrap();
                    total += t.elapsed();
                    let response = server_registration_start(&setup, USER, &request).unwrap();
                    let t = Instant::now();
                    black_box(state.finish(PASSWORD, &response).unwrap());
                    total += t.elapsed();
                }
                total
            })
        });

        group.bench_function("client registration start", |b| {
            b.iter(|| client_registration_start(PASSWORD).unwrap())
        });

        group.bench_function("server registration start+finish", |b| {
            let (state, request) = client_registration_start(PASSWORD).unwrap();
            let response = server_registration_start(&setup, USER, &request).unwrap();
            let upload = state.finish(PASSWORD, &response).unwrap().upload;
            b.iter(|| {
                server_registration_start(&setup, USER, &request).unwrap();
                server_registration_finish(&upload).unwrap()
            })
        });

        group.bench_function("client login start", |b| {
            b.iter(|| client_login_start(PASSWORD).unwrap())
        });

        group.bench_function("server login start", |b| {
            let (_, ke1) = client_login_start(PASSWORD).unwrap();
            b.iter(|| server_login_start(&setup, USER, Some(&file), &ke1).unwrap())
        });

        group.bench_function("server login start (unknown user, fake)", |b| {
            let (_, ke1) = client_login_start(PASSWORD).unwrap();
            b.iter(|| server_login_start(&setup, b"nobody", None, &ke1).unwrap())
        });

        group.bench_function("client login finish (Argon2)", |b| {
            b.iter_batched(
                || {
                    let (client, ke1) = client_login_start(PASSWORD).unwrap();
                    let (_, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
                    (client, ke2)
                },
                |(client, ke2)| client.finish(PASSWORD, &ke2).unwrap(),
                BatchSize::PerIteration,
            )
        });

        group.bench_function("client login start+finish (Argon2)", |b| {
            // The browser target (150 ms median in Chromium) is about this number.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let (client, ke1) = client_login_start(PASSWORD).unwrap();
                    total += t.elapsed();
                    let (_, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
                    let t = Instant::now();
                    black_box(client.finish(PASSWORD, &ke2).unwrap());
                    total += t.elapsed();
                }
                total
            })
        });

        group.bench_function("server login finish", |b| {
            let (client, ke1) = client_login_start(PASSWORD).unwrap();
            let (server, ke2) = server_login_start(&setup, USER, Some(&file), &ke1).unwrap();
            let ke3 = client.finish(PASSWORD, &ke2).unwrap().finalization;
            let state = server.to_bytes();
            b.iter_batched(
                || ServerLoginState::from_bytes(state.as_bytes()).unwrap(),
                |server| server.finish(&ke3).unwrap(),
                BatchSize::SmallInput,
            )
        });

        group.finish();
    }

    criterion_group!(benches, bench);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

/// criterion is native-only; the wasm32 build (clippy --all-targets) gets an empty bench.
#[cfg(target_arch = "wasm32")]
fn main() {}
