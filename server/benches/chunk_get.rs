//! Chunk GETs against nginx, in the same run on the same cores (issue 19's
//! table row "chunk GET of stored 100 KiB chunks, 32 connections").
//!
//! Starts the release server on a temporary data directory, stores a file of
//! 100 KiB chunks the way the app does, then starts nginx (a non-root
//! configuration in a temporary directory: `worker_processes auto`, `sendfile
//! on`, `access_log off`, a free loopback port) serving the same bytes as a
//! static file, and runs `wrk -t2 -c32 --latency` against each: medvault's
//! `GET /api/records/chunk/…` with the session cookie and the request-forgery
//! header, nginx's plain file. Prints requests per second, p50 and p99 of both
//! and the ratio. Chunk 1 is asked for, never chunk 0: serving chunk 0 records
//! a FileRead audit event (a durable write), which a download does once.
//!
//! Run with `scripts/bench.sh chunkget` (it installs nginx and wrk with
//! `scripts/setup.sh --bench`). Knobs: `CHUNKGET_SECONDS` (10 per run),
//! `CHUNKGET_CONNS` (32), `CHUNKGET_THREADS` (2), `CHUNKGET_ROUNDS` (2: each
//! round measures medvault then nginx, so both see the same background load).
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod loadgen;

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::fs::PermissionsExt,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use loadgen::{
    cpu_seconds, env_or,
    records::{Patient, Upload},
    start_server, Conn,
};
use shared::{
    api::{records::chunk_path, CSRF_HEADER},
    crypto::stream::TAG_LEN,
};

/// Plaintext bytes per chunk: 100 KiB.
const CHUNK: u32 = 100 * 1024;

/// nginx on a free loopback port, stopped on drop.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts nginx serving `bytes` as `/chunk.bin`.
fn start_nginx(bytes: &[u8]) -> Nginx {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("www");
    std::fs::create_dir(&root).expect("www");
    std::fs::write(root.join("chunk.bin"), bytes).expect("chunk file");
    // Run as root, nginx's workers drop to `nobody`: let them read the file.
    for path in [dir.path(), &root] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    std::fs::set_permissions(
        root.join("chunk.bin"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let d = dir.path().display();
    let conf = format!(
        "worker_processes auto;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
           access_log off;\n\
           sendfile on;\n\
           tcp_nopush on;\n\
           keepalive_requests 1000000;\n\
           client_body_temp_path {d}/body;\n\
           proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n\
           uwsgi_temp_path {d}/uwsgi;\n\
           scgi_temp_path {d}/scgi;\n\
           default_type application/octet-stream;\n\
           server {{\n\
             listen {addr};\n\
             root {d}/www;\n\
           }}\n\
         }}\n"
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("nginx.conf");
    let child = Command::new("nginx")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf_path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start nginx (scripts/setup.sh --bench): {e}"));
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx {
        child,
        addr,
        _dir: dir,
    }
}

/// nginx's CPU time so far: its master and every worker (its children).
fn nginx_cpu_seconds(master: u32) -> f64 {
    let children: Vec<u32> = std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| {
                    let stat =
                        std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                    // The parent's pid is the second field after the name.
                    stat.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                        .and_then(|p| p.parse::<u32>().ok())
                        == Some(master)
                })
                .collect()
        })
        .unwrap_or_default();
    cpu_seconds(master) + children.into_iter().map(cpu_seconds).sum::<f64>()
}

/// What one wrk run measured.
struct WrkRun {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: f64,
    bad: u64,
}

/// A latency as wrk prints it ("812.00us", "5.20ms", "1.02s"), in ms.
fn wrk_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().ok()?;
    match unit {
        "us" => Some(n / 1000.0),
        "ms" => Some(n),
        "s" => Some(n * 1000.0),
        "m" => Some(n * 60_000.0),
        _ => None,
    }
}

fn wrk(url: &str, headers: &[String], seconds: usize) -> WrkRun {
    let threads = env_or("CHUNKGET_THREADS", 2);
    let conns = env_or("CHUNKGET_CONNS", 32);
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{threads}"))
        .arg(format!("-c{conns}"))
        .arg(format!("-d{seconds}s"))
        .arg("--latency");
    for h in headers {
        cmd.arg("-H").arg(h);
    }
    let out = cmd
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run wrk (scripts/setup.sh --bench): {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {text}");
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split_whitespace().collect::<Vec<_>>())
    };
    let per_second = field("Requests/sec:")
        .and_then(|v| v.first().and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("no Requests/sec in {text}"));
    let p50_ms = field("50%")
        .and_then(|v| v.first().and_then(|n| wrk_ms(n)))
        .unwrap_or(f64::NAN);
    let p99_ms = field("99%")
        .and_then(|v| v.first().and_then(|n| wrk_ms(n)))
        .unwrap_or(f64::NAN);
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let bad = field("Non-2xx or 3xx responses:")
        .and_then(|v| v.first().and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    WrkRun {
        per_second,
        p50_ms,
        p99_ms,
        requests,
        bad,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds = env_or("CHUNKGET_SECONDS", 10);
    let rounds = env_or("CHUNKGET_ROUNDS", 2);
    let server = start_server(&[]);
    let addr = server.addr;
    let pid = server.child.id();
    let patient = Patient::new(addr);

    // A file of two 100 KiB chunks; chunk 1 is the one asked for.
    let mut conn = Conn::open(addr).expect("connect");
    let mut upload = Upload::start(&mut conn, &patient, CHUNK, 2 * u64::from(CHUNK));
    let mut buf = Vec::new();
    while !upload.done() {
        upload
            .put_next(&mut conn, &patient.cookie, &mut buf)
            .expect("put");
    }
    let (node_id, version) = (upload.node_id, upload.version);
    upload.finish(&mut conn, &patient);
    let path = chunk_path(&node_id, version, 1);
    let reply = conn.get(&path, Some(&patient.cookie)).expect("get");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.body.len(), CHUNK as usize + TAG_LEN);
    let nginx = start_nginx(&reply.body);
    let mut plain = Conn::open(nginx.addr).expect("connect nginx");
    let same = plain.get("/chunk.bin", None).expect("get nginx");
    assert_eq!(same.status, 200);
    assert_eq!(same.body, reply.body, "nginx serves the same bytes");

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "chunk_get: {cores} cores shared by medvault, nginx and wrk; {} bytes per GET; {seconds} s per run, {rounds} rounds",
        reply.body.len()
    );
    let headers = vec![
        format!("Cookie: {}", patient.cookie),
        format!("{CSRF_HEADER}: 1"),
    ];
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        let cpu_before = cpu_seconds(pid);
        let ours = wrk(&format!("http://{addr}{path}"), &headers, seconds);
        let cpu = cpu_seconds(pid) - cpu_before;
        let nginx_before = nginx_cpu_seconds(nginx.child.id());
        let theirs = wrk(
            &format!("http://{}/chunk.bin", nginx.addr),
            &headers,
            seconds,
        );
        let nginx_cpu = nginx_cpu_seconds(nginx.child.id()) - nginx_before;
        assert_eq!(ours.bad, 0, "medvault answered errors");
        assert_eq!(theirs.bad, 0, "nginx answered errors");
        let ratio = ours.per_second / theirs.per_second;
        ratios.push(ratio);
        println!(
            "  round {round}: medvault {:.0}/s (p50 {:.2} ms, p99 {:.2} ms; server CPU {:.0} µs per GET); nginx {:.0}/s (p50 {:.2} ms, p99 {:.2} ms; CPU {:.0} µs per GET); ratio {ratio:.2}",
            ours.per_second,
            ours.p50_ms,
            ours.p99_ms,
            cpu / ours.requests.max(1.0) * 1e6,
            theirs.per_second,
            theirs.p50_ms,
            theirs.p99_ms,
            nginx_cpu / theirs.requests.max(1.0) * 1e6,
        );
    }
    println!(
        "  chunk GET over nginx: {:.2} (mean of {rounds} rounds; floor 0.5, goal 0.7 with p99 no worse than nginx)",
        ratios.iter().sum::<f64>() / ratios.len().max(1) as f64
    );
}
