//! `records/batch`: many new folders and small files in one signed change
//! (docs/PROTOCOL.md, section 16.11).
//!
//! One request creates up to [`MAX_BATCH_ITEMS`] folders and files in the
//! caller's own record under **one** owner's head: the head's state hash
//! covers every new leaf, so a server cannot drop, add or reorder an item
//! unnoticed. A file in a batch is small (its whole stream is one chunk of at
//! most [`MAX_INLINE_CIPHERTEXT`] bytes) and arrives with its content, its
//! signed manifest and its signed state, so it is complete and current at
//! once: no upload is started, no chunk is sent apart. The batch is atomic:
//! any refused item refuses the whole batch (its index named in the
//! message), and nothing is stored.

use serde::{Deserialize, Serialize};

use super::{NewNode, NodeView, VersionView};
use crate::{
    crypto::{b64, sign::Signed},
    model::FileManifest,
    records::{change, RecordHead},
};

/// Most folders and files one batch holds.
pub const MAX_BATCH_ITEMS: usize = 100;
/// Most ciphertext one file in a batch may carry (one chunk): files whose
/// stream is longer go through `records/upload/start` one by one.
pub const MAX_INLINE_CIPHERTEXT: u64 = 64 * 1024 + 16;
/// Most ciphertext of all the files of one batch together (the JSON request,
/// base64 and all, stays under the server's 1 MiB limit for JSON calls).
pub const MAX_BATCH_CONTENT: u64 = 512 * 1024;

/// A small new file with its only version: what `records/upload/start`, one
/// chunk `PUT` and `records/upload/finish` carry for it, in one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFile {
    /// The file's node: kind `file`, its folder, its key wrapped under the
    /// folder's, its sealed metadata (final: size and type included), and
    /// `state`, its signed state as stored: revision 1, version 1 current,
    /// one version ([`NewFile::stored_view`]).
    pub node: NewNode,
    /// Plaintext bytes per chunk of the stream (as in `records/upload/start`).
    pub chunk_size: u32,
    /// The whole sealed stream: exactly one chunk.
    #[serde(with = "b64::vec")]
    pub content: Vec<u8>,
    /// The content key of version 1, wrapped under the node key (61 bytes).
    #[serde(with = "b64::vec")]
    pub wrapped_content_key: Vec<u8>,
    /// Version 1's manifest, signed by the caller: one part, the SHA-256 of
    /// `content`.
    pub manifest: Signed<FileManifest>,
}

impl NewFile {
    /// The version the batch stores, as far as the node's state covers it.
    pub fn version(&self) -> VersionView {
        change::finished_version(
            &self.manifest,
            &self.wrapped_content_key,
            self.chunk_size,
            self.content.len() as u64,
        )
    }

    /// The file's node as the batch stores it (what `node.state` describes):
    /// revision 1, version 1 current, one version, `node.metadata`.
    pub fn stored_view(&self) -> NodeView {
        let before = change::unfinished(&self.node);
        change::finished(&before, &self.version(), &self.node.metadata)
    }
}

/// `records/batch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRequest {
    /// New folders, each with its signed state (revision 1), in an order
    /// where a folder's parent is stored already or listed before it.
    #[serde(default)]
    pub folders: Vec<NewNode>,
    /// New small files, each into a folder stored already or listed in
    /// `folders`.
    #[serde(default)]
    pub files: Vec<NewFile>,
    /// The owner's next head over the record with every new folder and file.
    pub head: Signed<RecordHead>,
}
