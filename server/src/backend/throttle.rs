//! Failed sign-ins, counted per account and per client address.
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
//! The counts live in memory: a restart resets them (documented trade-off; the
//! delays are short anyway). Both maps are bounded.

use std::{
    collections::{HashMap, VecDeque},
    hash::Hash,
    net::IpAddr,
    sync::Mutex,
};

use shared::api::{ApiError, ErrorCode};

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

#[derive(Default)]
struct Record {
    /// Times of the failures within the last hour, oldest first.
    failures: VecDeque<i64>,
    /// Failures since the last success.
    consecutive: u32,
    /// No attempt is accepted before this time.
    next_allowed: i64,
}

impl Record {
    fn prune(&mut self, now: i64) {
        while self.failures.front().is_some_and(|&t| t <= now - HOUR) {
            self.failures.pop_front();
        }
    }

    /// Seconds to wait before the next attempt, or 0.
    fn wait(&mut self, now: i64, cap: usize, delays: bool) -> i64 {
        self.prune(now);
        let mut wait = 0;
        if self.failures.len() >= cap {
            if let Some(&oldest) = self.failures.front() {
                wait = oldest + HOUR - now;
            }
        }
        if delays {
            wait = wait.max(self.next_allowed - now);
        }
        wait.max(0)
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

    fn wait(&self, key: &K, now: i64) -> i64 {
        let Ok(mut map) = self.records.lock() else {
            return 0;
        };
        map.get_mut(key)
            .map(|r| r.wait(now, self.cap, self.delays))
            .unwrap_or(0)
    }

    fn fail(&self, key: K, now: i64) {
        let Ok(mut map) = self.records.lock() else {
            return;
        };
        if map.len() >= MAX_TRACKED {
            map.retain(|_, r| {
                r.next_allowed > now || r.failures.back().is_some_and(|&t| t > now - HOUR)
            });
            if map.len() >= MAX_TRACKED {
                // Still full of live records: forget the ones nearest to free.
                map.retain(|_, r| r.failures.len() > 1);
            }
        }
        let r = map.entry(key).or_default();
        r.prune(now);
        if r.failures.len() >= self.cap {
            r.failures.pop_front();
        }
        r.failures.push_back(now);
        r.consecutive = r.consecutive.saturating_add(1);
        if self.delays && r.consecutive > FREE_FAILURES {
            let doublings = (r.consecutive - FREE_FAILURES - 1).min(6);
            let delay = (1i64 << doublings).min(MAX_DELAY_SECS);
            r.next_allowed = now + delay;
        }
    }

    fn succeed(&self, key: &K) {
        if let Ok(mut map) = self.records.lock() {
            if let Some(r) = map.get_mut(key) {
                r.consecutive = 0;
                r.next_allowed = 0;
            }
        }
    }
}

/// The failed sign-in counts of this server process.
pub struct Throttle {
    accounts: Counter<String>,
    addresses: Counter<IpAddr>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            accounts: Counter::new(ACCOUNT_FAILURES_PER_HOUR, true),
            addresses: Counter::new(ADDRESS_FAILURES_PER_HOUR, false),
        }
    }
}

impl Throttle {
    /// Refuses an attempt with 429 and how long to wait, if either count says so.
    pub fn check(&self, username: &str, addr: IpAddr, now: i64) -> Result<(), ApiError> {
        let wait = self
            .accounts
            .wait(&username.to_owned(), now)
            .max(self.addresses.wait(&addr, now));
        if wait > 0 {
            let unit = if wait == 1 { "second" } else { "seconds" };
            return Err(ApiError::new(
                ErrorCode::TooManyRequests,
                format!("Too many failed sign-ins. Try again in {wait} {unit}."),
            ));
        }
        Ok(())
    }

    /// Counts a failed attempt (wrong password, code or recovery proof).
    pub fn fail(&self, username: &str, addr: IpAddr, now: i64) {
        self.accounts.fail(username.to_owned(), now);
        self.addresses.fail(addr, now);
    }

    /// A successful sign-in: the account's delay starts over.
    pub fn succeed(&self, username: &str) {
        self.accounts.succeed(&username.to_owned());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn five_free_then_doubling_up_to_a_minute() {
        let t = Throttle::default();
        let mut now = 1000;
        for _ in 0..FREE_FAILURES {
            t.check("ann", ADDR, now).unwrap();
            t.fail("ann", ADDR, now);
        }
        t.check("ann", ADDR, now).unwrap();
        let mut seen = Vec::new();
        for _ in 0..10 {
            t.fail("ann", ADDR, now);
            let e = t.check("ann", ADDR, now).unwrap_err();
            assert_eq!(e.code, ErrorCode::TooManyRequests);
            let wait: i64 = e
                .message
                .split_whitespace()
                .find_map(|w| w.parse().ok())
                .unwrap();
            seen.push(wait);
            now += wait;
            t.check("ann", ADDR, now).unwrap();
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        // Another name is not affected, and success resets the delay.
        t.check("bob", ADDR, now).unwrap();
        t.fail("ann", ADDR, now);
        t.succeed("ann");
        t.check("ann", ADDR, now).unwrap();
    }

    #[test]
    fn hourly_cap_per_account_and_per_address() {
        let t = Throttle::default();
        for i in 0..ACCOUNT_FAILURES_PER_HOUR {
            t.fail("cap", ADDR, i as i64);
            t.succeed("cap");
        }
        let e = t.check("cap", ADDR, 200).unwrap_err();
        assert!(e.message.contains("3400 seconds"), "{}", e.message);
        t.check("cap", ADDR, 3600).unwrap();

        let other: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..ADDRESS_FAILURES_PER_HOUR {
            t.fail(&format!("u{i}"), other, 5000);
        }
        assert!(t.check("fresh", other, 5000).is_err());
        t.check("fresh", ADDR, 5000).unwrap();
    }
}
