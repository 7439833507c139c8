//! The audit log: every audited change is written in the same store batch as
//! its event, so neither exists without the other.
//!
//! Its keys are laid out in `layout`; the group-commit writer is in
//! `writer`; the signing key, kept in a file outside the store, in `key`.
//!
//! **Concurrency: group commit.** An append queues its batch and spawns a
//! writer step; writer steps take one lock in turn, and the one holding it
//! takes everything queued, gives the events consecutive numbers, and applies
//! all of it as one batch (one fsync), then answers each caller. So appends
//! are serialised (the head's compare-and-swap never races) and acknowledged
//! only after the flush, while many concurrent appends share one flush. If the
//! combined batch fails a precondition, each append is retried alone, so one
//! caller's conflict (a taken username) never fails another's. The step runs
//! in its own task: a caller that goes away mid-write cannot leave the cached
//! head behind the store.

pub mod key;
mod layout;
mod writer;

use std::{
    sync::{Arc, Mutex as StdMutex},
    time::Duration,
};

use shared::{
    api::{
        audit::{AuditBackend, AuditPublicKey, EventsPage, HeadsPage, LogPage, MAX_PAGE},
        ApiError, Caller,
    },
    audit::{AuditEvent, EventKind, LogEntry, SESSION_ID_LEN},
    crypto::{
        audit_chain::ChainHead,
        sign::{sign, Signed, SigningKey},
    },
    model::{Id, Role},
};
use tokio::sync::{oneshot, Mutex};

use super::{store_error, Clock, ServerBackend};
use crate::store::{codec, Batch, Space, Store, StoreError};

pub use layout::{
    event_key, head_key, signed_head_key, signed_heads_prefix, signing_key_key as legacy_seed_key,
    StoredKey as LegacyStoredKey,
};

use layout::{
    events_prefix, seq_at_end, subject_key, subject_prefix, system_key, system_prefix, StoredEvent,
};
use writer::{Inner, Job};

/// Most appends written together in one batch.
pub const MAX_GROUP: usize = 1000;

/// A session's id outside the session store: the first bytes of its token's hash.
/// The session list (as base64url) and audit events both name a session by it,
/// so a user can match the two.
pub fn session_id(hash: &[u8; 32]) -> [u8; shared::audit::SESSION_ID_LEN] {
    let mut id = [0u8; shared::audit::SESSION_ID_LEN];
    id.copy_from_slice(&hash[..shared::audit::SESSION_ID_LEN]);
    id
}

/// An event before it has a place in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draft {
    /// What happened.
    pub kind: EventKind,
    /// Who did it.
    pub actor: Option<Id>,
    /// From which session (its token hash; only the public part is logged).
    pub session: Option<[u8; SESSION_ID_LEN]>,
    /// Whose account or data.
    pub subject: Option<Id>,
    /// Which item.
    pub item: Option<Id>,
}

impl Draft {
    /// An event of `kind` with nothing else known yet.
    pub fn new(kind: EventKind) -> Draft {
        Draft {
            kind,
            actor: None,
            session: None,
            subject: None,
            item: None,
        }
    }

    /// Done by `user`, about `user` (most account events).
    pub fn own(kind: EventKind, user: &Id) -> Draft {
        Draft::new(kind).actor(user).subject(user)
    }

    /// Like [`Draft::own`] when the account exists; with neither actor nor subject
    /// for a name that matches no account (a failed sign-in or recovery).
    pub fn own_if_known(kind: EventKind, user: Option<&Id>) -> Draft {
        match user {
            Some(id) => Draft::own(kind, id),
            None => Draft::new(kind),
        }
    }

    /// Sets who did it.
    pub fn actor(mut self, id: &Id) -> Draft {
        self.actor = Some(*id);
        self
    }

    /// Sets the session from its token hash.
    pub fn session(mut self, hash: &[u8; 32]) -> Draft {
        self.session = Some(session_id(hash));
        self
    }

    /// Sets whose account or data it concerns.
    pub fn subject(mut self, id: &Id) -> Draft {
        self.subject = Some(*id);
        self
    }

    /// Sets the item.
    pub fn item(mut self, id: &Id) -> Draft {
        self.item = Some(*id);
        self
    }
}

/// The append-only, hash-chained audit log over a store.
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

impl AuditLog {
    /// The log in `store`, with group commit.
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> AuditLog {
        AuditLog::with_group_limit(store, clock, MAX_GROUP)
    }

    /// The log with at most `max_group` appends per batch (1: one flush per
    /// append, for comparison in the benchmark).
    pub fn with_group_limit(store: Arc<dyn Store>, clock: Clock, max_group: usize) -> AuditLog {
        AuditLog {
            inner: Arc::new(Inner {
                store,
                clock,
                queue: StdMutex::new(Vec::new()),
                writer: Arc::new(Mutex::new(None)),
                max_group: max_group.max(1),
                key: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// Applies `batch` together with the event `draft`, durably, and returns
    /// the event's sequence number. [`StoreError::Conflict`] if a precondition
    /// of `batch` failed: then neither the change nor the event is written.
    pub async fn append(&self, batch: Batch, draft: Draft) -> Result<u64, StoreError> {
        self.append_all(batch, draft, Vec::new()).await
    }

    /// Applies `batch` together with the event `draft` and then each of
    /// `more`, all in one durable write; returns the last event's number.
    pub async fn append_all(
        &self,
        batch: Batch,
        draft: Draft,
        more: Vec<Draft>,
    ) -> Result<u64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let at = (self.inner.clock)();
        self.inner
            .queue
            .lock()
            .map_err(|_| StoreError::Backend("audit queue lock poisoned".into()))?
            .push(Job {
                batch,
                draft,
                more,
                at,
                reply,
            });
        let inner = self.inner.clone();
        // Detached: it finishes even if this caller is dropped meanwhile. Not
        // awaited: the answer comes from whichever step writes this job, and
        // waiting for this step to get the writer's lock as well kept each
        // caller from queueing its next event until the writer was idle, so
        // groups stayed at one event.
        tokio::spawn(async move { inner.write_step().await });
        answer
            .await
            .map_err(|_| StoreError::Backend("the audit writer stopped".into()))?
    }

    /// Signs the current head if no head at its position is signed yet;
    /// returns the new signed head.
    pub async fn sign_head(&self) -> Result<Option<Signed<ChainHead>>, StoreError> {
        let head = self.inner.read_head().await?;
        if head.seq == 0 {
            return Ok(None);
        }
        let key_at = signed_head_key(head.seq);
        if self.inner.store.get(Space::Audit, &key_at).await?.is_some() {
            return Ok(None);
        }
        let key = self.signing_key().await?;
        let signed = sign(
            &key,
            ChainHead {
                seq: head.seq,
                hash: head.hash,
                signed_at: (self.inner.clock)(),
            },
        );
        // Several servers may sign the same head at once: the first write
        // stands, and the others find it there.
        let mut batch = Batch::new();
        batch.expect_absent(Space::Audit, key_at.clone()).put(
            Space::Audit,
            key_at,
            codec::encode(&signed)?,
        );
        match self.inner.store.apply(batch).await {
            Ok(()) => Ok(Some(signed)),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Signs with `key` from now on (the key file's, see [`key`]). Only the
    /// first call counts, and only before anything was signed: `false`
    /// otherwise.
    pub fn use_key(&self, key: SigningKey) -> bool {
        self.inner.key.set(Arc::new(key)).is_ok()
    }

    /// The audit signing key given by [`AuditLog::use_key`]. A log that was
    /// given none (tests, benchmarks) makes one that lives in memory only; it
    /// is never read from or written to the store.
    pub async fn signing_key(&self) -> Result<Arc<SigningKey>, StoreError> {
        self.inner
            .key
            .get_or_try_init(|| async {
                SigningKey::generate()
                    .map(Arc::new)
                    .map_err(|_| StoreError::Backend("no randomness for the audit key".into()))
            })
            .await
            .cloned()
    }

    /// Signs the head every `every` while events arrive, until the process
    /// ends; failures are logged and tried again next time.
    pub fn spawn_head_signer(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let log = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match log.sign_head().await {
                    Ok(Some(h)) => tracing::debug!(seq = h.value.seq, "audit head signed"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not sign the audit head"),
                }
            }
        })
    }

    /// Entries `from ..` (at most `limit`) and the current head's position.
    pub async fn page(&self, from: u64, limit: usize) -> Result<(Vec<LogEntry>, u64), StoreError> {
        let head = self.inner.read_head().await?;
        let after = event_key(from.saturating_sub(1));
        let rows = self
            .inner
            .store
            .scan_prefix(Space::Audit, &events_prefix(), Some(&after), limit)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (key, value) in rows {
            let seq = seq_at_end(&key)?;
            let stored: StoredEvent = codec::decode(&value)?;
            out.push(LogEntry {
                seq,
                event: stored.event,
                hash: stored.hash,
            });
        }
        Ok((out, head.seq))
    }

    /// Signed heads after position `after`.
    pub async fn heads(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Signed<ChainHead>>, StoreError> {
        let rows = self
            .inner
            .store
            .scan_prefix(
                Space::Audit,
                &signed_heads_prefix(),
                Some(&signed_head_key(after)),
                limit,
            )
            .await?;
        rows.iter().map(|(_, v)| codec::decode(v)).collect()
    }

    /// Events listed under an index prefix, after `after`.
    async fn indexed(
        &self,
        prefix: Vec<u8>,
        after_key: Vec<u8>,
        limit: usize,
    ) -> Result<EventsPage, StoreError> {
        let rows = self
            .inner
            .store
            .scan_prefix(Space::Audit, &prefix, Some(&after_key), limit)
            .await?;
        let mut events = Vec::with_capacity(rows.len());
        for (key, _) in &rows {
            let seq = seq_at_end(key)?;
            let value = self
                .inner
                .store
                .get(Space::Audit, &event_key(seq))
                .await?
                .ok_or_else(|| StoreError::Corrupt("audit index names a missing event".into()))?;
            let stored: StoredEvent = codec::decode(&value)?;
            events.push(
                AuditEvent::decode(&stored.event)
                    .ok_or_else(|| StoreError::Corrupt("stored audit event".into()))?,
            );
        }
        let next = if rows.len() == limit {
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(EventsPage { events, next })
    }

    /// Events about `subject` after `after`.
    pub async fn history(
        &self,
        subject: &Id,
        after: u64,
        limit: usize,
    ) -> Result<EventsPage, StoreError> {
        self.indexed(subject_prefix(subject), subject_key(subject, after), limit)
            .await
    }

    /// System events after `after`.
    pub async fn system(&self, after: u64, limit: usize) -> Result<EventsPage, StoreError> {
        self.indexed(system_prefix(), system_key(after), limit)
            .await
    }
}

fn check_limit(limit: u32) -> Result<usize, ApiError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(format!(
            "The page size must be 1 to {MAX_PAGE}."
        )));
    }
    Ok(limit as usize)
}

impl ServerBackend {
    /// Applies `batch` with its audit event, mapping store failures for the
    /// client (`Conflict` stays a [`StoreError`] for the caller to judge).
    pub(crate) async fn append(&self, batch: Batch, draft: Draft) -> Result<u64, StoreError> {
        self.audit.append(batch, draft).await
    }

    /// Applies `batch` with several events, in one durable write.
    pub(crate) async fn append_all(
        &self,
        batch: Batch,
        draft: Draft,
        more: Vec<Draft>,
    ) -> Result<u64, StoreError> {
        self.audit.append_all(batch, draft, more).await
    }

    /// Records an event that has no other change (a failed sign-in).
    pub(crate) async fn record(&self, draft: Draft) -> Result<(), ApiError> {
        self.append(Batch::new(), draft)
            .await
            .map(drop)
            .map_err(store_error)
    }
}

#[async_trait::async_trait]
impl AuditBackend for ServerBackend {
    async fn audit_key(&self) -> Result<AuditPublicKey, ApiError> {
        let key = self.audit.signing_key().await.map_err(store_error)?;
        Ok(AuditPublicKey {
            key: key.verifying_key(),
        })
    }

    async fn audit_log(&self, caller: &Caller, from: u64, limit: u32) -> Result<LogPage, ApiError> {
        self.require_hidden_role(caller, Role::Auditor).await?;
        let limit = check_limit(limit)?;
        let (entries, head_seq) = self.audit.page(from, limit).await.map_err(store_error)?;
        if from == 0 || from > head_seq.saturating_add(1) {
            return Err(ApiError::bad_request(format!(
                "The page must start at 1 to {} (one past the newest event).",
                head_seq.saturating_add(1)
            )));
        }
        Ok(LogPage { entries, head_seq })
    }

    async fn audit_heads(
        &self,
        caller: &Caller,
        after: u64,
        limit: u32,
    ) -> Result<HeadsPage, ApiError> {
        self.require_hidden_role(caller, Role::Auditor).await?;
        let limit = check_limit(limit)?;
        let heads = self.audit.heads(after, limit).await.map_err(store_error)?;
        Ok(HeadsPage { heads })
    }

    async fn my_history(
        &self,
        caller: &Caller,
        after: u64,
        limit: u32,
    ) -> Result<EventsPage, ApiError> {
        let s = self.require_session(caller).await?;
        let limit = check_limit(limit)?;
        // Unfinished sign-ins that have expired belong in the history now.
        self.log_abandoned().await;
        self.audit
            .history(&s.user.id, after, limit)
            .await
            .map_err(store_error)
    }

    async fn system_events(
        &self,
        caller: &Caller,
        after: u64,
        limit: u32,
    ) -> Result<EventsPage, ApiError> {
        self.require_hidden_role(caller, Role::Admin).await?;
        let limit = check_limit(limit)?;
        self.log_abandoned().await;
        self.audit.system(after, limit).await.map_err(store_error)
    }
}
