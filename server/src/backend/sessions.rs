//! Sessions: a random 256-bit token in the cookie, only its SHA-256 stored.
//!
//! Sessions keyspace:
//!
//! | key                                  | value |
//! |--------------------------------------|-------|
//! | `1 ‖ SHA-256(token)`                 | [`SessionRecord`] |
//! | `2 ‖ user id ‖ SHA-256(token)`       | empty: the account's sessions, for "sign out everywhere" |
//!
//! A session ends after the idle timeout without a request, or at the absolute
//! lifetime, whichever comes first; an expired one is deleted when next seen,
//! or at the account's next sign-in, whichever comes first, so rows of
//! sessions nobody uses again do not pile up. Ending sessions ("sign out
//! everywhere", password change, recovery, disabling) walks the account's
//! whole index, however long. `last_seen` is written at most once a minute, so
//! reading pages does not turn into a disk write per request.
//!
//! The sweep at sign-in reads the account's whole index, so it runs only when
//! something in it can have expired: the server remembers, per account, the
//! earliest end of the sessions it saw at the last sweep and of those made
//! since ([`SweepTimes`], in memory: after a restart the first sign-in
//! sweeps). Without that, an account signed in from many places paid a read
//! per live session at each sign-in.

use std::{collections::HashMap, sync::Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::{
    api::{
        account::{SessionInfo, SessionSummary},
        ApiError, Caller,
    },
    audit::EventKind,
    crypto::{b64, rng},
    model::Id,
};
use zeroize::Zeroizing;

use super::{
    audit::{session_id, Draft},
    crypto_internal, store_error,
    users::UserRecord,
    ServerBackend,
};
use crate::store::{codec, keys::Key, Batch, Op, Space, StoreError};

/// How often `last_seen` is written, at most.
const TOUCH_EVERY_SECS: i64 = 60;
/// Index entries read per page when walking an account's sessions; the walk
/// goes on until the prefix is exhausted, so this bounds memory per read, not
/// how many sessions are ended.
const SESSION_PAGE: usize = 1000;

/// Accounts remembered by [`SweepTimes`]; more, and it starts afresh (each
/// account then sweeps at its next sign-in).
const MAX_SWEEP_TIMES: usize = 100_000;

/// Per account, the first second at which a session in its index can have
/// expired, so that the sweep at sign-in runs only from then on. An account
/// not listed is swept at its next sign-in.
#[derive(Default)]
pub struct SweepTimes(Mutex<HashMap<Id, i64>>);

impl SweepTimes {
    fn due(&self, user_id: &Id, now: i64) -> bool {
        match self.0.lock() {
            Ok(times) => times.get(user_id).is_none_or(|&at| now >= at),
            Err(_) => true,
        }
    }

    /// After a sweep: nothing listed ends before `at`.
    fn swept(&self, user_id: &Id, at: i64) {
        if let Ok(mut times) = self.0.lock() {
            if times.len() >= MAX_SWEEP_TIMES {
                times.clear();
            }
            times.insert(*user_id, at);
        }
    }

    /// A session ending at `at` joined the index.
    fn added(&self, user_id: &Id, at: i64) {
        if let Ok(mut times) = self.0.lock() {
            if let Some(due) = times.get_mut(user_id) {
                *due = (*due).min(at);
            }
        }
    }
}

/// One session as stored (under the hash of its token).
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The account.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// When it began.
    pub created_at: i64,
    /// When it was last used (to the minute).
    pub last_seen: i64,
    /// The shortened User-Agent.
    pub client: String,
}

/// A valid session and its account, for the request that presented it.
pub struct Session {
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// The stored session.
    pub record: SessionRecord,
    /// The account, enabled.
    pub user: UserRecord,
}

fn session_key(hash: &[u8; 32]) -> Vec<u8> {
    Key::new().u8(1).fixed(hash).finish()
}

fn user_session_key(user_id: &Id, hash: &[u8; 32]) -> Vec<u8> {
    Key::new().u8(2).fixed(user_id).fixed(hash).finish()
}

fn user_sessions_prefix(user_id: &Id) -> Vec<u8> {
    Key::new().u8(2).fixed(user_id).finish()
}

/// SHA-256 of a token as the cookie carries it, or `None` if it is not one of
/// ours (not base64url of 32 bytes).
pub fn token_hash(cookie: &str) -> Option<[u8; 32]> {
    let raw = Zeroizing::new(b64::decode(cookie)?);
    if raw.len() != 32 {
        return None;
    }
    Some(Sha256::digest(&raw[..]).into())
}

/// The public handle of a session: base64url of the first 16 bytes of its hash.
pub fn public_id(hash: &[u8; 32]) -> String {
    b64::encode(&session_id(hash))
}

/// The ops that delete one session.
pub fn end_session_ops(user_id: &Id, hash: &[u8; 32]) -> Vec<Op> {
    vec![
        Op::Delete {
            space: Space::Sessions,
            key: session_key(hash),
        },
        Op::Delete {
            space: Space::Sessions,
            key: user_session_key(user_id, hash),
        },
    ]
}

/// What an entry of an account's session index points at.
enum Indexed {
    /// A session of the account that has not expired.
    Live(SessionRecord),
    /// Nothing any more, or an expired session: clean-up only.
    Ended,
    /// A session row of another account (never written so; kept apart so
    /// that clean-up never ends someone else's session).
    Foreign,
}

/// A new session, not yet written.
pub struct NewSession {
    /// The token for the cookie.
    pub token: Zeroizing<String>,
    /// Its hash.
    pub hash: [u8; 32],
    /// The ops that store it.
    pub ops: Vec<Op>,
    /// When it began.
    pub created_at: i64,
}

impl ServerBackend {
    /// The session info the client sees for `user` in a session begun at `created_at`.
    pub(crate) fn session_info(&self, user: &UserRecord, created_at: i64) -> SessionInfo {
        let s = &self.config.settings;
        SessionInfo {
            user_id: user.id,
            username: user.username.clone(),
            role: user.role,
            totp_enabled: user.totp_enabled(),
            expires_at: created_at
                .saturating_add(i64::try_from(s.absolute_lifetime_secs).unwrap_or(i64::MAX)),
            idle_timeout_secs: s.idle_timeout_secs,
            second_factor_required: self.second_factor_missing(user),
            second_factor_policy: s.second_factor_roles.contains(user.role),
        }
    }

    /// Whether `user`'s role must have a second factor and they have none yet.
    pub(crate) fn second_factor_missing(&self, user: &UserRecord) -> bool {
        self.config.settings.second_factor_roles.contains(user.role) && !user.totp_enabled()
    }

    /// Makes a new session for `user_id`: the ops store it, end the session
    /// the caller held before (a sign-in replaces it, index entry included),
    /// and delete the account's expired sessions and stale index entries.
    pub(crate) async fn new_session(
        &self,
        caller: &Caller,
        user_id: &Id,
        now: i64,
    ) -> Result<NewSession, ApiError> {
        let raw = Zeroizing::new(rng::bytes::<32>().map_err(crypto_internal)?);
        let hash: [u8; 32] = Sha256::digest(&raw[..]).into();
        let token = Zeroizing::new(b64::encode(&raw[..]));
        let record = SessionRecord {
            user_id: *user_id,
            created_at: now,
            last_seen: now,
            client: caller.user_agent.clone(),
        };
        let mut ops = Vec::new();
        if let Some(old) = caller.session_token.as_deref().and_then(|t| token_hash(t)) {
            ops.push(Op::Delete {
                space: Space::Sessions,
                key: session_key(&old),
            });
            // Its owner (maybe another account) is in the record; without this
            // the owner's index would keep an entry for every replaced session.
            if let Some(bytes) = self
                .store
                .get(Space::Sessions, &session_key(&old))
                .await
                .map_err(store_error)?
            {
                let record: SessionRecord = codec::decode(&bytes).map_err(store_error)?;
                ops.push(Op::Delete {
                    space: Space::Sessions,
                    key: user_session_key(&record.user_id, &old),
                });
            }
        }
        let ends = self.session_until(&record);
        if self.session_sweeps.due(user_id, now) {
            let mut next = ends;
            for (hash, state) in self.indexed_sessions(user_id, now).await? {
                match state {
                    Indexed::Live(live) => next = next.min(self.session_until(&live)),
                    Indexed::Ended => ops.extend(end_session_ops(user_id, &hash)),
                    Indexed::Foreign => ops.push(Op::Delete {
                        space: Space::Sessions,
                        key: user_session_key(user_id, &hash),
                    }),
                }
            }
            self.session_sweeps.swept(user_id, next);
        } else {
            self.session_sweeps.added(user_id, ends);
        }
        ops.push(Op::Put {
            space: Space::Sessions,
            key: session_key(&hash),
            value: codec::encode(&record).map_err(store_error)?,
        });
        ops.push(Op::Put {
            space: Space::Sessions,
            key: user_session_key(user_id, &hash),
            value: Vec::new(),
        });
        Ok(NewSession {
            token,
            hash,
            ops,
            created_at: now,
        })
    }

    fn expired(&self, record: &SessionRecord, now: i64) -> bool {
        let s = &self.config.settings;
        let idle = i64::try_from(s.idle_timeout_secs).unwrap_or(i64::MAX);
        let life = i64::try_from(s.absolute_lifetime_secs).unwrap_or(i64::MAX);
        now.saturating_sub(record.last_seen) >= idle
            || now.saturating_sub(record.created_at) >= life
    }

    /// The first second at which `record` has expired unless it is used
    /// again: its idle end or its absolute end, whichever comes first.
    pub(crate) fn session_until(&self, record: &SessionRecord) -> i64 {
        let s = &self.config.settings;
        let idle = i64::try_from(s.idle_timeout_secs).unwrap_or(i64::MAX);
        let life = i64::try_from(s.absolute_lifetime_secs).unwrap_or(i64::MAX);
        record
            .last_seen
            .saturating_add(idle)
            .min(record.created_at.saturating_add(life))
    }

    /// The caller's valid session, or `None`. A cookie that names no valid
    /// session is cleared on the response; an expired session is deleted; a
    /// used one has its idle clock moved on.
    pub(crate) async fn session(&self, caller: &Caller) -> Result<Option<Session>, ApiError> {
        let Some(cookie) = caller.session_token.as_deref() else {
            return Ok(None);
        };
        let Some(hash) = token_hash(cookie) else {
            caller.clear_session_cookie();
            return Ok(None);
        };
        let Some(bytes) = self
            .store
            .get(Space::Sessions, &session_key(&hash))
            .await
            .map_err(store_error)?
        else {
            caller.clear_session_cookie();
            return Ok(None);
        };
        let mut record: SessionRecord = codec::decode(&bytes).map_err(store_error)?;
        let now = self.now();
        let user = self.user_by_id(&record.user_id).await?;
        let user = match user {
            Some(u) if !u.disabled && !self.expired(&record, now) => u,
            other => {
                // An expired session of an enabled account ends with its
                // event, once (a precondition on the record keeps two requests
                // from logging it twice); one of a disabled or deleted account
                // just goes.
                let expired = other.filter(|u| !u.disabled).map(|u| u.id);
                let mut batch = Batch::new();
                if expired.is_some() {
                    batch.expect_value(Space::Sessions, session_key(&hash), bytes);
                }
                for op in end_session_ops(&record.user_id, &hash) {
                    batch.push(op);
                }
                match expired {
                    Some(id) => {
                        let draft = Draft::own(EventKind::SessionExpired, &id).session(&hash);
                        match self.append(batch, draft).await {
                            Ok(_) | Err(StoreError::Conflict) => {}
                            Err(e) => return Err(store_error(e)),
                        }
                    }
                    None => self.store.apply(batch).await.map_err(store_error)?,
                }
                caller.clear_session_cookie();
                return Ok(None);
            }
        };
        if now.saturating_sub(record.last_seen) >= TOUCH_EVERY_SECS {
            record.last_seen = now;
            let value = codec::encode(&record).map_err(store_error)?;
            let mut batch = Batch::new();
            // Only if it still exists: a session ended meanwhile stays ended.
            batch
                .expect_value(Space::Sessions, session_key(&hash), bytes)
                .put(Space::Sessions, session_key(&hash), value);
            match self.store.apply(batch).await {
                Ok(()) | Err(crate::store::StoreError::Conflict) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        Ok(Some(Session { hash, record, user }))
    }

    /// Hashes of the account's sessions (live or not yet cleaned up), read in
    /// pages until the account's whole index has been seen.
    pub(crate) async fn session_hashes(&self, user_id: &Id) -> Result<Vec<[u8; 32]>, ApiError> {
        let prefix = user_sessions_prefix(user_id);
        let mut out = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = self
                .store
                .scan_prefix(Space::Sessions, &prefix, after.as_deref(), SESSION_PAGE)
                .await
                .map_err(store_error)?;
            let more = page.len() == SESSION_PAGE;
            out.extend(page.iter().filter_map(|(k, _)| {
                k.get(prefix.len()..)
                    .and_then(|h| <[u8; 32]>::try_from(h).ok())
            }));
            match page.into_iter().last() {
                Some((key, _)) if more => after = Some(key),
                _ => return Ok(out),
            }
        }
    }

    /// Every entry of the account's index with what its session row says now.
    async fn indexed_sessions(
        &self,
        user_id: &Id,
        now: i64,
    ) -> Result<Vec<([u8; 32], Indexed)>, ApiError> {
        let mut out = Vec::new();
        for hash in self.session_hashes(user_id).await? {
            let state = match self
                .store
                .get(Space::Sessions, &session_key(&hash))
                .await
                .map_err(store_error)?
            {
                None => Indexed::Ended,
                Some(bytes) => {
                    let record: SessionRecord = codec::decode(&bytes).map_err(store_error)?;
                    if record.user_id != *user_id {
                        Indexed::Foreign
                    } else if self.expired(&record, now) {
                        Indexed::Ended
                    } else {
                        Indexed::Live(record)
                    }
                }
            };
            out.push((hash, state));
        }
        Ok(out)
    }

    /// The account's live sessions with their records; stale index entries and
    /// expired sessions are left out (and cleaned up by `end_sessions_ops` or
    /// the next sign-in).
    pub(crate) async fn live_sessions(
        &self,
        user_id: &Id,
    ) -> Result<Vec<([u8; 32], SessionRecord)>, ApiError> {
        Ok(self
            .indexed_sessions(user_id, self.now())
            .await?
            .into_iter()
            .filter_map(|(hash, state)| match state {
                Indexed::Live(record) => Some((hash, record)),
                Indexed::Ended | Indexed::Foreign => None,
            })
            .collect())
    }

    /// Ops that end every session of the account except `keep`, and how many
    /// live sessions that ends. Every index entry goes, however many there are,
    /// with the session row it names (expired ones and stale entries too).
    pub(crate) async fn end_sessions_ops(
        &self,
        user_id: &Id,
        keep: Option<&[u8; 32]>,
    ) -> Result<(Vec<Op>, u32), ApiError> {
        let mut ops = Vec::new();
        let mut ended = 0u32;
        for (hash, state) in self.indexed_sessions(user_id, self.now()).await? {
            if Some(&hash) == keep {
                continue;
            }
            match state {
                Indexed::Live(_) => {
                    ended = ended.saturating_add(1);
                    ops.extend(end_session_ops(user_id, &hash));
                }
                Indexed::Ended => ops.extend(end_session_ops(user_id, &hash)),
                // Not this account's row: drop only our entry for it.
                Indexed::Foreign => ops.push(Op::Delete {
                    space: Space::Sessions,
                    key: user_session_key(user_id, &hash),
                }),
            }
        }
        Ok((ops, ended))
    }

    /// The account's sessions as the session list shows them.
    pub(crate) async fn session_summaries(
        &self,
        session: &Session,
    ) -> Result<Vec<SessionSummary>, ApiError> {
        let mut list: Vec<SessionSummary> = self
            .live_sessions(&session.user.id)
            .await?
            .into_iter()
            .map(|(hash, r)| SessionSummary {
                id: public_id(&hash),
                created_at: r.created_at,
                last_seen: r.last_seen,
                client: r.client,
                current: hash == session.hash,
            })
            .collect();
        list.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        Ok(list)
    }
}
