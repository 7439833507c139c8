//! A real PostgreSQL for the tests: one throwaway cluster per test process
//! (`scripts/pg-test-cluster.sh`, on a free loopback port), and a fresh
//! schema per store, so that tests never see each other's rows.
//!
//! Set `MEDVAULT_TEST_POSTGRES` to a connection string to use a running
//! server instead. The store's unit tests include this file by path.
#![allow(dead_code, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The cluster and the process that keeps it alive: its standard input is a
/// pipe from this process, and the script stops the cluster when it closes.
pub struct Cluster {
    /// The connection string of the cluster's `postgres` database.
    pub url: String,
    _keeper: Option<Child>,
}

/// The process-wide test cluster, started on first use.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        if let Ok(url) = std::env::var("MEDVAULT_TEST_POSTGRES") {
            return Cluster { url, _keeper: None };
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-test-cluster.sh");
        let mut child = Command::new("bash")
            .arg(script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/pg-test-cluster.sh");
        let stdout = child.stdout.take().expect("the script's output");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let url = line.trim().to_owned();
        if !url.starts_with("postgres://") {
            panic!(
                "the PostgreSQL test cluster did not start (its messages are above); \
                 `scripts/setup.sh --test` installs PostgreSQL"
            );
        }
        Cluster {
            url,
            _keeper: Some(child),
        }
    })
}

/// Creates the schema `name` (if missing) and returns a connection string
/// whose search path is that schema: a store opened with it sees only it.
pub async fn schema_url(name: &str) -> String {
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "schema names here are plain identifiers"
    );
    let base = &cluster().url;
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .expect("connect to the test cluster");
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {name}"))
        .await
        .expect("create a test schema");
    drop(client);
    let _ = driver.await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{name}")
}

/// A schema name unique to this process and call.
pub fn unique_schema(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// [`schema_url`] from synchronous code (a test server's set-up runs inside
/// the test's runtime, where blocking on a future is not allowed): on a
/// thread of its own with a runtime of its own.
pub fn schema_url_blocking(name: &str) -> String {
    let name = name.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the schema")
            .block_on(schema_url(&name))
    })
    .join()
    .expect("the schema thread")
}

/// Whether this test run puts the servers it builds on PostgreSQL
/// (`MEDVAULT_TEST_STORE=postgres`) rather than on sled.
pub fn selected() -> bool {
    std::env::var("MEDVAULT_TEST_STORE").is_ok_and(|v| v == "postgres")
}
