//! Half-finished protocol runs (a sign-up between its two messages, an OPAQUE
//! login state, a recovery challenge, ...): in memory, or, when the store is
//! shared by several server processes, sealed in the store ([`stored`]), so
//! that a run started on one server finishes on another.
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

mod stored;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
    net::IpAddr,
    sync::{Arc, Mutex},
};

use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};
use shared::{
    api::ApiError,
    crypto::{opaque::SecretBytes, rng},
    model::{Id, Role},
};
use zeroize::Zeroizing;

use super::{
    crypto_internal,
    throttle::{address_key, Attempt},
    TotpKey,
};
use crate::store::Store;

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
    /// Set for a store shared by several servers: entries live there.
    stored: Option<stored::Stored>,
}

impl<T: Serialize + DeserializeOwned> PendingMap<T> {
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
            stored: None,
        }
    }

    /// Keeps the entries sealed in `store` under `kind` (one per map), for
    /// servers that share the store; see [`stored`].
    fn in_store(mut self, store: &Arc<dyn Store>, key: &TotpKey, kind: u8) -> Self {
        self.stored = Some(stored::Stored::new(store.clone(), key.clone(), kind));
        self
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
    pub async fn insert(&self, now: i64, addr: IpAddr, value: T) -> Result<(Id, i64), ApiError> {
        let id = rng::id().map_err(crypto_internal)?;
        let expires = now.saturating_add(self.ttl_secs);
        self.put(id, expires, now, addr, value).await?;
        Ok((id, expires))
    }

    /// Puts a taken value back under its id and original expiry (a retry).
    pub async fn put_back(
        &self,
        id: Id,
        expires: i64,
        now: i64,
        addr: IpAddr,
        value: T,
    ) -> Result<(), ApiError> {
        self.put(id, expires, now, addr, value).await
    }

    /// The 429 for a client address whose oldest waiting entry expires at
    /// `oldest`.
    fn over_share(&self, oldest: i64, now: i64) -> ApiError {
        let wait = u64::try_from(oldest.saturating_sub(now)).unwrap_or(1);
        ApiError::too_many(
            format!(
                "Too many {} from your network are waiting to finish. Try again in {} seconds.",
                self.what,
                wait.max(1)
            ),
            wait,
        )
    }

    async fn put(
        &self,
        id: Id,
        expires: i64,
        now: i64,
        addr: IpAddr,
        value: T,
    ) -> Result<(), ApiError> {
        if let Some(stored) = &self.stored {
            return stored
                .put(id, expires, now, address_key(addr), &value, self.share)
                .await
                .map_err(|e| e.into_api(|oldest| self.over_share(oldest, now)));
        }
        let mut inner = self.lock()?;
        self.expire(&mut inner, now);
        let addr = address_key(addr);
        if let Some(oldest) = inner
            .by_addr
            .get(&addr)
            .filter(|set| set.len() >= self.share)
            .and_then(|set| set.first())
        {
            return Err(self.over_share(oldest.0, now));
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
    /// afterwards either way (an expired one is left to
    /// [`PendingMap::drain_abandoned`]). Returns the value and its expiry;
    /// `Ok(None)` when there is none to take, here or on another server.
    pub async fn take(&self, now: i64, id: &Id) -> Result<Option<(T, i64)>, ApiError> {
        if let Some(stored) = &self.stored {
            return stored
                .take(now, id)
                .await
                .map_err(|e| e.into_api(|_| unreachable_share()));
        }
        let mut inner = self.lock()?;
        let Some(entry) = inner.remove(id) else {
            return Ok(None);
        };
        if entry.slot.0 > now {
            Ok(Some((entry.value, entry.slot.0)))
        } else {
            self.abandon(&mut inner, entry.value);
            Ok(None)
        }
    }

    /// Everything that expired or was evicted unfinished since the last call
    /// (only for maps made with [`PendingMap::logging_abandoned`]; other maps
    /// only drop what expired). With several servers, each such entry is
    /// handed out by exactly one of them.
    pub async fn drain_abandoned(&self, now: i64) -> Vec<T> {
        if let Some(stored) = &self.stored {
            let gone: Vec<T> = match stored.sweep(now).await {
                Ok(gone) => gone,
                Err(e) => {
                    tracing::warn!(error = %e, "could not sweep expired pending states");
                    Vec::new()
                }
            };
            return if self.keep_abandoned {
                gone
            } else {
                Vec::new()
            };
        }
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

/// The 429 a take never gives (takes are not counted against a share).
fn unreachable_share() -> ApiError {
    super::internal("a pending state's share was checked on take")
}

/// A serialised OPAQUE server login state: secret, zeroized on drop, never
/// printed; kept in the store only sealed ([`stored`]).
pub struct StateBytes(Zeroizing<Vec<u8>>);

impl StateBytes {
    /// The bytes, for `ServerLoginState::from_bytes`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<SecretBytes> for StateBytes {
    fn from(secret: SecretBytes) -> Self {
        StateBytes(Zeroizing::new(secret.as_bytes().to_vec()))
    }
}

impl Serialize for StateBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for StateBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<u8>::deserialize(deserializer).map(|v| StateBytes(Zeroizing::new(v)))
    }
}

/// A sign-up between its two messages.
#[derive(Serialize, Deserialize)]
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
#[derive(Serialize, Deserialize)]
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
    pub state: StateBytes,
}

/// A fresh proof of the session user's password (an OPAQUE login inside a
/// session) between KE2 and KE3: what a password change, a recovery-code
/// replacement and a second-factor enrolment each wait on.
#[derive(Serialize, Deserialize)]
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
    pub state: StateBytes,
}

/// A recovery between its two messages.
#[derive(Serialize, Deserialize)]
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
#[derive(Serialize, Deserialize)]
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
    /// Account deletions: 5 minutes.
    pub deletions: PendingMap<PasswordProof>,
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
            deletions: PendingMap::new(5 * 60, 10_000, 20, "account deletions").logging_abandoned(),
        }
    }
}

impl PendingStates {
    /// Every kind kept sealed in `store` under `key`, for servers that share
    /// the store: a run started on one finishes on any other.
    pub fn in_store(store: &Arc<dyn Store>, key: &TotpKey) -> Self {
        let d = PendingStates::default();
        PendingStates {
            signups: d.signups.in_store(store, key, 1),
            logins: d.logins.in_store(store, key, 2),
            password_changes: d.password_changes.in_store(store, key, 3),
            recoveries: d.recoveries.in_store(store, key, 4),
            second_factors: d.second_factors.in_store(store, key, 5),
            recovery_codes: d.recovery_codes.in_store(store, key, 6),
            totp_enables: d.totp_enables.in_store(store, key, 7),
            deletions: d.deletions.in_store(store, key, 8),
        }
    }

    /// Hands out (and forgets) what expired in every kind that does not log
    /// it, so that nothing is left behind in a shared store.
    pub async fn sweep_quiet(&self, now: i64) {
        self.signups.drain_abandoned(now).await;
        self.second_factors.drain_abandoned(now).await;
    }
}

#[cfg(test)]
mod tests;
