//! The auditor's check over the whole log: every link of the chain and every
//! signed head, reporting where and why the chain breaks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{
    audit_chain::{
        ChainHead, GENESIS, {self},
    },
    b64,
    sign::{Signed, VerifyingKey},
};

use super::{AuditEvent, AuditMemory};

/// One stored event as the auditor fetches it: its canonical bytes and the
/// chain hash the server recorded after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the chain.
    pub seq: u64,
    /// [`AuditEvent::encode`] of the event.
    #[serde(with = "b64::vec")]
    pub event: Vec<u8>,
    /// `h_seq`, the recorded chain hash.
    #[serde(with = "b64::array")]
    pub hash: [u8; 32],
}

/// Why verification stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakReason {
    /// An event is missing or out of order (the sequence jumps).
    Gap,
    /// The bytes are not a canonical event, or name another position.
    Malformed,
    /// The recorded hash is not the link recomputed from the event and the
    /// previous hash: the event (or one before it) was changed.
    HashMismatch,
    /// A signed head's signature is not the server's audit key's.
    BadHeadSignature,
    /// The chain as fetched does not reach the hash a signed head vouches for
    /// at this position: events up to here were rewritten.
    HeadMismatch,
    /// A signed head covers events beyond the end of the log: events were
    /// dropped from the end.
    Truncated,
    /// The server's audit key is not the one this auditor verified with
    /// before (`seq`: the remembered event). Nothing else was checked.
    KeyChanged,
    /// The log ends before the event this auditor verified before (`seq`:
    /// the remembered event): it was truncated or rolled back.
    RolledBack,
    /// The chain hash at the remembered event (`seq`) is not the one this
    /// auditor verified before: the log up to there was rewritten (a fork).
    Forked,
}

/// The first place where the log fails to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    /// The sequence number of the first event that does not verify (for a bad
    /// head signature, the head's sequence number).
    pub seq: u64,
    /// What is wrong there.
    pub reason: BreakReason,
}

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Events checked, from 1.
    pub events: u64,
    /// Signed heads checked (every one matched the chain).
    pub heads: usize,
    /// The last hash, `h_events`.
    pub last_hash: [u8; 32],
}

/// Checks the whole log page by page, so the browser can show progress: every
/// link from the start, and every signed head against the hash at its position.
pub struct ChainVerifier {
    prev: [u8; 32],
    seq: u64,
    heads: BTreeMap<u64, [u8; 32]>,
    /// The remembered event and its hash, which the chain must pass through.
    checkpoint: Option<(u64, [u8; 32])>,
}

impl ChainVerifier {
    /// Starts a check against these signed heads. Every head must be signed by
    /// `key` (the server's audit key, fetched from `GET /api/audit/key` and
    /// compared out of band) and heads must not contradict each other.
    pub fn new(key: &VerifyingKey, heads: &[Signed<ChainHead>]) -> Result<Self, ChainBreak> {
        Self::with_memory(key, heads, None)
    }

    /// Like [`ChainVerifier::new`], checked against what this auditor verified
    /// before (see [`AuditMemory`]): `key` must be the pinned one; heads signed
    /// by a retired key count only before the first head under `key`; the
    /// chain must reach the remembered event and pass through its hash.
    pub fn with_memory(
        key: &VerifyingKey,
        heads: &[Signed<ChainHead>],
        memory: Option<&AuditMemory>,
    ) -> Result<Self, ChainBreak> {
        if let Some(m) = memory.filter(|m| m.key != *key) {
            return Err(ChainBreak {
                seq: m.seq,
                reason: BreakReason::KeyChanged,
            });
        }
        let retired = memory.map(|m| m.retired.as_slice()).unwrap_or_default();
        let mut sorted: Vec<&Signed<ChainHead>> = heads.iter().collect();
        crate::sort::sort_by_key(&mut sorted, |h| h.value.seq);
        let mut current_seen = false;
        let mut map = BTreeMap::new();
        for head in sorted {
            let bad = ChainBreak {
                seq: head.value.seq,
                reason: BreakReason::BadHeadSignature,
            };
            let h = match head.verify(key) {
                Ok(h) => {
                    current_seen = true;
                    h
                }
                Err(_) if !current_seen => retired
                    .iter()
                    .find_map(|old| head.verify(old).ok())
                    .ok_or(bad)?,
                Err(_) => return Err(bad),
            };
            if map.insert(h.seq, h.hash).is_some_and(|old| old != h.hash) {
                return Err(ChainBreak {
                    seq: h.seq,
                    reason: BreakReason::HeadMismatch,
                });
            }
        }
        Ok(ChainVerifier {
            prev: GENESIS,
            seq: 0,
            heads: map,
            checkpoint: memory.filter(|m| m.seq > 0).map(|m| (m.seq, m.hash)),
        })
    }

    /// Events verified so far.
    pub fn verified(&self) -> u64 {
        self.seq
    }

    /// Checks the next entries, which must follow the ones fed before.
    pub fn feed(&mut self, entries: &[LogEntry]) -> Result<(), ChainBreak> {
        for entry in entries {
            let expected = self.seq.saturating_add(1);
            let fail = |reason| ChainBreak {
                seq: expected,
                reason,
            };
            if entry.seq != expected {
                return Err(fail(BreakReason::Gap));
            }
            match AuditEvent::decode(&entry.event) {
                Some(e) if e.seq == expected => {}
                _ => return Err(fail(BreakReason::Malformed)),
            }
            let link = audit_chain::Link {
                seq: entry.seq,
                event: &entry.event,
                hash: entry.hash,
            };
            let hash = audit_chain::verify_run(&self.prev, self.seq, &[link])
                .map_err(|_| fail(BreakReason::HashMismatch))?;
            if self.heads.get(&expected).is_some_and(|h| *h != hash) {
                return Err(fail(BreakReason::HeadMismatch));
            }
            if self
                .checkpoint
                .is_some_and(|(seq, remembered)| seq == expected && remembered != hash)
            {
                return Err(fail(BreakReason::Forked));
            }
            self.prev = hash;
            self.seq = expected;
        }
        Ok(())
    }

    /// Ends the check: fails if a signed head lies beyond the last event,
    /// then if the log ends before the remembered event.
    pub fn finish(self) -> Result<Verified, ChainBreak> {
        if let Some((&beyond, _)) = self.heads.range(self.seq.saturating_add(1)..).next() {
            return Err(ChainBreak {
                seq: self.seq.saturating_add(1).min(beyond),
                reason: BreakReason::Truncated,
            });
        }
        if let Some((remembered, _)) = self.checkpoint.filter(|(seq, _)| *seq > self.seq) {
            return Err(ChainBreak {
                seq: remembered,
                reason: BreakReason::RolledBack,
            });
        }
        Ok(Verified {
            events: self.seq,
            heads: self.heads.len(),
            last_hash: self.prev,
        })
    }
}

/// Verifies a whole log at once (see [`ChainVerifier`]).
pub fn verify_log(
    key: &VerifyingKey,
    heads: &[Signed<ChainHead>],
    entries: &[LogEntry],
) -> Result<Verified, ChainBreak> {
    let mut v = ChainVerifier::new(key, heads)?;
    v.feed(entries)?;
    v.finish()
}
