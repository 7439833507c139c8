//! The public key directory: anyone signed in can look a user up by username and
//! check the keys themselves. The server only stores and serves; every signature
//! is verified in the browser.

use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::{
    crypto::{b64, sign::Signed},
    model::{AdminCertificate, DoctorCertificate, Id, KeyEntry, Role},
};

/// Most ids one `directory/names` call resolves.
pub const MAX_NAMES: usize = 256;

/// Who an id is, for showing events and version authors by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserName {
    /// The account's id.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// Its username.
    pub username: String,
    /// Its role.
    pub role: Role,
}

/// `directory/names`: ids to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamesRequest {
    /// At most [`MAX_NAMES`] ids.
    #[serde(with = "b64::id_list")]
    pub ids: Vec<Id>,
}

/// A user's directory entry as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The user's key entry, self-signed.
    pub entry: Signed<KeyEntry>,
    /// For a verified doctor: the admin's certificate over the doctor's keys.
    pub certificate: Option<Signed<DoctorCertificate>>,
    /// The key entry of the admin who signed `certificate`, to verify it with.
    pub certifier: Option<Signed<KeyEntry>>,
    /// That admin's certificate from the installation's org key, if the
    /// operator certified them: the anchor the browser checks against the
    /// fingerprint it was built with. Absent in answers of older servers.
    #[serde(default)]
    pub certifier_certificate: Option<Signed<AdminCertificate>>,
    /// Whether an admin has disabled the account.
    pub disabled: bool,
}

/// The server side of the directory.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DirectoryBackend {
    /// The entry for `username`, or `not_found`. Needs a session.
    async fn lookup_user(
        &self,
        caller: &super::Caller,
        username: String,
    ) -> Result<DirectoryEntry, ApiError>;
    /// The names behind `ids` (unknown ids are left out). Needs a session.
    async fn user_names(
        &self,
        caller: &super::Caller,
        ids: Vec<Id>,
    ) -> Result<Vec<UserName>, ApiError>;
}

/// Looks a user up by username. A POST so the name stays out of URLs and logs.
#[leptos::server(prefix = "/api", endpoint = "directory/lookup", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn lookup_user(username: String) -> Result<DirectoryEntry, ApiError> {
    let caller = super::caller()?;
    super::backend()?.lookup_user(&caller, username).await
}

/// Resolves account ids to usernames (the audit history and version lists
/// carry ids only). A POST so the list can be long.
#[leptos::server(prefix = "/api", endpoint = "directory/names", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn user_names(request: NamesRequest) -> Result<Vec<UserName>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.user_names(&caller, request.ids).await
}
