//! Recovery by the recovery code, and replacing the recovery code.

use serde::{Deserialize, Serialize};

use super::session::SessionInfo;
use crate::{
    api::ApiError,
    crypto::{
        b64,
        sign::{Signature, VerifyingKey},
        Id,
    },
};

/// First recovery message: who, and the OPAQUE registration of the new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryStartRequest {
    /// The username as typed.
    pub username: String,
    /// OPAQUE `RegistrationRequest` made with the new password.
    #[serde(with = "b64::vec")]
    pub registration_request: Vec<u8>,
}

/// The server's answer to [`RecoveryStartRequest`]; for an unknown username it has the
/// same shape, with values that no recovery code opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryStarted {
    /// Names this recovery; single use, valid for 10 minutes.
    #[serde(with = "b64::array")]
    pub recovery_id: Id,
    /// The account's id (bound into the recovery key and proof).
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// Fresh random bytes to sign with the recovery verifier key (32 bytes).
    #[serde(with = "b64::vec")]
    pub challenge: Vec<u8>,
    /// The keyring sealed under the recovery secret.
    #[serde(with = "b64::vec")]
    pub recovery_keyring: Vec<u8>,
    /// OPAQUE `RegistrationResponse` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_response: Vec<u8>,
}

/// Second recovery message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryFinishRequest {
    /// From [`RecoveryStarted`].
    #[serde(with = "b64::array")]
    pub recovery_id: Id,
    /// `RecoverySecret::prove(user_id, challenge)`.
    pub proof: Signature,
    /// OPAQUE `RegistrationUpload` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_upload: Vec<u8>,
    /// The keyring sealed under the new password's export key.
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
}

/// A finished recovery: signed in with the new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    /// The new session.
    pub session: SessionInfo,
    /// How many sessions were ended.
    pub ended_sessions: u32,
    /// Whether a TOTP second factor was switched off by the recovery.
    pub totp_removed: bool,
}

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

/// Recovery, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/recovery/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn recovery_start(request: RecoveryStartRequest) -> Result<RecoveryStarted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .recovery_start(&caller, request)
        .await
}

/// Recovery, step 2: new password, every session ended, signed in here.
#[leptos::server(prefix = "/api", endpoint = "account/recovery/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn recovery_finish(request: RecoveryFinishRequest) -> Result<Recovered, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .recovery_finish(&caller, request)
        .await
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
