//! Signed records (docs/PROTOCOL.md, section 4.5): every node's state is signed
//! by its author, and the record has a chain of heads signed by its owner.
//!
//! Keys alone authenticate nothing about *who* wrote a node or *which* state is
//! current: anyone holding a folder key (a read-only doctor) can seal metadata,
//! and the server can serve any state the record ever had. So:
//!
//! - a [`NodeState`] names everything the server stores about a node (parent,
//!   kind, revision, hashes of the wrapped key and of the sealed metadata, trash
//!   state, current version, version count) and is signed by its author: the
//!   owner, or a doctor under a patient-signed read-and-write grant;
//! - a node's *leaf* is the hash of its signed state ([`leaf`]); the record's
//!   state hash covers every leaf, sorted by node id ([`state_hash`]);
//! - a [`RecordHead`] (counter, link to the previous head, state hash) is
//!   signed by the owner after every change the owner makes. Browsers remember
//!   the newest head they verified and refuse an older one or a fork.
//!
//! Everything here is pure, so the browser, the server's tests and the tamper
//! tool compute the same bytes.

use serde::{Deserialize, Serialize};

use crate::{
    api::records::{NodeKind, NodeView, VersionView},
    crypto::{
        b64,
        context::{self, Encoder},
        hash::sha256,
        sign::{sign, Signable, Signed, SigningKey},
    },
    model::Id,
};

/// The byte of a node kind in signed encodings.
pub fn kind_code(kind: NodeKind) -> u8 {
    match kind {
        NodeKind::Folder => 1,
        NodeKind::File => 2,
        NodeKind::Entry => 3,
    }
}

/// Everything the server stores about one node, as its author signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// The record's owner (binds the state to one record).
    #[serde(with = "b64::array")]
    pub owner_id: Id,
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Its parent; `None` only for the root.
    #[serde(with = "b64::option_array")]
    pub parent_id: Option<Id>,
    /// Folder, file or entry.
    pub kind: NodeKind,
    /// The node's revision after the change this state describes.
    pub revision: u64,
    /// SHA-256 of the wrapped node key as stored.
    #[serde(with = "b64::array")]
    pub wrapped_key_hash: [u8; 32],
    /// SHA-256 of the sealed metadata as stored.
    #[serde(with = "b64::array")]
    pub metadata_hash: [u8; 32],
    /// Whether the node itself is in the trash.
    pub trashed: bool,
    /// Files: the current version (0: none).
    pub current_version: u32,
    /// Files: [`version_hash`] of the current version (zeros: none).
    #[serde(with = "b64::array")]
    pub current_hash: [u8; 32],
    /// Files: how many complete versions exist.
    pub version_count: u32,
    /// Who signs: the owner, or a doctor with a write grant covering the node.
    #[serde(with = "b64::array")]
    pub author_id: Id,
    /// When the author signed, Unix seconds (author's clock; shown, not trusted
    /// for ordering).
    pub signed_at: i64,
}

impl Signable for NodeState {
    const LABEL: &'static str = context::SIGN_NODE_STATE;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.owner_id).bytes(&self.node_id);
        match &self.parent_id {
            None => out.bytes(&[]),
            Some(p) => out.bytes(p),
        };
        out.u8(kind_code(self.kind))
            .u64(self.revision)
            .bytes(&self.wrapped_key_hash)
            .bytes(&self.metadata_hash)
            .u8(u8::from(self.trashed))
            .u32(self.current_version)
            .bytes(&self.current_hash)
            .u32(self.version_count)
            .bytes(&self.author_id)
            .i64(self.signed_at);
    }
}

/// SHA-256 naming one complete file version: its signed manifest, its wrapped
/// content key and its stored sizes.
pub fn version_hash(version: &VersionView) -> [u8; 32] {
    let mut out = Encoder::new(context::NODE_VERSION);
    out.bytes(&version.node_id)
        .u32(version.version)
        .bytes(&version.manifest.value.signed_bytes())
        .bytes(&version.manifest.signature.to_bytes())
        .bytes(&version.wrapped_content_key)
        .u32(version.chunk_size)
        .u64(version.ciphertext_len);
    sha256(&out.finish())
}

impl NodeState {
    /// The state that describes `view` exactly, authored by `author_id` at
    /// `now`. A client builds the view a change will leave (new metadata,
    /// revision + 1, ...) and signs this.
    pub fn describe(owner_id: Id, view: &NodeView, author_id: Id, now: i64) -> NodeState {
        NodeState {
            owner_id,
            node_id: view.node_id,
            parent_id: view.parent_id,
            kind: view.kind,
            revision: view.revision,
            wrapped_key_hash: sha256(&view.wrapped_key),
            metadata_hash: sha256(&view.metadata),
            trashed: view.trashed_at.is_some(),
            current_version: view.current.as_ref().map_or(0, |v| v.version),
            current_hash: view.current.as_ref().map_or([0; 32], version_hash),
            version_count: view.version_count,
            author_id,
            signed_at: now,
        }
    }

    /// Whether this state describes `view` (everything but author and time).
    pub fn matches(&self, owner_id: &Id, view: &NodeView) -> bool {
        let expected = NodeState::describe(*owner_id, view, self.author_id, self.signed_at);
        *self == expected
    }

    /// Signs the state with the author's identity key.
    pub fn sign(self, key: &SigningKey) -> Signed<NodeState> {
        sign(key, self)
    }
}

/// Who signs the states of a change: the author (the owner, or a doctor with a
/// write grant) and the record they write in.
pub struct Signer<'a> {
    /// The record's owner.
    pub owner_id: Id,
    /// The author, whose identity key `key` is.
    pub author_id: Id,
    /// The author's identity key.
    pub key: &'a SigningKey,
    /// The author's clock, Unix seconds.
    pub now: i64,
}

impl Signer<'_> {
    /// The signed state describing `view` (the view a change will leave).
    pub fn state(&self, view: &NodeView) -> Signed<NodeState> {
        NodeState::describe(self.owner_id, view, self.author_id, self.now).sign(self.key)
    }

    /// The signed first state of a node being created (revision 1, not in the
    /// trash, no versions).
    pub fn new_node(&self, node: &crate::api::records::NewNode) -> Signed<NodeState> {
        self.state(&NodeView {
            node_id: node.node_id,
            parent_id: node.parent_id,
            kind: node.kind,
            wrapped_key: node.wrapped_key.clone(),
            metadata: node.metadata.clone(),
            revision: 1,
            trashed_at: None,
            current: None,
            version_count: 0,
            state: None,
            write_grant: None,
        })
    }
}

/// A node's leaf: the hash of its signed state (signature included).
pub fn leaf(state: &Signed<NodeState>) -> [u8; 32] {
    let mut out = Encoder::new(context::RECORD_LEAF);
    out.bytes(&state.value.signed_bytes())
        .bytes(&state.signature.to_bytes());
    sha256(&out.finish())
}

/// One node in a record's state: its id, its parent (so a doctor can tell
/// which leaves lie in a shared folder) and its leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadLeaf {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Its parent (`None`: the root).
    #[serde(with = "b64::option_array")]
    pub parent_id: Option<Id>,
    /// [`leaf`] of its signed state.
    #[serde(with = "b64::array")]
    pub leaf: [u8; 32],
}

impl HeadLeaf {
    /// The leaf of a signed state.
    pub fn of(state: &Signed<NodeState>) -> HeadLeaf {
        HeadLeaf {
            node_id: state.value.node_id,
            parent_id: state.value.parent_id,
            leaf: leaf(state),
        }
    }
}

/// The hash of a record's whole state: every leaf, sorted by node id. The
/// order leaves are given in does not matter; a node listed twice makes a
/// different hash from the node listed once.
pub fn state_hash(leaves: &[HeadLeaf]) -> [u8; 32] {
    let mut sorted: Vec<&HeadLeaf> = leaves.iter().collect();
    crate::sort::sort_by_key(&mut sorted, |l| l.node_id);
    let mut out = Encoder::new(context::RECORD_STATE);
    out.u32(u32::try_from(sorted.len()).unwrap_or(u32::MAX));
    for l in sorted {
        out.bytes(&l.node_id);
        match &l.parent_id {
            None => out.bytes(&[]),
            Some(p) => out.bytes(p),
        };
        out.bytes(&l.leaf);
    }
    sha256(&out.finish())
}

/// The owner's signed statement of a record's state at one point of its
/// history. Heads form a chain: each names the previous one's [`head_link`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHead {
    /// The owner, who signs.
    #[serde(with = "b64::array")]
    pub owner_id: Id,
    /// The record (its root node id).
    #[serde(with = "b64::array")]
    pub root_id: Id,
    /// 1 for the first head, then one more for each.
    pub counter: u64,
    /// [`head_link`] of the previous head; zeros for the first.
    #[serde(with = "b64::array")]
    pub previous: [u8; 32],
    /// [`state_hash`] of every node's leaf at this head.
    #[serde(with = "b64::array")]
    pub state_hash: [u8; 32],
    /// How many nodes the state holds.
    pub node_count: u32,
    /// When the owner signed, Unix seconds (owner's clock).
    pub made_at: i64,
}

impl Signable for RecordHead {
    const LABEL: &'static str = context::SIGN_RECORD_HEAD;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.owner_id)
            .bytes(&self.root_id)
            .u64(self.counter)
            .bytes(&self.previous)
            .bytes(&self.state_hash)
            .u32(self.node_count)
            .i64(self.made_at);
    }
}

/// What the next head names as its previous: the hash of this head's signed
/// bytes and signature.
pub fn head_link(head: &Signed<RecordHead>) -> [u8; 32] {
    let mut out = Encoder::new(context::RECORD_HEAD_LINK);
    out.bytes(&head.value.signed_bytes())
        .bytes(&head.signature.to_bytes());
    sha256(&out.finish())
}

impl RecordHead {
    /// The first head of a record.
    pub fn genesis(owner_id: Id, root_id: Id, leaves: &[HeadLeaf], now: i64) -> RecordHead {
        RecordHead {
            owner_id,
            root_id,
            counter: 1,
            previous: [0; 32],
            state_hash: state_hash(leaves),
            node_count: u32::try_from(leaves.len()).unwrap_or(u32::MAX),
            made_at: now,
        }
    }

    /// The head after `previous`, over `leaves`.
    pub fn next(previous: &Signed<RecordHead>, leaves: &[HeadLeaf], now: i64) -> RecordHead {
        RecordHead {
            owner_id: previous.value.owner_id,
            root_id: previous.value.root_id,
            counter: previous.value.counter.saturating_add(1),
            previous: head_link(previous),
            state_hash: state_hash(leaves),
            node_count: u32::try_from(leaves.len()).unwrap_or(u32::MAX),
            made_at: now,
        }
    }

    /// Signs the head with the owner's identity key.
    pub fn sign(self, key: &SigningKey) -> Signed<RecordHead> {
        sign(key, self)
    }
}

#[cfg(test)]
#[path = "state/tests.rs"]
mod tests;
