//! Load generator for OPAQUE sign-ins: many concurrent clients sign in to a real
//! server process over loopback HTTP, and we report completed sign-ins per second,
//! latency percentiles and the server process's CPU time per sign-in.
//!
//! Run with `scripts/bench.sh signin` (or build the release server and run
//! `MEDVAULT_SERVER_BIN=target/release/medvault-server cargo bench -p server --bench
//! signin_load`). Knobs: `SIGNIN_CLIENTS` (default 32), `SIGNIN_SECONDS` (10),
//! `SIGNIN_USERS` (16).
//!
//! The server's side of a sign-in is cheap (a few curve operations); the client's
//! is one Argon2id run (~20 ms). On a 2-core machine the clients would drown the
//! server, so the load generator's suite memoises Argon2 per input: the OPRF output
//! for a password is the same at every sign-in, so the result is byte for byte what
//! a real client sends, without the 20 ms. Every other step (blinding, 3DH, MACs)
//! runs for real on both sides.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod loadgen;

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use loadgen::{cpu_seconds, env_or, percentile_ms, sign_up, signin::sign_in, start_server, Conn};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let clients = env_or("SIGNIN_CLIENTS", 32);
    let seconds = env_or("SIGNIN_SECONDS", 10);
    let users = env_or("SIGNIN_USERS", 16);
    let server = start_server(&[]);
    let addr = server.addr;
    let password = "quiet loadgen lantern orchard 47 river";
    let names: Vec<String> = (0..users).map(|i| format!("load-user-{i}")).collect();
    for name in &names {
        sign_up(addr, name, password);
    }
    // Warm the memo: one real sign-in per user (the Argon2 input is per password).
    let mut warm = Conn::open(addr).expect("connect");
    for name in &names {
        sign_in(&mut warm, name, password.as_bytes()).expect("warm-up sign-in");
    }

    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let cpu_before = cpu_seconds(server.child.id());
    let own_before = cpu_seconds(std::process::id());
    let began = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let stop = stop.clone();
            let latencies = latencies.clone();
            let errors = errors.clone();
            let name = names[i % names.len()].clone();
            std::thread::spawn(move || {
                let mut conn = match Conn::open(addr) {
                    Ok(c) => c,
                    Err(e) => {
                        errors.lock().expect("lock").push(e.to_string());
                        return;
                    }
                };
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match sign_in(&mut conn, &name, password.as_bytes()) {
                        Ok(()) => mine.push(t.elapsed()),
                        Err(e) => {
                            errors.lock().expect("lock").push(e.to_string());
                            if let Ok(c) = Conn::open(addr) {
                                conn = c;
                            }
                        }
                    }
                }
                latencies.lock().expect("lock").extend(mine);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds as u64));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let elapsed = began.elapsed().as_secs_f64();
    let cpu = cpu_seconds(server.child.id()) - cpu_before;
    let own = cpu_seconds(std::process::id()) - own_before;
    let mut lat = latencies.lock().expect("lock").clone();
    lat.sort();
    let n = lat.len();
    let pct = |p: f64| percentile_ms(&lat, p);
    let errs = errors.lock().expect("lock");
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("signin_load: {clients} clients, {users} accounts, {elapsed:.1} s, {cores} cores shared by server and load generator");
    println!(
        "  completed sign-ins: {n} ({:.0}/s), errors: {}",
        n as f64 / elapsed,
        errs.len()
    );
    println!(
        "  latency of a whole sign-in (2 requests): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    if n > 0 {
        let per = cpu / n as f64;
        println!(
            "  server CPU per sign-in: {:.0} µs → capacity of the server alone on {cores} cores: {:.0}/s",
            per * 1e6,
            cores as f64 / per
        );
        // The clients share the cores: what they use is taken from the server.
        let client = own / n as f64;
        println!(
            "  load generator CPU per sign-in: {:.0} µs (client OPAQUE and HTTP); server and clients together {:.0} µs → {:.0}/s is all {cores} cores can do",
            client * 1e6,
            (per + client) * 1e6,
            cores as f64 / (per + client)
        );
    }
    if let Some(e) = errs.first() {
        println!("  first error: {e}");
    }
}
