//! Sign-up: whether it is open, what an invite grants, and the two OPAQUE
//! registration steps.

use serde::{Deserialize, Serialize};

use super::session::SessionInfo;
use crate::{
    api::ApiError,
    crypto::{
        b64,
        sign::{Signed, VerifyingKey},
    },
    model::{Id, KeyEntry, Role},
};

/// What the sign-up page needs to know before it asks anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupSettings {
    /// Whether patients may create an account without an invite.
    pub open_signup: bool,
}

/// An invite as the sign-up page shows it, before it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteDetails {
    /// The role the invite creates.
    pub role: Role,
    /// When the invite stops working, Unix seconds.
    pub expires_at: i64,
}

/// First sign-up message: the chosen username and the OPAQUE registration request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupStartRequest {
    /// The username as typed; the server normalises it (`account::Username`).
    pub username: String,
    /// The invite code from the invite link, if any. Without one the account is a
    /// patient's, and only while open sign-up is on.
    pub invite: Option<String>,
    /// OPAQUE `RegistrationRequest` (32 bytes).
    #[serde(with = "b64::vec")]
    pub registration_request: Vec<u8>,
}

/// The server's answer to [`SignupStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupStarted {
    /// Names this pending sign-up in [`SignupFinishRequest`]; valid for 10 minutes.
    #[serde(with = "b64::array")]
    pub registration_id: Id,
    /// The id the new account will have; the keyring and key entry bind it.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// The normalised username the key entry must carry.
    pub username: String,
    /// The role the account will have (from the invite, or patient).
    pub role: Role,
    /// OPAQUE `RegistrationResponse` (64 bytes).
    #[serde(with = "b64::vec")]
    pub registration_response: Vec<u8>,
}

/// Second sign-up message: everything the browser made from the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupFinishRequest {
    /// From [`SignupStarted`].
    #[serde(with = "b64::array")]
    pub registration_id: Id,
    /// OPAQUE `RegistrationUpload` (192 bytes).
    #[serde(with = "b64::vec")]
    pub registration_upload: Vec<u8>,
    /// The public key entry, self-signed; its user id, username and role must be
    /// the ones in [`SignupStarted`].
    pub key_entry: Signed<KeyEntry>,
    /// The keyring sealed under the password's export key (`keyring::SEALED_LEN`).
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
    /// The keyring sealed under the recovery secret (`keyring::SEALED_LEN`).
    #[serde(with = "b64::vec")]
    pub recovery_keyring: Vec<u8>,
    /// Verifies recovery proofs (`recovery::RecoverySecret::verifier`).
    pub recovery_verifier: VerifyingKey,
    /// A patient's new record (root id = the one the keyring names), stored in
    /// the same batch as the account. `None` from browsers whose keyring names
    /// no record (they create it on first use with `records/create`); refused
    /// for a doctor or an administrator.
    #[serde(default)]
    pub record: Option<crate::api::records::NewRecordRequest>,
}

/// Whether patients may sign up without an invite.
#[leptos::server(prefix = "/api", endpoint = "account/signup-policy", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn signup_policy() -> Result<SignupSettings, ApiError> {
    crate::api::backend()?.signup_policy().await
}

/// What an invite code is for, so the sign-up page can say so.
#[leptos::server(prefix = "/api", endpoint = "account/invite-info", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn invite_info(code: String) -> Result<InviteDetails, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.invite_info(&caller, code).await
}

/// Sign-up, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/signup/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn signup_start(request: SignupStartRequest) -> Result<SignupStarted, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.signup_start(&caller, request).await
}

/// Sign-up, step 2: creates the account and sets the session cookie.
#[leptos::server(prefix = "/api", endpoint = "account/signup/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn signup_finish(request: SignupFinishRequest) -> Result<SessionInfo, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.signup_finish(&caller, request).await
}

/// The server side of sign-up. `caller` carries the session cookie, the client
/// address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SignupBackend {
    /// Whether open sign-up is on.
    async fn signup_policy(&self) -> Result<SignupSettings, ApiError>;
    /// Looks an invite up without using it.
    async fn invite_info(
        &self,
        caller: &crate::api::Caller,
        code: String,
    ) -> Result<InviteDetails, ApiError>;
    /// First sign-up step.
    async fn signup_start(
        &self,
        caller: &crate::api::Caller,
        req: SignupStartRequest,
    ) -> Result<SignupStarted, ApiError>;
    /// Second sign-up step: creates the account and signs it in.
    async fn signup_finish(
        &self,
        caller: &crate::api::Caller,
        req: SignupFinishRequest,
    ) -> Result<SessionInfo, ApiError>;
}
