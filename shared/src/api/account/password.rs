//! Changing the password: a fresh proof of the current one and the new
//! registration, in one round trip, then the swap.

use serde::{Deserialize, Serialize};

use super::session::SessionsEnded;
use crate::{api::ApiError, crypto::b64, model::Id};

/// First message of a password change: prove the current password (a fresh
/// OPAQUE login) and register the new one, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeStartRequest {
    /// OPAQUE `KE1` made with the current password.
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
    /// OPAQUE `RegistrationRequest` made with the new password.
    #[serde(with = "b64::vec")]
    pub registration_request: Vec<u8>,
}

/// The server's answer to [`PasswordChangeStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeStarted {
    /// Names this change; single use, valid for 5 minutes.
    #[serde(with = "b64::array")]
    pub change_id: Id,
    /// OPAQUE `KE2` for the current password.
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
    /// OPAQUE `RegistrationResponse` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_response: Vec<u8>,
}

/// Second message of a password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeFinishRequest {
    /// From [`PasswordChangeStarted`].
    #[serde(with = "b64::array")]
    pub change_id: Id,
    /// OPAQUE `KE3`: proves the current password.
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
    /// OPAQUE `RegistrationUpload` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_upload: Vec<u8>,
    /// The same keyring, sealed under the new password's export key.
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
}

/// Password change, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/password/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn password_change_start(
    request: PasswordChangeStartRequest,
) -> Result<PasswordChangeStarted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .password_change_start(&caller, request)
        .await
}

/// Password change, step 2: ends every other session.
#[leptos::server(prefix = "/api", endpoint = "account/password/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn password_change_finish(
    request: PasswordChangeFinishRequest,
) -> Result<SessionsEnded, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .password_change_finish(&caller, request)
        .await
}

/// The server side of the password change. `caller` carries the session cookie, the client
/// address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PasswordBackend {
    /// First password-change step.
    async fn password_change_start(
        &self,
        caller: &crate::api::Caller,
        req: PasswordChangeStartRequest,
    ) -> Result<PasswordChangeStarted, ApiError>;
    /// Second password-change step.
    async fn password_change_finish(
        &self,
        caller: &crate::api::Caller,
        req: PasswordChangeFinishRequest,
    ) -> Result<SessionsEnded, ApiError>;
}
