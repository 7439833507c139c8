//! The audit log's hash chain: each event commits to everything before it.
//!
//! `link(prev, seq, event) = SHA-256(bind(AUDIT_LINK, [prev (32), u64be(seq),
//! event]))`, starting from [`GENESIS`] (32 zero bytes) at sequence 1. The server
//! signs the newest link with its audit key ([`ChainHead`]); an auditor who holds
//! a signed head can check any run of events up to it, and removing, editing,
//! inserting or reordering an event breaks every later link. `event` is the
//! event's canonical encoding (defined with the audit log itself).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    b64,
    context::{self, Encoder},
    sign::Signable,
    CryptoError,
};
use serde::{Deserialize, Serialize};

/// The hash before the first event.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// The hash of event `seq` chained onto `prev`.
pub fn link(prev: &[u8; 32], seq: u64, event: &[u8]) -> [u8; 32] {
    Sha256::digest(context::bind(
        context::AUDIT_LINK,
        &[prev, &seq.to_be_bytes(), event],
    ))
    .into()
}

/// The audit key's fingerprint as people compare it: `SHA-256(bind(
/// AUDIT_KEY_FINGERPRINT, [public key (32)]))`, its first 16 bytes in lower-case
/// hex, in eight groups of four separated by single spaces. The server's
/// `audit-key init` prints it; the auditor's page shows it.
pub fn key_fingerprint(public_key: &[u8; 32]) -> String {
    let digest = Sha256::digest(context::bind(context::AUDIT_KEY_FINGERPRINT, &[public_key]));
    let hex: Vec<String> = digest[..16]
        .chunks_exact(2)
        .map(|pair| format!("{:02x}{:02x}", pair[0], pair[1]))
        .collect();
    hex.join(" ")
}

/// One stored event with the hash the server recorded for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link<'a> {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The event's canonical encoding.
    pub event: &'a [u8],
    /// The recorded chain hash after this event.
    pub hash: [u8; 32],
}

/// Checks a contiguous run of links that follows `prev`, the recorded hash of
/// event `prev_seq` ([`GENESIS`] and 0 for the start of the chain), and returns
/// the last hash. Fails on a gap, a reordering, or any changed byte.
pub fn verify_run(
    prev: &[u8; 32],
    prev_seq: u64,
    links: &[Link<'_>],
) -> Result<[u8; 32], CryptoError> {
    let mut current = *prev;
    let mut expected_seq = prev_seq;
    for l in links {
        expected_seq = expected_seq.checked_add(1).ok_or(CryptoError::Malformed)?;
        if l.seq != expected_seq {
            return Err(CryptoError::Malformed);
        }
        let computed = link(&current, l.seq, l.event);
        if !bool::from(computed.ct_eq(&l.hash)) {
            return Err(CryptoError::BadSignature);
        }
        current = computed;
    }
    Ok(current)
}

/// The newest point of the chain, signed by the server's audit key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Sequence number of the newest event.
    pub seq: u64,
    /// Chain hash after that event.
    #[serde(with = "b64::array")]
    pub hash: [u8; 32],
    /// When the head was signed, Unix seconds.
    pub signed_at: i64,
}

impl Signable for ChainHead {
    const LABEL: &'static str = context::SIGN_AUDIT_HEAD;
    fn encode_fields(&self, out: &mut Encoder) {
        out.u64(self.seq).bytes(&self.hash).i64(self.signed_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{sign, SigningKey};

    fn chain(events: &[&'static [u8]]) -> Vec<Link<'static>> {
        let mut prev = GENESIS;
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let seq = i as u64 + 1;
                let hash = link(&prev, seq, e);
                prev = hash;
                Link {
                    seq,
                    event: e,
                    hash,
                }
            })
            .collect()
    }

    const EVENTS: &[&[u8]] = &[b"login ada", b"upload lab", b"grant dr", b"read lab"];

    #[test]
    fn key_fingerprint_shape_and_change() {
        let a = key_fingerprint(&[7; 32]);
        assert_eq!(a.len(), 8 * 4 + 7);
        assert_eq!(a.split(' ').count(), 8);
        assert!(a.split(' ').all(|g| g.len() == 4
            && g.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())));
        assert_eq!(a, key_fingerprint(&[7; 32]));
        let mut other = [7; 32];
        other[31] ^= 1;
        assert_ne!(a, key_fingerprint(&other));
    }

    #[test]
    fn run_verifies_whole_and_in_parts() {
        let links = chain(EVENTS);
        let last = verify_run(&GENESIS, 0, &links).unwrap();
        assert_eq!(last, links[3].hash);
        // A later run checks from the hash just before it.
        assert_eq!(verify_run(&links[1].hash, 2, &links[2..]).unwrap(), last);
        assert_eq!(verify_run(&GENESIS, 0, &[]).unwrap(), GENESIS);
    }

    #[test]
    fn fail_edited_event() {
        let mut links = chain(EVENTS);
        links[1].event = b"upload lax";
        assert!(verify_run(&GENESIS, 0, &links).is_err());
    }

    #[test]
    fn fail_removed_event() {
        let mut links = chain(EVENTS);
        links.remove(1);
        assert!(verify_run(&GENESIS, 0, &links).is_err());
    }

    #[test]
    fn fail_reordered_events() {
        let mut links = chain(EVENTS);
        links.swap(1, 2);
        assert!(verify_run(&GENESIS, 0, &links).is_err());
    }

    #[test]
    fn fail_inserted_event_with_recomputed_hash_breaks_the_next_link() {
        let mut links = chain(EVENTS);
        let forged = link(&links[0].hash, 2, b"forged");
        links.insert(
            1,
            Link {
                seq: 2,
                event: b"forged",
                hash: forged,
            },
        );
        assert!(verify_run(&GENESIS, 0, &links).is_err());
    }

    #[test]
    fn fail_run_claimed_to_start_elsewhere() {
        let links = chain(EVENTS);
        assert!(verify_run(&links[0].hash, 2, &links[1..]).is_err());
        assert!(verify_run(&links[0].hash, 0, &links[1..]).is_err());
    }

    #[test]
    fn fail_wrong_starting_point() {
        let links = chain(EVENTS);
        assert!(verify_run(&[1; 32], 0, &links).is_err());
    }

    #[test]
    fn signed_head_verifies_and_fails_when_moved() {
        let key = SigningKey::generate().unwrap();
        let links = chain(EVENTS);
        let head = ChainHead {
            seq: 4,
            hash: links[3].hash,
            signed_at: 1,
        };
        let signed = sign(&key, head);
        signed.verify(&key.verifying_key()).unwrap();
        let mut moved = signed.clone();
        moved.value.seq = 3;
        moved.value.hash = links[2].hash;
        assert!(moved.verify(&key.verifying_key()).is_err());
    }
}
