//! The real server binary, for the tests that kill it, restart it or read
//! what it prints: one way to start it and to find the URL it listens at.
//! `process.rs` includes this file by path.
#![allow(dead_code, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_medvault-server");

/// `medvault-server serve` on `addr` with this site and data directory, on
/// PostgreSQL when `store` names it; standard output piped (for
/// [`read_url`]), errors passed through, logs at `log`.
pub fn command(site: &Path, data: &Path, addr: &str, store: Option<&str>, log: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--addr", addr, "--data"])
        .arg(data)
        .arg("--site")
        .arg(site)
        .env("MEDVAULT_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = store {
        command.arg("--store").arg(url);
    }
    command
}

/// Waits for the line the server prints once it listens and returns its URL
/// (`http://host:port/` or `https://…`).
pub fn read_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("the server's output");
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    line.split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned()
}

/// Starts the server on a free port with `extra` flags and returns it with
/// its URL.
pub fn start(site: &Path, data: &Path, store: Option<&str>, extra: &[&OsStr]) -> (Child, String) {
    let mut child = command(site, data, "127.0.0.1:0", store, "warn")
        .args(extra)
        .spawn()
        .expect("start medvault-server");
    let url = read_url(&mut child);
    (child, url)
}

/// `host:port` of a plain-HTTP URL.
pub fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}
