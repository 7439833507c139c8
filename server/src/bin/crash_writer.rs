//! Child process for `tests/crash.rs`: writes numbered records into a
//! [`SledStore`] as fast as it can and prints `ack <n>` once write `n` has been
//! acknowledged (the store returned `Ok`, so it is on disk). The test kills it
//! with SIGKILL at a random moment and checks that every acknowledged write
//! survived intact and that no batch landed in part.
//!
//! Usage: `crash_writer <data-dir> <first-n>`. Writes are numbered from
//! `first-n` upwards and are a pure function of their number, so a rerun that
//! repeats an unacknowledged write rewrites the same bytes, and the checker can
//! regenerate every expected value. The test includes this file as a module to
//! share that layout, so it has one definition.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use server::store::keys::Key;
use server::store::{postgres::is_postgres_url, Batch, PgStore, SledStore, Space, Store};

/// Keyspace of each write's main record.
pub const RECORDS: Space = Space::Records;
/// Keyspace of a batch's extra parts, so batches span several trees.
pub const PARTS: Space = Space::Blobs;
/// Keyspace of a batch's marker, a third tree in the same batch.
pub const MARKERS: Space = Space::Audit;
/// Part number of a marker value, distinct from every record and part.
pub const MARKER_PART: u8 = 0xff;
/// An orphaned writer (its parent died without killing it) stops by itself
/// rather than filling the disk.
const SAFETY_LIMIT: Duration = Duration::from_secs(120);

/// Every fourth write is a multi-key batch; the others are single puts.
pub fn is_batch(n: u64) -> bool {
    n.is_multiple_of(4)
}

/// How many parts batch `n` writes into [`PARTS`] (1 to 3).
pub fn parts(n: u64) -> u8 {
    1 + (n / 4 % 3) as u8
}

/// Key of write `n`'s record in [`RECORDS`], and of its marker in [`MARKERS`].
pub fn record_key(n: u64) -> Vec<u8> {
    Key::new().u64(n).finish()
}

/// Key of part `i` of batch `n` in [`PARTS`].
pub fn part_key(n: u64, i: u8) -> Vec<u8> {
    Key::new().u64(n).u8(i).finish()
}

/// The value of part `part` of write `n`: a header naming it, then
/// pseudo-random bytes, 1 to 4 KiB, and now and then 192 KiB so that sled's
/// large-item path is exercised too (file chunks will be 1 MiB).
pub fn value(n: u64, part: u8) -> Vec<u8> {
    let mut x = splitmix(n ^ (u64::from(part) << 56));
    let len = if part == 0 && n.is_multiple_of(97) {
        192 * 1024
    } else {
        1024 + (x % 3072) as usize
    };
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&n.to_be_bytes());
    out.push(part);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    while out.len() < len {
        x = splitmix(x);
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Write `n` as one batch: its record, and for a batch also its parts,
/// its marker and the deletion of the previous write's record (so a torn batch
/// shows as a resurrected or a missing key, and deletes are crash-tested too).
pub fn write_for(n: u64) -> Batch {
    let mut batch = Batch::new();
    batch.put(RECORDS, record_key(n), value(n, 0));
    if is_batch(n) {
        for i in 1..=parts(n) {
            batch.put(PARTS, part_key(n, i), value(n, i));
        }
        batch.put(MARKERS, record_key(n), value(n, MARKER_PART));
        batch.delete(RECORDS, record_key(n - 1));
    }
    batch
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    const USAGE: &str = "usage: crash_writer <data-dir or postgres://...> <first-n>";
    let mut args = std::env::args().skip(1);
    let location = args.next().ok_or(USAGE)?;
    let first: u64 = args.next().ok_or(USAGE)?.parse()?;
    if first == 0 {
        return Err("writes are numbered from 1".into());
    }

    let store: Box<dyn Store> = if is_postgres_url(&location) {
        Box::new(PgStore::connect(&location, 2).await?)
    } else {
        Box::new(SledStore::open(&PathBuf::from(location))?)
    };
    let started = Instant::now();
    let mut stdout = std::io::stdout().lock();
    for n in first.. {
        if started.elapsed() > SAFETY_LIMIT {
            break;
        }
        if is_batch(n) {
            store.apply(write_for(n)).await?;
        } else {
            // Single puts go through the convenience method handlers use.
            store.put(RECORDS, record_key(n), value(n, 0)).await?;
        }
        // A failed write to stdout means the test is gone: stop writing.
        writeln!(stdout, "ack {n}")?;
        stdout.flush()?;
    }
    Ok(())
}
