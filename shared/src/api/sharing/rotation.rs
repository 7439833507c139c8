//! Key rotation after a revocation, on the wire: the patient's browser
//! starts it for a folder, sends the new keys in parts, and commits; the
//! server applies the parts in one atomic write (see `sharing/rotation/*`).

use serde::{Deserialize, Serialize};

use super::GrantView;
use crate::{
    crypto::{b64, sign::Signed},
    model::Id,
    records::{NodeState, RecordHead},
};

/// Most nodes, versions and grants together in one `sharing/rotation/part`.
pub const MAX_ROTATION_PART: usize = 400;
/// About how much JSON the app puts in one part: under the smallest body
/// limit an operator is expected to set (64 KiB; the default is 1 MiB).
pub const ROTATION_PART_BYTES: usize = 48 * 1024;

/// `sharing/rotation/start`: the folder whose keys are replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRotation {
    /// The folder (the root for the whole record).
    #[serde(with = "b64::array")]
    pub node_id: Id,
}

/// A version's wrapped content key, as stored or as re-wrapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentKey {
    /// The file.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The version.
    pub version: u32,
    /// Its content key wrapped under the file's node key.
    #[serde(with = "b64::vec")]
    pub wrapped_content_key: Vec<u8>,
}

/// The answer to `sharing/rotation/start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationTicket {
    /// Names the parts and the commit.
    #[serde(with = "b64::array")]
    pub rotation_id: Id,
    /// Every node under the folder, the folder included, trashed ones too.
    #[serde(with = "b64::id_list")]
    pub nodes: Vec<Id>,
    /// Every complete version of the files among them.
    pub versions: Vec<ContentKey>,
    /// Every grant still active on the folder or a folder under it: each needs
    /// the new key wrapped to its doctor.
    pub grants: Vec<GrantView>,
}

/// A node with its new key and its metadata sealed under that key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekeyedNode {
    /// The node.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// Its new key wrapped under its parent's (new, or unchanged above the
    /// folder); HPKE to the patient for the root.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// Its metadata sealed under the new key.
    #[serde(with = "b64::vec")]
    pub metadata: Vec<u8>,
    /// The node's state after the commit (new wrapped key and metadata, its
    /// files' re-wrapped current version, revision + 1), signed by the owner.
    #[serde(default)]
    pub state: Option<Signed<NodeState>>,
}

/// A grant's new wrapped key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekeyedGrant {
    /// The grant.
    #[serde(with = "b64::array")]
    pub grant_id: Id,
    /// The node's new key wrapped to the grant's doctor (HPKE).
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
}

/// `sharing/rotation/part`: some of the new keys (at most [`MAX_ROTATION_PART`]
/// items in all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationPart {
    /// From the ticket.
    #[serde(with = "b64::array")]
    pub rotation_id: Id,
    /// Numbered from 0; sending a number again replaces that part.
    pub index: u32,
    /// Re-keyed nodes.
    pub nodes: Vec<RekeyedNode>,
    /// Re-wrapped content keys.
    pub versions: Vec<ContentKey>,
    /// Re-wrapped grants.
    pub grants: Vec<RekeyedGrant>,
}

/// `sharing/rotation/commit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRotation {
    /// From the ticket.
    #[serde(with = "b64::array")]
    pub rotation_id: Id,
    /// How many parts were sent (indexes `0..parts`).
    pub parts: u32,
    /// The record's next head over the state after the commit, signed by the
    /// owner.
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
}
