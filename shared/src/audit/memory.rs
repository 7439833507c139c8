//! What an auditor's browser remembers between checks, so that a server (or
//! anyone who can write its disk) cannot answer a later check with another
//! key, a shorter log or a rewritten one.
//!
//! After a check passes, the browser keeps the audit key it verified with (the
//! pin) and the newest event it verified with that event's chain hash. The
//! next check ([`super::ChainVerifier::with_memory`]) refuses:
//!
//! - a different key ([`super::BreakReason::KeyChanged`]), before anything
//!   else is looked at, until the auditor compares fingerprints and trusts it
//!   ([`AuditMemory::trust_new_key`]);
//! - a log that now ends before the remembered event
//!   ([`super::BreakReason::RolledBack`]): events were removed;
//! - a log whose chain hash at the remembered event is not the remembered one
//!   ([`super::BreakReason::Forked`]): events up to there were rewritten, even
//!   if every head was signed again.
//!
//! Heads signed by a key the auditor trusted before a key change still count,
//! but only before the first head signed by the current key: a key change
//! goes forward only.

use serde::{Deserialize, Serialize};

use crate::crypto::{audit_chain::key_fingerprint, b64, sign::VerifyingKey};

use super::Verified;

/// The auditor's remembered state (kept per auditor in the browser's storage
/// as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditMemory {
    /// The pinned audit key: the one the last check verified with.
    pub key: VerifyingKey,
    /// Keys pinned before a key change the auditor accepted, oldest first.
    #[serde(default)]
    pub retired: Vec<VerifyingKey>,
    /// The newest event verified (0: none yet).
    pub seq: u64,
    /// The chain hash after event `seq`.
    #[serde(with = "b64::array")]
    pub hash: [u8; 32],
}

impl AuditMemory {
    /// The state after a check under `key` that covered `verified`, keeping
    /// the keys retired before.
    pub fn after(previous: Option<&AuditMemory>, key: VerifyingKey, verified: &Verified) -> Self {
        AuditMemory {
            key,
            retired: previous.map(|m| m.retired.clone()).unwrap_or_default(),
            seq: verified.events,
            hash: verified.last_hash,
        }
    }

    /// Accepts `new` as the audit key after the auditor compared its
    /// fingerprint with the operator's: the old key is retired (its heads
    /// still count before the new key's first one), and the remembered event
    /// and hash stay, so the log must still pass through them.
    pub fn trust_new_key(&self, new: VerifyingKey) -> AuditMemory {
        let mut retired = self.retired.clone();
        if self.key != new && !retired.contains(&self.key) {
            retired.push(self.key);
        }
        retired.retain(|k| *k != new);
        AuditMemory {
            key: new,
            retired,
            seq: self.seq,
            hash: self.hash,
        }
    }

    /// The pinned key's fingerprint, as `medvault-server audit-key init`
    /// prints it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }
}

/// The fingerprint of an audit key, as `medvault-server audit-key init`
/// prints it (eight groups of four hex digits).
pub fn fingerprint(key: &VerifyingKey) -> String {
    key_fingerprint(&key.to_bytes())
}
