//! The admin's calls: invites, the user list, doctor certificates and disabling
//! accounts. Every call needs an admin's session; the server answers anyone
//! else with `not_found`, as if the call did not exist.

use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::crypto::{
    b64,
    sign::{DoctorCertificate, Role, Signed},
    Id,
};

/// A new invite. The code is shown once; the server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// The secret code (base64url of 32 random bytes); the link is
    /// `/signup?invite=<code>`.
    pub code: String,
    /// The role the invite creates.
    pub role: Role,
    /// When it stops working, Unix seconds.
    pub expires_at: i64,
}

/// One account as the admin sees it: no keys, no record data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The account's id.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// Its username.
    pub username: String,
    /// Its role.
    pub role: Role,
    /// Whether it is disabled.
    pub disabled: bool,
    /// For doctors: whether an admin certificate is on file.
    pub verified: bool,
    /// Whether a TOTP second factor is on.
    pub totp_enabled: bool,
    /// When the account was made, Unix seconds.
    pub created_at: i64,
    /// The last successful sign-in, Unix seconds.
    pub last_sign_in: Option<i64>,
}

/// The server side of the admin calls.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AdminBackend {
    /// Makes an invite for `role`, valid for 7 days.
    async fn create_invite(&self, caller: &super::Caller, role: Role) -> Result<Invite, ApiError>;
    /// Every account.
    async fn list_users(&self, caller: &super::Caller) -> Result<Vec<UserSummary>, ApiError>;
    /// Stores a doctor certificate signed in the admin's browser.
    async fn verify_doctor(
        &self,
        caller: &super::Caller,
        certificate: Signed<DoctorCertificate>,
    ) -> Result<UserSummary, ApiError>;
    /// Disables (or enables again) an account; disabling ends its sessions at once.
    async fn set_disabled(
        &self,
        caller: &super::Caller,
        user_id: Id,
        disabled: bool,
    ) -> Result<UserSummary, ApiError>;
}

/// Invites a user with a role.
#[leptos::server(prefix = "/api", endpoint = "admin/invites", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn create_invite(role: Role) -> Result<Invite, ApiError> {
    let caller = super::caller()?;
    super::backend()?.create_invite(&caller, role).await
}

/// Lists every account.
#[leptos::server(prefix = "/api", endpoint = "admin/users", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn list_users() -> Result<Vec<UserSummary>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.list_users(&caller).await
}

/// Records an admin's certificate for a doctor.
#[leptos::server(prefix = "/api", endpoint = "admin/verify-doctor", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn verify_doctor(
    certificate: Signed<DoctorCertificate>,
) -> Result<UserSummary, ApiError> {
    let caller = super::caller()?;
    super::backend()?.verify_doctor(&caller, certificate).await
}

/// Disables or re-enables an account.
#[leptos::server(prefix = "/api", endpoint = "admin/set-disabled", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn set_disabled(user_id: String, disabled: bool) -> Result<UserSummary, ApiError> {
    let caller = super::caller()?;
    let user_id = super::parse_id(&user_id)?;
    super::backend()?
        .set_disabled(&caller, user_id, disabled)
        .await
}
