//! Load generator for record content against a real server process over
//! loopback HTTP (issue 6's server benchmarks). It prints numbers and never
//! fails on a slow machine:
//!
//! 1. durable 64 KiB chunk uploads from `UPLOAD_CLIENTS` (20) connections for
//!    `RECORDS_SECONDS` (10): chunks per second and latency percentiles (each
//!    acknowledged chunk is on disk);
//! 2. GETs of the stored 64 KiB chunks from `DOWNLOAD_CLIENTS` (32) connections
//!    for `RECORDS_SECONDS`: chunks per second and latency percentiles;
//! 3. one upload of `BIG_UPLOAD_MIB` (1024) MiB in 1 MiB chunks: the server
//!    process's peak resident memory while it runs;
//! 4. the data directory's size over the ciphertext stored.
//!
//! Run with `scripts/bench.sh records` (or build the release server and run
//! `MEDVAULT_SERVER_BIN=target/release/medvault-server cargo bench -p server
//! --bench records_load`). The chunk bytes are random: the server never decrypts,
//! it checks sizes, order and the signed manifest's SHA-256 of each chunk, which
//! are real here.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use shared::{
    api::{
        account::SignupStarted,
        records::{chunk_path, NodeKind, RecordTree, UploadTicket},
    },
    client::Signup,
    crypto::{
        b64,
        sign::{part_hash, sign, FileManifest, SigningKey},
        Id,
    },
    records::{new_child, new_record, NodeMetadata, OpenNode, OpenTree, RecordType},
};

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    addr: SocketAddr,
    cookie: String,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

struct Reply {
    status: u16,
    cookie: Option<String>,
    body: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr, cookie: &str) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            addr,
            cookie: cookie.to_owned(),
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> std::io::Result<Reply> {
        let host = self.addr;
        let cookie = if self.cookie.is_empty() {
            String::new()
        } else {
            format!("Cookie: {}\r\n", self.cookie)
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
             x-medvault-request: 1\r\nContent-Type: {content_type}\r\n{cookie}\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut length, mut chunked, mut set_cookie) = (0, false, None);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "set-cookie" => set_cookie = value.split(';').next().map(str::to_owned),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16)
                    .map_err(|_| std::io::Error::other("bad chunk size"))?;
                let mut part = vec![0; size + 2];
                self.reader.read_exact(&mut part)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&part[..size]);
            }
        } else {
            body.resize(length, 0);
            self.reader.read_exact(&mut body)?;
        }
        Ok(Reply {
            status,
            cookie: set_cookie,
            body,
        })
    }

    fn call<T: serde::de::DeserializeOwned>(&mut self, path: &str, body: serde_json::Value) -> T {
        let reply = self
            .send(
                "POST",
                path,
                "application/json",
                body.to_string().as_bytes(),
            )
            .expect("request");
        assert_eq!(
            reply.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        serde_json::from_slice(&reply.body).expect("JSON answer")
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Cheap random bytes (xorshift); content only has to differ between chunks.
fn filler(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

struct Server {
    child: Child,
    addr: SocketAddr,
    data: tempfile::TempDir,
    _site: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let bin = std::env::var("MEDVAULT_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/medvault-server")
        });
    let data = tempfile::tempdir().expect("tempdir");
    let site = tempfile::tempdir().expect("tempdir");
    std::fs::write(site.path().join("index.html"), "<!DOCTYPE html>").expect("index");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let child = Command::new(&bin)
        .args(["serve", "--addr", &addr.to_string(), "--site"])
        .arg(site.path())
        .arg("--data")
        .arg(data.path())
        .args(["--quota-bytes", &(1u64 << 40).to_string()])
        .env("MEDVAULT_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        addr,
        data,
        _site: site,
    }
}

/// The patient everything is uploaded as: id, identity key, session cookie
/// and the folder files go into.
struct Patient {
    id: Id,
    identity: SigningKey,
    cookie: String,
    folder: OpenNode,
}

fn patient(addr: SocketAddr) -> Patient {
    let mut conn = Conn::open(addr, "").expect("connect");
    let (signup, start) =
        Signup::start("bench.patient", "a long bench passphrase 2026 x", None).expect("signup");
    let started: SignupStarted = conn.call(
        "/api/account/signup/start",
        serde_json::json!({ "request": start }),
    );
    let account = signup.finish(&started, unix_now()).expect("finish");
    let reply = conn
        .send(
            "POST",
            "/api/account/signup/finish",
            "application/json",
            serde_json::json!({ "request": account.request })
                .to_string()
                .as_bytes(),
        )
        .expect("finish");
    assert_eq!(reply.status, 200);
    conn.cookie = reply.cookie.expect("session cookie");
    let id = started.user_id;
    let keyring = account.keyring;
    let (root, children) =
        new_record(&id, &keyring.encryption().public_key(), unix_now()).expect("record");
    let tree: RecordTree = conn.call(
        "/api/records/create",
        serde_json::json!({"root": root, "children": children}),
    );
    let tree = OpenTree::open(tree, keyring.encryption()).expect("open");
    let folder = tree
        .nodes()
        .find(|n| n.metadata.name == "Notes")
        .expect("Notes")
        .clone();
    Patient {
        id,
        identity: SigningKey::from_seed(&keyring.identity().seed()),
        cookie: conn.cookie,
        folder,
    }
}

/// A file being uploaded: `chunks` chunks of `chunk_size` plaintext bytes.
struct Upload {
    node_id: Id,
    version: u32,
    hashes: Vec<[u8; 32]>,
    chunk_size: u32,
    chunks: u32,
}

fn start_upload(conn: &mut Conn, p: &Patient, chunk_size: u32, chunks: u32) -> Upload {
    let meta = NodeMetadata {
        name: "bench".into(),
        record_type: RecordType::Other,
        description: String::new(),
        record_date: None,
        created_at: 0,
        modified_at: 0,
        mime: None,
        size: None,
        vital: None,
    };
    let (node, _) = new_child(&p.folder, NodeKind::File, &meta).expect("node");
    let len = u64::from(chunks) * (u64::from(chunk_size) + 16);
    let ticket: UploadTicket = conn.call(
        "/api/records/upload/start",
        serde_json::json!({"request": {"node_id": b64::encode(&node.node_id), "new_node": node, "chunk_size": chunk_size, "ciphertext_len": len}}),
    );
    Upload {
        node_id: ticket.node_id,
        version: ticket.version,
        hashes: Vec::new(),
        chunk_size,
        chunks,
    }
}

fn put_chunk(conn: &mut Conn, up: &mut Upload, bytes: &[u8]) -> std::io::Result<()> {
    let index = up.hashes.len() as u32;
    let reply = conn.send(
        "PUT",
        &chunk_path(&up.node_id, up.version, index),
        "application/octet-stream",
        bytes,
    )?;
    if reply.status != 200 {
        return Err(std::io::Error::other(format!(
            "chunk {index}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        )));
    }
    up.hashes.push(part_hash(bytes));
    Ok(())
}

fn finish_upload(conn: &mut Conn, p: &Patient, up: &Upload) {
    let manifest = sign(
        &p.identity,
        FileManifest {
            node_id: up.node_id,
            parent_id: *p.folder.id(),
            version: up.version,
            size: u64::from(up.chunks) * u64::from(up.chunk_size),
            part_hashes: up.hashes.clone(),
            author_id: p.id,
            created_at: unix_now(),
        },
    );
    let _: serde_json::Value = conn.call(
        "/api/records/upload/finish",
        serde_json::json!({"request": {
            "node_id": b64::encode(&up.node_id),
            "version": up.version,
            "wrapped_content_key": b64::encode(&[1u8; 61]),
            "manifest": manifest,
            "metadata": b64::encode(&[2u8; 285]),
        }}),
    );
}

/// Percentiles of a latency list, in milliseconds.
fn report(what: &str, mut lat: Vec<Duration>, elapsed: f64, errors: u64) {
    lat.sort();
    let n = lat.len();
    let pct = |p: f64| {
        lat.get(
            ((n as f64 * p).ceil() as usize)
                .saturating_sub(1)
                .min(n.saturating_sub(1)),
        )
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN)
    };
    println!(
        "  {what}: {n} in {elapsed:.1} s = {:.0}/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; errors {errors}",
        n as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}

/// The process's user + system CPU time in seconds, from /proc (Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat: 11 and 12 after the name.
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|x| x.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}

/// The server's CPU time per operation, and what the server alone could do
/// on this machine's cores at that cost.
fn report_cpu(cpu: f64, ops: usize) {
    if ops == 0 {
        return;
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let per = cpu / ops as f64;
    println!(
        "    server CPU {:.0} µs each → the server alone on {cores} cores: {:.0}/s",
        per * 1e6,
        cores as f64 / per
    );
}

/// The process's resident memory in KiB, from /proc (Linux).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
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
    let seconds = env_or("RECORDS_SECONDS", 10);
    let uploaders = env_or("UPLOAD_CLIENTS", 20);
    let downloaders = env_or("DOWNLOAD_CLIENTS", 32);
    let big_mib = env_or("BIG_UPLOAD_MIB", 1024) as u32;
    let server = start_server();
    let addr = server.addr;
    let p = Arc::new(patient(addr));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("records_load: {cores} cores shared by server and load generator");

    // 1. Durable 64 KiB chunk uploads: each connection uploads files of 32
    // chunks, one after the other (a file started is completed, so that the
    // next phase can read it).
    const SMALL: u32 = 64 * 1024;
    const PER_FILE: u32 = 32;
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let finished = Arc::new(Mutex::new(Vec::<(Id, u32)>::new()));
    let pid = server.child.id();
    let cpu_before = cpu_seconds(pid);
    let began = Instant::now();
    let handles: Vec<_> = (0..uploaders)
        .map(|t| {
            let (p, stop, errors, latencies, finished) = (
                p.clone(),
                stop.clone(),
                errors.clone(),
                latencies.clone(),
                finished.clone(),
            );
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr, &p.cookie).expect("connect");
                let mut mine = Vec::new();
                let chunk = filler(t + 1, SMALL as usize + 16);
                'files: while !stop.load(Ordering::Relaxed) {
                    let mut up = start_upload(&mut conn, &p, SMALL, PER_FILE);
                    for i in 0..PER_FILE {
                        let mut bytes = chunk.clone();
                        bytes[..4].copy_from_slice(&i.to_le_bytes());
                        let at = Instant::now();
                        if put_chunk(&mut conn, &mut up, &bytes).is_err() {
                            errors.fetch_add(1, Ordering::Relaxed);
                            conn = Conn::open(addr, &p.cookie).expect("connect");
                            continue 'files;
                        }
                        mine.push(at.elapsed());
                    }
                    finish_upload(&mut conn, &p, &up);
                    finished
                        .lock()
                        .expect("lock")
                        .push((up.node_id, up.version));
                }
                latencies.lock().expect("lock").extend(mine);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let elapsed = began.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let lat = std::mem::take(&mut *latencies.lock().expect("lock"));
    let ops = lat.len();
    report(
        &format!("durable 64 KiB chunk uploads, {uploaders} connections"),
        lat,
        elapsed,
        errors.load(Ordering::Relaxed),
    );
    report_cpu(cpu, ops);

    // 2. GETs of stored 64 KiB chunks, spread over every finished file.
    let files = Arc::new(finished.lock().expect("lock").clone());
    stop.store(false, Ordering::Relaxed);
    errors.store(0, Ordering::Relaxed);
    let cpu_before = cpu_seconds(pid);
    let began = Instant::now();
    let handles: Vec<_> = (0..downloaders)
        .map(|t| {
            let (p, stop, errors, latencies, files) = (
                p.clone(),
                stop.clone(),
                errors.clone(),
                latencies.clone(),
                files.clone(),
            );
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr, &p.cookie).expect("connect");
                let mut mine = Vec::new();
                let mut x = t * 7919 + 1;
                while !stop.load(Ordering::Relaxed) && !files.is_empty() {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let (node, version) = files[(x >> 33) as usize % files.len()];
                    // Index 1 and up: chunk 0 of a version also writes its audit event.
                    let index = 1 + (x >> 20) as u32 % (PER_FILE - 1);
                    let at = Instant::now();
                    match conn.send("GET", &chunk_path(&node, version, index), "", &[]) {
                        Ok(r) if r.status == 200 && r.body.len() == SMALL as usize + 16 => {
                            mine.push(at.elapsed())
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            conn = Conn::open(addr, &p.cookie).expect("connect");
                        }
                    }
                }
                latencies.lock().expect("lock").extend(mine);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let elapsed = began.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let lat = std::mem::take(&mut *latencies.lock().expect("lock"));
    let ops = lat.len();
    report(
        &format!(
            "GET of stored 64 KiB chunks, {downloaders} connections, {} files",
            files.len()
        ),
        lat,
        elapsed,
        errors.load(Ordering::Relaxed),
    );
    report_cpu(cpu, ops);

    // 3. One big upload in 1 MiB chunks, sampling the server's memory.
    const BIG: u32 = 1024 * 1024;
    let peak = Arc::new(AtomicU64::new(rss_kib(pid)));
    let before = peak.load(Ordering::Relaxed);
    stop.store(false, Ordering::Relaxed);
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut conn = Conn::open(addr, &p.cookie).expect("connect");
    let began = Instant::now();
    let mut up = start_upload(&mut conn, &p, BIG, big_mib);
    let mut chunk = filler(99, BIG as usize + 16);
    for i in 0..big_mib {
        chunk[..4].copy_from_slice(&i.to_le_bytes());
        put_chunk(&mut conn, &mut up, &chunk).expect("big chunk");
    }
    finish_upload(&mut conn, &p, &up);
    let elapsed = began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    println!(
        "  {big_mib} MiB upload in 1 MiB chunks: {elapsed:.1} s ({:.0} MiB/s); server RSS {:.0} MiB before, peak {:.0} MiB during",
        f64::from(big_mib) / elapsed,
        before as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );

    // 4. Store size over stored ciphertext.
    let tree: Option<RecordTree> = {
        let r = conn
            .send("GET", "/api/records/tree", "", &[])
            .expect("tree");
        serde_json::from_slice(&r.body).expect("tree JSON")
    };
    let used = tree.map(|t| t.usage.used_bytes).unwrap_or(0);
    let disk = dir_size(server.data.path());
    println!(
        "  store size: {:.0} MiB on disk for {:.0} MiB stored = {:.2}",
        disk as f64 / 1048576.0,
        used as f64 / 1048576.0,
        disk as f64 / used.max(1) as f64
    );
}
