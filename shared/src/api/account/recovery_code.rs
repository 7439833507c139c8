//! Replacing the recovery code: a fresh proof of the password, then the new
//! verifier and recovery keyring replace the old ones together.

use serde::{Deserialize, Serialize};

use crate::{
    api::ApiError,
    crypto::{b64, sign::VerifyingKey},
    model::Id,
};

/// First message of a recovery-code replacement: a fresh proof of the password
/// (an OPAQUE login), as for a password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeStartRequest {
    /// OPAQUE `KE1` made with the account's password.
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`RecoveryCodeStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeStarted {
    /// Names this replacement; single use, valid for 5 minutes, only for the
    /// session that started it.
    #[serde(with = "b64::array")]
    pub replace_id: Id,
    /// OPAQUE `KE2` for the password.
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
}

/// Second message of a recovery-code replacement: the password proof and what
/// the browser made from the new recovery secret. Both replace the old ones
/// together, so the old code stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeFinishRequest {
    /// From [`RecoveryCodeStarted`].
    #[serde(with = "b64::array")]
    pub replace_id: Id,
    /// OPAQUE `KE3`: proves the password.
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
    /// The keyring sealed under the new recovery secret (`keyring::SEALED_LEN`).
    #[serde(with = "b64::vec")]
    pub recovery_keyring: Vec<u8>,
    /// The new recovery verifier (`recovery::RecoverySecret::verifier`).
    pub recovery_verifier: VerifyingKey,
}

/// Replacing the recovery code, step 1 (needs a session).
#[leptos::server(prefix = "/api", endpoint = "account/recovery-code/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn recovery_code_start(
    request: RecoveryCodeStartRequest,
) -> Result<RecoveryCodeStarted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .recovery_code_start(&caller, request)
        .await
}

/// Replacing the recovery code, step 2: the old code stops working.
#[leptos::server(prefix = "/api", endpoint = "account/recovery-code/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn recovery_code_finish(request: RecoveryCodeFinishRequest) -> Result<(), ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .recovery_code_finish(&caller, request)
        .await
}

/// The server side of replacing the recovery code. `caller` carries the session cookie, the client
/// address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RecoveryCodeBackend {
    /// First step of replacing the recovery code.
    async fn recovery_code_start(
        &self,
        caller: &crate::api::Caller,
        req: RecoveryCodeStartRequest,
    ) -> Result<RecoveryCodeStarted, ApiError>;
    /// Second step: the new recovery verifier and keyring replace the old ones.
    async fn recovery_code_finish(
        &self,
        caller: &crate::api::Caller,
        req: RecoveryCodeFinishRequest,
    ) -> Result<(), ApiError>;
}
