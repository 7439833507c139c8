//! A patient's record made and opened with the real key-tree steps, as the
//! server would hand it back, for tests that need decrypted nodes.

use shared::{
    api::records::{NewNode, NodeKind, NodeView, RecordTree, Usage, VersionView},
    crypto::{keyring::Keyring, sign::Signed},
    model::Id,
    records::{
        new_child, new_record, verify::tree_leaves, NodeMetadata, OpenNode, OpenTree, RecordHead,
        RecordType, Signer,
    },
};

/// What the server stores for a freshly created node.
pub fn stored(node: NewNode) -> NodeView {
    NodeView {
        node_id: node.node_id,
        parent_id: node.parent_id,
        kind: node.kind,
        wrapped_key: node.wrapped_key,
        metadata: node.metadata,
        revision: 1,
        trashed_at: None,
        current: None,
        version_count: 0,
        state: node.state,
        write_grant: None,
    }
}

/// Metadata dated 28 February 2026.
pub fn meta(name: &str, record_type: RecordType, description: &str) -> NodeMetadata {
    NodeMetadata {
        name: name.into(),
        record_type,
        description: description.into(),
        record_date: Some("2026-02-28".into()),
        created_at: 1_795_422_600,
        modified_at: 1_795_422_600,
        mime: None,
        size: None,
        vital: None,
        health: None,
    }
}

/// A patient's record under construction: the owner's keys and every node view.
pub struct TestRecord {
    /// The owner's keys.
    pub keyring: Keyring,
    /// The owner's id.
    pub owner: Id,
    /// The root folder.
    pub root: Id,
    /// Every node as stored.
    pub views: Vec<NodeView>,
    /// The newest head, over `views` (see [`TestRecord::sign_head`]).
    pub head: Signed<RecordHead>,
}

impl TestRecord {
    /// A new record with its starter folders.
    pub fn new() -> Self {
        let keyring = Keyring::generate().unwrap();
        let owner = [7u8; 16];
        let made = new_record(
            &owner,
            &keyring.public_keys().encryption,
            keyring.identity(),
            [3; 16],
            1,
        )
        .unwrap();
        let root_id = made.root.node_id;
        TestRecord {
            keyring,
            owner,
            root: root_id,
            views: std::iter::once(made.root)
                .chain(made.children)
                .map(stored)
                .collect(),
            head: made.head,
        }
    }

    /// A copy of the owner's keys (sealed and opened again).
    pub fn keyring_copy(&self) -> Keyring {
        let sealed = self
            .keyring
            .seal_with_password(&[1; 64], &self.owner)
            .unwrap();
        Keyring::open_with_password(&[1; 64], &self.owner, &sealed).unwrap()
    }

    /// A copy of the record as it is now (same keys), to change apart.
    pub fn copy(&self) -> TestRecord {
        TestRecord {
            keyring: self.keyring_copy(),
            owner: self.owner,
            root: self.root,
            views: self.views.clone(),
            head: self.head.clone(),
        }
    }

    /// The owner's signer.
    pub fn signer(&self) -> Signer<'_> {
        Signer {
            owner_id: self.owner,
            author_id: self.owner,
            key: self.keyring.identity(),
            now: 1,
        }
    }

    /// Signs the state of every node again as stored now (after a test
    /// changed a view), and the owner's next head over them.
    pub fn sign_head(&mut self) {
        let signed: Vec<_> = self.views.iter().map(|v| self.signer().state(v)).collect();
        for (view, state) in self.views.iter_mut().zip(signed) {
            view.state = Some(state);
        }
        let leaves = tree_leaves(&self.views);
        self.head = RecordHead::next(&self.head, &leaves, 1).sign(self.keyring.identity());
    }

    /// The record as the server serves it, with its head.
    pub fn tree(&self) -> RecordTree {
        RecordTree {
            owner_id: self.owner,
            root_id: self.root,
            nodes: self.views.clone(),
            usage: Usage {
                used_bytes: 0,
                quota_bytes: 1 << 30,
                max_file_bytes: 1 << 30,
            },
            seq: 1,
            head: Some(self.head.clone()),
            head_leaves: tree_leaves(&self.views),
        }
    }

    /// The record opened with the owner's key.
    pub fn open(&self) -> OpenTree {
        OpenTree::open(self.tree(), self.keyring.encryption()).unwrap()
    }

    /// The starter folder called `name`.
    pub fn folder(&self, name: &str) -> OpenNode {
        let tree = self.open();
        let found = tree
            .children(&self.root)
            .into_iter()
            .find(|n| n.metadata.name == name)
            .unwrap()
            .clone();
        found
    }

    /// Adds a node under `parent` (with a version, for a file that has one);
    /// returns its id and node key.
    pub fn add(
        &mut self,
        parent: &OpenNode,
        kind: NodeKind,
        metadata: &NodeMetadata,
    ) -> (Id, shared::crypto::aead::Key256) {
        let (node, key) = new_child(parent, kind, metadata, &self.signer()).unwrap();
        let id = node.node_id;
        self.views.push(stored(node));
        self.sign_head();
        (id, key)
    }

    /// Makes `version` the current version of the file `id`.
    pub fn set_current(&mut self, id: &Id, version: VersionView) {
        let view = self.views.iter_mut().find(|v| v.node_id == *id).unwrap();
        view.current = Some(version);
        view.version_count = 1;
        self.sign_head();
    }
}

/// Forgets the record heads this browser remembered (each test's record is
/// new, while the test browser's localStorage lives on).
pub fn forget_heads() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let keys: Vec<String> = (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .filter(|k| k.starts_with("medvault.record-head."))
        .collect();
    for key in keys {
        storage.remove_item(&key).unwrap();
    }
}
