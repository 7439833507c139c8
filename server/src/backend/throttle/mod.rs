//! Sign-in attempts, counted per account and per client address.
//!
//! An attempt is counted as a failure the moment it starts (`login/start`,
//! `recovery/start`, `password/start`), because in OPAQUE the client learns
//! from KE2 alone whether its guess was right and need never send KE3. Only a
//! valid proof for that very attempt (a right KE3 or recovery proof) takes it
//! back, so a successful sign-in occupies no place in any count, while a guess
//! that is never finished stays counted.
//!
//! Per account (by normalised username, whether it exists or not, so the
//! throttle reveals nothing): the first [`FREE_FAILURES`] failures cost nothing,
//! then each further one makes the next attempt wait, doubling from 1 s up to
//! [`MAX_DELAY_SECS`]; and at most [`ACCOUNT_FAILURES_PER_HOUR`] failures in a
//! rolling hour. Per client address: at most [`ADDRESS_FAILURES_PER_HOUR`].
//! A success resets the account's delay.
//!
//! Why a capped delay rather than a lock-out: an attacker who knows a username
//! can at most make the real user wait about a minute before their next try,
//! never lock them out for hours. At one try a minute, the hourly cap is a
//! backstop that a single attacker hardly reaches; together they bound an online
//! guessing attack to about 100 guesses per account per hour.
//!
//! With one server the counts live in memory: a restart resets them
//! (documented trade-off; the delays are short anyway), and both maps are
//! bounded. When several servers share the store, the counts live there
//! ([`stored`]), so that the limits hold whichever server a guess reaches.

mod stored;

use std::{
    collections::{HashMap, VecDeque},
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, MutexGuard,
    },
};

use serde::{Deserialize, Serialize};
use shared::api::ApiError;

use crate::store::Store;

/// Failures that cost no delay.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait imposed after one failure, in seconds.
pub const MAX_DELAY_SECS: i64 = 60;
/// Failures allowed per account in a rolling hour.
pub const ACCOUNT_FAILURES_PER_HOUR: usize = 100;
/// Failures allowed per client address in a rolling hour.
pub const ADDRESS_FAILURES_PER_HOUR: usize = 500;
const HOUR: i64 = 3600;
/// How many names or addresses are tracked before old quiet ones are dropped.
const MAX_TRACKED: usize = 100_000;

/// The address a client is counted under: an IPv4 address as it is (an
/// IPv4-mapped IPv6 address as its IPv4 form), an IPv6 address by its /64
/// prefix, since one subscriber usually holds a whole /64.
pub fn address_key(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// A started attempt, counted as a failure until [`Throttle::proven`] takes
/// it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attempt(u64);

#[derive(Default, Serialize, Deserialize)]
struct Record {
    /// Times and attempt ids of the failures within the last hour, oldest first.
    failures: VecDeque<(i64, u64)>,
    /// Failures since the last success.
    consecutive: u32,
    /// No attempt is accepted before this time.
    next_allowed: i64,
}

impl Record {
    fn prune(&mut self, now: i64) {
        while self.failures.front().is_some_and(|&(t, _)| t <= now - HOUR) {
            self.failures.pop_front();
        }
    }

    /// Seconds to wait before the next attempt, or 0.
    fn wait(&mut self, now: i64, cap: usize, delays: bool) -> i64 {
        self.prune(now);
        let mut wait = 0;
        if self.failures.len() >= cap {
            if let Some(&(oldest, _)) = self.failures.front() {
                wait = oldest + HOUR - now;
            }
        }
        if delays {
            wait = wait.max(self.next_allowed - now);
        }
        wait.max(0)
    }

    /// Counts failure `id` at `now` (`cap` per hour; `delays` for accounts).
    fn fail(&mut self, now: i64, id: u64, cap: usize, delays: bool) {
        self.prune(now);
        if self.failures.len() >= cap {
            self.failures.pop_front();
        }
        self.failures.push_back((now, id));
        self.consecutive = self.consecutive.saturating_add(1);
        if delays && self.consecutive > FREE_FAILURES {
            let doublings = (self.consecutive - FREE_FAILURES - 1).min(6);
            let delay = (1i64 << doublings).min(MAX_DELAY_SECS);
            self.next_allowed = now + delay;
        }
    }

    /// Takes back the failure counted for attempt `id`, if it is still there.
    fn take_back(&mut self, id: u64) {
        if let Some(i) = self.failures.iter().rposition(|&(_, f)| f == id) {
            self.failures.remove(i);
            self.consecutive = self.consecutive.saturating_sub(1);
        }
    }

    fn succeed(&mut self) {
        self.consecutive = 0;
        self.next_allowed = 0;
    }

    /// Whether it holds nothing that could refuse an attempt after `now`.
    fn is_idle(&self, now: i64) -> bool {
        self.consecutive == 0
            && self.next_allowed <= now
            && self.failures.back().is_none_or(|&(t, _)| t <= now - HOUR)
    }
}

struct Counter<K> {
    cap: usize,
    delays: bool,
    records: Mutex<HashMap<K, Record>>,
}

impl<K: Eq + Hash> Counter<K> {
    fn new(cap: usize, delays: bool) -> Self {
        Counter {
            cap,
            delays,
            records: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> Option<MutexGuard<'_, HashMap<K, Record>>> {
        self.records.lock().ok()
    }

    fn wait(&self, map: &mut HashMap<K, Record>, key: &K, now: i64) -> i64 {
        map.get_mut(key)
            .map(|r| r.wait(now, self.cap, self.delays))
            .unwrap_or(0)
    }

    fn fail(&self, map: &mut HashMap<K, Record>, key: K, now: i64, id: u64) {
        if map.len() >= MAX_TRACKED {
            map.retain(|_, r| {
                r.next_allowed > now || r.failures.back().is_some_and(|&(t, _)| t > now - HOUR)
            });
            if map.len() >= MAX_TRACKED {
                // Still full of live records: forget the ones nearest to free.
                map.retain(|_, r| r.failures.len() > 1);
            }
        }
        map.entry(key)
            .or_default()
            .fail(now, id, self.cap, self.delays);
    }

    fn take_back(&self, map: &mut HashMap<K, Record>, key: &K, id: u64) {
        if let Some(r) = map.get_mut(key) {
            r.take_back(id);
        }
    }

    fn succeed(&self, map: &mut HashMap<K, Record>, key: &K) {
        if let Some(r) = map.get_mut(key) {
            r.succeed();
        }
    }
}

/// The sign-in attempt counts: this process's, or (shared) the store's.
pub struct Throttle {
    accounts: Counter<String>,
    addresses: Counter<IpAddr>,
    next_id: AtomicU64,
    /// Set when several servers share the store: the counts live there.
    stored: Option<stored::Stored>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            accounts: Counter::new(ACCOUNT_FAILURES_PER_HOUR, true),
            addresses: Counter::new(ADDRESS_FAILURES_PER_HOUR, false),
            next_id: AtomicU64::new(0),
            stored: None,
        }
    }
}

fn too_many(wait: i64) -> ApiError {
    let unit = if wait == 1 { "second" } else { "seconds" };
    ApiError::too_many(
        format!("Too many failed sign-ins. Try again in {wait} {unit}."),
        u64::try_from(wait).unwrap_or(1),
    )
}

impl Throttle {
    /// Refuses an attempt with 429 and how long to wait, if either count says so.
    /// Fails closed: without its counts (a poisoned lock) nothing is let through.
    pub async fn check(&self, username: &str, addr: IpAddr, now: i64) -> Result<(), ApiError> {
        if let Some(stored) = &self.stored {
            return stored.check(username, address_key(addr), now).await;
        }
        let (Some(mut accounts), Some(mut addresses)) =
            (self.accounts.lock(), self.addresses.lock())
        else {
            return Err(crate::backend::internal("throttle lock poisoned"));
        };
        let addr = address_key(addr);
        let wait = self
            .accounts
            .wait(&mut accounts, &username.to_owned(), now)
            .max(self.addresses.wait(&mut addresses, &addr, now));
        if wait > 0 {
            return Err(too_many(wait));
        }
        Ok(())
    }

    /// Starts an attempt: refuses it like [`Throttle::check`], or counts it as a
    /// failure right away (in both counts, under one lock, so parallel starts
    /// cannot slip past) until [`Throttle::proven`] takes it back.
    pub async fn admit(&self, username: &str, addr: IpAddr, now: i64) -> Result<Attempt, ApiError> {
        if let Some(stored) = &self.stored {
            return stored
                .admit(username, address_key(addr), now)
                .await
                .map(Attempt);
        }
        let (Some(mut accounts), Some(mut addresses)) =
            (self.accounts.lock(), self.addresses.lock())
        else {
            return Err(crate::backend::internal("throttle lock poisoned"));
        };
        let addr = address_key(addr);
        let name = username.to_owned();
        let wait = self
            .accounts
            .wait(&mut accounts, &name, now)
            .max(self.addresses.wait(&mut addresses, &addr, now));
        if wait > 0 {
            return Err(too_many(wait));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.accounts.fail(&mut accounts, name, now, id);
        self.addresses.fail(&mut addresses, addr, now, id);
        Ok(Attempt(id))
    }

    /// The attempt's secret was right: it no longer counts anywhere.
    pub async fn proven(&self, username: &str, addr: IpAddr, attempt: Attempt) {
        if let Some(stored) = &self.stored {
            stored
                .update(username, address_key(addr), |r| r.take_back(attempt.0))
                .await;
            return;
        }
        let (Some(mut accounts), Some(mut addresses)) =
            (self.accounts.lock(), self.addresses.lock())
        else {
            return;
        };
        self.accounts
            .take_back(&mut accounts, &username.to_owned(), attempt.0);
        self.addresses
            .take_back(&mut addresses, &address_key(addr), attempt.0);
    }

    /// Counts a failure that is not an attempt of its own (a wrong second-factor code).
    pub async fn fail(&self, username: &str, addr: IpAddr, now: i64) {
        if let Some(stored) = &self.stored {
            stored.fail(username, address_key(addr), now).await;
            return;
        }
        let (Some(mut accounts), Some(mut addresses)) =
            (self.accounts.lock(), self.addresses.lock())
        else {
            return;
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.accounts
            .fail(&mut accounts, username.to_owned(), now, id);
        self.addresses
            .fail(&mut addresses, address_key(addr), now, id);
    }

    /// A successful sign-in: the account's delay starts over.
    pub async fn succeed(&self, username: &str) {
        if let Some(stored) = &self.stored {
            stored.succeed(username).await;
            return;
        }
        if let Some(mut accounts) = self.accounts.lock() {
            self.accounts.succeed(&mut accounts, &username.to_owned());
        }
    }
}

impl Throttle {
    /// Counts kept in `store`, for servers that share it.
    pub fn in_store(store: &std::sync::Arc<dyn Store>) -> Self {
        Throttle {
            stored: Some(stored::Stored::new(store.clone())),
            ..Throttle::default()
        }
    }

    /// Removes counts that no longer hold anything from a shared store, a
    /// page at a time (the abandoned-attempt logger calls it once a minute).
    pub async fn sweep(&self, now: i64) {
        if let Some(stored) = &self.stored {
            stored.sweep(now).await;
        }
    }
}

#[cfg(test)]
mod tests;
