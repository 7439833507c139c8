//! The attempt counts in a store shared by several servers, so that a guesser
//! who spreads guesses over every server still meets one limit.
//!
//! Each count is one row of the Sessions keyspace: `20 ‖ username` for an
//! account, `21 ‖ address` for a client address (length-prefixed parts), whose
//! value is the count as JSON (times and attempt numbers of the last hour's
//! failures, the failures since the last success, the time before which no
//! attempt is accepted). A change reads the rows, changes them and writes
//! them back under the precondition that they are still as read; when another
//! server changed one first, it reads again. A row that holds nothing any
//! more is deleted, and [`Stored::sweep`] deletes those whose hour has passed.
//! Attempt numbers are random, so that no two servers hand out the same one.

use std::{net::IpAddr, sync::Mutex};

use shared::{api::ApiError, crypto::rng};

use super::{too_many, Record, ACCOUNT_FAILURES_PER_HOUR, ADDRESS_FAILURES_PER_HOUR};
use crate::{
    backend::{internal, store_error},
    store::{codec, keys::Key, Batch, Space, Store, StoreError},
};

const ACCOUNT: u8 = 20;
const ADDRESS: u8 = 21;
/// How often a change is tried again after another request's change won.
/// Every client behind one address (a NAT, a proxy not named with
/// `--trusted-proxy`) shares that address's row, so retries are the normal
/// case under load: each waits a random while, growing to [`BACKOFF_MAX_MS`].
const RETRIES: usize = 64;
/// The longest wait between two tries, in milliseconds.
const BACKOFF_MAX_MS: u64 = 32;
/// Rows looked at per kind and sweep.
const SWEEP_PAGE: usize = 500;
/// A process sweeps at most this often (seconds of the server's clock).
const SWEEP_EVERY_SECS: i64 = 60;

/// One count's row: its key, its limit per hour and whether failures delay.
struct Row {
    key: Vec<u8>,
    cap: usize,
    delays: bool,
}

fn account_row(username: &str) -> Row {
    Row {
        key: Key::new().u8(ACCOUNT).str(username).finish(),
        cap: ACCOUNT_FAILURES_PER_HOUR,
        delays: true,
    }
}

fn address_row(addr: IpAddr) -> Row {
    let bytes = match addr {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    Row {
        key: Key::new().u8(ADDRESS).bytes(&bytes).finish(),
        cap: ADDRESS_FAILURES_PER_HOUR,
        delays: false,
    }
}

/// The counts of a shared store.
pub(super) struct Stored {
    store: std::sync::Arc<dyn Store>,
    /// Where the next sweep of each kind goes on.
    cursors: Mutex<[Option<Vec<u8>>; 2]>,
    last_sweep: std::sync::atomic::AtomicI64,
    /// One queue per shard of rows, taken in ascending order.
    locks: Vec<tokio::sync::Mutex<()>>,
}

/// Shards of [`Stored::locks`].
const LOCK_SHARDS: usize = 64;

fn shard_of(key: &[u8]) -> usize {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key);
    usize::from(digest[0]) % LOCK_SHARDS
}

impl Stored {
    pub(super) fn new(store: std::sync::Arc<dyn Store>) -> Self {
        Stored {
            store,
            cursors: Mutex::new([None, None]),
            last_sweep: std::sync::atomic::AtomicI64::new(i64::MIN),
            locks: (0..LOCK_SHARDS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    async fn read(&self, row: &Row) -> Result<(Option<Vec<u8>>, Record), StoreError> {
        match self.store.get(Space::Sessions, &row.key).await? {
            Some(bytes) => {
                let record = codec::decode(&bytes)?;
                Ok((Some(bytes), record))
            }
            None => Ok((None, Record::default())),
        }
    }

    /// Seconds to wait before an attempt on both rows, or 0.
    async fn wait(&self, rows: &mut [(Row, Option<Vec<u8>>, Record)], now: i64) -> i64 {
        rows.iter_mut()
            .map(|(row, _, record)| record.wait(now, row.cap, row.delays))
            .max()
            .unwrap_or(0)
    }

    /// Reads `rows`, lets `change` refuse or change them, and writes them
    /// back if nobody changed them meanwhile (else reads again). Given the
    /// time, a row left holding nothing is deleted instead.
    async fn change<T>(
        &self,
        rows: Vec<Row>,
        now: Option<i64>,
        mut change: impl FnMut(&mut [(Row, Option<Vec<u8>>, Record)]) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        // This process's changes to the same rows queue here, so that only
        // other servers' changes can make a precondition fail.
        let mut shards: Vec<usize> = rows.iter().map(|r| shard_of(&r.key)).collect();
        shards.sort_unstable();
        shards.dedup();
        let mut _held = Vec::with_capacity(shards.len());
        for shard in shards {
            if let Some(lock) = self.locks.get(shard) {
                _held.push(lock.lock().await);
            }
        }
        let mut rows: Vec<(Row, Option<Vec<u8>>, Record)> = rows
            .into_iter()
            .map(|r| (r, None, Record::default()))
            .collect();
        for tried in 0..RETRIES {
            for (row, old, record) in rows.iter_mut() {
                (*old, *record) = self.read(row).await.map_err(store_error)?;
            }
            let answer = change(&mut rows)?;
            let mut batch = Batch::new();
            for (row, old, record) in &rows {
                match old {
                    Some(bytes) => {
                        batch.expect_value(Space::Sessions, row.key.clone(), bytes.clone())
                    }
                    None => batch.expect_absent(Space::Sessions, row.key.clone()),
                };
                if now.is_some_and(|now| record.is_idle(now)) {
                    batch.delete(Space::Sessions, row.key.clone());
                } else {
                    batch.put(
                        Space::Sessions,
                        row.key.clone(),
                        codec::encode(record).map_err(store_error)?,
                    );
                }
            }
            match self.store.apply(batch).await {
                Ok(()) => return Ok(answer),
                Err(StoreError::Conflict) => backoff(tried).await,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(internal(
            "the sign-in counts kept changing under this server",
        ))
    }

    pub(super) async fn check(
        &self,
        username: &str,
        addr: IpAddr,
        now: i64,
    ) -> Result<(), ApiError> {
        let mut rows = Vec::new();
        for row in [account_row(username), address_row(addr)] {
            let (old, record) = self.read(&row).await.map_err(store_error)?;
            rows.push((row, old, record));
        }
        match self.wait(&mut rows, now).await {
            0 => Ok(()),
            wait => Err(too_many(wait)),
        }
    }

    /// Counts a new attempt as a failure on both rows unless they refuse it;
    /// returns its (random) number.
    pub(super) async fn admit(
        &self,
        username: &str,
        addr: IpAddr,
        now: i64,
    ) -> Result<u64, ApiError> {
        let id = random_id()?;
        self.change(
            vec![account_row(username), address_row(addr)],
            Some(now),
            |rows| {
                let wait = rows
                    .iter_mut()
                    .map(|(row, _, record)| record.wait(now, row.cap, row.delays))
                    .max()
                    .unwrap_or(0);
                if wait > 0 {
                    return Err(too_many(wait));
                }
                for (row, _, record) in rows.iter_mut() {
                    record.fail(now, id, row.cap, row.delays);
                }
                Ok(id)
            },
        )
        .await
    }

    /// Applies `f` to both rows; a failure is logged, not answered (the
    /// caller's request already has its answer).
    pub(super) async fn update(&self, username: &str, addr: IpAddr, f: impl Fn(&mut Record)) {
        let done = self
            .change(
                vec![account_row(username), address_row(addr)],
                None,
                |rows| {
                    for (_, _, record) in rows.iter_mut() {
                        f(record);
                    }
                    Ok(())
                },
            )
            .await;
        if let Err(e) = done {
            tracing::warn!(code = ?e.code, "could not update the sign-in counts");
        }
    }

    pub(super) async fn fail(&self, username: &str, addr: IpAddr, now: i64) {
        let Ok(id) = random_id() else {
            return;
        };
        let done = self
            .change(
                vec![account_row(username), address_row(addr)],
                Some(now),
                |rows| {
                    for (row, _, record) in rows.iter_mut() {
                        record.fail(now, id, row.cap, row.delays);
                    }
                    Ok(())
                },
            )
            .await;
        if let Err(e) = done {
            tracing::warn!(code = ?e.code, "could not count a failed sign-in");
        }
    }

    pub(super) async fn succeed(&self, username: &str) {
        let done = self
            .change(vec![account_row(username)], None, |rows| {
                for (_, _, record) in rows.iter_mut() {
                    record.succeed();
                }
                Ok(())
            })
            .await;
        if let Err(e) = done {
            tracing::warn!(code = ?e.code, "could not reset the sign-in delay");
        }
    }

    /// Deletes a page of rows of each kind that hold nothing at `now`, going
    /// on from where the last sweep stopped.
    pub(super) async fn sweep(&self, now: i64) {
        use std::sync::atomic::Ordering;
        if now.saturating_sub(self.last_sweep.load(Ordering::Relaxed)) < SWEEP_EVERY_SECS {
            return;
        }
        self.last_sweep.store(now, Ordering::Relaxed);
        for (i, tag) in [ACCOUNT, ADDRESS].into_iter().enumerate() {
            let after = self
                .cursors
                .lock()
                .ok()
                .and_then(|c| c.get(i).cloned().flatten());
            let page = match self
                .store
                .scan_prefix(Space::Sessions, &[tag], after.as_deref(), SWEEP_PAGE)
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "could not sweep the sign-in counts");
                    return;
                }
            };
            let next = (page.len() == SWEEP_PAGE)
                .then(|| page.last().map(|(k, _)| k.clone()))
                .flatten();
            for (key, value) in page {
                let idle = codec::decode::<Record>(&value).is_ok_and(|mut r| {
                    r.prune(now);
                    r.is_idle(now)
                });
                if idle {
                    let mut batch = Batch::new();
                    batch
                        .expect_value(Space::Sessions, key.clone(), value)
                        .delete(Space::Sessions, key);
                    // A conflict means it was counted again: it stays.
                    let _ = self.store.apply(batch).await;
                }
            }
            if let Ok(mut c) = self.cursors.lock() {
                if let Some(slot) = c.get_mut(i) {
                    *slot = next;
                }
            }
        }
    }
}

/// Waits a random time below 2^`tried` ms (at most [`BACKOFF_MAX_MS`]), so
/// that requests that collided do not collide again in step.
async fn backoff(tried: usize) {
    let ceiling = 1u64
        .checked_shl(u32::try_from(tried).unwrap_or(u32::MAX))
        .unwrap_or(BACKOFF_MAX_MS)
        .clamp(1, BACKOFF_MAX_MS);
    let random = rng::bytes::<8>().map(u64::from_be_bytes).unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_micros(random % (ceiling * 1000))).await;
}

fn random_id() -> Result<u64, ApiError> {
    rng::bytes::<8>()
        .map(u64::from_be_bytes)
        .map_err(|_| internal("no randomness for an attempt number"))
}
