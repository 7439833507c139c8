//! How records are stored: keys and values in the Records and Blobs keyspaces.
//!
//! Records keyspace:
//!
//! | key                                          | value |
//! |----------------------------------------------|-------|
//! | `1 ‖ owner id ‖ node id`                     | [`StoredNode`] |
//! | `2 ‖ node id`                                | owner id (16 bytes): who owns a node, in one read; keeps ids unique |
//! | `3 ‖ owner id`                               | [`RecordHead`]: the root, usage and a change counter |
//! | `4 ‖ owner id ‖ node id ‖ u32 version`       | [`StoredUpload`]: an unfinished upload |
//! | `5 ‖ node id ‖ u32 version ‖ u32 index`      | SHA-256 of a chunk of an unfinished upload (32 bytes) |
//! | `6 ‖ node id ‖ u32 version`                  | [`StoredVersion`]: a complete version |
//! | `7 ‖ node id ‖ u32 version`                  | its signed manifest (apart, so that serving a chunk reads a few bytes, not every part hash) |
//! | `8 ‖ owner id`                               | [`StoredRotation`](super::rotation::StoredRotation): the key rotation under way (one per record) |
//! | `9 ‖ owner id ‖ u32 index`                   | a [`RotationPart`](shared::api::sharing::RotationPart) of it, as sent |
//! | `10 ‖ owner id ‖ node id`                    | [`HeadLeaf`]: the node's parent and the leaf of its stored signed state (nodes with a state only) |
//! | `11 ‖ owner id ‖ u64 counter`                | every owner-signed record head, by counter (the chain) |
//! | `12 ‖ owner id ‖ node id`                    | [`HeadOverride`]: a node a doctor changed since the newest head, with its leaf as of that head |
//! | `13 ‖ owner id ‖ node id`                    | the owner's profile sealed under that node's key (raw bytes, 17.10) |
//! | `14 ‖ owner id`                              | the `seq` of the profile those copies hold (u64, big-endian) |
//!
//! Blobs keyspace: `1 ‖ node id ‖ u32 version ‖ u32 index` → the sealed chunk,
//! raw (no codec: it is the bulk of the data and already ciphertext).
//!
//! Keys start with the owner where the owner is the natural way in (a record's
//! nodes, a user's uploads), so that a key built from the caller's own id simply
//! misses for anyone else's item; versions and chunks are reached only through
//! a node the caller was found to own.
//!
//! Every change to a record's structure writes the [`RecordHead`] with a
//! precondition on its previous bytes (its `seq` always moves on), so changes
//! to one record are serialised even across processes, and usage can never
//! drift from what is stored. Chunk uploads touch only their upload record.

use serde::{Deserialize, Serialize};
use shared::{
    api::records::{NewNode, NodeKind},
    crypto::{b64, sign::Signed},
    model::Id,
    records::{HeadLeaf, NodeState, RecordHead as OwnerHead},
};

use crate::store::keys::Key;

/// Key of a node.
pub fn node_key(owner: &Id, node: &Id) -> Vec<u8> {
    Key::new().u8(1).fixed(owner).fixed(node).finish()
}

/// Prefix of every node of a record.
pub fn nodes_prefix(owner: &Id) -> Vec<u8> {
    Key::new().u8(1).fixed(owner).finish()
}

/// Key of the node-to-owner index.
pub fn owner_key(node: &Id) -> Vec<u8> {
    Key::new().u8(2).fixed(node).finish()
}

/// Key of a record's head.
pub fn head_key(owner: &Id) -> Vec<u8> {
    Key::new().u8(3).fixed(owner).finish()
}

/// Key of an unfinished upload.
pub fn upload_key(owner: &Id, node: &Id, version: u32) -> Vec<u8> {
    Key::new()
        .u8(4)
        .fixed(owner)
        .fixed(node)
        .u32(version)
        .finish()
}

/// Prefix of every unfinished upload of one user.
pub fn uploads_prefix(owner: &Id) -> Vec<u8> {
    Key::new().u8(4).fixed(owner).finish()
}

/// Key of the hash of one chunk of an unfinished upload.
pub fn hash_key(node: &Id, version: u32, index: u32) -> Vec<u8> {
    Key::new()
        .u8(5)
        .fixed(node)
        .u32(version)
        .u32(index)
        .finish()
}

/// Prefix of the chunk hashes of one upload.
pub fn hashes_prefix(node: &Id, version: u32) -> Vec<u8> {
    Key::new().u8(5).fixed(node).u32(version).finish()
}

/// Key of a complete version.
pub fn version_key(node: &Id, version: u32) -> Vec<u8> {
    Key::new().u8(6).fixed(node).u32(version).finish()
}

/// Prefix of every complete version of a file.
pub fn versions_prefix(node: &Id) -> Vec<u8> {
    Key::new().u8(6).fixed(node).finish()
}

/// Key of a complete version's signed manifest.
pub fn manifest_key(node: &Id, version: u32) -> Vec<u8> {
    Key::new().u8(7).fixed(node).u32(version).finish()
}

/// Key of the key rotation under way in a record.
pub fn rotation_key(owner: &Id) -> Vec<u8> {
    Key::new().u8(8).fixed(owner).finish()
}

/// Key of one stored part of the rotation under way.
pub fn rotation_part_key(owner: &Id, index: u32) -> Vec<u8> {
    Key::new().u8(9).fixed(owner).u32(index).finish()
}

/// Prefix of every stored part of the rotation under way.
pub fn rotation_parts_prefix(owner: &Id) -> Vec<u8> {
    Key::new().u8(9).fixed(owner).finish()
}

/// Key of a node's current leaf.
pub fn leaf_key(owner: &Id, node: &Id) -> Vec<u8> {
    Key::new().u8(10).fixed(owner).fixed(node).finish()
}

/// Prefix of every current leaf of a record.
pub fn leaves_prefix(owner: &Id) -> Vec<u8> {
    Key::new().u8(10).fixed(owner).finish()
}

/// Key of one signed head of a record's chain.
pub fn chain_key(owner: &Id, counter: u64) -> Vec<u8> {
    Key::new().u8(11).fixed(owner).u64(counter).finish()
}

/// Prefix of a record's chain of heads.
pub fn chain_prefix(owner: &Id) -> Vec<u8> {
    Key::new().u8(11).fixed(owner).finish()
}

/// Key of a node's leaf as of the newest head, kept while it differs.
pub fn override_key(owner: &Id, node: &Id) -> Vec<u8> {
    Key::new().u8(12).fixed(owner).fixed(node).finish()
}

/// Prefix of a record's head overrides.
pub fn overrides_prefix(owner: &Id) -> Vec<u8> {
    Key::new().u8(12).fixed(owner).finish()
}

/// Key of the owner's profile copy sealed under a node's key.
pub fn profile_key(owner: &Id, node: &Id) -> Vec<u8> {
    Key::new().u8(13).fixed(owner).fixed(node).finish()
}

/// Prefix of every profile copy of a record.
pub fn profiles_prefix(owner: &Id) -> Vec<u8> {
    Key::new().u8(13).fixed(owner).finish()
}

/// Key of the `seq` of the profile a record's copies hold.
pub fn profile_seq_key(owner: &Id) -> Vec<u8> {
    Key::new().u8(14).fixed(owner).finish()
}

/// Key of a chunk in the Blobs keyspace.
pub fn chunk_key(node: &Id, version: u32, index: u32) -> Vec<u8> {
    Key::new()
        .u8(1)
        .fixed(node)
        .u32(version)
        .u32(index)
        .finish()
}

/// Per-record state that every structural change rewrites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHead {
    /// The root folder.
    #[serde(with = "b64::array")]
    pub root_id: Id,
    /// Bumped by every change, so a precondition on the head's bytes catches
    /// any change made meanwhile.
    pub seq: u64,
    /// Ciphertext of complete versions plus sealed metadata of nodes.
    pub stored_bytes: u64,
    /// Reserved by unfinished uploads.
    pub reserved_bytes: u64,
    /// Nodes, plus new files whose first upload is unfinished.
    pub nodes: u64,
    /// The newest owner-signed head; `None` in a record made before signed
    /// records, until its owner adopts it (`records/adopt`).
    #[serde(default)]
    pub signed: Option<Signed<OwnerHead>>,
}

/// A node whose leaf differs from the one the newest head covers (a doctor's
/// pending change): its leaf as of that head, `None` if the head has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadOverride {
    /// The node's leaf when the head was signed.
    pub at_head: Option<HeadLeaf>,
}

impl RecordHead {
    /// Bytes counted against the quota.
    pub fn used(&self) -> u64 {
        self.stored_bytes.saturating_add(self.reserved_bytes)
    }
}

/// A node as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredNode {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Its parent; `None` for the root.
    #[serde(with = "b64::option_array")]
    pub parent_id: Option<Id>,
    /// Folder, file or entry.
    pub kind: NodeKind,
    /// The node key, wrapped.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// Sealed metadata.
    #[serde(with = "b64::vec")]
    pub metadata: Vec<u8>,
    /// Bumped by every change the client makes.
    pub revision: u64,
    /// When the node itself went to the trash.
    pub trashed_at: Option<i64>,
    /// Files: the current version.
    pub current: Option<u32>,
    /// Files: how many complete versions exist.
    pub version_count: u32,
    /// Files: the highest version number handed out, finished or not, so a
    /// number is never used twice.
    pub last_version: u32,
    /// When the server stored it.
    pub created_at: i64,
    /// Emptying the trash has begun deleting it: it can no longer be restored.
    #[serde(default)]
    pub purging: bool,
    /// The node's state as its author signed it; `None` in a record made
    /// before signed records (a legacy node) and for a new file whose first
    /// upload is unfinished.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// When a doctor signed `state`: the read-and-write grant they wrote under.
    #[serde(default, with = "b64::option_array")]
    pub write_grant: Option<Id>,
}

/// A complete file version as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredVersion {
    /// The version number.
    pub version: u32,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
    /// Bytes of ciphertext.
    pub ciphertext_len: u64,
    /// Chunks stored.
    pub chunk_count: u32,
    /// The content key, wrapped under the node key.
    #[serde(with = "b64::vec")]
    pub wrapped_content_key: Vec<u8>,
    /// Who uploaded it.
    #[serde(with = "b64::array")]
    pub author_id: Id,
    /// When the upload finished.
    pub stored_at: i64,
    /// A doctor's version: the read-and-write grant it was written under.
    #[serde(default, with = "b64::option_array")]
    pub grant_id: Option<Id>,
}

/// An unfinished upload as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUpload {
    /// The file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The version being uploaded.
    pub version: u32,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
    /// Total ciphertext announced.
    pub ciphertext_len: u64,
    /// Chunks expected.
    pub chunk_count: u32,
    /// No longer written (0 in uploads started since chunks may arrive in
    /// any order): which chunks are in is known from their hash keys.
    pub received: u32,
    /// Bytes reserved against the quota.
    pub reserved: u64,
    /// When it started.
    pub started_at: i64,
    /// When it is dropped if unfinished.
    pub expires_at: i64,
    /// A new file: the node to create when the upload finishes.
    pub new_node: Option<NewNode>,
    /// Cancelled or expired: its quota is already freed and its chunks are
    /// being deleted; nothing more is accepted for it.
    #[serde(default)]
    pub dropping: bool,
    /// A doctor writing on the owner's behalf; `None` for the owner.
    #[serde(default, with = "b64::option_array")]
    pub uploader: Option<Id>,
}
