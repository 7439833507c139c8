//! Half-finished protocol runs (a sign-up between its two messages, an OPAQUE
//! login state, a recovery challenge, ...), kept in memory only.
//!
//! Each is single use: taking it removes it, so a replayed or out-of-order
//! second message finds nothing and gets a 4xx. Each has a short lifetime and
//! each kind a cap on how many may wait at once, so nobody can fill the
//! server's memory with starts that never finish. A restart forgets them all,
//! which only means that a sign-in in progress has to start again.

use std::{collections::HashMap, sync::Mutex};

use shared::{
    api::{ApiError, ErrorCode},
    crypto::{opaque::SecretBytes, rng, sign::Role, Id},
};

use super::crypto_internal;

/// A map of pending states of one kind, with a lifetime and a cap.
pub struct PendingMap<T> {
    ttl_secs: i64,
    cap: usize,
    entries: Mutex<HashMap<Id, (i64, T)>>,
}

impl<T> PendingMap<T> {
    /// A map whose entries live `ttl_secs` and of which at most `cap` wait at once.
    pub fn new(ttl_secs: i64, cap: usize) -> Self {
        PendingMap {
            ttl_secs,
            cap,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `value` under a fresh random id; returns the id and when it expires.
    pub fn insert(&self, now: i64, value: T) -> Result<(Id, i64), ApiError> {
        let id = rng::id().map_err(crypto_internal)?;
        let expires = now.saturating_add(self.ttl_secs);
        self.put(id, expires, now, value)?;
        Ok((id, expires))
    }

    /// Puts a taken value back under its id and original expiry (a retry).
    pub fn put_back(&self, id: Id, expires: i64, now: i64, value: T) -> Result<(), ApiError> {
        self.put(id, expires, now, value)
    }

    fn put(&self, id: Id, expires: i64, now: i64, value: T) -> Result<(), ApiError> {
        let mut map = self
            .entries
            .lock()
            .map_err(|_| super::internal("pending map lock poisoned"))?;
        if map.len() >= self.cap {
            map.retain(|_, (exp, _)| *exp > now);
        }
        if map.len() >= self.cap {
            return Err(ApiError::new(
                ErrorCode::TooManyRequests,
                "The server is busy with other sign-ins. Try again in a minute.",
            ));
        }
        map.insert(id, (expires, value));
        Ok(())
    }

    /// Takes the value for `id` if it is there and not expired; it is gone
    /// afterwards either way. Returns the value and its expiry.
    pub fn take(&self, now: i64, id: &Id) -> Option<(T, i64)> {
        let mut map = self.entries.lock().ok()?;
        let (expires, value) = map.remove(id)?;
        (expires > now).then_some((value, expires))
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
    /// The account, or `None` for an unknown username (a fake KE2 was sent).
    pub user_id: Option<Id>,
    /// The serialised `ServerLoginState`; secret.
    pub state: SecretBytes,
}

/// A password change between its two messages.
pub struct PendingPasswordChange {
    /// The account.
    pub user_id: Id,
    /// The session that started it; only that session may finish it.
    pub session_hash: [u8; 32],
    /// The OPAQUE login state for the current password; secret.
    pub state: SecretBytes,
}

/// A second-factor enrolment between the password proof's KE2 and KE3.
pub struct PendingTotpEnable {
    /// The account.
    pub user_id: Id,
    /// The session that started it; only that session may finish it.
    pub session_hash: [u8; 32],
    /// The OPAQUE login state for the current password; secret.
    pub state: SecretBytes,
}

/// A recovery between its two messages.
pub struct PendingRecovery {
    /// The normalised username.
    pub username: String,
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
    pub password_changes: PendingMap<PendingPasswordChange>,
    /// Recoveries: 10 minutes.
    pub recoveries: PendingMap<PendingRecovery>,
    /// Second factors: 5 minutes.
    pub second_factors: PendingMap<PendingSecondFactor>,
    /// Second-factor enrolments: 5 minutes.
    pub totp_enables: PendingMap<PendingTotpEnable>,
}

impl Default for PendingStates {
    fn default() -> Self {
        PendingStates {
            signups: PendingMap::new(10 * 60, 10_000),
            logins: PendingMap::new(2 * 60, 50_000),
            password_changes: PendingMap::new(5 * 60, 10_000),
            recoveries: PendingMap::new(10 * 60, 10_000),
            second_factors: PendingMap::new(5 * 60, 10_000),
            totp_enables: PendingMap::new(5 * 60, 10_000),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn taken_once_and_expired_never() {
        let map = PendingMap::new(10, 2);
        let (a, _) = map.insert(100, "a").unwrap();
        assert_eq!(map.take(105, &a).map(|(v, _)| v), Some("a"));
        assert!(map.take(105, &a).is_none(), "single use");
        let (b, _) = map.insert(100, "b").unwrap();
        assert!(map.take(110, &b).is_none(), "expired");
    }

    #[test]
    fn fail_over_the_cap_until_entries_expire() {
        let map = PendingMap::new(10, 2);
        map.insert(0, 1).unwrap();
        map.insert(0, 2).unwrap();
        let e = map.insert(5, 3).unwrap_err();
        assert_eq!(e.code, ErrorCode::TooManyRequests);
        map.insert(20, 4).unwrap();
    }
}
