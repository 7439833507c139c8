//! Load generator for record content: a real server process over loopback HTTP,
//! measured the way issue 6 states its targets.
//!
//! 1. GET of stored 64 KiB chunks with 32 connections (target ≥ 5000/s, p99 ≤ 20 ms).
//! 2. Durable 64 KiB chunk uploads with 20 connections, each its own upload
//!    (target ≥ 300/s, p99 ≤ 100 ms). Every acknowledged PUT was flushed first.
//! 3. Server RSS during one 1 GiB upload in 1 MiB chunks (target ≤ 256 MiB).
//! 4. Store size over the ciphertext bytes stored (target ≤ 1.5).
//!
//! Run with `scripts/bench.sh chunks`. Knobs: `CHUNK_SECONDS` (default 10 per
//! phase), `CHUNK_GET_CONNS` (32), `CHUNK_PUT_CONNS` (20), `CHUNK_BIG_MIB` (1024).
//!
//! Chunks are random bytes of the right sizes: the server never decrypts, so
//! what it does per request is exactly what it does for real ciphertext. Each
//! finished upload carries a real manifest signed with the account's identity key.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod loadgen;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use loadgen::{
    cpu_seconds, env_or, percentile_ms,
    records::{Patient, Upload},
    refused, rss_bytes, start_server, Conn,
};
use shared::{
    api::records::chunk_path,
    crypto::stream::{ciphertext_len, TAG_LEN},
};

/// Runs `conns` threads for `seconds`, each calling `step` in a loop on its own
/// connection; returns (latencies sorted, errors, elapsed seconds).
fn run_load<S>(
    addr: std::net::SocketAddr,
    conns: usize,
    seconds: u64,
    setup: impl Fn(&mut Conn, usize) -> S + Send + Sync + 'static,
    step: impl Fn(&mut Conn, &mut S) -> std::io::Result<()> + Send + Sync + 'static,
) -> (Vec<Duration>, Vec<String>, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let setup = Arc::new(setup);
    let step = Arc::new(step);
    let ready = Arc::new(std::sync::Barrier::new(conns + 1));
    let handles: Vec<_> = (0..conns)
        .map(|i| {
            let (stop, latencies, errors) = (stop.clone(), latencies.clone(), errors.clone());
            let (setup, step, ready) = (setup.clone(), step.clone(), ready.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr).expect("connect");
                let mut state = setup(&mut conn, i);
                ready.wait();
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match step(&mut conn, &mut state) {
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
    ready.wait();
    let began = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let elapsed = began.elapsed().as_secs_f64();
    let mut lat = latencies.lock().expect("lock").clone();
    lat.sort();
    let errs = errors.lock().expect("lock").clone();
    (lat, errs, elapsed)
}

fn report(name: &str, lat: &[Duration], errors: &[String], elapsed: f64, target: &str) {
    println!(
        "  {name}: {} requests in {elapsed:.1} s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; errors {} ({target})",
        lat.len(),
        lat.len() as f64 / elapsed,
        percentile_ms(lat, 0.5),
        percentile_ms(lat, 0.99),
        percentile_ms(lat, 1.0),
        errors.len()
    );
    if let Some(e) = errors.first() {
        println!("    first error: {e}");
    }
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds = env_or("CHUNK_SECONDS", 10) as u64;
    let get_conns = env_or("CHUNK_GET_CONNS", 32);
    let put_conns = env_or("CHUNK_PUT_CONNS", 20);
    let big_mib = env_or("CHUNK_BIG_MIB", 1024) as u64;
    let server = start_server(&[
        "--quota-bytes",
        &(64u64 << 30).to_string(),
        "--max-file-bytes",
        &(8u64 << 30).to_string(),
    ]);
    let addr = server.addr;
    let pid = server.child.id();
    let patient = Arc::new(Patient::new(addr));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "chunk_load: {cores} cores shared by server and load generator, {seconds} s per phase"
    );
    let mut stored_ciphertext = 0u64;

    // 1. A stored file of 64 KiB chunks, then GETs of random chunks (index 0 is
    //    left out: serving it records a FileRead audit event, a write).
    const SMALL: u32 = 64 * 1024;
    let chunks = 512u64;
    let mut conn = Conn::open(addr).expect("connect");
    let mut upload = Upload::start(&mut conn, &patient, SMALL, chunks * u64::from(SMALL));
    let mut buf = Vec::new();
    while !upload.done() {
        upload
            .put_next(&mut conn, &patient.cookie, &mut buf)
            .expect("put");
    }
    let (node_id, version) = (upload.node_id, upload.version);
    stored_ciphertext += chunks * (u64::from(SMALL) + TAG_LEN as u64);
    upload.finish(&mut conn, &patient);
    let cpu_before = cpu_seconds(pid);
    let p = patient.clone();
    let (lat, errs, elapsed) = run_load(
        addr,
        get_conns,
        seconds,
        |_, i| 0x2545_F491_4F6C_DD1Du64.wrapping_mul(i as u64 + 1),
        move |conn, x| {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            let index = 1 + (*x % (chunks - 1)) as u32;
            let reply = conn.get(&chunk_path(&node_id, version, index), Some(&p.cookie))?;
            if reply.status != 200 || reply.body.len() != SMALL as usize + TAG_LEN {
                return Err(refused("chunk GET", &reply));
            }
            Ok(())
        },
    );
    let cpu = cpu_seconds(pid) - cpu_before;
    report(
        &format!("GET 64 KiB chunks, {get_conns} connections"),
        &lat,
        &errs,
        elapsed,
        "target ≥ 5000/s, p99 ≤ 20 ms",
    );
    if !lat.is_empty() {
        println!(
            "    server CPU per GET: {:.0} µs",
            cpu / lat.len() as f64 * 1e6
        );
    }

    // 2. Durable PUTs: each connection streams chunks into its own upload.
    let p = patient.clone();
    // The most chunks one file may have; far more than a run sends.
    let put_chunks = 1u64 << 14;
    let (lat, errs, elapsed) = run_load(
        addr,
        put_conns,
        seconds,
        move |conn, _| {
            (
                Upload::start(conn, &p, SMALL, put_chunks * u64::from(SMALL)),
                Vec::new(),
            )
        },
        {
            let p = patient.clone();
            move |conn, (upload, buf): &mut (Upload, Vec<u8>)| upload.put_next(conn, &p.cookie, buf)
        },
    );
    report(
        &format!("durable PUT 64 KiB chunks, {put_conns} connections"),
        &lat,
        &errs,
        elapsed,
        "target ≥ 300/s, p99 ≤ 100 ms",
    );
    stored_ciphertext += lat.len() as u64 * (u64::from(SMALL) + TAG_LEN as u64);

    // 3. One big upload in 1 MiB chunks, sampling the server's RSS meanwhile.
    let big = big_mib << 20;
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (sampling, peak) = (sampling.clone(), peak.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let rss_before = rss_bytes(pid);
    let began = Instant::now();
    // A new connection: the first one sat idle through phases 1 and 2, longer
    // than the server keeps an idle connection open (it answered EPIPE).
    let mut conn = Conn::open(addr).expect("connect");
    let mut upload = Upload::start(&mut conn, &patient, 1 << 20, big);
    while !upload.done() {
        upload
            .put_next(&mut conn, &patient.cookie, &mut buf)
            .expect("put");
    }
    upload.finish(&mut conn, &patient);
    let elapsed = began.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    stored_ciphertext += ciphertext_len(big, 1 << 20).unwrap_or(0);
    println!(
        "  {big_mib} MiB upload in 1 MiB chunks: {elapsed:.1} s ({:.0} MB/s); server RSS before {:.0} MiB, peak during {:.0} MiB (target ≤ 256 MiB)",
        big as f64 / elapsed / 1e6,
        rss_before as f64 / (1u64 << 20) as f64,
        peak.load(Ordering::Relaxed) as f64 / (1u64 << 20) as f64
    );

    // 4. Store size over what was stored (unfinished PUT uploads count: their
    //    chunks are on disk until cancelled or expired).
    let on_disk = dir_size(server.data.path());
    println!(
        "  store size {:.0} MiB for {:.0} MiB of ciphertext: ratio {:.2} (target ≤ 1.5)",
        on_disk as f64 / (1u64 << 20) as f64,
        stored_ciphertext as f64 / (1u64 << 20) as f64,
        on_disk as f64 / stored_ciphertext.max(1) as f64
    );
}
