use super::*;
use crate::{
    crypto::{hpke::EncryptionSecretKey, sign::SigningKey},
    records::{new_record, NodeMetadata, OpenNode, OpenTree, RecordType},
};

fn view(id: u8, parent: Option<u8>) -> NodeView {
    NodeView {
        node_id: [id; 16],
        parent_id: parent.map(|p| [p; 16]),
        kind: NodeKind::Folder,
        wrapped_key: vec![id; 40],
        metadata: vec![id; 80],
        revision: 1,
        trashed_at: None,
        current: None,
        version_count: 0,
        state: None,
        write_grant: None,
    }
}

fn signer(key: &SigningKey) -> Signer<'_> {
    Signer {
        owner_id: [9; 16],
        author_id: [9; 16],
        key,
        now: 1_700_000_000,
    }
}

#[test]
fn a_state_describes_its_view_and_nothing_else() {
    let key = SigningKey::from_seed(&[1; 32]);
    let v = view(1, Some(2));
    let state = signer(&key).state(&v);
    assert!(state.value.matches(&[9; 16], &v));
    assert!(state.verify(&key.verifying_key()).is_ok());
    let mut changes: Vec<NodeView> = Vec::new();
    let mut c = v.clone();
    c.metadata.push(0);
    changes.push(c);
    let mut c = v.clone();
    c.parent_id = Some([3; 16]);
    changes.push(c);
    let mut c = v.clone();
    c.revision = 2;
    changes.push(c);
    let mut c = v.clone();
    c.trashed_at = Some(5);
    changes.push(c);
    let mut c = v.clone();
    c.wrapped_key[0] ^= 1;
    changes.push(c);
    let mut c = v.clone();
    c.kind = NodeKind::Entry;
    changes.push(c);
    let mut c = v.clone();
    c.version_count = 3;
    changes.push(c);
    for changed in &changes {
        assert!(!state.value.matches(&[9; 16], changed), "{changed:?}");
    }
    assert!(!state.value.matches(&[8; 16], &v), "another owner's record");
}

#[test]
fn the_state_hash_ignores_order_but_not_content() {
    let key = SigningKey::from_seed(&[1; 32]);
    let leaves: Vec<HeadLeaf> = (1..5)
        .map(|i| HeadLeaf::of(&signer(&key).state(&view(i, Some(1)))))
        .collect();
    let mut reversed = leaves.clone();
    reversed.reverse();
    assert_eq!(state_hash(&leaves), state_hash(&reversed));
    let mut dropped = leaves.clone();
    dropped.pop();
    assert_ne!(state_hash(&leaves), state_hash(&dropped));
    let mut doubled = leaves.clone();
    doubled.push(leaves[0]);
    assert_ne!(state_hash(&leaves), state_hash(&doubled));
    let mut moved = leaves.clone();
    moved[1].parent_id = Some([7; 16]);
    assert_ne!(state_hash(&leaves), state_hash(&moved));
}

#[test]
fn heads_link_to_the_one_before() {
    let key = SigningKey::from_seed(&[1; 32]);
    let leaves = vec![HeadLeaf::of(&signer(&key).state(&view(1, None)))];
    let first = RecordHead::genesis([9; 16], [1; 16], &leaves, 10).sign(&key);
    let second = RecordHead::next(&first, &leaves, 11).sign(&key);
    assert_eq!(second.value.counter, 2);
    assert_eq!(second.value.previous, head_link(&first));
    assert_ne!(head_link(&first), head_link(&second));
    assert_eq!(first.value.previous, [0; 32]);
}

#[test]
fn a_new_record_is_signed_and_opens_with_its_first_head() {
    let identity = SigningKey::from_seed(&[4; 32]);
    let secret = EncryptionSecretKey::generate().unwrap();
    let owner = [9; 16];
    let made = new_record(&owner, &secret.public_key(), &identity, [1; 16], 100).unwrap();
    assert_eq!(made.root.node_id, [1; 16]);
    assert_eq!(made.children.len(), 5);
    let mut leaves = Vec::new();
    for node in std::iter::once(&made.root).chain(made.children.iter()) {
        let state = node.state.as_ref().expect("every starter node is signed");
        let v = state.verify(&identity.verifying_key()).unwrap();
        assert_eq!(v.revision, 1);
        assert_eq!(v.author_id, owner);
        leaves.push(HeadLeaf::of(state));
    }
    let head = made.head.verify(&identity.verifying_key()).unwrap();
    assert_eq!(head.counter, 1);
    assert_eq!(head.state_hash, state_hash(&leaves));
    assert_eq!(head.node_count, 6);
}

#[test]
fn starter_folders_come_in_more_than_one_order() {
    let identity = SigningKey::from_seed(&[4; 32]);
    let secret = EncryptionSecretKey::generate().unwrap();
    let owner = [9; 16];
    // Which folder is first is decided by the order of the names once opened.
    let mut firsts = std::collections::HashSet::new();
    for _ in 0..40 {
        let made = new_record(&owner, &secret.public_key(), &identity, [1; 16], 100).unwrap();
        let tree = OpenTree::open(
            crate::api::records::RecordTree {
                owner_id: owner,
                root_id: [1; 16],
                nodes: std::iter::once(&made.root)
                    .chain(made.children.iter())
                    .map(|n| NodeView {
                        node_id: n.node_id,
                        parent_id: n.parent_id,
                        kind: n.kind,
                        wrapped_key: n.wrapped_key.clone(),
                        metadata: n.metadata.clone(),
                        revision: 1,
                        trashed_at: None,
                        current: None,
                        version_count: 0,
                        state: n.state.clone(),
                        write_grant: None,
                    })
                    .collect(),
                usage: crate::api::records::Usage {
                    used_bytes: 0,
                    quota_bytes: 1,
                    max_file_bytes: 1,
                },
                seq: 1,
                head: Some(made.head.clone()),
                head_leaves: Vec::new(),
            },
            &secret,
        )
        .unwrap();
        let first = made.children[0].node_id;
        let node: &OpenNode = tree.node(&first).unwrap();
        let metadata: &NodeMetadata = &node.metadata;
        assert_ne!(metadata.record_type, RecordType::Other);
        firsts.insert(metadata.name.clone());
    }
    assert!(
        firsts.len() > 1,
        "the first starter folder is always the same"
    );
}
