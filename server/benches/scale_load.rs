//! What PostgreSQL costs: sign-ins and chunk GETs per second on sled (one
//! server), on PostgreSQL with one server, and on PostgreSQL with two servers,
//! in one run on the same machine, with the CPU per request of the servers
//! and of PostgreSQL. On 2 cores two servers cannot be faster; the
//! per-request costs are what plan a bigger deployment.
//!
//! Run with `scripts/bench.sh scale`. PostgreSQL is a throwaway cluster
//! (`scripts/pg-test-cluster.sh`), chunks are objects in a directory
//! (`--blobs file://…`), as a scale-out installation keeps them. Knobs:
//! `SCALE_SECONDS` (10 per measurement), `SCALE_CLIENTS` (32 sign-in
//! clients), `SCALE_CONNS` (32 chunk connections).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod loadgen;
#[path = "../tests/common/postgres.rs"]
mod pg;

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use loadgen::{
    cpu_seconds, env_or,
    records::{Patient, Upload},
    sign_up,
    signin::sign_in,
    start_server, start_server_in, Conn, Server,
};
use shared::api::records::chunk_path;

const PASSWORD: &str = "quiet loadgen lantern orchard 47 river";
/// The app's small-file chunk size in the issue-19 measurements: 100 KiB.
const CHUNK: u32 = 100 * 1024;

/// CPU seconds of every PostgreSQL process on the machine (the test
/// cluster's: nothing else runs one here).
fn postgres_cpu() -> f64 {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            total += cpu_seconds(pid);
        }
    }
    total
}

/// Runs `work` on `threads` threads for the configured time, each on a
/// connection to one of `addrs` in turn; returns completed operations and
/// seconds.
fn run(
    addrs: &[SocketAddr],
    threads: usize,
    seconds: u64,
    work: impl Fn(&mut Conn, usize) -> bool + Send + Sync + 'static,
) -> (u64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let work = Arc::new(work);
    let began = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (stop, done, work) = (stop.clone(), done.clone(), work.clone());
            let addr = addrs[i % addrs.len()];
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr).expect("connect");
                while !stop.load(Ordering::Relaxed) {
                    if work(&mut conn, i) {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else if let Ok(c) = Conn::open(addr) {
                        conn = c;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    (done.load(Ordering::Relaxed), began.elapsed().as_secs_f64())
}

/// One configuration: its servers, measured.
fn measure(label: &str, servers: &[Server]) {
    let seconds = env_or("SCALE_SECONDS", 10) as u64;
    let clients = env_or("SCALE_CLIENTS", 32);
    let conns = env_or("SCALE_CONNS", 32);
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let cpu = || {
        servers
            .iter()
            .map(|s| cpu_seconds(s.child.id()))
            .sum::<f64>()
    };

    // Accounts, and a warm memo of their Argon2 (one real sign-in each).
    let names: Vec<String> = (0..16).map(|i| format!("scale-user-{i}")).collect();
    for name in &names {
        sign_up(addrs[0], name, PASSWORD);
    }
    for (i, name) in names.iter().enumerate() {
        let mut warm = Conn::open(addrs[i % addrs.len()]).expect("connect");
        sign_in(&mut warm, name, PASSWORD.as_bytes()).expect("warm-up sign-in");
    }
    let (server0, pg0) = (cpu(), postgres_cpu());
    let names = Arc::new(names);
    let (n, secs) = run(&addrs, clients, seconds, {
        let names = names.clone();
        move |conn, i| sign_in(conn, &names[i % names.len()], PASSWORD.as_bytes()).is_ok()
    });
    let (server_cpu, pg_cpu) = (cpu() - server0, postgres_cpu() - pg0);
    report(label, "sign-ins", n, secs, server_cpu, pg_cpu);

    // A file of two 100 KiB chunks, stored through the first server; chunk 1
    // is read from every server (chunk 0 would log a read each time).
    let patient = Patient::new(addrs[0]);
    let mut conn = Conn::open(addrs[0]).expect("connect");
    let mut upload = Upload::start(&mut conn, &patient, CHUNK, 2 * u64::from(CHUNK));
    let mut buf = Vec::new();
    while !upload.done() {
        upload
            .put_next(&mut conn, &patient.cookie, &mut buf)
            .expect("put");
    }
    let path = chunk_path(&upload.node_id, upload.version, 1);
    upload.finish(&mut conn, &patient);
    let cookie = Arc::new(patient.cookie.clone());
    let (server0, pg0) = (cpu(), postgres_cpu());
    let (n, secs) = run(&addrs, conns, seconds, move |conn, _| {
        conn.get(&path, Some(&cookie))
            .is_ok_and(|r| r.status == 200 && r.body.len() > CHUNK as usize)
    });
    let (server_cpu, pg_cpu) = (cpu() - server0, postgres_cpu() - pg0);
    report(label, "chunk GETs", n, secs, server_cpu, pg_cpu);
}

fn report(label: &str, what: &str, n: u64, secs: f64, server_cpu: f64, pg_cpu: f64) {
    let per = |cpu: f64| if n == 0 { 0.0 } else { cpu / n as f64 * 1e6 };
    println!(
        "  {label:<26} {what:<10} {:>8.0}/s   server CPU {:>6.0} µs   PostgreSQL CPU {:>6.0} µs per request",
        n as f64 / secs,
        per(server_cpu),
        per(pg_cpu),
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("scale_load: {cores} cores shared by the servers, PostgreSQL and the load generator");

    {
        let sled = start_server(&[]);
        measure("sled, 1 server", std::slice::from_ref(&sled));
    }

    let chunks = tempfile::tempdir().expect("tempdir");
    let blobs = |tag: &str| format!("file://{}/{tag}", chunks.path().display());
    {
        let url = pg::schema_url_blocking(&pg::unique_schema("one"));
        let one = start_server(&["--store", &url, "--blobs", &blobs("one")]);
        measure("PostgreSQL, 1 server", std::slice::from_ref(&one));
    }
    {
        let url = pg::schema_url_blocking(&pg::unique_schema("two"));
        let a = start_server(&["--store", &url, "--blobs", &blobs("two")]);
        // The second server gets the first one's key files, as operators do.
        let data = a.data.path().display().to_string();
        let (totp, audit) = (format!("{data}.totp-key"), format!("{data}.audit-key"));
        let b = start_server_in(
            tempfile::tempdir().expect("tempdir"),
            &[
                "--store",
                &url,
                "--blobs",
                &blobs("two"),
                "--totp-key-file",
                &totp,
                "--audit-key-file",
                &audit,
            ],
        );
        measure("PostgreSQL, 2 servers", &[a, b]);
    }
}
