//! Events' codes and encodings, and the verifier on a whole log, an edited
//! event, a rewritten chain, a dropped tail, gaps and foreign heads.

use super::*;
use crate::crypto::{
    audit_chain::{link, ChainHead, GENESIS},
    context,
    sign::{sign, Signed, SigningKey},
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
