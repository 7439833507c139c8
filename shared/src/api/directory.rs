//! The public key directory: anyone signed in can look a user up by username and
//! check the keys themselves. The server only stores and serves; every signature
//! is verified in the browser.

use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::crypto::sign::{DoctorCertificate, KeyEntry, Signed};

/// A user's directory entry as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The user's key entry, self-signed.
    pub entry: Signed<KeyEntry>,
    /// For a verified doctor: the admin's certificate over the doctor's keys.
    pub certificate: Option<Signed<DoctorCertificate>>,
    /// The key entry of the admin who signed `certificate`, to verify it with.
    pub certifier: Option<Signed<KeyEntry>>,
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
}

/// Looks a user up by username. A POST so the name stays out of URLs and logs.
#[leptos::server(prefix = "/api", endpoint = "directory/lookup", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn lookup_user(username: String) -> Result<DirectoryEntry, ApiError> {
    let caller = super::caller()?;
    super::backend()?.lookup_user(&caller, username).await
}
