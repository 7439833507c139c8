//! The TOTP second factor: turning it on (with a fresh password proof) and off.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::session::SessionInfo;
use crate::{api::ApiError, crypto::b64, model::Id};

/// First message of turning the TOTP second factor on: a fresh OPAQUE login with
/// the current password, so that a session alone (an unattended browser) cannot
/// enrol a second factor the owner does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnableStartRequest {
    /// OPAQUE `KE1` made with the current password.
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`TotpEnableStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnableStarted {
    /// Names this enrolment in [`TotpEnableRequest`]; single use, valid for 5
    /// minutes, and only for the session that started it.
    #[serde(with = "b64::array")]
    pub enable_id: Id,
    /// OPAQUE `KE2` for the current password.
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
}

/// Turns the TOTP second factor on. The browser made the secret and drew its QR
/// code; KE3 proves the current password and the code proves the user's app has
/// the secret. Its `Debug` leaves the secret, the code and KE3 out.
#[derive(Clone, Serialize, Deserialize)]
pub struct TotpEnableRequest {
    /// From [`TotpEnableStarted`].
    #[serde(with = "b64::array")]
    pub enable_id: Id,
    /// OPAQUE `KE3`: proves the current password.
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
    /// The secret in base32 (RFC 4648, no padding), as in the otpauth URI.
    #[serde(with = "secret_text")]
    pub secret: Zeroizing<String>,
    /// A current six-digit code from the user's app.
    pub code: String,
}

impl std::fmt::Debug for TotpEnableRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnableRequest")
            .field("enable_id", &b64::encode(&self.enable_id))
            .finish_non_exhaustive()
    }
}

/// A secret carried as text on the wire and held in a [`Zeroizing`] string.
mod secret_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(text: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
        String::deserialize(d).map(Zeroizing::new)
    }
}

/// Turning the TOTP second factor on, step 1: proving the current password.
#[leptos::server(prefix = "/api", endpoint = "account/totp/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn totp_enable_start(
    request: TotpEnableStartRequest,
) -> Result<TotpEnableStarted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .totp_enable_start(&caller, request)
        .await
}

/// Turning the TOTP second factor on, step 2.
#[leptos::server(prefix = "/api", endpoint = "account/totp/enable", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn totp_enable(request: TotpEnableRequest) -> Result<SessionInfo, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.totp_enable(&caller, request).await
}

/// Turns the TOTP second factor off.
#[leptos::server(prefix = "/api", endpoint = "account/totp/disable", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn totp_disable(code: String) -> Result<SessionInfo, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.totp_disable(&caller, code).await
}

/// The server side of the second factor. `caller` carries the session cookie, the client
/// address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SecondFactorBackend {
    /// First step of turning TOTP on: the password proof's KE2.
    async fn totp_enable_start(
        &self,
        caller: &crate::api::Caller,
        req: TotpEnableStartRequest,
    ) -> Result<TotpEnableStarted, ApiError>;
    /// Turns TOTP on; needs the password proof from [`SecondFactorBackend::totp_enable_start`].
    async fn totp_enable(
        &self,
        caller: &crate::api::Caller,
        req: TotpEnableRequest,
    ) -> Result<SessionInfo, ApiError>;
    /// Turns TOTP off; needs a current code.
    async fn totp_disable(
        &self,
        caller: &crate::api::Caller,
        code: String,
    ) -> Result<SessionInfo, ApiError>;
}
