//! What the load generators share: a minimal keep-alive HTTP/1.1 client (so
//! the numbers measure the server, not a client library), the server process,
//! sign-up, and /proc readings. Used by `signin_load`, `chunk_load`,
//! `chunk_get`, `biglist_seed` and `overload`.
#![allow(dead_code)]

pub mod records;
pub mod signin;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use shared::{
    api::account::SignupStarted,
    client::{NewAccount, Signup},
};

/// One keep-alive HTTP/1.1 connection speaking just enough of the protocol.
pub struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

/// A whole HTTP answer.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The session cookie it set, as `name=value`.
    pub cookie: Option<String>,
    /// Its `Retry-After` header, as sent.
    pub retry_after: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Conn {
    /// Connects (loopback, no Nagle).
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            addr,
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// A JSON POST, with the CSRF header and Origin the server demands.
    pub fn post(&mut self, path: &str, body: &str, cookie: Option<&str>) -> std::io::Result<Reply> {
        self.request(
            "POST",
            path,
            Some(("application/json", body.as_bytes())),
            cookie,
        )
    }

    /// A PUT of raw bytes (a chunk).
    pub fn put_bytes(
        &mut self,
        path: &str,
        body: &[u8],
        cookie: Option<&str>,
    ) -> std::io::Result<Reply> {
        self.request(
            "PUT",
            path,
            Some(("application/octet-stream", body)),
            cookie,
        )
    }

    /// A GET.
    pub fn get(&mut self, path: &str, cookie: Option<&str>) -> std::io::Result<Reply> {
        self.request("GET", path, None, cookie)
    }

    /// One request on the kept-alive connection, and its whole answer.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
        cookie: Option<&str>,
    ) -> std::io::Result<Reply> {
        let host = self.addr;
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        let (content_type, body) = match body {
            Some((t, b)) => (format!("Content-Type: {t}\r\n"), b),
            None => (String::new(), &[][..]),
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
             x-medvault-request: 1\r\n{content_type}\
             Accept: application/json\r\nUser-Agent: medvault-loadgen\r\n{cookie}\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body)?;
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
        let mut retry_after = None;
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
                "retry-after" => retry_after = Some(value.to_owned()),
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
            retry_after,
            body,
        })
    }
}

/// Parses a JSON answer, or panics with what the server said.
pub fn json<T: serde::de::DeserializeOwned>(reply: &Reply) -> T {
    match serde_json::from_slice(&reply.body) {
        Ok(v) => v,
        Err(e) => panic!(
            "status {}: {e}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        ),
    }
}

/// The error for a step the server did not accept, with its answer.
pub fn refused(step: &str, reply: &Reply) -> std::io::Error {
    std::io::Error::other(format!(
        "{step} {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    ))
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server process's user + system CPU time, from /proc (Linux).
pub fn cpu_seconds(pid: u32) -> f64 {
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

/// The server process's resident memory in bytes, from /proc (Linux).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Latency percentile `p` (0..=1) of sorted samples, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let n = sorted.len();
    sorted
        .get(
            ((n as f64 * p).ceil() as usize)
                .saturating_sub(1)
                .min(n.saturating_sub(1)),
        )
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(f64::NAN)
}

/// Creates an account the way the app does (real Argon2, once) and returns
/// its session cookie and keys.
pub fn sign_up(addr: SocketAddr, username: &str, password: &str) -> (String, NewAccount) {
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
    let mut account = signup.finish(&started, unix_now()).expect("signup finish");
    // Benchmarks make the record themselves (records/create) when they need one.
    account.request.record = None;
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
    let cookie = reply.cookie.expect("session cookie");
    (cookie, account)
}
/// A release server process on a free loopback port, killed on drop.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data: tempfile::TempDir,
    _site: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server binary (`MEDVAULT_SERVER_BIN`, else the release build)
/// with `extra` arguments after `serve`'s own.
pub fn start_server(extra: &[&str]) -> Server {
    start_server_in(tempfile::tempdir().expect("tempdir"), extra)
}

/// [`start_server`] on a given data directory.
pub fn start_server_in(data: tempfile::TempDir, extra: &[&str]) -> Server {
    let bin = std::env::var("MEDVAULT_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/medvault-server")
        });
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
        .args(extra)
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
