//! Overload: what the server does when far more clients come than it can serve
//! at once, measured the way issue 23 states its targets ("with 2000
//! connections fetching chunks and 200 uploading, server RSS stays under
//! 256 MiB and is under 100 MiB a minute after the load stops").
//!
//! 1. Starts the release server, signs up a patient and stores a file of
//!    100 KiB chunks the way the app does; starts one unfinished upload of
//!    1 GiB in 1 MiB chunks per uploading connection.
//! 2. Load: `OVERLOAD_GET_CONNS` connections each GET a random stored chunk
//!    (never chunk 0: serving it records a FileRead audit event) in a loop,
//!    and `OVERLOAD_PUT_CONNS` connections each PUT the next 1 MiB chunk of
//!    their own upload in a loop (a new upload when one is full; none is
//!    finished), for `OVERLOAD_SECONDS`. One thread per connection, opened in
//!    batches; every thread waits until all are connected, then all start.
//!    Per class it counts 2xx answers (and their latency), 503 answers
//!    ("shed": without a `Retry-After` header or a JSON body counted apart;
//!    the thread then waits the Retry-After seconds, at most 1 s), other
//!    answers, I/O errors (the thread reconnects) and refused connects. The
//!    server's RSS and open descriptors are sampled every 250 ms.
//! 3. After: all load threads stop and their connections close; the server's
//!    RSS is sampled every second for `OVERLOAD_AFTER_SECONDS`.
//!
//! Prints the numbers and the targets beside them; asserts nothing about them
//! (it panics only when the setup fails). Run with `scripts/bench.sh
//! overload`. Knobs: `OVERLOAD_SECONDS` (30), `OVERLOAD_AFTER_SECONDS` (60),
//! `OVERLOAD_GET_CONNS` (2000), `OVERLOAD_PUT_CONNS` (200),
//! `OVERLOAD_BATCH` (connections opened per 100 ms, 100).
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod loadgen;

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Condvar, Mutex,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use loadgen::{
    env_or, percentile_ms,
    records::{fill_random, Patient, Upload},
    rss_bytes, start_server, Conn, Reply,
};
use shared::{api::records::chunk_path, crypto::stream::TAG_LEN};

/// Plaintext bytes per chunk of the stored file the GETs fetch.
const GET_CHUNK: u32 = 100 * 1024;
/// Chunks of that file (GETs ask for 1..GET_CHUNKS).
const GET_CHUNKS: u64 = 16;
/// Plaintext bytes per chunk of the uploads.
const PUT_CHUNK: u32 = 1 << 20;
/// Plaintext bytes of each upload: far more than one connection sends in a run.
const PUT_FILE: u64 = 1 << 30;
/// Stack of each load thread.
const STACK: usize = 256 * 1024;
/// Longest wait after a 503, whatever its Retry-After says.
const MAX_WAIT: Duration = Duration::from_secs(1);
/// Distinct odd answers and errors kept per class, to print.
const SAMPLES: usize = 6;

const MIB: f64 = (1u64 << 20) as f64;

/// What one route class saw.
#[derive(Default)]
struct Tally {
    /// Connections opened, the first ones and after I/O errors.
    connected: AtomicU64,
    connect_errors: AtomicU64,
    ok: AtomicU64,
    /// Request or response body bytes of the 2xx answers.
    ok_bytes: AtomicU64,
    shed: AtomicU64,
    shed_without_retry_after: AtomicU64,
    shed_without_json: AtomicU64,
    /// Answers neither 2xx nor 503 (or a 2xx of the wrong length).
    other: AtomicU64,
    io_errors: AtomicU64,
    samples: Mutex<Vec<String>>,
    /// Latencies of the 2xx answers, merged when each thread ends.
    latencies: Mutex<Vec<Duration>>,
}

impl Tally {
    fn note(&self, what: String) {
        let mut samples = self.samples.lock().expect("lock");
        if samples.len() < SAMPLES && !samples.contains(&what) {
            samples.push(what);
        }
    }

    /// Counts one answer (`good`: a 2xx was the one expected); after a 503
    /// waits what its Retry-After says, at most [`MAX_WAIT`].
    fn answer(&self, reply: &Reply, good: bool, took: Duration, mine: &mut Vec<Duration>) {
        match reply.status {
            200..=299 if good => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                mine.push(took);
            }
            503 => {
                self.shed.fetch_add(1, Ordering::Relaxed);
                let wait = match reply
                    .retry_after
                    .as_deref()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                {
                    Some(secs) => Duration::from_secs(secs).min(MAX_WAIT),
                    None => {
                        self.shed_without_retry_after
                            .fetch_add(1, Ordering::Relaxed);
                        self.note(format!("503 with Retry-After {:?}", reply.retry_after));
                        MAX_WAIT
                    }
                };
                if serde_json::from_slice::<serde_json::Value>(&reply.body).is_err() {
                    self.shed_without_json.fetch_add(1, Ordering::Relaxed);
                    self.note(format!("503 body not JSON: {}", excerpt(&reply.body)));
                }
                std::thread::sleep(wait);
            }
            status => {
                self.other.fetch_add(1, Ordering::Relaxed);
                self.note(format!(
                    "{status} ({} bytes): {}",
                    reply.body.len(),
                    excerpt(&reply.body)
                ));
            }
        }
    }

    fn io_error(&self, e: &std::io::Error) {
        self.io_errors.fetch_add(1, Ordering::Relaxed);
        self.note(format!("I/O error: {e}"));
    }

    fn count(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(160)]).into_owned();
    text.replace(['\r', '\n'], " ")
}

/// What every load thread shares.
struct Ctx {
    addr: SocketAddr,
    patient: Arc<Patient>,
    stop: AtomicBool,
    /// Set when every thread is connected (or gave up waiting for it).
    go: Mutex<bool>,
    gate: Condvar,
    ready: AtomicUsize,
    gets: Tally,
    puts: Tally,
    /// The stored file's chunk paths the GETs ask for.
    get_paths: Vec<String>,
    /// Uploads started during the load (when one was full) and refused starts.
    restarts: AtomicU64,
    restart_refusals: AtomicU64,
}

impl Ctx {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Connects, counting refusals; `tries` attempts 100 ms apart, or until
    /// the load stops when `tries` is 0.
    fn connect(&self, tally: &Tally, tries: usize) -> Option<Conn> {
        let mut attempt = 0;
        loop {
            match Conn::open(self.addr) {
                Ok(conn) => {
                    tally.connected.fetch_add(1, Ordering::Relaxed);
                    return Some(conn);
                }
                Err(e) => {
                    tally.connect_errors.fetch_add(1, Ordering::Relaxed);
                    tally.note(format!("connect: {e}"));
                }
            }
            attempt += 1;
            if (tries > 0 && attempt >= tries) || self.stopped() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Connects, says so, and waits for the start.
    fn connect_and_wait(&self, tally: &Tally) -> Option<Conn> {
        let conn = self.connect(tally, 10);
        self.ready.fetch_add(1, Ordering::SeqCst);
        let mut go = self.go.lock().expect("lock");
        while !*go {
            go = self.gate.wait(go).expect("lock");
        }
        conn
    }
}

/// One GET connection: random stored chunks until the load stops.
fn get_loop(ctx: &Ctx, seed: u64) {
    let tally = &ctx.gets;
    let mut conn = ctx.connect_and_wait(tally);
    let mut x = seed | 1;
    let mut mine = Vec::new();
    let expected = GET_CHUNK as usize + TAG_LEN;
    while !ctx.stopped() {
        let Some(c) = conn.as_mut() else {
            conn = ctx.connect(tally, 0);
            continue;
        };
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let path = &ctx.get_paths[(x % ctx.get_paths.len() as u64) as usize];
        let t = Instant::now();
        match c.get(path, Some(&ctx.patient.cookie)) {
            Ok(reply) => {
                let good = reply.body.len() == expected;
                if good && (200..300).contains(&reply.status) {
                    tally.ok_bytes.fetch_add(expected as u64, Ordering::Relaxed);
                }
                tally.answer(&reply, good, t.elapsed(), &mut mine);
            }
            Err(e) => {
                tally.io_error(&e);
                conn = None;
            }
        }
    }
    tally.latencies.lock().expect("lock").extend(mine);
}

/// One PUT connection: the next 1 MiB chunk of its own upload until the load
/// stops, a new upload when one is full.
fn put_loop(ctx: &Ctx, upload: Upload) {
    let tally = &ctx.puts;
    let mut conn = ctx.connect_and_wait(tally);
    let mut upload = Some(upload);
    let mut index = 0u64;
    let mut buf = vec![0u8; PUT_CHUNK as usize + TAG_LEN];
    fill_random(&mut buf);
    let mut mine = Vec::new();
    while !ctx.stopped() {
        let Some(c) = conn.as_mut() else {
            conn = ctx.connect(tally, 0);
            continue;
        };
        let Some(u) = upload.as_ref() else {
            match Upload::try_start(c, &ctx.patient, PUT_CHUNK, PUT_FILE) {
                Ok(Ok(u)) => {
                    ctx.restarts.fetch_add(1, Ordering::Relaxed);
                    upload = Some(u);
                    index = 0;
                }
                Ok(Err(reply)) => {
                    ctx.restart_refusals.fetch_add(1, Ordering::Relaxed);
                    tally.note(format!(
                        "upload start {}: {}",
                        reply.status,
                        excerpt(&reply.body)
                    ));
                    std::thread::sleep(MAX_WAIT);
                }
                Err(e) => {
                    tally.io_error(&e);
                    conn = None;
                }
            }
            continue;
        };
        let len = u.sealed_len(index);
        let path = chunk_path(&u.node_id, u.version, index as u32);
        let t = Instant::now();
        match c.put_bytes(&path, &buf[..len], Some(&ctx.patient.cookie)) {
            Ok(reply) => {
                let took = t.elapsed();
                if (200..300).contains(&reply.status) {
                    tally.ok_bytes.fetch_add(len as u64, Ordering::Relaxed);
                    index += 1;
                    if index == u.chunk_count() {
                        upload = None;
                    }
                }
                tally.answer(&reply, true, took, &mut mine);
            }
            Err(e) => {
                tally.io_error(&e);
                conn = None;
            }
        }
    }
    tally.latencies.lock().expect("lock").extend(mine);
}

/// Open descriptors of a process (its sockets among them), from /proc.
fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count() as u64)
        .unwrap_or(0)
}

/// The 1, 5 and 15 minute load averages, from /proc.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB
}

/// Prints one class's counts; returns its sorted latencies.
fn report(name: &str, conns: usize, tally: &Tally, elapsed: f64) -> Vec<Duration> {
    let mut lat = std::mem::take(&mut *tally.latencies.lock().expect("lock"));
    lat.sort();
    let ok = Tally::count(&tally.ok);
    println!(
        "  {name}, {conns} connections: {ok} ok in {elapsed:.1} s = {:.0}/s ({:.1} MB/s); p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ok as f64 / elapsed,
        Tally::count(&tally.ok_bytes) as f64 / elapsed / 1e6,
        percentile_ms(&lat, 0.5),
        percentile_ms(&lat, 0.99),
        percentile_ms(&lat, 1.0),
    );
    println!(
        "    shed (503) {} ({} without Retry-After, {} without a JSON body); other answers {}; I/O errors {}; connections opened {}, refused connects {}",
        Tally::count(&tally.shed),
        Tally::count(&tally.shed_without_retry_after),
        Tally::count(&tally.shed_without_json),
        Tally::count(&tally.other),
        Tally::count(&tally.io_errors),
        Tally::count(&tally.connected),
        Tally::count(&tally.connect_errors),
    );
    for s in tally.samples.lock().expect("lock").iter() {
        println!("    seen: {s}");
    }
    lat
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds = env_or("OVERLOAD_SECONDS", 30) as u64;
    let after_seconds = env_or("OVERLOAD_AFTER_SECONDS", 60) as u64;
    let get_conns = env_or("OVERLOAD_GET_CONNS", 2000);
    let put_conns = env_or("OVERLOAD_PUT_CONNS", 200);
    let batch = env_or("OVERLOAD_BATCH", 100).max(1);
    // Every upload reserves its whole size at the start: room for all of them.
    let server = start_server(&["--quota-bytes", &(1u64 << 40).to_string()]);
    let addr = server.addr;
    let pid = server.child.id();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "overload: {cores} cores shared by server and load generator; {get_conns} GET and {put_conns} PUT connections for {seconds} s, then {after_seconds} s idle; load average before {}",
        load_average()
    );

    // 1. The stored file, and one upload per PUT connection.
    let patient = Arc::new(Patient::new(addr));
    let mut conn = Conn::open(addr).expect("connect");
    let mut upload = Upload::start(
        &mut conn,
        &patient,
        GET_CHUNK,
        GET_CHUNKS * u64::from(GET_CHUNK),
    );
    let mut buf = Vec::new();
    while !upload.done() {
        upload
            .put_next(&mut conn, &patient.cookie, &mut buf)
            .expect("put");
    }
    let (node_id, version) = (upload.node_id, upload.version);
    upload.finish(&mut conn, &patient);
    let get_paths = (1..GET_CHUNKS as u32)
        .map(|i| chunk_path(&node_id, version, i))
        .collect();
    let uploads: Vec<Upload> = (0..put_conns)
        .map(|_| Upload::start(&mut conn, &patient, PUT_CHUNK, PUT_FILE))
        .collect();
    drop(conn);
    let ctx = Arc::new(Ctx {
        addr,
        patient,
        stop: AtomicBool::new(false),
        go: Mutex::new(false),
        gate: Condvar::new(),
        ready: AtomicUsize::new(0),
        gets: Tally::default(),
        puts: Tally::default(),
        get_paths,
        restarts: AtomicU64::new(0),
        restart_refusals: AtomicU64::new(0),
    });
    std::thread::sleep(Duration::from_secs(1));
    let rss_before = rss_bytes(pid);
    let fds_before = open_fds(pid);

    // 2. Load: threads opened in batches, uploaders and fetchers interleaved.
    let ramp = Instant::now();
    let mut handles: Vec<JoinHandle<()>> = Vec::with_capacity(get_conns + put_conns);
    let mut spawn_errors = Vec::new();
    let mut uploads = uploads.into_iter();
    let total = get_conns + put_conns;
    for i in 0..total {
        // Every (total / put_conns)th thread uploads.
        let is_put = put_conns > 0 && i * put_conns / total != (i + 1) * put_conns / total;
        let c = ctx.clone();
        let builder = std::thread::Builder::new().stack_size(STACK);
        let spawned = if is_put {
            let u = uploads.next().expect("an upload per PUT connection");
            builder.spawn(move || put_loop(&c, u))
        } else {
            let seed = 0x2545_F491_4F6C_DD1Du64.wrapping_mul(i as u64 + 1);
            builder.spawn(move || get_loop(&c, seed))
        };
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => spawn_errors.push(format!(
                "{} thread: {e}",
                if is_put { "PUT" } else { "GET" }
            )),
        }
        if (i + 1) % batch == 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let waited = Instant::now();
    while ctx.ready.load(Ordering::SeqCst) < handles.len()
        && waited.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let ready = ctx.ready.load(Ordering::SeqCst);
    let connected_at_start = Tally::count(&ctx.gets.connected) + Tally::count(&ctx.puts.connected);
    let fds_at_start = open_fds(pid);
    println!(
        "  ramp: {} of {total} threads started ({} spawn errors), {ready} ready and {connected_at_start} connected after {:.1} s; server descriptors {fds_before} before, {fds_at_start} now",
        handles.len(),
        spawn_errors.len(),
        ramp.elapsed().as_secs_f64(),
    );
    for e in spawn_errors.iter().take(3) {
        println!("    spawn error: {e}");
    }

    let sampling = Arc::new(AtomicBool::new(true));
    let peak_rss = Arc::new(AtomicU64::new(0));
    let peak_fds = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (sampling, peak_rss, peak_fds) = (sampling.clone(), peak_rss.clone(), peak_fds.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak_rss.fetch_max(rss_bytes(pid), Ordering::Relaxed);
                peak_fds.fetch_max(open_fds(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };
    *ctx.go.lock().expect("lock") = true;
    ctx.gate.notify_all();
    let began = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    ctx.stop.store(true, Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    let load_at_end = load_average();
    let rss_at_end = rss_bytes(pid);
    let joining = Instant::now();
    for h in handles {
        let _ = h.join();
    }
    let joined = joining.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let peak = peak_rss.load(Ordering::Relaxed).max(rss_at_end);
    println!("  load for {elapsed:.1} s (threads joined {joined:.1} s after the stop):");
    let get_lat = report("GET 100 KiB chunk", get_conns, &ctx.gets, elapsed);
    let put_lat = report("PUT 1 MiB chunk", put_conns, &ctx.puts, elapsed);
    println!(
        "    uploads started during the load {}, starts refused {}",
        Tally::count(&ctx.restarts),
        Tally::count(&ctx.restart_refusals)
    );
    println!(
        "  server: RSS before {:.0} MiB, peak {:.0} MiB, at the stop {:.0} MiB; descriptors peak {}; load average at the stop {load_at_end}",
        mib(rss_before),
        mib(peak),
        mib(rss_at_end),
        peak_fds.load(Ordering::Relaxed),
    );

    // 3. After: every load connection is closed; RSS once a second.
    let rss_closed = rss_bytes(pid);
    let mut min_after = rss_closed;
    let mut timeline = vec![format!("0 s {:.0}", mib(rss_closed))];
    let mut rss_after = rss_closed;
    for s in 1..=after_seconds {
        std::thread::sleep(Duration::from_secs(1));
        rss_after = rss_bytes(pid);
        min_after = min_after.min(rss_after);
        if s % 10 == 0 || s == after_seconds {
            timeline.push(format!("{s} s {:.0}", mib(rss_after)));
        }
    }
    println!(
        "  after the load (MiB): {}; minimum {:.0} MiB; descriptors {}",
        timeline.join(", "),
        mib(min_after),
        open_fds(pid)
    );

    let get_ok = Tally::count(&ctx.gets.ok) as f64 / elapsed;
    let put_ok = Tally::count(&ctx.puts.ok) as f64 / elapsed;
    println!(
        "overload: GET {get_conns} conns: {get_ok:.0} ok/s, {} shed (503), p99 {:.0} ms; PUT {put_conns} conns: {put_ok:.0} ok/s, {} shed (503), p99 {:.0} ms; RSS before {:.0} MiB, peak {:.0} MiB (target < 256), {after_seconds} s after {:.0} MiB (target < 100, minimum {:.0}); load average {load_at_end}",
        Tally::count(&ctx.gets.shed),
        percentile_ms(&get_lat, 0.99),
        Tally::count(&ctx.puts.shed),
        percentile_ms(&put_lat, 0.99),
        mib(rss_before),
        mib(peak),
        mib(rss_after),
        mib(min_after),
    );
}
