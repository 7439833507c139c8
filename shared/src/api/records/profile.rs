//! The patient's profile copies (docs/PROTOCOL.md, section 17.10): the
//! signed profile sealed under the root's key and under each shared
//! folder's key. The server keeps the bytes it is given and serves a
//! doctor the copy of their grant's folder with the shared record; it
//! cannot read or change them unseen.

use super::*;

/// Most copies one patient keeps: the root's and one per shared folder.
pub const MAX_PROFILE_COPIES: usize = 512;

/// One sealed copy of the profile, under `node_id`'s key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileCopy {
    /// The folder (or the root) whose key seals it.
    #[serde(with = "b64::array")]
    pub node_id: Id,
    /// `records::profile::seal_profile`'s output.
    #[serde(with = "b64::vec")]
    pub sealed: Vec<u8>,
}

/// Every copy of a patient's profile (empty: no profile).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileCopies {
    /// One per node, the root's among them while there is a profile.
    pub copies: Vec<ProfileCopy>,
    /// The signed profile's `seq`, in clear (a counter, nothing more): the
    /// server refuses copies of an older profile than it holds, so a tab
    /// sealing an old profile again cannot undo a newer save. Readers still
    /// check the signed `seq` themselves.
    #[serde(default)]
    pub seq: u64,
}

/// The caller's profile copies.
#[leptos::server(prefix = "/api", endpoint = "records/profile", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn get_profile_copies() -> Result<ProfileCopies, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.profile_copies(&caller).await
}

/// Replaces the caller's profile copies: those not listed are deleted (a
/// share that ended gets no later profile), an empty list removes the
/// profile.
#[leptos::server(prefix = "/api", endpoint = "records/profile/put", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn put_profile_copies(copies: ProfileCopies) -> Result<(), ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .put_profile_copies(&caller, copies)
        .await
}
