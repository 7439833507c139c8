//! A patient deleting their own account: a fresh proof of the password,
//! the username typed again, then everything of theirs is removed from the
//! store (PROTOCOL 15.12). The audit log keeps its events, which hold ids
//! only.

use serde::{Deserialize, Serialize};

use crate::{api::ApiError, crypto::b64, model::Id};

/// First message: a fresh proof of the password (an OPAQUE login), as for
/// a password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccountStartRequest {
    /// OPAQUE `KE1` made with the account's password.
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`DeleteAccountStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccountStarted {
    /// Names this deletion; single use, valid for 5 minutes, only for the
    /// session that started it.
    #[serde(with = "b64::array")]
    pub delete_id: Id,
    /// OPAQUE `KE2` for the password.
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
}

/// Second message: the password proof and the username typed again (so a
/// slip of a script cannot delete an account it did not name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccountFinishRequest {
    /// From [`DeleteAccountStarted`].
    #[serde(with = "b64::array")]
    pub delete_id: Id,
    /// OPAQUE `KE3`: proves the password.
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
    /// The account's username, as the person typed it.
    pub username: String,
}

/// What a deletion removed, for the page to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDeleted {
    /// Folders, files and entries of the record.
    pub nodes: u64,
    /// Stored chunks of file content.
    pub chunks: u64,
    /// Shares the patient made (every doctor's access ends with them).
    pub grants: u64,
}

/// Deleting the account, step 1 (patients; needs a session).
#[leptos::server(prefix = "/api", endpoint = "account/delete/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn delete_account_start(
    request: DeleteAccountStartRequest,
) -> Result<DeleteAccountStarted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .delete_account_start(&caller, request)
        .await
}

/// Deleting the account, step 2: everything goes, the session ends.
#[leptos::server(prefix = "/api", endpoint = "account/delete/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn delete_account_finish(
    request: DeleteAccountFinishRequest,
) -> Result<AccountDeleted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .delete_account_finish(&caller, request)
        .await
}

/// The server side of deleting an account.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DeleteAccountBackend {
    /// First step: counts the attempt and answers KE2.
    async fn delete_account_start(
        &self,
        caller: &crate::api::Caller,
        req: DeleteAccountStartRequest,
    ) -> Result<DeleteAccountStarted, ApiError>;
    /// Second step: checks KE3 and the username, then removes everything.
    async fn delete_account_finish(
        &self,
        caller: &crate::api::Caller,
        req: DeleteAccountFinishRequest,
    ) -> Result<AccountDeleted, ApiError>;
}
