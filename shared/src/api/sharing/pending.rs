//! Key replacements still owed (`sharing/rotation/pending`): the folders whose
//! keys must be replaced because a grant on them ended (removed, expired,
//! declined) and no rotation of that folder, or of a folder above it, has
//! been committed since; the rotation started and not committed; and the
//! unfinished uploads that would keep a commit from going through.
//!
//! The server's list is a reminder that holds across reloads and devices,
//! not something the browser trusts: the patient's browser also works out
//! from the signed grants and its own memory which folders need new keys,
//! and acts on both.

use serde::{Deserialize, Serialize};

use crate::{crypto::b64, model::Id};

/// Most grants one folder's entry names (the newest are kept).
pub const MAX_DUE_GRANTS: usize = 64;

/// A folder whose keys must be replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekeyDue {
    /// The folder (the root for the whole record).
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The grants on it that ended since its keys were last replaced.
    #[serde(with = "b64::id_list")]
    pub grant_ids: Vec<Id>,
    /// When the first of them ended, Unix seconds (server clock).
    pub since: i64,
}

/// An unfinished upload in the patient's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenUpload {
    /// The file (a new file's id, not yet in the tree).
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// The version being uploaded (`records/upload/cancel` takes both).
    pub version: u32,
    /// Where it writes: the new file's folder, or the file itself.
    #[serde(with = "b64::array")]
    pub target_id: Id,
    /// Who started it: the patient, or a doctor writing under a grant.
    #[serde(with = "b64::array")]
    pub uploader_id: Id,
    /// Their username.
    pub uploader_name: String,
    /// When it started, Unix seconds.
    pub started_at: i64,
}

/// The answer to `sharing/rotation/pending`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedRotations {
    /// Folders whose keys must be replaced, in no particular order.
    pub folders: Vec<RekeyDue>,
    /// The folder of a rotation started and never committed, if any.
    #[serde(with = "b64::option_array")]
    pub under_way: Option<Id>,
    /// Every unfinished upload in the record.
    pub uploads: Vec<OpenUpload>,
}
