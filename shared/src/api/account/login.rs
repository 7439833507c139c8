//! Sign-in: the two OPAQUE login steps, then the second factor's step when it is
//! on.

use serde::{Deserialize, Serialize};

use super::session::SessionInfo;
use crate::{
    api::ApiError,
    crypto::{b64, sign::Signed},
    model::{Id, KeyEntry},
};

/// First sign-in message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginStartRequest {
    /// The username as typed.
    pub username: String,
    /// OPAQUE `KE1` (96 bytes).
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`LoginStartRequest`]; the same shape for unknown users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginStarted {
    /// Names this attempt in [`LoginFinishRequest`]; single use, valid for 2 minutes.
    #[serde(with = "b64::array")]
    pub login_id: Id,
    /// OPAQUE `KE2` (320 bytes).
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
}

/// Second sign-in message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFinishRequest {
    /// From [`LoginStarted`].
    #[serde(with = "b64::array")]
    pub login_id: Id,
    /// OPAQUE `KE3` (64 bytes).
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
}

/// A complete sign-in: the session cookie is set, and the browser gets what it
/// needs to unseal its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// The new session.
    pub session: SessionInfo,
    /// The account's own key entry, to check the unsealed keys against.
    pub key_entry: Signed<KeyEntry>,
    /// The keyring sealed under the password's export key.
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
}

/// What [`login_finish`] leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginOutcome {
    /// Signed in; no second factor is on.
    SignedIn(Box<SignedIn>),
    /// The password was right; now send the TOTP code with [`login_second_factor`]
    /// within 5 minutes.
    SecondFactor {
        /// Names the half-finished sign-in.
        #[serde(with = "b64::array")]
        pending_id: Id,
    },
}

/// The TOTP step of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorRequest {
    /// From [`LoginOutcome::SecondFactor`].
    #[serde(with = "b64::array")]
    pub pending_id: Id,
    /// The six digits from the authenticator app.
    pub code: String,
}

/// Sign-in, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/login/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn login_start(request: LoginStartRequest) -> Result<LoginStarted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.login_start(&caller, request).await
}

/// Sign-in, step 2.
#[leptos::server(prefix = "/api", endpoint = "account/login/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn login_finish(request: LoginFinishRequest) -> Result<LoginOutcome, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.login_finish(&caller, request).await
}

/// Sign-in, step 3 when a second factor is on.
#[leptos::server(prefix = "/api", endpoint = "account/login/second-factor", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn login_second_factor(request: SecondFactorRequest) -> Result<SignedIn, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .login_second_factor(&caller, request)
        .await
}

/// The server side of sign-in. `caller` carries the session cookie, the client
/// address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait LoginBackend {
    /// First sign-in step.
    async fn login_start(
        &self,
        caller: &crate::api::Caller,
        req: LoginStartRequest,
    ) -> Result<LoginStarted, ApiError>;
    /// Second sign-in step.
    async fn login_finish(
        &self,
        caller: &crate::api::Caller,
        req: LoginFinishRequest,
    ) -> Result<LoginOutcome, ApiError>;
    /// The TOTP step of a sign-in.
    async fn login_second_factor(
        &self,
        caller: &crate::api::Caller,
        req: SecondFactorRequest,
    ) -> Result<SignedIn, ApiError>;
}
