//! Events' codes and encodings, and the verifier on a whole log, an edited
//! event, a rewritten chain, a dropped tail, gaps and foreign heads.

use super::*;
use crate::crypto::{
    audit_chain::{link, ChainHead, GENESIS},
    context,
    sign::{sign, Signed, SigningKey, VerifyingKey},
};

fn event(seq: u64, kind: EventKind) -> AuditEvent {
    AuditEvent {
        seq,
        at: 1_750_000_000 + seq as i64,
        actor: Some([1; 16]),
        session: if seq.is_multiple_of(2) {
            Some([2; 16])
        } else {
            None
        },
        kind,
        subject: Some([3; 16]),
        item: None,
    }
}

fn log(n: u64) -> Vec<LogEntry> {
    let mut prev = GENESIS;
    (1..=n)
        .map(|seq| {
            let bytes = event(seq, EventKind::ALL[seq as usize % EventKind::ALL.len()]).encode();
            prev = link(&prev, seq, &bytes);
            LogEntry {
                seq,
                event: bytes,
                hash: prev,
            }
        })
        .collect()
}

fn head(key: &SigningKey, entries: &[LogEntry], seq: u64) -> Signed<ChainHead> {
    sign(
        key,
        ChainHead {
            seq,
            hash: entries[seq as usize - 1].hash,
            signed_at: 5,
        },
    )
}

#[test]
fn codes_are_distinct_and_round_trip() {
    for (i, a) in EventKind::ALL.iter().enumerate() {
        assert_eq!(EventKind::from_code(a.code()), Some(*a));
        for b in &EventKind::ALL[i + 1..] {
            assert_ne!(a.code(), b.code());
        }
    }
    assert_eq!(EventKind::from_code(0), None);
}

#[test]
fn event_encoding_round_trips_and_is_bind() {
    let e = event(2, EventKind::SignIn);
    let bytes = e.encode();
    assert_eq!(AuditEvent::decode(&bytes), Some(e.clone()));
    let expected = context::bind(
        context::AUDIT_EVENT,
        &[
            &2u64.to_be_bytes(),
            &e.at.to_be_bytes(),
            &[1; 16],
            &[2; 16],
            &1u16.to_be_bytes(),
            &[3; 16],
            &[],
        ],
    );
    assert_eq!(bytes, expected);
}

#[test]
fn fail_decode_of_non_canonical_bytes() {
    let bytes = event(1, EventKind::SignOut).encode();
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(AuditEvent::decode(&trailing), None);
    assert_eq!(AuditEvent::decode(&bytes[..bytes.len() - 1]), None);
    let other_label = context::bind(context::AUDIT_LINK, &[&1u64.to_be_bytes()]);
    assert_eq!(AuditEvent::decode(&other_label), None);
    let mut short_id = event(1, EventKind::SignOut);
    short_id.actor = None;
    let mut b = short_id.encode();
    // Make the (empty) actor field claim 1 byte: the lengths no longer fit.
    let label_len = 4 + context::AUDIT_EVENT.len();
    let actor_at = label_len + 12 + 12;
    b[actor_at + 3] = 1;
    assert_eq!(AuditEvent::decode(&b), None);
}

#[test]
fn whole_log_verifies_with_heads() {
    let key = SigningKey::generate().unwrap();
    let entries = log(20);
    let heads = [head(&key, &entries, 7), head(&key, &entries, 20)];
    let v = verify_log(&key.verifying_key(), &heads, &entries).unwrap();
    assert_eq!((v.events, v.heads, v.last_hash), (20, 2, entries[19].hash));
    // In pages, too.
    let mut verifier = ChainVerifier::new(&key.verifying_key(), &heads).unwrap();
    for page in entries.chunks(6) {
        verifier.feed(page).unwrap();
    }
    assert_eq!(verifier.finish().unwrap().events, 20);
}

#[test]
fn fail_edited_event_named_at_its_place() {
    let key = SigningKey::generate().unwrap();
    let mut entries = log(10);
    let heads = [head(&key, &entries, 10)];
    entries[4].event = event(5, EventKind::AccountDisabled).encode();
    let err = verify_log(&key.verifying_key(), &heads, &entries).unwrap_err();
    assert_eq!(
        err,
        ChainBreak {
            seq: 5,
            reason: BreakReason::HashMismatch
        }
    );
}

#[test]
fn fail_rewritten_chain_caught_by_the_head() {
    let key = SigningKey::generate().unwrap();
    let entries = log(10);
    let heads = [head(&key, &entries, 8)];
    // Rebuild every hash after a changed event 3: the links agree, the head not.
    let mut forged = entries.clone();
    forged[2].event = event(3, EventKind::SignOut).encode();
    let mut prev = forged[1].hash;
    for e in &mut forged[2..] {
        e.hash = link(&prev, e.seq, &e.event);
        prev = e.hash;
    }
    let err = verify_log(&key.verifying_key(), &heads, &forged).unwrap_err();
    assert_eq!(err.seq, 8);
    assert_eq!(err.reason, BreakReason::HeadMismatch);
}

#[test]
fn fail_dropped_tail_behind_a_head() {
    let key = SigningKey::generate().unwrap();
    let entries = log(10);
    let heads = [head(&key, &entries, 9)];
    let err = verify_log(&key.verifying_key(), &heads, &entries[..7]).unwrap_err();
    assert_eq!(
        err,
        ChainBreak {
            seq: 8,
            reason: BreakReason::Truncated
        }
    );
}

#[test]
fn fail_gap_foreign_head_and_misplaced_event() {
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let mut entries = log(6);
    let foreign = [head(&other, &entries, 3)];
    assert_eq!(
        verify_log(&key.verifying_key(), &foreign, &entries)
            .unwrap_err()
            .reason,
        BreakReason::BadHeadSignature
    );
    let mut gap = entries.clone();
    gap.remove(2);
    assert_eq!(
        verify_log(&key.verifying_key(), &[], &gap).unwrap_err(),
        ChainBreak {
            seq: 3,
            reason: BreakReason::Gap
        }
    );
    // An event whose bytes claim another position.
    entries[1].event = event(9, EventKind::SignIn).encode();
    entries[1].hash = link(&entries[0].hash, 2, &entries[1].event);
    assert_eq!(
        verify_log(&key.verifying_key(), &[], &entries)
            .unwrap_err()
            .reason,
        BreakReason::Malformed
    );
}

/// What the browser remembers after verifying `entries` under `key`.
fn remember(key: &SigningKey, heads: &[Signed<ChainHead>], entries: &[LogEntry]) -> AuditMemory {
    let v = verify_log(&key.verifying_key(), heads, entries).unwrap();
    AuditMemory::after(None, key.verifying_key(), &v)
}

fn check(
    key: &VerifyingKey,
    heads: &[Signed<ChainHead>],
    entries: &[LogEntry],
    memory: &AuditMemory,
) -> Result<Verified, ChainBreak> {
    let mut v = ChainVerifier::with_memory(key, heads, Some(memory))?;
    v.feed(entries)?;
    v.finish()
}

#[test]
fn a_remembered_log_that_grew_verifies_and_moves_the_memory_on() {
    let key = SigningKey::generate().unwrap();
    let entries = log(12);
    let memory = remember(&key, &[head(&key, &entries, 8)], &entries[..8]);
    assert_eq!((memory.seq, memory.hash), (8, entries[7].hash));
    let heads = [head(&key, &entries, 8), head(&key, &entries, 12)];
    let v = check(&key.verifying_key(), &heads, &entries, &memory).unwrap();
    let next = AuditMemory::after(Some(&memory), key.verifying_key(), &v);
    assert_eq!((next.seq, next.hash), (12, entries[11].hash));
    // The same log again, nothing new: still fine.
    check(&key.verifying_key(), &heads, &entries, &next).unwrap();
    // The memory round-trips through its JSON form.
    let json = serde_json::to_string(&next).unwrap();
    assert_eq!(serde_json::from_str::<AuditMemory>(&json).unwrap(), next);
    assert_eq!(next.fingerprint(), fingerprint(&key.verifying_key()));
}

#[test]
fn fail_a_different_key_before_anything_else() {
    let key = SigningKey::generate().unwrap();
    let other = SigningKey::generate().unwrap();
    let entries = log(6);
    let memory = remember(&key, &[head(&key, &entries, 6)], &entries);
    // Every head signed again by another key, the log itself unchanged.
    let resigned = [head(&other, &entries, 6)];
    let err = check(&other.verifying_key(), &resigned, &entries, &memory).unwrap_err();
    assert_eq!(
        err,
        ChainBreak {
            seq: 6,
            reason: BreakReason::KeyChanged
        }
    );
}

#[test]
fn fail_a_truncated_log_with_its_later_heads_deleted() {
    let key = SigningKey::generate().unwrap();
    let entries = log(10);
    let memory = remember(&key, &[head(&key, &entries, 10)], &entries);
    // Events 8.. and every head over them gone: without memory it verifies.
    let kept = [head(&key, &entries, 5)];
    verify_log(&key.verifying_key(), &kept, &entries[..7]).unwrap();
    let err = check(&key.verifying_key(), &kept, &entries[..7], &memory).unwrap_err();
    assert_eq!(
        err,
        ChainBreak {
            seq: 10,
            reason: BreakReason::RolledBack
        }
    );
    // An empty log too.
    let err = check(&key.verifying_key(), &[], &[], &memory).unwrap_err();
    assert_eq!(err.reason, BreakReason::RolledBack);
    // With a signed head left beyond the end, the break is named where it is.
    let left = [head(&key, &entries, 10)];
    let err = check(&key.verifying_key(), &left, &entries[..7], &memory).unwrap_err();
    assert_eq!(
        err,
        ChainBreak {
            seq: 8,
            reason: BreakReason::Truncated
        }
    );
}

#[test]
fn fail_a_fork_rewritten_and_resigned_up_to_the_remembered_event() {
    let key = SigningKey::generate().unwrap();
    let entries = log(10);
    let memory = remember(&key, &[head(&key, &entries, 6)], &entries[..6]);
    // Event 3 rewritten, every later hash recomputed, and the heads signed
    // again with the real key (a thief of the key file): only memory sees it.
    let mut forged = entries.clone();
    forged[2].event = event(3, EventKind::SignOut).encode();
    let mut prev = forged[1].hash;
    for e in &mut forged[2..] {
        e.hash = link(&prev, e.seq, &e.event);
        prev = e.hash;
    }
    let heads = [head(&key, &forged, 6), head(&key, &forged, 10)];
    verify_log(&key.verifying_key(), &heads, &forged).unwrap();
    let err = check(&key.verifying_key(), &heads, &forged, &memory).unwrap_err();
    assert_eq!(
        err,
        ChainBreak {
            seq: 6,
            reason: BreakReason::Forked
        }
    );
    // Trusting a new key does not forgive the fork.
    let other = SigningKey::generate().unwrap();
    let trusted = memory.trust_new_key(other.verifying_key());
    let heads = [head(&other, &forged, 10)];
    let err = check(&other.verifying_key(), &heads, &forged, &trusted).unwrap_err();
    assert_eq!(err.reason, BreakReason::Forked);
}

#[test]
fn a_trusted_key_change_keeps_old_heads_only_before_the_new_keys_first() {
    let old = SigningKey::generate().unwrap();
    let new = SigningKey::generate().unwrap();
    let entries = log(12);
    let memory = remember(&old, &[head(&old, &entries, 4)], &entries[..4]);
    // The operator changed the key after head 8.
    let heads = [
        head(&old, &entries, 4),
        head(&old, &entries, 8),
        head(&new, &entries, 10),
        head(&new, &entries, 12),
    ];
    let refused = check(&new.verifying_key(), &heads, &entries, &memory).unwrap_err();
    assert_eq!(refused.reason, BreakReason::KeyChanged);
    let trusted = memory.trust_new_key(new.verifying_key());
    assert_eq!(trusted.retired, vec![old.verifying_key()]);
    assert_eq!((trusted.seq, trusted.hash), (memory.seq, memory.hash));
    let v = check(&new.verifying_key(), &heads, &entries, &trusted).unwrap();
    assert_eq!((v.events, v.heads), (12, 4));
    // An old-key head after the new key's first one is refused.
    let mut late = heads.to_vec();
    late.push(head(&old, &entries, 11));
    let err = check(&new.verifying_key(), &late, &entries, &trusted).unwrap_err();
    assert_eq!(
        err,
        ChainBreak {
            seq: 11,
            reason: BreakReason::BadHeadSignature
        }
    );
    // A key never trusted is no retired key.
    let stranger = SigningKey::generate().unwrap();
    let foreign = [head(&stranger, &entries, 2), head(&new, &entries, 12)];
    let err = check(&new.verifying_key(), &foreign, &entries, &trusted).unwrap_err();
    assert_eq!(err.reason, BreakReason::BadHeadSignature);
}
