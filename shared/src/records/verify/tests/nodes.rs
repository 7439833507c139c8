//! Rules 5 and 6 for the owner's nodes: replayed states, hidden nodes,
//! injected nodes.

use super::{fixture::*, *};
use crate::{api::records::NodeKind, crypto::sign::sign};

/// The tree served now with node `id` as it was in `old`.
fn with_old(rec: &Rec, old: &RecordTree, id: Id) -> RecordTree {
    let mut tree = rec.tree();
    let was = old.nodes.iter().find(|n| n.node_id == id).unwrap().clone();
    match tree.nodes.iter_mut().find(|n| n.node_id == id) {
        Some(n) => *n = was,
        None => tree.nodes.push(was),
    }
    tree
}

#[test]
fn a_rename_rolled_back_is_refused() {
    let mut rec = Rec::new();
    let before = rec.tree();
    rec.owner_edit(F, |n| n.metadata = vec![42; 80]);
    let seen = Seen::of(rec.head());
    // The current head, with F's older state (its old name).
    let tree = with_old(&rec, &before, F);
    assert_eq!(
        rec.check(&tree, Some(seen), &[]),
        Err(RecordAlarm::Replayed { node: F })
    );
    // The old metadata under the new state: the state does not describe it.
    let mut tree = rec.tree();
    tree.nodes
        .iter_mut()
        .find(|n| n.node_id == F)
        .unwrap()
        .metadata = vec![F[0]; 80];
    assert_eq!(
        rec.check(&tree, Some(seen), &[]),
        Err(RecordAlarm::NotSigned { node: F })
    );
}

#[test]
fn a_corrected_entry_rolled_back_is_refused() {
    let mut rec = Rec::new();
    let before = rec.tree();
    rec.owner_edit(E, |n| n.metadata = vec![43; 80]);
    let tree = with_old(&rec, &before, E);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Replayed { node: E })
    );
}

#[test]
fn a_hidden_node_is_refused() {
    let rec = Rec::new();
    let mut tree = rec.tree();
    tree.nodes.retain(|n| n.node_id != E);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Hidden { count: 1 })
    );
}

#[test]
fn a_hidden_subtree_is_refused() {
    let rec = Rec::new();
    let mut tree = rec.tree();
    tree.nodes.retain(|n| n.node_id != S && n.node_id != G);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Hidden { count: 2 })
    );
    // The subtree hidden from the leaves too: the head's hash says otherwise.
    tree.head_leaves
        .retain(|l| l.node_id != S && l.node_id != G);
    assert_eq!(rec.check(&tree, None, &[]), Err(RecordAlarm::TreeMismatch));
}

#[test]
fn a_resurrected_deleted_node_is_refused() {
    let mut rec = Rec::new();
    rec.owner_edit(G, |n| n.trashed_at = Some(NOW));
    let trashed = rec.tree();
    rec.owner_delete(G);
    let tree = with_old(&rec, &trashed, G);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Replayed { node: G })
    );
    // Taken out of the trash instead (its state before the trash).
    rec.owner_edit(E, |n| n.trashed_at = Some(NOW));
    let seen = Seen::of(rec.head());
    let mut tree = rec.tree();
    let was = Rec::new().node(E).clone();
    *tree.nodes.iter_mut().find(|n| n.node_id == E).unwrap() = was;
    assert_eq!(
        rec.check(&tree, Some(seen), &[]),
        Err(RecordAlarm::Replayed { node: E })
    );
}

#[test]
fn a_moved_node_shown_at_its_old_place_is_refused() {
    let mut rec = Rec::new();
    let before = rec.tree();
    rec.owner_edit(E, |n| {
        n.parent_id = Some(A);
        n.wrapped_key = vec![99; 40];
    });
    let tree = with_old(&rec, &before, E);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Replayed { node: E })
    );
    // The new state with the old parent: the state does not describe it.
    let mut tree = rec.tree();
    tree.nodes
        .iter_mut()
        .find(|n| n.node_id == E)
        .unwrap()
        .parent_id = Some(B);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: E })
    );
}

#[test]
fn an_older_version_made_current_again_is_refused() {
    let mut rec = Rec::new();
    let before = rec.tree();
    let key = key(1);
    rec.owner_edit(F, |n| {
        n.current = Some(version(n, 2, OWNER, &key));
        n.version_count = 2;
    });
    // The whole older node.
    let tree = with_old(&rec, &before, F);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::Replayed { node: F })
    );
    // The new state, but version 1 served as current.
    let mut tree = rec.tree();
    let old_current = before
        .nodes
        .iter()
        .find(|n| n.node_id == F)
        .unwrap()
        .current
        .clone();
    tree.nodes
        .iter_mut()
        .find(|n| n.node_id == F)
        .unwrap()
        .current = old_current;
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: F })
    );
}

#[test]
fn an_injected_node_signed_by_nobody_is_refused() {
    let rec = Rec::new();
    let injected = [80; 16];
    // No state at all.
    let mut tree = rec.tree();
    tree.nodes.push(bare(injected, Some(B), NodeKind::Entry));
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: injected })
    );
    // A state naming the owner as author, signed by someone else.
    let mut n = bare(injected, Some(B), NodeKind::Folder);
    n.state = Some(owner_signer(&rec.doctor_key).state(&n));
    let mut tree = rec.tree();
    tree.nodes.push(n.clone());
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: injected })
    );
    // A state by someone the directory does not know.
    let stranger = key(9);
    n.state = Some(crate::records::NodeState::describe(OWNER, &n, [9; 16], NOW).sign(&stranger));
    let mut tree = rec.tree();
    tree.nodes.push(n);
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: injected })
    );
}

#[test]
fn a_node_without_a_state_or_of_another_record_is_refused() {
    let rec = Rec::new();
    let mut tree = rec.tree();
    tree.nodes[1].state = None;
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: A })
    );
    // A state the owner signed for another record of theirs.
    let mut tree = rec.tree();
    let n = &mut tree.nodes[1];
    n.state =
        Some(crate::records::NodeState::describe([5; 16], n, OWNER, NOW).sign(&rec.owner_key));
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: A })
    );
    // A signature that does not verify.
    let mut tree = rec.tree();
    let state = tree.nodes[1].state.as_mut().unwrap();
    *state = sign(&rec.doctor_key, state.value.clone());
    // (A confirmed leaf covers the signature: the changed one is no longer
    // the head's, and the owner's key does not verify it.)
    assert_eq!(
        rec.check(&tree, None, &[]),
        Err(RecordAlarm::NotSigned { node: A })
    );
}

#[test]
fn a_substituted_wrapped_key_is_refused() {
    // The server puts a key wrap of its choosing in place of the root's (to
    // the owner, HPKE) or a folder's: the owner's signed state names the
    // SHA-256 of the wrapped key as stored.
    let rec = Rec::new();
    for id in [ROOT, A] {
        let mut tree = rec.tree();
        tree.nodes
            .iter_mut()
            .find(|n| n.node_id == id)
            .unwrap()
            .wrapped_key = vec![0xEE; 40];
        assert_eq!(
            rec.check(&tree, None, &[]),
            Err(RecordAlarm::NotSigned { node: id })
        );
    }
}
