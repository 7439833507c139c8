//! The real binary: it listens, answers, explains its flags, refuses to start
//! without a built app, and on SIGTERM finishes cleanly with the store flushed.

use std::{
    ffi::OsStr,
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_medvault-server");

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
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--site")
        .arg(site)
        .args(extra)
        .env("MEDVAULT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    (child, url)
}

/// Starts a plain-HTTP server and returns it with its `host:port`.
fn start(site: &Path, data: &Path) -> (Child, String) {
    let (child, url) = start_with(site, data, &[]);
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    (child, addr)
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
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
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
        "--quota-bytes",
        "--max-file-bytes",
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
