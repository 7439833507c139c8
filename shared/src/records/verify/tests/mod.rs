//! The browser checks, attack by attack: each test makes real signed changes
//! with the owner's and doctors' keys, then alters what the server serves the
//! way a malicious server could, and checks the refusal (or, for the honest
//! cases, the acceptance).

mod doctors;
mod fixture;
mod heads;
mod nodes;

use fixture::*;

use super::*;

#[test]
fn an_honest_record_passes_and_gives_the_head_to_remember() {
    let rec = Rec::new();
    let checked = rec.check(&rec.tree(), None, &[]).unwrap();
    assert_eq!(checked.seen, Some(Seen::of(rec.head())));
    assert!(checked.pending.is_empty());
    assert!(!checked.needs_adoption);
    assert_eq!(state_hash_of(&checked.leaves), rec.head().value.state_hash);
    // Seen again: the same head passes with no chain.
    assert!(rec.check(&rec.tree(), checked.seen, &[]).is_ok());
}

#[test]
fn a_newer_head_passes_through_the_chain_from_the_remembered_one() {
    let mut rec = Rec::new();
    let seen = Seen::of(rec.head());
    rec.owner_edit(A, |n| n.metadata = vec![1; 80]);
    rec.owner_edit(E, |n| n.trashed_at = Some(NOW));
    rec.owner_edit(E, |n| n.trashed_at = None);
    let chain = &rec.heads[1..];
    let checked = rec.check(&rec.tree(), Some(seen), chain).unwrap();
    assert_eq!(checked.seen.map(|s| s.counter), Some(4));
    // The server's chain may start earlier and run past the served head (a
    // change made between the two answers): both ends are ignored.
    let served = rec.tree();
    rec.owner_edit(B, |n| n.metadata = vec![2; 80]);
    assert!(rec.check(&served, Some(seen), &rec.heads).is_ok());
}

#[test]
fn a_record_without_a_head_is_adopted_unless_a_head_was_seen_before() {
    let rec = Rec::new();
    let mut tree = rec.tree();
    tree.head = None;
    tree.head_leaves.clear();
    for n in &mut tree.nodes {
        n.state = None;
    }
    let checked = rec.check(&tree, None, &[]).unwrap();
    assert!(checked.needs_adoption);
    assert_eq!(checked.seen, None);
    // A browser that has seen a head: the server took the head away.
    let seen = Seen::of(rec.head());
    assert_eq!(
        rec.check(&tree, Some(seen), &[]),
        Err(RecordAlarm::HeadMissing { seen: 1 })
    );
}

#[test]
fn the_helpers_make_the_head_the_server_expects_after_a_change() {
    let mut rec = Rec::new();
    let before = rec.tree();
    let checked = rec.check(&before, None, &[]).unwrap();
    // Rename A and delete E in the fixture (one head each), and compute the
    // same with the helpers from the checked leaves.
    rec.owner_edit(A, |n| n.metadata = vec![5; 80]);
    let renamed = rec.node(A).state.clone().unwrap();
    let leaves = leaves_after(&checked.leaves, &[renamed], &[]);
    let head = next_head(before.head.as_ref().unwrap(), &leaves, NOW).sign(&rec.owner_key);
    assert_eq!(&head, rec.head());
    rec.owner_delete(E);
    let leaves = leaves_after(&leaves, &[], &[E]);
    let head = next_head(&head, &leaves, NOW).sign(&rec.owner_key);
    assert_eq!(&head, rec.head());
    assert!(rec
        .check(
            &rec.tree(),
            Some(Seen::of(&before.head.unwrap())),
            &rec.heads
        )
        .is_ok());
}

#[test]
fn every_alarm_says_what_happened_that_nothing_changed_and_what_to_do() {
    let alarms = [
        RecordAlarm::HeadNotSigned,
        RecordAlarm::HeadMissing { seen: 3 },
        RecordAlarm::Rollback {
            seen: 14,
            served: 12,
        },
        RecordAlarm::Fork {
            seen: 14,
            served: 14,
        },
        RecordAlarm::TreeMismatch,
        RecordAlarm::NotSigned { node: A },
        RecordAlarm::NotAllowed { node: A },
        RecordAlarm::Replayed { node: A },
        RecordAlarm::Hidden { count: 1 },
        RecordAlarm::Hidden { count: 3 },
    ];
    for alarm in &alarms {
        let s = alarm.sentence();
        assert!(s.starts_with("The server"), "{s}");
        assert!(s.contains("Nothing was changed."), "{s}");
        assert!(s.contains("tell your administrator"), "{s}");
        assert_eq!(alarm.to_string(), s);
    }
    let rollback = RecordAlarm::Rollback {
        seen: 14,
        served: 12,
    }
    .sentence();
    assert!(rollback.contains("change 12; this browser has already seen change 14"));
    assert!(RecordAlarm::Hidden { count: 3 }
        .sentence()
        .contains("left out 3 items"));
}

fn state_hash_of(leaves: &[HeadLeaf]) -> [u8; 32] {
    crate::records::state_hash(leaves)
}
