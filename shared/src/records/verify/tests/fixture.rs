//! A small signed record and the changes its owner and doctors make, to play
//! attacks on.
//!
//! root ─┬─ A (folder, shared with the doctor) ─┬─ F (file, version 1)
//!       │                                      └─ S (folder) ── G (file)
//!       └─ B (folder) ── E (entry)

use crate::{
    api::records::{NodeKind, NodeView, RecordTree, Usage, VersionView},
    crypto::sign::{sign, Signed, SigningKey, VerifyingKey},
    model::{FileManifest, Grant, Id, Permission},
    records::{
        verify::{
            check_record, check_shared, tree_leaves, CheckedRecord, GrantKnowledge, OwnerKeys,
            RecordAlarm, Seen, SharedView,
        },
        HeadLeaf, RecordHead, Signer,
    },
};

pub const NOW: i64 = 1_700_000_000;
pub const OWNER: Id = [1; 16];
pub const DOCTOR: Id = [2; 16];
pub const OTHER: Id = [3; 16];
pub const ROOT: Id = [10; 16];
pub const A: Id = [11; 16];
pub const B: Id = [12; 16];
pub const F: Id = [13; 16];
pub const S: Id = [14; 16];
pub const G: Id = [15; 16];
pub const E: Id = [16; 16];

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&[seed; 32])
}

/// A node as stored before any state: wrapped key and metadata stand-ins
/// that differ by node and by `salt`.
pub fn bare(id: Id, parent: Option<Id>, kind: NodeKind) -> NodeView {
    NodeView {
        node_id: id,
        parent_id: parent,
        kind,
        wrapped_key: vec![id[0]; 40],
        metadata: vec![id[0]; 80],
        revision: 1,
        trashed_at: None,
        current: None,
        version_count: 0,
        state: None,
        write_grant: None,
    }
}

/// A complete version of `node` by `author`.
pub fn version(node: &NodeView, number: u32, author: Id, signer: &SigningKey) -> VersionView {
    let manifest = FileManifest {
        node_id: node.node_id,
        parent_id: node.parent_id.unwrap_or([0; 16]),
        version: number,
        size: 100 * u64::from(number),
        part_hashes: vec![[number as u8; 32]],
        author_id: author,
        created_at: NOW,
    };
    VersionView {
        node_id: node.node_id,
        version: number,
        chunk_size: 4096,
        ciphertext_len: 200,
        wrapped_content_key: vec![number as u8; 48],
        manifest: sign(signer, manifest),
        author_id: author,
        author_name: "someone".to_owned(),
        stored_at: NOW,
        write_grant: None,
    }
}

/// The record, its owner's and doctors' keys, every head it had.
pub struct Rec {
    pub owner_key: SigningKey,
    pub doctor_key: SigningKey,
    pub nodes: Vec<NodeView>,
    pub heads: Vec<Signed<RecordHead>>,
    pub leaves: Vec<HeadLeaf>,
    /// Every browser's clock for the next signature (NOW unless a test moves it).
    pub clock: i64,
}

impl Rec {
    /// The record at its genesis head.
    pub fn new() -> Rec {
        let owner_key = key(1);
        let mut nodes = vec![
            bare(ROOT, None, NodeKind::Folder),
            bare(A, Some(ROOT), NodeKind::Folder),
            bare(B, Some(ROOT), NodeKind::Folder),
            bare(F, Some(A), NodeKind::File),
            bare(S, Some(A), NodeKind::Folder),
            bare(G, Some(S), NodeKind::File),
            bare(E, Some(B), NodeKind::Entry),
        ];
        for n in nodes.iter_mut().filter(|n| n.kind == NodeKind::File) {
            n.current = Some(version(n, 1, OWNER, &owner_key));
            n.version_count = 1;
        }
        let signer = owner_signer(&owner_key);
        for n in &mut nodes {
            n.state = Some(signer.state(n));
        }
        let leaves = tree_leaves(&nodes);
        let head = RecordHead::genesis(OWNER, ROOT, &leaves, NOW).sign(&owner_key);
        Rec {
            owner_key,
            doctor_key: key(2),
            nodes,
            heads: vec![head],
            leaves,
            clock: NOW,
        }
    }

    pub fn head(&self) -> &Signed<RecordHead> {
        self.heads.last().expect("a head")
    }

    pub fn node(&self, id: Id) -> &NodeView {
        self.nodes.iter().find(|n| n.node_id == id).expect("node")
    }

    pub fn node_mut(&mut self, id: Id) -> &mut NodeView {
        self.nodes
            .iter_mut()
            .find(|n| n.node_id == id)
            .expect("node")
    }

    /// What the server serves now.
    pub fn tree(&self) -> RecordTree {
        RecordTree {
            owner_id: OWNER,
            root_id: ROOT,
            nodes: self.nodes.clone(),
            usage: Usage {
                used_bytes: 0,
                quota_bytes: 1 << 20,
                max_file_bytes: 1 << 20,
            },
            seq: self.heads.len() as u64,
            head: Some(self.head().clone()),
            head_leaves: self.leaves.clone(),
        }
    }

    /// The owner signs a new head over the nodes as they are now.
    pub fn sign_head(&mut self) {
        self.leaves = tree_leaves(&self.nodes);
        let head = RecordHead::next(self.head(), &self.leaves, self.clock).sign(&self.owner_key);
        self.heads.push(head);
    }

    /// An owner's change of node `id`, with its head.
    pub fn owner_edit(&mut self, id: Id, change: impl Fn(&mut NodeView)) {
        self.owner_edits(&[id], |_, n| change(n));
    }

    /// An owner's change of several nodes in one head (a rotation).
    pub fn owner_edits(&mut self, ids: &[Id], change: impl Fn(Id, &mut NodeView)) {
        let owner_key = key(1);
        let signer = Signer {
            now: self.clock,
            ..owner_signer(&owner_key)
        };
        for id in ids {
            let n = self.node_mut(*id);
            change(*id, n);
            n.revision += 1;
            n.write_grant = None;
            n.state = Some(signer.state(n));
        }
        self.sign_head();
    }

    /// The owner deletes a node for good (emptying the trash), with its head.
    pub fn owner_delete(&mut self, id: Id) {
        self.nodes.retain(|n| n.node_id != id);
        self.sign_head();
    }

    /// A grant of `folder` to the doctor, signed by `signer`.
    pub fn grant(&self, folder: Id, permission: Permission, signer: &SigningKey) -> Signed<Grant> {
        sign(
            signer,
            Grant {
                grant_id: [40; 16],
                patient_id: OWNER,
                doctor_id: DOCTOR,
                doctor_key: [7; 32],
                key_hash: [8; 32],
                node_id: folder,
                permission,
                created_at: NOW - 100,
                expires_at: Some(NOW + 1000),
                revision: 0,
            },
        )
    }

    /// The live read-and-write grant of A.
    pub fn write_grant(&self) -> Signed<Grant> {
        self.grant(A, Permission::ReadWrite, &self.owner_key)
    }

    /// A doctor's change of node `id` (no head), signed with `signer`'s key
    /// as author DOCTOR, under `grant`.
    pub fn doctor_edit(
        &mut self,
        id: Id,
        grant: Signed<Grant>,
        signer: &SigningKey,
        change: impl FnOnce(&mut NodeView),
    ) {
        let clock = self.clock;
        let n = self.node_mut(id);
        change(n);
        n.revision += 1;
        doctor_sign(n, grant, signer, clock);
    }

    /// A doctor's new file under `parent` (no head).
    pub fn doctor_add(&mut self, id: Id, parent: Id, kind: NodeKind, grant: Signed<Grant>) -> Id {
        let mut n = bare(id, Some(parent), kind);
        if kind == NodeKind::File {
            n.current = Some(version(&n, 1, DOCTOR, &key(2)));
            n.version_count = 1;
        }
        doctor_sign(&mut n, grant, &key(2), self.clock);
        self.nodes.push(n);
        id
    }

    pub fn owner(&self) -> OwnerKeys {
        OwnerKeys {
            user_id: OWNER,
            identity_key: self.owner_key.verifying_key(),
        }
    }

    /// The owner's browser checks `tree`, remembering `seen`, given `chain`.
    pub fn check(
        &self,
        tree: &RecordTree,
        seen: Option<Seen>,
        chain: &[Signed<RecordHead>],
    ) -> Result<CheckedRecord, RecordAlarm> {
        self.check_knowing(tree, seen, chain, &GrantKnowledge::at(NOW))
    }

    pub fn check_knowing(
        &self,
        tree: &RecordTree,
        seen: Option<Seen>,
        chain: &[Signed<RecordHead>],
        grants: &GrantKnowledge,
    ) -> Result<CheckedRecord, RecordAlarm> {
        check_record(tree, &self.owner(), &authors, grants, seen, chain)
    }

    /// The doctor's view of A as the server would serve it now.
    pub fn shared_nodes(&self) -> Vec<NodeView> {
        let within = |n: &NodeView| {
            let mut at = Some(n.node_id);
            for _ in 0..self.nodes.len() {
                match at {
                    Some(id) if id == A => return true,
                    Some(id) => {
                        at = self
                            .nodes
                            .iter()
                            .find(|m| m.node_id == id)
                            .and_then(|m| m.parent_id)
                    }
                    None => return false,
                }
            }
            false
        };
        let nodes: Vec<NodeView> = self.nodes.iter().filter(|n| within(n)).cloned().collect();
        nodes
    }

    /// The doctor's browser checks a view of A.
    pub fn check_shared(
        &self,
        nodes: &[NodeView],
        head: &Signed<RecordHead>,
        leaves: &[HeadLeaf],
        seen: Option<Seen>,
    ) -> Result<CheckedRecord, RecordAlarm> {
        let view = SharedView {
            nodes,
            head: Some(head),
            head_leaves: leaves,
            folder: A,
        };
        check_shared(
            &view,
            &self.owner(),
            &authors,
            &GrantKnowledge::at(NOW),
            seen,
            &[],
        )
    }
}

/// The pinned directory: the two doctors' keys.
pub fn authors(id: &Id) -> Option<VerifyingKey> {
    match *id {
        DOCTOR => Some(key(2).verifying_key()),
        OTHER => Some(key(3).verifying_key()),
        _ => None,
    }
}

pub fn owner_signer(key: &SigningKey) -> Signer<'_> {
    Signer {
        owner_id: OWNER,
        author_id: OWNER,
        key,
        now: NOW,
    }
}

fn doctor_sign(n: &mut NodeView, grant: Signed<Grant>, signer: &SigningKey, now: i64) {
    let s = Signer {
        owner_id: OWNER,
        author_id: DOCTOR,
        key: signer,
        now,
    };
    n.state = Some(s.state(n));
    n.write_grant = Some(grant);
}
