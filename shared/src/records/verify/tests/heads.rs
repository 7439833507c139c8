//! Rules 2 to 4: the head, its freshness and its leaves.

use super::{fixture::*, *};
use crate::crypto::sign::sign;

#[test]
fn an_older_head_replayed_after_a_rename_is_a_rollback() {
    let mut rec = Rec::new();
    let before = rec.tree();
    rec.owner_edit(A, |n| n.metadata = vec![9; 80]);
    let seen = rec.check(&rec.tree(), None, &[]).unwrap().seen;
    // The server serves the whole tree as it was, head and all.
    assert_eq!(
        rec.check(&before, seen, &[]),
        Err(RecordAlarm::Rollback { seen: 2, served: 1 })
    );
}

#[test]
fn another_head_with_the_remembered_counter_is_a_fork() {
    let mut rec = Rec::new();
    let base = rec.head().clone();
    rec.owner_edit(A, |n| n.metadata = vec![9; 80]);
    let seen = Seen::of(rec.head());
    // Another head at counter 2 over another state (say, two devices each
    // made a change from head 1 and the server kept both).
    let mut other = rec.tree();
    let n = other.nodes.iter_mut().find(|n| n.node_id == B).unwrap();
    n.metadata = vec![8; 80];
    n.revision += 1;
    n.state = Some(owner_signer(&rec.owner_key).state(n));
    other.head_leaves = tree_leaves(&other.nodes);
    let forked = RecordHead::next(&base, &other.head_leaves, NOW).sign(&rec.owner_key);
    other.head = Some(forked);
    assert_eq!(
        rec.check(&other, Some(seen), &[]),
        Err(RecordAlarm::Fork { seen: 2, served: 2 })
    );
}

#[test]
fn a_chain_that_does_not_link_to_the_remembered_head_is_a_fork() {
    let mut rec = Rec::new();
    let seen = Seen::of(rec.head());
    for i in 0..3u8 {
        rec.owner_edit(A, |n| n.metadata = vec![i; 80]);
    }
    let tree = rec.tree();
    let fork = Err(RecordAlarm::Fork { seen: 1, served: 4 });
    // No chain, a chain with a gap, a chain missing its last head.
    assert_eq!(rec.check(&tree, Some(seen), &[]), fork);
    let gap = [rec.heads[1].clone(), rec.heads[3].clone()];
    assert_eq!(rec.check(&tree, Some(seen), &gap), fork);
    assert_eq!(rec.check(&tree, Some(seen), &rec.heads[1..3]), fork);
    // A chain from another genesis: each head is the owner's and counts on,
    // but the first does not name the remembered head.
    let mut other = Rec::new();
    other.owner_edit(B, |n| n.metadata = vec![7; 80]);
    for i in 0..2u8 {
        other.owner_edit(B, |n| n.metadata = vec![i; 80]);
    }
    let mut spliced = other.heads[1..3].to_vec();
    spliced.push(rec.heads[3].clone());
    assert_eq!(rec.check(&tree, Some(seen), &spliced), fork);
    // A chain head the owner did not sign.
    let mut chain = rec.heads[1..].to_vec();
    chain[0] = sign(&rec.doctor_key, chain[0].value.clone());
    assert_eq!(rec.check(&tree, Some(seen), &chain), fork);
}

#[test]
fn a_head_not_signed_by_the_owner_or_of_another_record_is_refused() {
    let rec = Rec::new();
    let mut tree = rec.tree();
    tree.head = Some(sign(&rec.doctor_key, rec.head().value.clone()));
    assert_eq!(rec.check(&tree, None, &[]), Err(RecordAlarm::HeadNotSigned));
    // Signed by the owner, but of another record of theirs (another root).
    let mut value = rec.head().value.clone();
    value.root_id = [77; 16];
    let mut tree = rec.tree();
    tree.head = Some(value.sign(&rec.owner_key));
    assert_eq!(rec.check(&tree, None, &[]), Err(RecordAlarm::HeadNotSigned));
    // A tree of another owner served as this one's.
    let mut tree = rec.tree();
    tree.owner_id = DOCTOR;
    assert_eq!(rec.check(&tree, None, &[]), Err(RecordAlarm::HeadNotSigned));
}

/// One change to what the server serves.
type Tamper = Box<dyn Fn(&mut RecordTree)>;

#[test]
fn leaves_that_do_not_match_the_head_are_refused() {
    let rec = Rec::new();
    let extra = HeadLeaf {
        node_id: [90; 16],
        parent_id: Some(A),
        leaf: [1; 32],
    };
    let cases: Vec<(&str, Tamper)> = vec![
        ("extra leaf", Box::new(move |t| t.head_leaves.push(extra))),
        (
            "missing leaf",
            Box::new(|t| {
                t.head_leaves.pop();
            }),
        ),
        (
            "leaf twice",
            Box::new(|t| {
                let l = t.head_leaves[1];
                t.head_leaves[2] = l;
            }),
        ),
        (
            "leaf added twice",
            Box::new(|t| {
                let l = t.head_leaves[1];
                t.head_leaves.push(l);
            }),
        ),
        (
            "other parent",
            Box::new(|t| t.head_leaves[3].parent_id = Some(B)),
        ),
        ("other leaf", Box::new(|t| t.head_leaves[3].leaf[0] ^= 1)),
        (
            "node served twice",
            Box::new(|t| {
                let n = t.nodes[2].clone();
                t.nodes.push(n);
            }),
        ),
    ];
    for (what, tamper) in cases {
        let mut tree = rec.tree();
        tamper(&mut tree);
        assert_eq!(
            rec.check(&tree, None, &[]),
            Err(RecordAlarm::TreeMismatch),
            "{what}"
        );
    }
}

#[test]
fn the_pre_rotation_tree_replayed_after_a_rotation_is_refused() {
    let mut rec = Rec::new();
    let before = rec.tree();
    let before_head = rec.head().clone();
    // A rotation of A: new wrapped keys and metadata for A and all under it,
    // in one head.
    rec.owner_edits(&[A, F, S, G], |id, n| {
        n.wrapped_key = vec![id[0] ^ 0x55; 40];
        n.metadata = vec![id[0] ^ 0x55; 80];
    });
    let seen = rec
        .check(&rec.tree(), Some(Seen::of(&before_head)), &rec.heads[1..])
        .unwrap()
        .seen;
    // The old tree with its old head: a rollback.
    assert_eq!(
        rec.check(&before, seen, &[]),
        Err(RecordAlarm::Rollback { seen: 2, served: 1 })
    );
    // The old nodes with the new head: each is an owner's state the head
    // does not name. A brand-new device (nothing remembered) refuses too.
    let mut replay = rec.tree();
    replay.nodes = before.nodes.clone();
    for remembered in [seen, None] {
        assert!(
            matches!(
                rec.check(&replay, remembered, &[]),
                Err(RecordAlarm::Replayed { .. })
            ),
            "{remembered:?}"
        );
    }
}
