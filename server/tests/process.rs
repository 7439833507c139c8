//! The real binary: it listens, answers, explains its flags, refuses to start
//! without a built app, and on SIGTERM finishes cleanly with the store flushed.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    ffi::OsStr,
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};

#[path = "common/binary.rs"]
mod binary;
use binary::BIN;

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!DOCTYPE html><html><head><script type=\"module\">1</script></head></html>",
    )
    .unwrap();
    dir
}

/// Starts the server on a free port with any extra flags, and returns it with
/// the URL it printed (`http://…/` or `https://…/`).
fn start_with(site: &Path, data: &Path, extra: &[&OsStr]) -> (Child, String) {
    binary::start(site, data, None, extra)
}

/// Starts a plain-HTTP server and returns it with its `host:port`.
fn start(site: &Path, data: &Path) -> (Child, String) {
    let (child, url) = start_with(site, data, &[]);
    (child, binary::host_port(&url))
}

/// A minimal HTTP/1.1 GET over a raw socket: status line and body.
fn http_get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.lines().next().unwrap_or_default().to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("server did not stop within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let site = site();
    let data = tempfile::tempdir().unwrap();
    let (mut child, addr) = start(site.path(), data.path());

    let (status, body) = http_get(&addr, "/api/health");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"store_open\":true"), "{body}");

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = wait_exit(&mut child, Duration::from_secs(20));
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");

    // The store was closed and flushed: it opens again at once, and a second
    // server can take the same directory.
    let (mut again, addr) = start(site.path(), data.path());
    let (status, _) = http_get(&addr, "/api/health");
    assert!(status.contains("200"), "{status}");
    again.kill().unwrap();
    let _ = again.wait();
}

#[test]
fn refuses_to_start_without_a_built_app() {
    let data = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .arg("--site")
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("index.html"), "{err}");
    assert!(
        err.contains("Build the app"),
        "the error says what to do: {err}"
    );
}

/// Plain HTTP on an address other machines reach is refused before anything
/// is bound or opened, with a sentence that names every way out; nothing is
/// ever listening, so the test stays on loopback.
#[test]
fn refuses_plain_http_on_a_network_address() {
    let site = site();
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("store");
    let out = Command::new(BIN)
        .args(["serve", "--addr", "0.0.0.0:0", "--data"])
        .arg(&store)
        .arg("--site")
        .arg(site.path())
        .env_remove("MEDVAULT_INSECURE_HTTP")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to serve plain HTTP on 0.0.0.0:0"),
        "{err}"
    );
    for way_out in [
        "--tls-cert",
        "--public-origin https://",
        "127.0.0.1",
        "--insecure-http",
    ] {
        assert!(err.contains(way_out), "{way_out} missing from: {err}");
    }
    assert!(!store.exists(), "nothing was created");
}

/// The test clock is compiled only with the `test-clock` feature: the binary
/// `cargo build` and `cargo test` make has no `--test-clock-file`, so clap
/// refuses it (exit code 2) before anything starts.
#[cfg(not(feature = "test-clock"))]
#[test]
fn fail_test_clock_flag_on_a_build_without_the_feature() {
    let site = site();
    let data = tempfile::tempdir().unwrap();
    let clock = data.path().join("clock");
    std::fs::write(&clock, "86400").unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .arg("--site")
        .arg(site.path())
        .arg("--test-clock-file")
        .arg(&clock)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A binary that accepts the flag starts serving instead: it is killed
    // and the test fails here rather than hanging.
    let status = wait_exit(&mut child, Duration::from_secs(20));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(2), "clap's usage error: {err}");
    assert!(
        err.contains("unexpected argument '--test-clock-file'"),
        "{err}"
    );
}

#[test]
fn help_explains_every_flag() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--addr",
        "--data",
        "--site",
        "--tls-cert",
        "--tls-key",
        "--max-body-bytes",
        "--request-timeout-secs",
        "--quota-bytes",
        "--max-file-bytes",
        "--insecure-http",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn serves_https_with_hsts_when_given_a_certificate() {
    // A throwaway self-signed certificate from the openssl CLI; curl is the client.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is needed to make a test certificate");
    assert!(made.status.success());

    let site = site();
    let data = tempfile::tempdir().unwrap();
    let tls_flags = [
        OsStr::new("--tls-cert"),
        cert.as_os_str(),
        OsStr::new("--tls-key"),
        key.as_os_str(),
    ];
    let (mut child, url) = start_with(site.path(), data.path(), &tls_flags);
    assert!(url.starts_with("https://"), "{url}");

    let out = Command::new("curl")
        .args(["-sk", "-D", "-", &format!("{url}api/health")])
        .output()
        .expect("curl is needed as the TLS client");
    child.kill().unwrap();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(text.contains(" 200"), "{text}");
    assert!(
        text.contains("strict-transport-security: max-age="),
        "{text}"
    );
    assert!(text.contains("\"store_open\":true"), "{text}");
}

/// The command-line invite works while a server runs on the same data
/// directory (sled holds a lock on it), and the link it prints signs up an admin.
#[test]
fn create_admin_invite_works_while_the_server_runs() {
    let site = site();
    let data = tempfile::tempdir().unwrap();
    let (mut child, addr) = start(site.path(), data.path());
    let out = Command::new(BIN)
        .args([
            "create-admin-invite",
            "--base-url",
            "https://medvault.example/",
            "--data",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let link = text.lines().next().unwrap();
    assert!(
        link.starts_with("https://medvault.example/signup?invite="),
        "{text}"
    );
    assert!(
        text.contains("works once and expires in 24 hours"),
        "{text}"
    );
    let code = link.split("invite=").nth(1).unwrap();

    // The running server accepts it.
    let body = format!("{{\"code\":\"{code}\"}}");
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /api/account/invite-info HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nx-medvault-request: 1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"role\":\"admin\""), "{answer}");

    child.kill().unwrap();
    let _ = child.wait();
}

/// The server process, killed when the test ends, failed assertions included
/// (a leaked server would keep the test runner's output open).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads what the server sends until it closes the connection or `within`
/// passes; returns the text and whether the server closed it.
fn read_until_closed(s: &mut TcpStream, within: Duration) -> (String, bool) {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            // A reset is a close too.
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), true),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), false)
}

/// A chunk PUT without a session is answered 401 while the client is still
/// sending: the server reads no body before it knows who is calling.
#[test]
fn fail_chunk_put_without_a_session_before_its_body_is_read() {
    let site = site();
    let data = tempfile::tempdir().unwrap();
    let (child, addr) = start(site.path(), data.path());
    let _server = Running(child);
    let mut s = TcpStream::connect(&addr).unwrap();
    let full = 4 * 1024 * 1024 + 16;
    write!(
        s,
        "PUT /api/records/chunk/AAAAAAAAAAAAAAAAAAAAAA/1/0 HTTP/1.1\r\nHost: {addr}\r\n\
         Origin: http://{addr}\r\nx-medvault-request: 1\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {full}\r\n\r\n"
    )
    .unwrap();
    // A first slice of the body; the rest is never sent.
    s.write_all(&[7u8; 1024]).unwrap();
    let (text, _) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(text.starts_with("HTTP/1.1 401"), "{text:?}");
    assert!(text.contains(r#""code":"unauthorized""#), "{text:?}");
}

/// With `--request-timeout-secs 2`: headers that never finish get the
/// connection closed, and a body that stalls gets 408 `request_timeout`.
#[test]
fn fail_slow_clients_are_cut_off_by_the_timeouts() {
    let site = site();
    let data = tempfile::tempdir().unwrap();
    let (child, url) = start_with(
        site.path(),
        data.path(),
        &[OsStr::new("--request-timeout-secs"), OsStr::new("2")],
    );
    let _server = Running(child);
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    // Headers that stop half way.
    let mut slow = TcpStream::connect(&addr).unwrap();
    let started = Instant::now();
    write!(slow, "GET /api/health HTTP/1.1\r\nHost: {addr}\r\n").unwrap();
    let (text, closed) = read_until_closed(&mut slow, Duration::from_secs(15));
    assert!(closed, "the server kept waiting for the headers");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "closed too early"
    );
    assert!(!text.starts_with("HTTP/1.1 2"), "{text:?}");

    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(&addr).unwrap();
    let started = Instant::now();
    let (text, closed) = read_until_closed(&mut silent, Duration::from_secs(15));
    assert!(
        closed && text.is_empty(),
        "a silent connection was kept open"
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // A kept-alive connection that goes quiet after its answer.
    let mut idle = TcpStream::connect(&addr).unwrap();
    write!(idle, "GET /api/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let (text, closed) = read_until_closed(&mut idle, Duration::from_secs(15));
    assert!(text.starts_with("HTTP/1.1 200"), "{text:?}");
    assert!(closed, "an idle kept-alive connection was kept open");

    // A body that stops half way.
    let mut stalled = TcpStream::connect(&addr).unwrap();
    let started = Instant::now();
    write!(
        stalled,
        "POST /api/account/login/start HTTP/1.1\r\nHost: {addr}\r\n\
         Origin: http://{addr}\r\nx-medvault-request: 1\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"request\":"
    )
    .unwrap();
    let (text, _) = read_until_closed(&mut stalled, Duration::from_secs(15));
    assert!(text.starts_with("HTTP/1.1 408"), "{text:?}");
    assert!(text.contains(r#""code":"request_timeout""#), "{text:?}");
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // The server still serves everyone else.
    let (status, _) = http_get(&addr, "/api/health");
    assert!(status.contains("200"), "{status}");
}

/// The public audit key the server at `addr` serves (an API read, with the
/// header the API asks of every call).
fn served_audit_key(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /api/audit/key HTTP/1.1\r\nHost: {addr}\r\nx-medvault-request: 1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

/// `audit-key init` writes the key once (0600, never over an existing file)
/// and prints its public key and fingerprint; `serve --audit-key-file` signs
/// with it; without the flag the key goes beside the data directory.
#[test]
fn audit_key_init_writes_once_and_serve_uses_it() {
    let keys = tempfile::tempdir().unwrap();
    let file = keys.path().join("audit.key");
    let init = || {
        Command::new(BIN)
            .args(["audit-key", "init", "--out"])
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = init();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .trim()
            .to_owned()
    };
    let public = field("Public key:");
    let fingerprint = field("Fingerprint:");
    assert_eq!(fingerprint.split(' ').count(), 8, "{fingerprint}");
    let written = std::fs::read(&file).unwrap();
    assert_eq!(written.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second init refuses and leaves the key alone.
    let again = init();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("never overwritten"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), written);

    let site = site();
    let data = tempfile::tempdir().unwrap();
    let (child, url) = start_with(
        site.path(),
        data.path(),
        &[OsStr::new("--audit-key-file"), file.as_os_str()],
    );
    let child = Running(child);
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let body = served_audit_key(addr);
    assert!(body.contains(&public), "{body} should name {public}");
    drop(child);
    let beside = |dir: &Path| {
        let mut name = dir.file_name().unwrap().to_os_string();
        name.push(".audit-key");
        dir.with_file_name(name)
    };
    assert!(
        !beside(data.path()).exists(),
        "no default key file when one is given"
    );

    // Without the flag: `<data-dir>.audit-key`, beside the data directory.
    let data2 = tempfile::tempdir().unwrap();
    let (child, url) = start_with(site.path(), data2.path(), &[]);
    let child = Running(child);
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let body = served_audit_key(addr);
    drop(child);
    let beside = beside(data2.path());
    let seed: [u8; 32] = std::fs::read(&beside).unwrap().try_into().unwrap();
    let made = shared::crypto::sign::SigningKey::from_seed(&seed);
    assert!(
        body.contains(&shared::crypto::b64::encode(
            &made.verifying_key().to_bytes()
        )),
        "{body}"
    );
    assert!(std::fs::read_dir(data2.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("audit")));
    std::fs::remove_file(beside).unwrap();
}
