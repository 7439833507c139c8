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

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::{Duration, Instant},
};

use opaque_ke::{
    errors::InternalError,
    generic_array::{ArrayLength, GenericArray},
    ksf::Ksf,
    CipherSuite, ClientLogin, ClientLoginFinishParameters, CredentialResponse, Identifiers,
};
use shared::{
    api::account::{LoginStarted, SignupStarted},
    client::Signup,
    crypto::{b64, context, opaque::Argon2Ksf, rng::Rng},
};

/// Argon2id with the suite's parameters, computed once per distinct input.
#[derive(Default)]
struct MemoArgon2;

fn memo() -> &'static Mutex<HashMap<Vec<u8>, Vec<u8>>> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Vec<u8>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl Ksf for MemoArgon2 {
    fn hash<L: ArrayLength<u8>>(
        &self,
        input: GenericArray<u8, L>,
    ) -> Result<GenericArray<u8, L>, InternalError> {
        let key = input.to_vec();
        if let Some(out) = memo()
            .lock()
            .map_err(|_| InternalError::KsfError)?
            .get(&key)
        {
            return Ok(GenericArray::clone_from_slice(out));
        }
        let out = Argon2Ksf.hash(input)?;
        memo()
            .lock()
            .map_err(|_| InternalError::KsfError)?
            .insert(key, out.to_vec());
        Ok(out)
    }
}

/// medvault's suite with the memoising key stretching function.
struct LoadSuite;

impl CipherSuite for LoadSuite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::TripleDh<opaque_ke::Ristretto255, sha2::Sha512>;
    type Ksf = MemoArgon2;
}

/// One keep-alive HTTP/1.1 connection speaking just enough of the protocol.
struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

struct Reply {
    status: u16,
    cookie: Option<String>,
    body: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            addr,
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn post(&mut self, path: &str, body: &str, cookie: Option<&str>) -> std::io::Result<Reply> {
        let host = self.addr;
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
             x-medvault-request: 1\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nUser-Agent: medvault-loadgen\r\n{cookie}\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body.as_bytes())?;
        self.read_reply()
    }

    fn read_reply(&mut self) -> std::io::Result<Reply> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = None;
        let mut chunked = false;
        let mut cookie = None;
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
                "content-length" => length = value.parse().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "set-cookie" => {
                    cookie = value.split(';').next().map(str::to_owned);
                }
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
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            let mut b = vec![0; length.unwrap_or(0)];
            self.reader.read_exact(&mut b)?;
            body = b;
        }
        Ok(Reply {
            status,
            cookie,
            body,
        })
    }
}

fn json<T: serde::de::DeserializeOwned>(reply: &Reply) -> T {
    match serde_json::from_slice(&reply.body) {
        Ok(v) => v,
        Err(e) => panic!(
            "status {}: {e}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        ),
    }
}

/// Creates an account the way the app does (real Argon2, once).
fn sign_up(addr: SocketAddr, username: &str, password: &str) {
    let mut conn = Conn::open(addr).expect("connect");
    let (signup, start) = Signup::start(username, password, None).expect("signup start");
    let body = serde_json::json!({ "request": start }).to_string();
    let reply = conn
        .post("/api/account/signup/start", &body, None)
        .expect("post");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let started: SignupStarted = json(&reply);
    let account = signup.finish(&started, unix_now()).expect("signup finish");
    let body = serde_json::json!({ "request": account.request }).to_string();
    let reply = conn
        .post("/api/account/signup/finish", &body, None)
        .expect("post");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

/// One complete sign-in: KE1 → KE2, client finish, KE3 → session cookie.
fn sign_in(conn: &mut Conn, username: &str, password: &[u8]) -> std::io::Result<()> {
    let started = ClientLogin::<LoadSuite>::start(&mut Rng, password)
        .map_err(|_| std::io::Error::other("client start"))?;
    let ke1 = b64::encode(&started.message.serialize());
    let body = format!(r#"{{"request":{{"username":"{username}","ke1":"{ke1}"}}}}"#);
    let reply = conn.post("/api/account/login/start", &body, None)?;
    if reply.status != 200 {
        return Err(refused("login/start", &reply));
    }
    let ls: LoginStarted = json(&reply);
    let response = CredentialResponse::<LoadSuite>::deserialize(&ls.ke2)
        .map_err(|_| std::io::Error::other("ke2"))?;
    let ksf = MemoArgon2;
    let finished = started
        .state
        .finish(
            &mut Rng,
            password,
            response,
            ClientLoginFinishParameters::new(
                Some(context::OPAQUE_CONTEXT.as_bytes()),
                Identifiers::default(),
                Some(&ksf),
            ),
        )
        .map_err(|_| std::io::Error::other("client finish (wrong password?)"))?;
    let body = format!(
        r#"{{"request":{{"login_id":"{}","ke3":"{}"}}}}"#,
        b64::encode(&ls.login_id),
        b64::encode(&finished.message.serialize())
    );
    let reply = conn.post("/api/account/login/finish", &body, None)?;
    if reply.status != 200 || reply.cookie.is_none() {
        return Err(refused("login/finish", &reply));
    }
    Ok(())
}

/// The error for a step the server did not accept, with its answer.
fn refused(step: &str, reply: &Reply) -> std::io::Error {
    std::io::Error::other(format!(
        "{step} {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    ))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server process's user + system CPU time, from /proc (Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the name.
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|x| x.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}

struct Server {
    child: Child,
    addr: SocketAddr,
    _data: tempfile::TempDir,
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
    std::fs::write(
        site.path().join("index.html"),
        "<!DOCTYPE html><title>bench</title>",
    )
    .expect("index");
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
        _data: data,
        _site: site,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let clients = env_or("SIGNIN_CLIENTS", 32);
    let seconds = env_or("SIGNIN_SECONDS", 10);
    let users = env_or("SIGNIN_USERS", 16);
    let server = start_server();
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
    let mut lat = latencies.lock().expect("lock").clone();
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
    }
    if let Some(e) = errs.first() {
        println!("  first error: {e}");
    }
}
