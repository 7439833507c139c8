//! Recovery by the recovery code: a new password for an account whose password
//! is lost; an unknown name gets answers of the same shape.

use serde::{Deserialize, Serialize};

use super::session::SessionInfo;
use crate::{
    api::ApiError,
    crypto::{b64, sign::Signature},
    model::Id,
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

/// The server side of recovery. `caller` carries the session cookie, the client
/// address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RecoveryBackend {
    /// First recovery step.
    async fn recovery_start(
        &self,
        caller: &crate::api::Caller,
        req: RecoveryStartRequest,
    ) -> Result<RecoveryStarted, ApiError>;
    /// Second recovery step.
    async fn recovery_finish(
        &self,
        caller: &crate::api::Caller,
        req: RecoveryFinishRequest,
    ) -> Result<Recovered, ApiError>;
}
