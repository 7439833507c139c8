//! How the audit log is stored.
//!
//! Audit keyspace:
//!
//! | key                          | value |
//! |------------------------------|-------|
//! | `1 ‖ u64 seq`                | the event's canonical bytes and chain hash |
//! | `2 ‖ u64 seq`                | a signed chain head at `seq` |
//! | `3 ‖ subject id ‖ u64 seq`   | empty: index of a user's own history |
//! | `4 ‖ u64 seq`                | empty: index of system events (the admin's list) |
//!
//! Meta keeps the chain head (`u64be seq ‖ hash`, 40 bytes). Stores written
//! before the key file held the audit signing seed in Meta too (`audit-key`);
//! the server moves it out at start (`key.rs`). Every append carries a precondition on the head it extends and
//! writes the new head, in the caller's batch.

use serde::{Deserialize, Serialize};
use shared::{crypto::b64, model::Id};

use crate::store::{keys::Key, StoreError};

/// The chain head: the last event's number and chain hash.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Head {
    pub(super) seq: u64,
    pub(super) hash: [u8; 32],
}

impl Head {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = self.seq.to_be_bytes().to_vec();
        out.extend_from_slice(&self.hash);
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Head, StoreError> {
        let corrupt = || StoreError::Corrupt("audit chain head".into());
        let (seq, hash) = bytes.split_first_chunk::<8>().ok_or_else(corrupt)?;
        Ok(Head {
            seq: u64::from_be_bytes(*seq),
            hash: hash.try_into().map_err(|_| corrupt())?,
        })
    }
}

/// One event as stored.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredEvent {
    #[serde(with = "b64::vec")]
    pub(super) event: Vec<u8>,
    #[serde(with = "b64::array")]
    pub(super) hash: [u8; 32],
}

/// The audit seed as old stores kept it in Meta (read only to move it out;
/// tests write it to make an old store).
#[derive(Serialize, Deserialize)]
pub struct StoredKey {
    /// The Ed25519 seed.
    #[serde(with = "b64::array")]
    pub seed: [u8; 32],
}

impl Drop for StoredKey {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.seed.zeroize();
    }
}

/// The key of the chain head in the Meta keyspace (`u64be(seq) || hash`); the
/// tamper tool rewinds it the way an attacker with disk access would.
pub fn head_key() -> Vec<u8> {
    Key::new().str("audit-head").finish()
}

/// Where old stores kept the audit seed in Meta.
pub fn signing_key_key() -> Vec<u8> {
    Key::new().str("audit-key").finish()
}

/// The key of event `seq` in the Audit keyspace (tests edit stored events).
pub fn event_key(seq: u64) -> Vec<u8> {
    Key::new().u8(1).u64(seq).finish()
}

/// Prefix of every event.
pub(super) fn events_prefix() -> Vec<u8> {
    Key::new().u8(1).finish()
}

/// Prefix of every signed chain head.
pub fn signed_heads_prefix() -> Vec<u8> {
    Key::new().u8(2).finish()
}

/// The key of the signed head at `seq`.
pub fn signed_head_key(seq: u64) -> Vec<u8> {
    Key::new().u8(2).u64(seq).finish()
}

pub(super) fn subject_key(subject: &Id, seq: u64) -> Vec<u8> {
    Key::new().u8(3).fixed(subject).u64(seq).finish()
}

/// Prefix of the index of a user's own history.
pub(super) fn subject_prefix(subject: &Id) -> Vec<u8> {
    Key::new().u8(3).fixed(subject).finish()
}

/// Prefix of the index of system events.
pub(super) fn system_prefix() -> Vec<u8> {
    Key::new().u8(4).finish()
}

pub(super) fn system_key(seq: u64) -> Vec<u8> {
    Key::new().u8(4).u64(seq).finish()
}

pub(super) fn seq_at_end(key: &[u8]) -> Result<u64, StoreError> {
    key.last_chunk::<8>()
        .map(|b| u64::from_be_bytes(*b))
        .ok_or_else(|| StoreError::Corrupt("audit key".into()))
}
