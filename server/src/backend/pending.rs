//! Half-finished protocol runs (a sign-up between its two messages, an OPAQUE
//! login state, a recovery challenge, ...), kept in memory only.
//!
//! Each is single use: taking it removes it, so a replayed or out-of-order
//! second message finds nothing and gets a 4xx. Each has a short lifetime and
//! each kind a cap on how many may wait at once, so nobody can fill the
//! server's memory with starts that never finish. Within the cap each client
//! address (an IPv6 one by its /64) has a fair share: a client over its share
//! gets 429 until its own oldest entry expires, and when the whole map is full
//! the oldest entry (whoever's) makes room, so one client cannot lock everyone
//! out. A restart forgets them all, which only means that a sign-in in
//! progress has to start again.
//!
//! Maps made with [`PendingMap::logging_abandoned`] keep what expired or was
//! evicted unfinished (bounded by the cap) until [`PendingMap::drain_abandoned`]
//! hands it out, so the caller can record the unfinished attempt.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
    net::IpAddr,
    sync::Mutex,
};

use shared::{
    api::ApiError,
    crypto::{opaque::SecretBytes, rng},
    model::{Id, Role},
};

use super::{
    crypto_internal,
    throttle::{address_key, Attempt},
};

/// Where an entry sits in expiry order: its expiry, then a tie-breaking number.
type Slot = (i64, u64);

struct Entry<T> {
    slot: Slot,
    addr: IpAddr,
    value: T,
}

struct Inner<T> {
    entries: HashMap<Id, Entry<T>>,
    /// Every entry by expiry, soonest (oldest) first.
    order: BTreeMap<Slot, Id>,
    /// The entries of each client address, soonest first.
    by_addr: HashMap<IpAddr, BTreeSet<Slot>>,
    /// Values that expired or were evicted before anyone took them.
    abandoned: VecDeque<T>,
    next: u64,
}

impl<T> Inner<T> {
    fn remove(&mut self, id: &Id) -> Option<Entry<T>> {
        let entry = self.entries.remove(id)?;
        self.order.remove(&entry.slot);
        if let Some(set) = self.by_addr.get_mut(&entry.addr) {
            set.remove(&entry.slot);
            if set.is_empty() {
                self.by_addr.remove(&entry.addr);
            }
        }
        Some(entry)
    }
}

/// A map of pending states of one kind, with a lifetime, a cap and a share
/// per client address.
pub struct PendingMap<T> {
    ttl_secs: i64,
    cap: usize,
    share: usize,
    /// What is waiting, in the plural, for the 429 message ("sign-ins").
    what: &'static str,
    keep_abandoned: bool,
    inner: Mutex<Inner<T>>,
}

impl<T> PendingMap<T> {
    /// A map whose entries live `ttl_secs`, of which at most `cap` wait at once
    /// and at most `share` from one client address.
    pub fn new(ttl_secs: i64, cap: usize, share: usize, what: &'static str) -> Self {
        PendingMap {
            ttl_secs,
            cap: cap.max(1),
            share: share.max(1),
            what,
            keep_abandoned: false,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: BTreeMap::new(),
                by_addr: HashMap::new(),
                abandoned: VecDeque::new(),
                next: 0,
            }),
        }
    }

    /// Keeps entries that expire or are evicted unfinished for
    /// [`PendingMap::drain_abandoned`].
    pub fn logging_abandoned(mut self) -> Self {
        self.keep_abandoned = true;
        self
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner<T>>, ApiError> {
        self.inner
            .lock()
            .map_err(|_| super::internal("pending map lock poisoned"))
    }

    /// Moves every entry expired at `now` to the abandoned ones.
    fn expire(&self, inner: &mut Inner<T>, now: i64) {
        while let Some((&slot, &id)) = inner.order.first_key_value() {
            if slot.0 > now {
                break;
            }
            if let Some(entry) = inner.remove(&id) {
                self.abandon(inner, entry.value);
            }
        }
    }

    fn abandon(&self, inner: &mut Inner<T>, value: T) {
        if self.keep_abandoned {
            if inner.abandoned.len() >= self.cap {
                inner.abandoned.pop_front();
            }
            inner.abandoned.push_back(value);
        }
    }

    /// Keeps `value` under a fresh random id for a client at `addr`; returns the
    /// id and when it expires.
    pub fn insert(&self, now: i64, addr: IpAddr, value: T) -> Result<(Id, i64), ApiError> {
        let id = rng::id().map_err(crypto_internal)?;
        let expires = now.saturating_add(self.ttl_secs);
        self.put(id, expires, now, addr, value)?;
        Ok((id, expires))
    }

    /// Puts a taken value back under its id and original expiry (a retry).
    pub fn put_back(
        &self,
        id: Id,
        expires: i64,
        now: i64,
        addr: IpAddr,
        value: T,
    ) -> Result<(), ApiError> {
        self.put(id, expires, now, addr, value)
    }

    fn put(&self, id: Id, expires: i64, now: i64, addr: IpAddr, value: T) -> Result<(), ApiError> {
        let mut inner = self.lock()?;
        self.expire(&mut inner, now);
        let addr = address_key(addr);
        if let Some(oldest) = inner
            .by_addr
            .get(&addr)
            .filter(|set| set.len() >= self.share)
            .and_then(|set| set.first())
        {
            let wait = u64::try_from(oldest.0.saturating_sub(now)).unwrap_or(1);
            return Err(ApiError::too_many(
                format!(
                    "Too many {} from your network are waiting to finish. Try again in {} seconds.",
                    self.what,
                    wait.max(1)
                ),
                wait,
            ));
        }
        while inner.entries.len() >= self.cap {
            let Some((_, &oldest)) = inner.order.first_key_value() else {
                break;
            };
            if let Some(entry) = inner.remove(&oldest) {
                self.abandon(&mut inner, entry.value);
            }
        }
        if let Some(old) = inner.remove(&id) {
            // A random id never repeats; if it did, the old run is over.
            self.abandon(&mut inner, old.value);
        }
        let slot = (expires, inner.next);
        inner.next = inner.next.wrapping_add(1);
        inner.order.insert(slot, id);
        inner.by_addr.entry(addr).or_default().insert(slot);
        inner.entries.insert(id, Entry { slot, addr, value });
        Ok(())
    }

    /// Takes the value for `id` if it is there and not expired; it is gone
    /// afterwards either way. Returns the value and its expiry.
    pub fn take(&self, now: i64, id: &Id) -> Option<(T, i64)> {
        let mut inner = self.inner.lock().ok()?;
        let entry = inner.remove(id)?;
        if entry.slot.0 > now {
            Some((entry.value, entry.slot.0))
        } else {
            self.abandon(&mut inner, entry.value);
            None
        }
    }

    /// Everything that expired or was evicted unfinished since the last call
    /// (only for maps made with [`PendingMap::logging_abandoned`]).
    pub fn drain_abandoned(&self, now: i64) -> Vec<T> {
        let Ok(mut inner) = self.inner.lock() else {
            return Vec::new();
        };
        self.expire(&mut inner, now);
        inner.abandoned.drain(..).collect()
    }

    /// How many entries wait now (for tests).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.entries.len()).unwrap_or(0)
    }

    /// Whether nothing waits (for tests).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A sign-up between its two messages.
pub struct PendingSignup {
    /// The normalised username.
    pub username: String,
    /// The id the account will have.
    pub user_id: Id,
    /// The role, from the invite or patient.
    pub role: Role,
    /// The invite's code, to check and redeem again at finish.
    pub invite: Option<String>,
}

/// An OPAQUE login between KE2 and KE3.
pub struct PendingLogin {
    /// The normalised username (for the throttle).
    pub username: String,
    /// The client address the login started from (for the throttle).
    pub addr: IpAddr,
    /// The attempt the start was counted as, taken back by a valid KE3.
    pub attempt: Attempt,
    /// The account, or `None` for an unknown username (a fake KE2 was sent).
    pub user_id: Option<Id>,
    /// The serialised `ServerLoginState`; secret.
    pub state: SecretBytes,
}

/// A fresh proof of the session user's password (an OPAQUE login inside a
/// session) between KE2 and KE3: what a password change, a recovery-code
/// replacement and a second-factor enrolment each wait on.
pub struct PasswordProof {
    /// The account.
    pub user_id: Id,
    /// The session that started it; only that session may finish it.
    pub session_hash: [u8; 32],
    /// The account's normalised username (for the throttle).
    pub username: String,
    /// The client address the proof started from.
    pub addr: IpAddr,
    /// The attempt the start was counted as, taken back by a valid KE3.
    pub attempt: Attempt,
    /// The OPAQUE login state for the password; secret.
    pub state: SecretBytes,
}

/// A recovery between its two messages.
pub struct PendingRecovery {
    /// The normalised username.
    pub username: String,
    /// The client address the recovery started from (for the throttle).
    pub addr: IpAddr,
    /// The attempt the start was counted as, taken back by a valid proof.
    pub attempt: Attempt,
    /// The account, or `None` for an unknown username (a fake answer was sent).
    pub user_id: Option<Id>,
    /// The challenge the proof must sign.
    pub challenge: [u8; 32],
}

/// A sign-in whose password was right, waiting for the TOTP code.
pub struct PendingSecondFactor {
    /// The normalised username (for the throttle).
    pub username: String,
    /// The account.
    pub user_id: Id,
    /// Wrong codes still allowed before the sign-in must start again.
    pub tries_left: u8,
}

/// Every kind of pending state, with the lifetimes of the API contract.
pub struct PendingStates {
    /// Sign-ups: 10 minutes.
    pub signups: PendingMap<PendingSignup>,
    /// Logins: 2 minutes.
    pub logins: PendingMap<PendingLogin>,
    /// Password changes: 5 minutes.
    pub password_changes: PendingMap<PasswordProof>,
    /// Recoveries: 10 minutes.
    pub recoveries: PendingMap<PendingRecovery>,
    /// Second factors: 5 minutes.
    pub second_factors: PendingMap<PendingSecondFactor>,
    /// Recovery-code replacements: 5 minutes.
    pub recovery_codes: PendingMap<PasswordProof>,
    /// Second-factor enrolments: 5 minutes.
    pub totp_enables: PendingMap<PasswordProof>,
}

impl Default for PendingStates {
    fn default() -> Self {
        PendingStates {
            signups: PendingMap::new(10 * 60, 10_000, 20, "sign-ups"),
            logins: PendingMap::new(2 * 60, 50_000, 100, "sign-ins").logging_abandoned(),
            password_changes: PendingMap::new(5 * 60, 10_000, 20, "password changes")
                .logging_abandoned(),
            recoveries: PendingMap::new(10 * 60, 10_000, 20, "recoveries").logging_abandoned(),
            second_factors: PendingMap::new(5 * 60, 10_000, 20, "sign-ins"),
            recovery_codes: PendingMap::new(5 * 60, 10_000, 20, "recovery code changes")
                .logging_abandoned(),
            totp_enables: PendingMap::new(5 * 60, 10_000, 20, "second-factor enrolments")
                .logging_abandoned(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use shared::api::ErrorCode;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn taken_once_and_expired_never() {
        let map = PendingMap::new(10, 2, 2, "tests");
        let (a, _) = map.insert(100, A, "a").unwrap();
        assert_eq!(map.take(105, &a).map(|(v, _)| v), Some("a"));
        assert!(map.take(105, &a).is_none(), "single use");
        let (b, _) = map.insert(100, A, "b").unwrap();
        assert!(map.take(110, &b).is_none(), "expired");
    }

    #[test]
    fn fail_over_its_share_with_when_to_retry_but_others_still_get_in() {
        let map = PendingMap::new(10, 100, 2, "tests");
        map.insert(0, A, 1).unwrap();
        map.insert(4, A, 2).unwrap();
        let e = map.insert(5, A, 3).unwrap_err();
        assert_eq!(e.code, ErrorCode::TooManyRequests);
        assert_eq!(e.retry_after, Some(5));
        map.insert(5, B, 4).unwrap();
        // Once its oldest has expired, the address has room again.
        map.insert(10, A, 5).unwrap();
    }

    #[test]
    fn a_full_map_evicts_the_oldest_rather_than_refusing() {
        let map = PendingMap::new(10, 3, 3, "tests").logging_abandoned();
        let (first, _) = map.insert(0, A, "a1").unwrap();
        map.insert(1, A, "a2").unwrap();
        map.insert(2, A, "a3").unwrap();
        let (late, _) = map.insert(3, B, "b1").unwrap();
        assert_eq!(map.len(), 3);
        assert!(map.take(3, &first).is_none(), "the oldest made room");
        assert_eq!(map.take(3, &late).map(|(v, _)| v), Some("b1"));
        assert_eq!(map.drain_abandoned(3), vec!["a1"]);
    }

    #[test]
    fn abandoned_entries_are_handed_out_once_and_taken_ones_never() {
        let map = PendingMap::new(10, 10, 10, "tests").logging_abandoned();
        let (a, _) = map.insert(0, A, "finished").unwrap();
        map.insert(0, A, "left").unwrap();
        let (late, _) = map.insert(0, B, "too late").unwrap();
        assert!(map.take(5, &a).is_some());
        assert!(map.drain_abandoned(5).is_empty());
        assert!(map.take(10, &late).is_none());
        let mut gone = map.drain_abandoned(10);
        gone.sort();
        assert_eq!(gone, vec!["left", "too late"]);
        assert!(map.drain_abandoned(100).is_empty());
        assert!(map.is_empty());
        // Maps that do not log keep nothing.
        let quiet = PendingMap::new(10, 10, 10, "tests");
        quiet.insert(0, A, 1).unwrap();
        assert!(quiet.drain_abandoned(20).is_empty());
    }
}
