//! `kill -9` test of the durability promise: a write the store acknowledged is
//! on disk, intact, and a batch lands whole or not at all.
//!
//! Each cycle runs the `crash_writer` binary on one data directory kept across
//! cycles, waits for its first acknowledgement, lets it write for a random few
//! to few hundred milliseconds, kills it with SIGKILL and then reopens the store
//! here and checks everything acknowledged so far. `MEDVAULT_CRASH_CYCLES` sets
//! the number of cycles (default 20); `MEDVAULT_CRASH_SEED` replays a run.
//! On failure the data directory is kept and its path printed.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/postgres.rs"]
mod pg;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use server::store::keys::KeyReader;
use server::store::{SledStore, Space, Store, StoreError};

// The writer's layout (keys, values, which writes are batches) has one
// definition, in the binary; `main` is unused here.
#[allow(dead_code)]
#[path = "../src/bin/crash_writer.rs"]
mod crash_writer;

use crash_writer::{
    is_batch, part_key, parts, record_key, value, MARKERS, MARKER_PART, PARTS, RECORDS,
};

/// How long a fresh writer may take to open the store and acknowledge once.
const FIRST_ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// The random run time after the first acknowledgement, in milliseconds.
const KILL_AFTER_MS: (u64, u64) = (3, 300);

/// xorshift64*: enough randomness for kill timing, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

#[derive(Default)]
struct Findings {
    /// Acknowledged writes missing in whole or in part.
    lost: Vec<String>,
    /// Values or keys that are not what any write wrote.
    corrupt: Vec<String>,
    /// Batches of which only some ops are visible.
    torn: Vec<String>,
}

impl Findings {
    fn is_clean(&self) -> bool {
        self.lost.is_empty() && self.corrupt.is_empty() && self.torn.is_empty()
    }

    fn print(&self) {
        for (kind, list) in [
            ("lost", &self.lost),
            ("corrupt", &self.corrupt),
            ("torn", &self.torn),
        ] {
            for line in list.iter().take(20) {
                eprintln!("  {kind}: {line}");
            }
            if list.len() > 20 {
                eprintln!("  ... and {} more {kind}", list.len() - 20);
            }
        }
    }
}

/// Keys present per keyspace, after checking each value against its key.
#[derive(Default)]
struct Present {
    records: BTreeSet<u64>,
    parts: BTreeSet<(u64, u8)>,
    markers: BTreeSet<u64>,
}

#[test]
fn kill_9_never_loses_acknowledged_writes() {
    let cycles: u64 = std::env::var("MEDVAULT_CRASH_CYCLES")
        .ok()
        .map(|v| v.parse().expect("MEDVAULT_CRASH_CYCLES must be a number"))
        .unwrap_or(20);
    let seed: u64 = std::env::var("MEDVAULT_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("MEDVAULT_CRASH_SEED must be a number"))
        .unwrap_or_else(|| {
            let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            (t.as_nanos() as u64) | 1
        });
    println!("crash test: seed {seed} (set MEDVAULT_CRASH_SEED to replay)");
    let mut rng = Rng(seed | 1);

    let dir = tempfile::Builder::new()
        .prefix("medvault-crash-")
        .tempdir()
        .unwrap();
    // The writer's store: sled in `dir`, or a schema of the test cluster on
    // a PostgreSQL run (the writer dies; PostgreSQL's commits stay).
    let location: std::ffi::OsString = if pg::selected() {
        pg::schema_url_blocking(&pg::unique_schema("crash")).into()
    } else {
        dir.path().into()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let started = Instant::now();
    let mut last_acked = 0u64;
    for cycle in 1..=cycles {
        let first = last_acked + 1;
        let kill_after = Duration::from_millis(rng.between(KILL_AFTER_MS.0, KILL_AFTER_MS.1));
        last_acked = run_and_kill(&location, first, kill_after);

        let verify_started = Instant::now();
        let findings = runtime.block_on(verify(&location, last_acked));
        println!(
            "cycle {cycle}: wrote from {first}, {} acks, killed {} ms after the first; \
             checked writes 1..={last_acked} in {} ms",
            last_acked + 1 - first,
            kill_after.as_millis(),
            verify_started.elapsed().as_millis(),
        );
        if !findings.is_clean() {
            findings.print();
            println!(
                "crash test: {cycle} cycles, {last_acked} acknowledged writes, {} lost, \
                 {} corrupt, {} torn",
                findings.lost.len(),
                findings.corrupt.len(),
                findings.torn.len()
            );
            let kept = dir.keep();
            panic!(
                "cycle {cycle} (seed {seed}): acknowledged data did not survive kill -9; \
                 data directory kept at {}",
                kept.display()
            );
        }
    }
    println!(
        "crash test: {cycles} cycles, {last_acked} acknowledged writes, 0 lost, 0 corrupt, \
         0 torn ({:.1} s, data directory {} MiB)",
        started.elapsed().as_secs_f64(),
        dir_size(dir.path()) >> 20
    );
}

/// Runs one writer from `first`, kills it `kill_after` its first ack, and
/// returns the last write it acknowledged; acknowledging none fails the test.
fn run_and_kill(dir: &std::ffi::OsStr, first: u64, kill_after: Duration) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
        .arg(dir)
        .arg(first.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crash_writer");
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let errors = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut got = Vec::new();
    match lines.recv_timeout(FIRST_ACK_TIMEOUT) {
        Ok(line) => {
            got.push(line);
            thread::sleep(kill_after);
        }
        Err(_) => {
            // Dead before its first ack, or hung: either way a failure below.
        }
    }
    // std's kill is SIGKILL on unix: no destructor, no flush, no goodbye.
    let _ = child.kill();
    let status = child.wait().expect("reap crash_writer");
    reader.join().unwrap();
    got.extend(lines.try_iter());
    let stderr = errors.join().unwrap();

    // Acks must count up from `first` with no gap: the writer is sequential.
    let mut expected = first;
    for line in &got {
        let n: Option<u64> = line.strip_prefix("ack ").and_then(|n| n.parse().ok());
        assert_eq!(
            n,
            Some(expected),
            "unexpected line from crash_writer: {line:?}\nstderr:\n{stderr}"
        );
        expected += 1;
    }
    assert!(
        !got.is_empty(),
        "crash_writer acknowledged nothing from {first} ({status})\nstderr:\n{stderr}"
    );
    expected - 1
}

/// Reopens the store after a kill and checks it against the writes 1..=`last_acked`
/// (all must be there) and `last_acked + 1` (may or may not have landed; it
/// was in flight when the writer died).
async fn verify(location: &std::ffi::OsStr, last_acked: u64) -> Findings {
    let mut findings = Findings::default();
    let opened: Result<Box<dyn Store>, StoreError> = match location.to_str() {
        Some(url) if server::store::postgres::is_postgres_url(url) => {
            server::store::PgStore::connect(url, 2)
                .await
                .map(|s| Box::new(s) as Box<dyn Store>)
        }
        _ => SledStore::open(Path::new(location)).map(|s| Box::new(s) as Box<dyn Store>),
    };
    let store = match opened {
        Ok(store) => store,
        Err(e) => {
            findings.corrupt.push(format!("store does not open: {e}"));
            return findings;
        }
    };
    let in_flight = last_acked + 1;
    let present = match collect(store.as_ref(), in_flight, &mut findings).await {
        Ok(present) => present,
        Err(e) => {
            findings.corrupt.push(format!("store cannot be read: {e}"));
            return findings;
        }
    };

    // Did the in-flight write land? For a batch, all of it or none of it.
    let in_flight_landed = if is_batch(in_flight) {
        let pieces = 2 + usize::from(parts(in_flight));
        let seen = usize::from(present.records.contains(&in_flight))
            + usize::from(present.markers.contains(&in_flight))
            + (1..=parts(in_flight))
                .filter(|&i| present.parts.contains(&(in_flight, i)))
                .count();
        // Its delete of the previous record is part of the batch too.
        let seen_delete = !present.records.contains(&last_acked);
        match (seen, seen_delete) {
            (0, false) => false,
            (s, true) if s == pieces => true,
            _ => {
                let mut visible = Vec::new();
                if present.records.contains(&in_flight) {
                    visible.push("record".to_string());
                }
                if present.markers.contains(&in_flight) {
                    visible.push("marker".to_string());
                }
                for i in 1..=parts(in_flight) {
                    if present.parts.contains(&(in_flight, i)) {
                        visible.push(format!("part {i}"));
                    }
                }
                findings.torn.push(format!(
                    "in-flight batch {in_flight}: {seen} of {pieces} puts visible ({}), \
                     delete of {last_acked} {}",
                    visible.join(", "),
                    if seen_delete {
                        "applied"
                    } else {
                        "not applied"
                    }
                ));
                true
            }
        }
    } else {
        present.records.contains(&in_flight)
    };

    for n in 1..=last_acked {
        if is_batch(n) {
            let mut missing = Vec::new();
            if !present.records.contains(&n) {
                missing.push("record".to_string());
            }
            if !present.markers.contains(&n) {
                missing.push("marker".to_string());
            }
            for i in 1..=parts(n) {
                if !present.parts.contains(&(n, i)) {
                    missing.push(format!("part {i}"));
                }
            }
            if !missing.is_empty() {
                findings
                    .lost
                    .push(format!("batch {n}: missing {}", missing.join(", ")));
            }
        } else if is_batch(n + 1) {
            // Deleted by the next write if that landed; whether the in-flight
            // one did was judged above.
            let next = n + 1;
            let next_acked = next <= last_acked;
            let deleted = next_acked || in_flight_landed;
            if next_acked && present.records.contains(&n) {
                findings.torn.push(format!(
                    "record {n} is back although acknowledged batch {next} deleted it"
                ));
            } else if !deleted && !present.records.contains(&n) {
                findings.lost.push(format!("record {n}: missing"));
            }
        } else if !present.records.contains(&n) {
            findings.lost.push(format!("record {n}: missing"));
        }
    }
    findings
}

/// Reads every key of every keyspace in pages, checking each value against
/// the one its key says was written, and flags keys no write could have made.
async fn collect(
    store: &dyn Store,
    in_flight: u64,
    findings: &mut Findings,
) -> Result<Present, StoreError> {
    let mut present = Present::default();
    for space in Space::ALL {
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = store.scan_prefix(space, b"", after.as_deref(), 256).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (key, stored) in page {
                let parsed = parse(space, &key);
                let (n, part) = match parsed {
                    Some((n, part)) if (1..=in_flight).contains(&n) => (n, part),
                    _ => {
                        findings
                            .corrupt
                            .push(format!("{space}: unexpected key {key:02x?}"));
                        continue;
                    }
                };
                if stored != value(n, part) {
                    findings.corrupt.push(format!(
                        "{space}: write {n} part {part}: value differs ({} bytes stored, {} \
                         expected)",
                        stored.len(),
                        value(n, part).len()
                    ));
                    continue;
                }
                match space {
                    s if s == RECORDS => present.records.insert(n),
                    s if s == PARTS => present.parts.insert((n, part)),
                    _ => present.markers.insert(n),
                };
            }
        }
    }
    Ok(present)
}

/// The write number and part a key belongs to, if it is one the writer makes.
fn parse(space: Space, key: &[u8]) -> Option<(u64, u8)> {
    let mut r = KeyReader::new(key);
    let n = r.u64().ok()?;
    let part = if space == RECORDS {
        0
    } else if space == PARTS {
        let i = r.u8().ok()?;
        if !is_batch(n) || !(1..=parts(n)).contains(&i) {
            return None;
        }
        i
    } else if space == MARKERS {
        if !is_batch(n) {
            return None;
        }
        MARKER_PART
    } else {
        return None;
    };
    r.finish().ok()?;
    // Round-trip through the writer's own key functions, so the layouts
    // cannot drift apart unnoticed.
    let expected = match part {
        0 | MARKER_PART => record_key(n),
        i => part_key(n, i),
    };
    (expected == key).then_some((n, part))
}

/// Bytes under `dir`, to keep an eye on sled's space use under fsync-per-write.
fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            dir_size(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}
