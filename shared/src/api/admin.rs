//! The admin's calls: invites, the user list, the admin's own certificate from
//! the installation's org key, doctor certificates, roles, disabling and
//! deleting accounts. Every call needs an admin's session; the server answers anyone
//! else with `not_found`, as if the call did not exist.

use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::{
    crypto::{b64, sign::Signed},
    model::{AdminCertificate, DoctorCertificate, Id, Role},
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

/// An invite an admin made that can still be used: not used, not revoked, not
/// expired. Its code is not here (the server keeps only the code's hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInvite {
    /// The handle to revoke it by: the first 16 bytes of SHA-256 of the code
    /// (the `item` of its `invite_created` event). Not the code, and the code
    /// cannot be computed from it.
    #[serde(with = "b64::array")]
    pub id: Id,
    /// The role it creates.
    pub role: Role,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// When it stops working, Unix seconds.
    pub expires_at: i64,
    /// The admin who made it.
    #[serde(with = "b64::array")]
    pub created_by: Id,
    /// That admin's username, if the account still exists.
    pub created_by_username: Option<String>,
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
    /// The invites made in the app that can still be used, newest first.
    async fn list_invites(&self, caller: &super::Caller) -> Result<Vec<OpenInvite>, ApiError>;
    /// Revokes an open invite by its id: it can no longer be used to sign up.
    async fn revoke_invite(&self, caller: &super::Caller, id: Id) -> Result<(), ApiError>;
    /// Every account, or those whose username starts with `prefix`.
    async fn list_users(
        &self,
        caller: &super::Caller,
        prefix: Option<String>,
    ) -> Result<Vec<UserSummary>, ApiError>;
    /// Stores a doctor certificate signed in the admin's browser.
    async fn verify_doctor(
        &self,
        caller: &super::Caller,
        certificate: Signed<DoctorCertificate>,
    ) -> Result<UserSummary, ApiError>;
    /// Stores the caller's certificate from the installation's org key, after
    /// checking that it names the caller's current keys and verifies under the
    /// org key it carries.
    async fn store_org_certificate(
        &self,
        caller: &super::Caller,
        certificate: Signed<AdminCertificate>,
    ) -> Result<(), ApiError>;
    /// The caller's stored org certificate, if any.
    async fn my_org_certificate(
        &self,
        caller: &super::Caller,
    ) -> Result<Option<Signed<AdminCertificate>>, ApiError>;
    /// Disables (or enables again) an account; disabling ends its sessions at once.
    async fn set_disabled(
        &self,
        caller: &super::Caller,
        user_id: Id,
        disabled: bool,
    ) -> Result<UserSummary, ApiError>;
    /// Gives a non-patient account another non-patient role: its doctor
    /// and org certificates are withdrawn, its sessions end, and a doctor's
    /// shares are declined (PROTOCOL 15.8). The account signs its directory
    /// entry again at its next sign-in ([`super::account::renew_key_entry`]).
    async fn set_role(
        &self,
        caller: &super::Caller,
        user_id: Id,
        role: Role,
    ) -> Result<UserSummary, ApiError>;
    /// Deletes an account and everything of it, as its owner would
    /// (PROTOCOL 15.12); `username` must name it, as the admin typed it.
    async fn delete_user(
        &self,
        caller: &super::Caller,
        user_id: Id,
        username: String,
    ) -> Result<super::account::AccountDeleted, ApiError>;
}

/// Invites a user with a role.
#[leptos::server(prefix = "/api", endpoint = "admin/invites", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn create_invite(role: Role) -> Result<Invite, ApiError> {
    let caller = super::caller()?;
    super::backend()?.create_invite(&caller, role).await
}

/// Lists the open invites made in the app (command-line invites are not stored
/// and so not listed).
#[leptos::server(prefix = "/api", endpoint = "admin/invites/list", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn list_invites() -> Result<Vec<OpenInvite>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.list_invites(&caller).await
}

/// Revokes an open invite by its id (from [`list_invites`]).
#[leptos::server(prefix = "/api", endpoint = "admin/invites/revoke", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn revoke_invite(id: String) -> Result<(), ApiError> {
    let caller = super::caller()?;
    let id = super::parse_id(&id)?;
    super::backend()?.revoke_invite(&caller, id).await
}

/// Lists every account, or (with `prefix`) those whose username starts with
/// it, ignoring case: how an admin finds one account among thousands.
#[leptos::server(prefix = "/api", endpoint = "admin/users", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn list_users(prefix: Option<String>) -> Result<Vec<UserSummary>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.list_users(&caller, prefix).await
}

/// Records an admin's certificate for a doctor.
#[leptos::server(prefix = "/api", endpoint = "admin/verify-doctor", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn verify_doctor(
    certificate: Signed<DoctorCertificate>,
) -> Result<UserSummary, ApiError> {
    let caller = super::caller()?;
    super::backend()?.verify_doctor(&caller, certificate).await
}

/// Stores the calling admin's certificate from the installation's org key
/// (made offline with `medvault-server org-key certify-admin`).
#[leptos::server(prefix = "/api", endpoint = "admin/org-certificate", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn store_org_certificate(certificate: Signed<AdminCertificate>) -> Result<(), ApiError> {
    let caller = super::caller()?;
    super::backend()?
        .store_org_certificate(&caller, certificate)
        .await
}

/// The calling admin's stored org certificate (`null` before the operator
/// certified them).
#[leptos::server(prefix = "/api", endpoint = "admin/org-certificate/mine", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn my_org_certificate() -> Result<Option<Signed<AdminCertificate>>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.my_org_certificate(&caller).await
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

/// Changes a doctor's, admin's or auditor's role to another of those three.
#[leptos::server(prefix = "/api", endpoint = "admin/set-role", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn set_role(user_id: String, role: Role) -> Result<UserSummary, ApiError> {
    let caller = super::caller()?;
    let user_id = super::parse_id(&user_id)?;
    super::backend()?.set_role(&caller, user_id, role).await
}

/// Deletes an account: its record (a patient's), its shares and requests,
/// its sessions. The admin types the username to confirm.
#[leptos::server(prefix = "/api", endpoint = "admin/delete-user", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn delete_user(
    user_id: String,
    username: String,
) -> Result<super::account::AccountDeleted, ApiError> {
    let caller = super::caller()?;
    let user_id = super::parse_id(&user_id)?;
    super::backend()?
        .delete_user(&caller, user_id, username)
        .await
}
