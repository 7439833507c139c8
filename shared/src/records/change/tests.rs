use super::*;
use crate::{
    api::records::NodeKind,
    crypto::sign::{sign, SigningKey},
    records::Signer,
};

fn view(id: u8, parent: Option<u8>) -> NodeView {
    NodeView {
        node_id: [id; 16],
        parent_id: parent.map(|p| [p; 16]),
        kind: NodeKind::File,
        wrapped_key: vec![id; 40],
        metadata: vec![id; 80],
        revision: 3,
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

fn manifest(key: &SigningKey, version: u32) -> Signed<FileManifest> {
    sign(
        key,
        FileManifest {
            node_id: [1; 16],
            parent_id: [2; 16],
            version,
            size: 4096,
            part_hashes: vec![[5; 32]],
            author_id: [9; 16],
            created_at: 1,
        },
    )
}

#[test]
fn every_change_moves_the_revision_on_by_one_and_changes_only_its_field() {
    let v = view(1, Some(2));
    let key = SigningKey::from_seed(&[1; 32]);
    let version = finished_version(&manifest(&key, 1), &[7; 60], 65536, 4112);
    let changed = [
        with_metadata(&v, &[3; 80]),
        moved(&v, [4; 16], &[4; 40]),
        trashed(&v, 10),
        restored(&trashed(&v, 10)),
        with_current(&v, &version),
        finished(&v, &version, &[6; 80]),
    ];
    for c in &changed[..3] {
        assert_eq!(c.revision, 4);
        assert_ne!(
            NodeState::describe([9; 16], c, [9; 16], 0),
            NodeState::describe([9; 16], &v, [9; 16], 0)
        );
    }
    assert_eq!(changed[3].revision, 5);
    assert!(changed[3].trashed_at.is_none());
    assert_eq!(changed[4].current.as_ref().map(|c| c.version), Some(1));
    assert_eq!(changed[4].version_count, 0, "a restore adds no version");
    assert_eq!(changed[5].version_count, 1);
    assert_eq!(changed[5].metadata, vec![6; 80]);
}

#[test]
fn a_new_files_first_finish_is_revision_one_with_one_version() {
    let key = SigningKey::from_seed(&[1; 32]);
    let node = NewNode {
        node_id: [1; 16],
        parent_id: Some([2; 16]),
        kind: NodeKind::File,
        wrapped_key: vec![1; 40],
        metadata: vec![1; 80],
        state: None,
    };
    let version = finished_version(&manifest(&key, 1), &[7; 60], 65536, 4112);
    let view = finished(&unfinished(&node), &version, &[8; 80]);
    let state = signer(&key).state(&view);
    assert_eq!(state.value.revision, 1);
    assert_eq!(state.value.current_version, 1);
    assert_eq!(state.value.version_count, 1);
    assert_eq!(
        state.value.current_hash,
        crate::records::version_hash(&version)
    );
}

#[test]
fn a_rekeyed_file_names_its_new_key_and_its_current_version_re_wrapped() {
    let key = SigningKey::from_seed(&[1; 32]);
    let version = finished_version(&manifest(&key, 1), &[7; 60], 65536, 4112);
    let v = finished(&view(1, Some(2)), &version, &[6; 80]);
    let after = rekeyed(&v, &[9; 40], &[8; 80], Some(&[5; 60]));
    assert_eq!(after.revision, v.revision + 1);
    assert_eq!(after.wrapped_key, vec![9; 40]);
    assert_eq!(after.metadata, vec![8; 80]);
    let current = after.current.as_ref().unwrap();
    assert_eq!(current.wrapped_content_key, vec![5; 60]);
    assert_ne!(
        crate::records::version_hash(current),
        crate::records::version_hash(&version)
    );
    assert_eq!(after.version_count, v.version_count);
}

#[test]
fn emptying_the_trash_removes_the_trashed_nodes_and_everything_below() {
    let root = view(1, None);
    let mut folder = view(2, Some(1));
    folder.trashed_at = Some(5);
    let inner = view(3, Some(2));
    let deeper = view(4, Some(3));
    let kept = view(5, Some(1));
    let nodes = [root, folder, inner, deeper, kept];
    let mut gone = purged(nodes.iter());
    gone.sort();
    assert_eq!(gone, vec![[2; 16], [3; 16], [4; 16]]);
}
