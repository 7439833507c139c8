//! A patient's record: the tree of folders, files and entries, uploads in
//! chunks, downloads, versions and the trash.
//!
//! The server sees ids, sizes, times and ciphertext only (see
//! [`crate::records`] for what the ciphertext holds). Only the owner changes a
//! record; a doctor with an active grant may also list versions and fetch
//! chunks under the shared folder (see [`super::sharing`]). Anyone else gets the
//! same `not_found` as for an id that does not exist, on every call.
//!
//! Chunk bytes do not travel as JSON: they use two plain HTTP routes,
//! `PUT` and `GET` on [`chunk_path`], with `application/octet-stream` bodies.
//! Everything else is a server function below.
//!
//! # Upload
//!
//! 1. `records/upload/start` reserves quota and assigns the version number.
//! 2. `PUT /api/records/chunk/{node}/{version}/{index}` for index 0, 1, 2, … in
//!    order. Sending the chunk that was already stored with the same bytes again
//!    is answered as success (a retry after a lost answer); any other index
//!    than the next is `conflict`.
//! 3. `records/upload/finish` with the signed manifest. Only now is the version
//!    complete and visible; until then nothing about it shows in the tree.
//!
//! `records/upload/cancel` drops an unfinished upload and frees its quota; the
//! server also drops uploads left unfinished for [`UPLOAD_TTL_SECS`].

use serde::{Deserialize, Serialize};

mod batch;
mod calls;
mod profile;

pub use batch::*;
pub use calls::*;
pub use profile::*;

use super::ApiError;
use crate::{
    crypto::{b64, sign::Signed},
    model::{FileManifest, Id},
    records::{HeadLeaf, NodeState, RecordHead},
};

/// The path prefix of the raw chunk routes.
pub const CHUNK_ROUTE: &str = "/api/records/chunk";
/// Smallest chunk size the server accepts (tests and benchmarks use small ones).
pub const MIN_CHUNK_SIZE: u32 = 4 * 1024;
/// Largest chunk size the server accepts.
pub const MAX_CHUNK_SIZE: u32 = 4 * 1024 * 1024;
/// An upload not finished within this time is dropped and its quota freed.
pub const UPLOAD_TTL_SECS: i64 = 24 * 60 * 60;
/// Most nodes one record may hold.
pub const MAX_NODES: usize = 100_000;

/// The path of chunk `index` of a version: `/api/records/chunk/{node}/{version}/{index}`,
/// the node id in base64url.
pub fn chunk_path(node_id: &Id, version: u32, index: u32) -> String {
    format!("{CHUNK_ROUTE}/{}/{version}/{index}", b64::encode(node_id))
}

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Holds other nodes.
    Folder,
    /// Has content in versions.
    File,
    /// Metadata only (a vital-sign reading).
    Entry,
}

/// A node as the client creates it. `wrapped_key` is the node key wrapped to
/// the owner (the root) or under the parent's node key (everything else).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNode {
    /// Random id chosen by the client.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The parent folder; `None` only for the root.
    #[serde(with = "b64::option_array")]
    pub parent_id: Option<Id>,
    /// Folder, file or entry.
    pub kind: NodeKind,
    /// The node key, wrapped.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// Sealed [`crate::records::NodeMetadata`], at most
    /// [`crate::records::MAX_SEALED_METADATA`] bytes.
    #[serde(with = "b64::vec")]
    pub metadata: Vec<u8>,
    /// The node's state as its author signed it (revision 1). Required by
    /// `records/create` and `records/node/create`; a new file's node in
    /// `records/upload/start` has none (its state comes with the finish).
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
}

/// One complete version of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionView {
    /// The file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// From 1.
    pub version: u32,
    /// Plaintext bytes per chunk of its stream.
    pub chunk_size: u32,
    /// Bytes of ciphertext stored.
    pub ciphertext_len: u64,
    /// The content key, wrapped under the node key.
    #[serde(with = "b64::vec")]
    pub wrapped_content_key: Vec<u8>,
    /// Signed by its author; the reader checks it against the author's key.
    pub manifest: Signed<FileManifest>,
    /// Who uploaded it.
    #[serde(with = "b64::array")]
    pub author_id: Id,
    /// The author's username, for the version history.
    pub author_name: String,
    /// When the upload finished, Unix seconds (server clock).
    pub stored_at: i64,
    /// A doctor's version: the patient-signed read-and-write grant it was
    /// written under, so that a reader can check the doctor was allowed to.
    /// `None` for the owner's own versions.
    #[serde(default)]
    pub write_grant: Option<Signed<crate::model::Grant>>,
}

/// One node as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Its parent; `None` for the root.
    #[serde(with = "b64::option_array")]
    pub parent_id: Option<Id>,
    /// Folder, file or entry.
    pub kind: NodeKind,
    /// The node key, wrapped (see [`NewNode::wrapped_key`]).
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// Sealed metadata.
    #[serde(with = "b64::vec")]
    pub metadata: Vec<u8>,
    /// Bumped by every change; changes name the revision they start from.
    pub revision: u64,
    /// When it was moved to the trash (the node itself, not an ancestor).
    pub trashed_at: Option<i64>,
    /// Files: the current version. A file whose first upload has not finished is
    /// not listed at all.
    pub current: Option<VersionView>,
    /// Files: how many complete versions exist.
    pub version_count: u32,
    /// The node's state as its author signed it; `None` only in a record made
    /// before signed records, until its owner signs it (`records/adopt`).
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// When a doctor signed `state`: the patient-signed read-and-write grant
    /// they wrote under, so a reader can check they were allowed to.
    #[serde(default)]
    pub write_grant: Option<Signed<crate::model::Grant>>,
}

/// Bytes used and allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Stored ciphertext, reserved uploads and metadata, in bytes.
    pub used_bytes: u64,
    /// The account's quota.
    pub quota_bytes: u64,
    /// The largest file (plaintext) the server accepts; the app refuses bigger
    /// files before sending anything.
    pub max_file_bytes: u64,
}

/// The whole record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordTree {
    /// The patient who owns it.
    #[serde(with = "b64::array")]
    pub owner_id: Id,
    /// The root folder.
    #[serde(with = "b64::array")]
    pub root_id: Id,
    /// Every node, the root included, trashed ones too.
    pub nodes: Vec<NodeView>,
    /// Quota.
    pub usage: Usage,
    /// The record's change counter when this tree was read: every change to
    /// the record moves it on, so a browser holding this tree asks
    /// `records/seq` instead of fetching the tree again to know it is current.
    pub seq: u64,
    /// The newest owner-signed head (`None`: a record made before signed
    /// records, not yet adopted).
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
    /// The leaves of every node as of `head` (what its state hash covers).
    #[serde(default)]
    pub head_leaves: Vec<HeadLeaf>,
}

/// The answer to `records/upload/start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadTicket {
    /// The file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The version number to encrypt and sign for.
    pub version: u32,
    /// How many chunks the server expects.
    pub chunk_count: u32,
    /// When the server drops the upload if unfinished, Unix seconds.
    pub expires_at: i64,
}

/// The answer to a chunk `PUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkReceipt {
    /// The index stored.
    pub index: u32,
    /// `index + 1`, at most `chunk_count` (chunks may arrive in any order).
    pub next: u32,
}

/// The answer to `records/upload/status`: an unfinished upload of the
/// caller's as the server holds it, so that an interrupted upload can go on
/// (docs/PROTOCOL.md, 16.5). The browser trusts none of it: the signed
/// manifest at the finish covers every chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnfinishedUpload {
    /// The file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The version being uploaded.
    pub version: u32,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
    /// Total ciphertext announced at the start.
    pub ciphertext_len: u64,
    /// Chunks expected.
    pub chunk_count: u32,
    /// When the server drops the upload if unfinished, Unix seconds.
    pub expires_at: i64,
    /// The indexes of the chunks stored so far, ascending.
    pub held: Vec<u32>,
    /// A new file: its node as given at the start (its key wrapped under the
    /// folder's); `None` for a new version.
    pub new_node: Option<NewNode>,
}

/// `records/node/update`: new sealed metadata for a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateNodeRequest {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The revision the change starts from; another gets `conflict`.
    pub revision: u64,
    /// Sealed metadata.
    #[serde(with = "b64::vec")]
    pub metadata: Vec<u8>,
    /// The node's state after the change, signed by the caller.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// Owner's changes: the record's next head over the state after this
    /// change, signed by the owner (docs/PROTOCOL.md, section 4.5). A doctor
    /// sends none.
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
}

/// `records/node/move`: a new parent and the node key wrapped under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveNodeRequest {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The revision the change starts from.
    pub revision: u64,
    /// The folder to move into (same record, not inside the node itself).
    #[serde(with = "b64::array")]
    pub new_parent_id: Id,
    /// The node key wrapped under the new parent's key.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// The node's state after the move, signed by the caller.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// Owner's changes: the record's next head over the state after this
    /// change, signed by the owner (docs/PROTOCOL.md, section 4.5). A doctor
    /// sends none.
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
}

/// A node at a revision (`records/node/trash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRevision {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The revision the change starts from.
    pub revision: u64,
    /// The node's state after the change (trashed), signed by the caller.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// Owner's changes: the record's next head over the state after this
    /// change, signed by the owner (docs/PROTOCOL.md, section 4.5). A doctor
    /// sends none.
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
}

/// A node (`records/node/restore`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRef {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The node's state after the change (out of the trash), signed by the caller.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// Owner's changes: the record's next head over the state after this
    /// change, signed by the owner (docs/PROTOCOL.md, section 4.5). A doctor
    /// sends none.
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
}

/// A version of a file (`records/version/restore`, `records/upload/cancel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRef {
    /// The file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The version.
    pub version: u32,
    /// `records/version/restore`: the node's state with this version current,
    /// signed by the caller. Unused by `records/upload/cancel`.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// Owner's changes: the record's next head over the state after this
    /// change, signed by the owner (docs/PROTOCOL.md, section 4.5). A doctor
    /// sends none.
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
}

/// `records/upload/start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartUploadRequest {
    /// The file: `new_node.node_id` for a new file, else an existing file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// For a new file: the node to create (kind `file`). It stays invisible
    /// until its first version finishes.
    pub new_node: Option<NewNode>,
    /// Plaintext bytes per chunk ([`MIN_CHUNK_SIZE`]..=[`MAX_CHUNK_SIZE`]).
    pub chunk_size: u32,
    /// Total ciphertext bytes to come; decides the chunk count and is reserved
    /// against the quota.
    pub ciphertext_len: u64,
}

/// `records/upload/finish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishUploadRequest {
    /// The file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The version from the ticket.
    pub version: u32,
    /// The content key wrapped under the node key.
    #[serde(with = "b64::vec")]
    pub wrapped_content_key: Vec<u8>,
    /// The manifest, signed by the caller's identity key.
    pub manifest: Signed<FileManifest>,
    /// The node's metadata for this version (size, type, modified time).
    #[serde(with = "b64::vec")]
    pub metadata: Vec<u8>,
    /// The node's state with this version current, signed by the caller.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
    /// Owner's changes: the record's next head over the state after this
    /// change, signed by the owner (docs/PROTOCOL.md, section 4.5). A doctor
    /// sends none.
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
}

/// A new record as its owner's browser makes it (`records/create`, and a
/// patient's `account/signup/finish`): the root, the starter folders, each
/// with its owner-signed state (revision 1), and the genesis head over exactly
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRecordRequest {
    /// The root folder (its key HPKE-wrapped to the owner).
    pub root: NewNode,
    /// The starter folders.
    pub children: Vec<NewNode>,
    /// The genesis head (counter 1) over the states of `root` and `children`.
    pub head: Signed<RecordHead>,
}

impl From<crate::records::NewRecord> for NewRecordRequest {
    fn from(made: crate::records::NewRecord) -> Self {
        NewRecordRequest {
            root: made.root,
            children: made.children,
            head: made.head,
        }
    }
}

/// `records/adopt`: the owner signs a record made before signed records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptRequest {
    /// A state for every visible stored node (unfinished new files excluded),
    /// describing it exactly as stored (revision unchanged), author = owner.
    pub states: Vec<Signed<NodeState>>,
    /// The genesis head (counter 1) over exactly these states.
    pub head: Signed<RecordHead>,
}

/// Most heads one `records/heads` or `sharing/heads` answer holds; ask again
/// with `after` = the last counter for more.
pub const MAX_HEADS_LISTED: usize = 1000;
