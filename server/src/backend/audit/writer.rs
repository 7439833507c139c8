//! The group-commit writer: appends queue their batches, and one writer step
//! at a time numbers everything queued, chains it and applies it as one batch.

use std::sync::{Arc, Mutex as StdMutex};

use shared::{
    audit::AuditEvent,
    crypto::{
        audit_chain::{
            GENESIS, {self},
        },
        sign::SigningKey,
    },
};
use tokio::sync::{oneshot, Mutex};

use super::{
    layout::{event_key, head_key, subject_key, system_key, Head, StoredEvent},
    Draft,
};
use crate::{
    backend::Clock,
    store::{codec, Batch, Op, Space, Store, StoreError},
};

/// How often one group follows a head that other writers moved before it
/// gives up (each time, another writer made progress).
const MOVED_HEAD_RETRIES: usize = 64;

pub(super) struct Job {
    pub(super) batch: Batch,
    pub(super) draft: Draft,
    /// Events written right after `draft`, in the same batch (a batch of
    /// record changes has one event per item).
    pub(super) more: Vec<Draft>,
    pub(super) at: i64,
    pub(super) reply: oneshot::Sender<Result<u64, StoreError>>,
}

pub(super) struct Inner {
    pub(super) store: Arc<dyn Store>,
    pub(super) clock: Clock,
    pub(super) queue: StdMutex<Vec<Job>>,
    /// The writer's lock, holding the head as last written (`None`: read it
    /// from the store first).
    pub(super) writer: Arc<Mutex<Option<Head>>>,
    pub(super) max_group: usize,
    pub(super) key: tokio::sync::OnceCell<Arc<SigningKey>>,
}

/// The ops that append `event` (already numbered) after `prev`.
pub(super) fn event_ops(
    batch: &mut Batch,
    prev: &Head,
    event: &AuditEvent,
) -> Result<Head, StoreError> {
    let bytes = event.encode();
    let hash = audit_chain::link(&prev.hash, event.seq, &bytes);
    let stored = codec::encode(&StoredEvent { event: bytes, hash })?;
    batch.put(Space::Audit, event_key(event.seq), stored);
    if let Some(subject) = &event.subject {
        batch.put(Space::Audit, subject_key(subject, event.seq), Vec::new());
    }
    if event.kind.is_system() {
        batch.put(Space::Audit, system_key(event.seq), Vec::new());
    }
    Ok(Head {
        seq: event.seq,
        hash,
    })
}

pub(super) fn numbered(job: &Job, seq: u64) -> AuditEvent {
    numbered_draft(&job.draft, job.at, seq)
}

fn numbered_draft(draft: &Draft, at: i64, seq: u64) -> AuditEvent {
    AuditEvent {
        seq,
        at,
        actor: draft.actor,
        session: draft.session,
        kind: draft.kind,
        subject: draft.subject,
        item: draft.item,
    }
}

impl Inner {
    pub(super) async fn read_head(&self) -> Result<Head, StoreError> {
        match self.store.get(Space::Meta, &head_key()).await? {
            Some(bytes) => Head::decode(&bytes),
            None => Ok(Head {
                seq: 0,
                hash: GENESIS,
            }),
        }
    }

    /// Takes the writer's lock and writes whatever is queued.
    pub(super) async fn write_step(self: Arc<Self>) {
        let mut cached = self.writer.clone().lock_owned().await;
        loop {
            let jobs: Vec<Job> = match self.queue.lock() {
                Ok(mut q) => {
                    let n = q.len().min(self.max_group);
                    q.drain(..n).collect()
                }
                Err(_) => return,
            };
            if jobs.is_empty() {
                return;
            }
            self.write_group(&mut cached, jobs).await;
        }
    }

    pub(super) async fn write_group(&self, cached: &mut Option<Head>, jobs: Vec<Job>) {
        let head = match cached.take() {
            Some(h) => h,
            None => match self.read_head().await {
                Ok(h) => h,
                Err(e) => {
                    for job in jobs {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                    return;
                }
            },
        };
        // The whole group as one batch.
        let head = match self.apply_following(head, &jobs).await {
            Ok((head, new)) => {
                *cached = Some(new);
                // Each job's answer is the number of its last event.
                let mut seq = head.seq;
                for job in jobs {
                    seq = seq.saturating_add(1 + job.more.len() as u64);
                    let _ = job.reply.send(Ok(seq));
                }
                return;
            }
            Err((head, StoreError::Conflict)) if jobs.len() > 1 => head,
            Err((_, e)) => {
                // Read the head again next time, whatever happened.
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
                return;
            }
        };
        // Someone's own precondition failed: write each on its own.
        let mut head = head;
        let mut known = true;
        for job in jobs {
            match self.apply_following(head, std::slice::from_ref(&job)).await {
                Ok((_, new)) => {
                    head = new;
                    let _ = job.reply.send(Ok(new.seq));
                }
                Err((at, e)) => {
                    head = at;
                    known &= e == StoreError::Conflict;
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        if known {
            *cached = Some(head);
        }
    }

    /// [`Inner::apply_jobs`] after `head`, again after the stored head
    /// whenever another writer moved it first (another server on the same
    /// store appends to the same chain). Answers the head the jobs followed
    /// and the new one; or, on failure, the head last known and why. A
    /// conflict with the head unchanged is a job's own precondition.
    async fn apply_following(
        &self,
        mut head: Head,
        jobs: &[Job],
    ) -> Result<(Head, Head), (Head, StoreError)> {
        // Each retry means another writer appended; bounded all the same.
        for _ in 0..MOVED_HEAD_RETRIES {
            match self.apply_jobs(head, jobs).await {
                Ok(new) => return Ok((head, new)),
                Err(StoreError::Conflict) => match self.read_head().await {
                    Ok(stored) if stored != head => head = stored,
                    Ok(_) => return Err((head, StoreError::Conflict)),
                    Err(e) => return Err((head, e)),
                },
                Err(e) => return Err((head, e)),
            }
        }
        Err((
            head,
            StoreError::Backend("the audit head kept moving under this writer".into()),
        ))
    }

    /// One batch: the head precondition, each job's ops and event, the new head.
    pub(super) async fn apply_jobs(&self, head: Head, jobs: &[Job]) -> Result<Head, StoreError> {
        let mut batch = Batch::new();
        if head.seq == 0 {
            batch.expect_absent(Space::Meta, head_key());
        } else {
            batch.expect_value(Space::Meta, head_key(), head.encode());
        }
        let mut new = head;
        for job in jobs {
            for op in job.batch.ops() {
                batch.push(op.clone());
            }
            let seq = new
                .seq
                .checked_add(1)
                .ok_or_else(|| StoreError::Backend("audit sequence exhausted".into()))?;
            new = event_ops(&mut batch, &new, &numbered(job, seq))?;
            for draft in &job.more {
                let seq = new
                    .seq
                    .checked_add(1)
                    .ok_or_else(|| StoreError::Backend("audit sequence exhausted".into()))?;
                new = event_ops(&mut batch, &new, &numbered_draft(draft, job.at, seq))?;
            }
        }
        batch.push(Op::Put {
            space: Space::Meta,
            key: head_key(),
            value: new.encode(),
        });
        self.store.apply(batch).await?;
        Ok(new)
    }
}
