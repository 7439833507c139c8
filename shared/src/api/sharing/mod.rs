//! Sharing: a patient's grants of a folder (or the whole record) to a doctor,
//! and a doctor's requests for access.
//!
//! The patient's browser makes and signs each [`Grant`] and wraps the shared
//! folder's node key to the doctor with HPKE; the server stores both, checks
//! who may see what, and stops serving a scope the moment its grant is revoked
//! or expires (by the server's clock). A request is a request only: nothing is
//! wrapped until the patient approves it, which is a grant made with the
//! request's id.
//!
//! A doctor reaches the shared nodes through `sharing/shared` and then uses the
//! ordinary record calls (`records/versions`, the chunk `GET`), which the server
//! answers for a doctor whose active grant covers the node. Anything outside an
//! active grant is `not_found`, exactly as for an id that does not exist.

mod pending;
mod renew;
mod rotation;

pub use pending::*;
pub use renew::*;
pub use rotation::*;

use serde::{Deserialize, Serialize};

use super::{
    records::{NodeView, Usage},
    ApiError,
};
use crate::{
    crypto::{b64, sign::Signed},
    model::{Grant, Id},
    records::{HeadLeaf, RecordHead},
};

/// Longest reason a doctor may give for a request, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Most grants one patient may hold, active or ended (ended ones stay listed).
pub const MAX_GRANTS: usize = 1000;
/// How far a grant's `created_at` may be from the server's clock, in seconds
/// (browsers' clocks drift; a grant from last week is a replay).
pub const GRANT_CLOCK_SKEW_SECS: i64 = 24 * 60 * 60;

/// Shortest waiting period of an emergency contact, in seconds (the range
/// is 1 hour to 30 days).
pub const MIN_EMERGENCY_WAIT_SECS: i64 = 60 * 60;
/// Longest waiting period of an emergency contact, in seconds.
pub const MAX_EMERGENCY_WAIT_SECS: i64 = 30 * 24 * 60 * 60;

/// Where a grant stands, by the server's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    /// The doctor can read (and, with read and write, write) the scope.
    Active,
    /// Its end date has passed: the server no longer serves the scope.
    Expired,
    /// The patient removed it.
    Revoked,
    /// An emergency contact's grant nobody has asked to open: the server
    /// keeps its wrapped key and serves nothing.
    Standby,
    /// The emergency contact asked; it opens when the waiting period ends,
    /// unless the patient refuses first.
    Waiting,
    /// The doctor (or emergency contact) declined it: the server deleted its
    /// wrapped key and serves nothing.
    Declined,
}

impl GrantStatus {
    /// Whether the grant still holds a wrapped key that may one day be
    /// served (so a key rotation must re-wrap it): not ended.
    pub fn is_live(self) -> bool {
        !matches!(
            self,
            GrantStatus::Expired | GrantStatus::Revoked | GrantStatus::Declined
        )
    }
}

/// The emergency part of a grant (PROTOCOL.md section 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emergency {
    /// How long after a request the grant opens, in seconds.
    pub wait_secs: i64,
    /// When the contact asked, Unix seconds (server clock); `None` on standby.
    pub requested_at: Option<i64>,
    /// The contact's reason for the request under way.
    pub reason: Option<String>,
    /// When the patient last refused a request.
    pub refused_at: Option<i64>,
}

impl Emergency {
    /// When the request under way opens the grant.
    pub fn opens_at(&self) -> Option<i64> {
        self.requested_at.map(|t| t.saturating_add(self.wait_secs))
    }
}

/// Checks an emergency waiting period.
pub fn validate_wait(wait_secs: i64) -> Result<i64, String> {
    if (MIN_EMERGENCY_WAIT_SECS..=MAX_EMERGENCY_WAIT_SECS).contains(&wait_secs) {
        Ok(wait_secs)
    } else {
        Err("The waiting period must be between 1 hour and 30 days.".to_owned())
    }
}

/// A grant as either side sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantView {
    /// The grant, signed by the patient; the app verifies it with the
    /// patient's directory entry before using anything it names.
    pub grant: Signed<Grant>,
    /// The scope's node key wrapped to the doctor (HPKE, [`crate::crypto::hpke::WRAPPED_LEN`]
    /// bytes); empty once the grant is revoked (the server forgets it).
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// The patient's username.
    pub patient_name: String,
    /// The doctor's username.
    pub doctor_name: String,
    /// Where it stands now.
    pub status: GrantStatus,
    /// When the patient removed it, Unix seconds.
    pub revoked_at: Option<i64>,
    /// For an emergency contact: the waiting period and the request under way.
    /// Their wrapped key is served only while the grant is active.
    #[serde(default)]
    pub emergency: Option<Emergency>,
}

/// `sharing/grant/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGrantRequest {
    /// The grant, signed by the caller (the patient).
    pub grant: Signed<Grant>,
    /// The scope's node key wrapped to the doctor's encryption key.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// The doctor's request this grant approves, if any.
    #[serde(with = "b64::option_array")]
    pub request_id: Option<Id>,
    /// Names an emergency contact instead: the waiting period in seconds
    /// ([`MIN_EMERGENCY_WAIT_SECS`] to [`MAX_EMERGENCY_WAIT_SECS`]). The grant
    /// must be of the whole record, to read, and the contact may be any
    /// patient or doctor.
    #[serde(default)]
    pub emergency_wait_secs: Option<i64>,
}

/// `sharing/emergency/request`: the contact asks to open an emergency grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyAsk {
    /// The emergency grant.
    #[serde(with = "b64::array")]
    pub grant_id: Id,
    /// Why, in the contact's words (as for a request: 1 to
    /// [`MAX_REASON_CHARS`] characters).
    pub reason: String,
}

/// A grant by id (`sharing/grant/revoke`, `sharing/grant/decline`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRef {
    /// The grant.
    #[serde(with = "b64::array")]
    pub grant_id: Id,
}

/// What a doctor can open of one grant: the grant and the nodes it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedScope {
    /// The grant (active).
    pub grant: GrantView,
    /// The shared folder and every node under it, trashed ones included
    /// (`trashed_at` set: the record's head covers them; a browser shows
    /// them as gone); files whose first upload is unfinished are left out.
    pub nodes: Vec<NodeView>,
    /// The patient's quota (what a doctor with write access may add).
    pub usage: Usage,
    /// The patient's newest signed head (`None`: a record made before signed
    /// records that its owner has not signed yet).
    #[serde(default)]
    pub head: Option<Signed<RecordHead>>,
    /// The leaves of every node of the record as of `head` (ids, parents and
    /// leaf hashes only), so the doctor can check the leaves in its folder.
    #[serde(default)]
    pub head_leaves: Vec<HeadLeaf>,
    /// The patient's profile sealed under the shared folder's key (17.10),
    /// if they have one and have sealed it for this folder.
    #[serde(default)]
    pub profile: Option<crate::api::records::ProfileCopy>,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for the patient.
    Pending,
    /// The patient approved it with a grant.
    Approved,
    /// The patient said no.
    Denied,
}

/// A doctor's request for access, as either side sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequestView {
    /// The request.
    #[serde(with = "b64::array")]
    pub request_id: Id,
    /// The patient asked.
    #[serde(with = "b64::array")]
    pub patient_id: Id,
    /// Their username.
    pub patient_name: String,
    /// The doctor asking.
    #[serde(with = "b64::array")]
    pub doctor_id: Id,
    /// Their username.
    pub doctor_name: String,
    /// Why, in the doctor's words (plain text, at most [`MAX_REASON_CHARS`]).
    pub reason: String,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// Pending, approved or denied.
    pub status: RequestStatus,
    /// When the patient decided.
    pub decided_at: Option<i64>,
    /// The grant that approved it.
    #[serde(with = "b64::option_array")]
    pub grant_id: Option<Id>,
}

/// `sharing/request/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccessRequest {
    /// The patient's username.
    pub patient_username: String,
    /// Why the doctor asks (1 to [`MAX_REASON_CHARS`] characters).
    pub reason: String,
}

/// A request by id (`sharing/request/deny`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRef {
    /// The request.
    #[serde(with = "b64::array")]
    pub request_id: Id,
}

/// Checks a request's reason: trimmed, 1 to [`MAX_REASON_CHARS`] characters,
/// no control characters. Shared so the app says the same as the server.
pub fn validate_reason(reason: &str) -> Result<&str, String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("Say in a few words why you need access.".to_owned());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "The reason is too long: at most {MAX_REASON_CHARS} characters."
        ));
    }
    if reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err("The reason contains characters that cannot be shown.".to_owned());
    }
    Ok(reason)
}

/// The server side of the sharing calls.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SharingBackend {
    /// Stores a grant the caller (a patient) signed; approves a request if named.
    async fn create_grant(
        &self,
        caller: &super::Caller,
        request: CreateGrantRequest,
    ) -> Result<GrantView, ApiError>;
    /// Replaces a grant signed before `key_hash` existed with the same grant
    /// signed again over a freshly wrapped key (its patient).
    async fn renew_grant(
        &self,
        caller: &super::Caller,
        request: RenewGrantRequest,
    ) -> Result<GrantView, ApiError>;
    /// Replaces a live grant with the same one given a new end date or
    /// permission, signed again by its patient.
    async fn change_grant(
        &self,
        caller: &super::Caller,
        request: ChangeGrantRequest,
    ) -> Result<GrantView, ApiError>;
    /// Ends a grant at once (the patient who made it).
    async fn revoke_grant(
        &self,
        caller: &super::Caller,
        request: GrantRef,
    ) -> Result<GrantView, ApiError>;
    /// Ends a grant made to the caller (its doctor or emergency contact), who
    /// no longer wants it.
    async fn decline_grant(
        &self,
        caller: &super::Caller,
        request: GrantRef,
    ) -> Result<GrantView, ApiError>;
    /// The caller's grants: given (a patient) or received (a doctor), newest first.
    async fn list_grants(&self, caller: &super::Caller) -> Result<Vec<GrantView>, ApiError>;
    /// What an active grant lets the calling doctor open.
    async fn shared_record(
        &self,
        caller: &super::Caller,
        grant_id: Id,
    ) -> Result<SharedScope, ApiError>;
    /// The patient's record heads after counter `after`, oldest first (at
    /// most [`super::records::MAX_HEADS_LISTED`]), for a doctor with an
    /// active grant.
    async fn shared_heads(
        &self,
        caller: &super::Caller,
        grant_id: Id,
        after: u64,
    ) -> Result<Vec<Signed<RecordHead>>, ApiError>;
    /// A doctor asks a patient for access.
    async fn request_access(
        &self,
        caller: &super::Caller,
        request: NewAccessRequest,
    ) -> Result<AccessRequestView, ApiError>;
    /// The patient says no to a pending request.
    async fn deny_request(
        &self,
        caller: &super::Caller,
        request: RequestRef,
    ) -> Result<AccessRequestView, ApiError>;
    /// The caller's requests: received (a patient) or made (a doctor), newest first.
    async fn list_requests(
        &self,
        caller: &super::Caller,
    ) -> Result<Vec<AccessRequestView>, ApiError>;
    /// An emergency contact asks to open their grant; the waiting period starts.
    async fn ask_emergency(
        &self,
        caller: &super::Caller,
        ask: EmergencyAsk,
    ) -> Result<GrantView, ApiError>;
    /// The patient refuses an emergency request before it opens.
    async fn refuse_emergency(
        &self,
        caller: &super::Caller,
        request: GrantRef,
    ) -> Result<GrantView, ApiError>;
    /// Begins replacing the keys of a folder's subtree (after a revocation).
    async fn start_rotation(
        &self,
        caller: &super::Caller,
        request: StartRotation,
    ) -> Result<RotationTicket, ApiError>;
    /// Stores one part of the new keys.
    async fn rotation_part(
        &self,
        caller: &super::Caller,
        part: RotationPart,
    ) -> Result<(), ApiError>;
    /// Checks that the parts cover the subtree exactly and applies them in one
    /// atomic write.
    async fn commit_rotation(
        &self,
        caller: &super::Caller,
        request: CommitRotation,
    ) -> Result<(), ApiError>;
    /// The key replacements still owed in the caller's record (a patient).
    async fn pending_rotations(&self, caller: &super::Caller) -> Result<OwedRotations, ApiError>;
}

/// Shares a folder (or the whole record) with a doctor.
#[leptos::server(prefix = "/api", endpoint = "sharing/grant/create", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn create_grant(request: CreateGrantRequest) -> Result<GrantView, ApiError> {
    let caller = super::caller()?;
    super::backend()?.create_grant(&caller, request).await
}

/// Removes a doctor's access.
#[leptos::server(prefix = "/api", endpoint = "sharing/grant/revoke", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn revoke_grant(request: GrantRef) -> Result<GrantView, ApiError> {
    let caller = super::caller()?;
    super::backend()?.revoke_grant(&caller, request).await
}

/// The doctor of a grant declines it.
#[leptos::server(prefix = "/api", endpoint = "sharing/grant/decline", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn decline_grant(request: GrantRef) -> Result<GrantView, ApiError> {
    let caller = super::caller()?;
    super::backend()?.decline_grant(&caller, request).await
}

/// The caller's grants.
#[leptos::server(prefix = "/api", endpoint = "sharing/grants", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn list_grants() -> Result<Vec<GrantView>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.list_grants(&caller).await
}

/// The nodes one active grant covers (`?grant_id=<base64url>`; doctors).
#[leptos::server(prefix = "/api", endpoint = "sharing/shared", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn shared_record(grant_id: String) -> Result<SharedScope, ApiError> {
    let caller = super::caller()?;
    let grant_id = super::parse_id(&grant_id)?;
    super::backend()?.shared_record(&caller, grant_id).await
}

/// The patient's record heads after counter `after`, for a doctor with an
/// active grant (`?grant_id=<base64url>&after=N`).
#[leptos::server(prefix = "/api", endpoint = "sharing/heads", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn shared_heads(
    grant_id: String,
    after: u64,
) -> Result<Vec<Signed<RecordHead>>, ApiError> {
    let caller = super::caller()?;
    let grant_id = super::parse_id(&grant_id)?;
    super::backend()?
        .shared_heads(&caller, grant_id, after)
        .await
}

/// A doctor asks a patient for access.
#[leptos::server(prefix = "/api", endpoint = "sharing/request/create", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn request_access(request: NewAccessRequest) -> Result<AccessRequestView, ApiError> {
    let caller = super::caller()?;
    super::backend()?.request_access(&caller, request).await
}

/// The patient says no to a request.
#[leptos::server(prefix = "/api", endpoint = "sharing/request/deny", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn deny_request(request: RequestRef) -> Result<AccessRequestView, ApiError> {
    let caller = super::caller()?;
    super::backend()?.deny_request(&caller, request).await
}

/// The caller's access requests.
#[leptos::server(prefix = "/api", endpoint = "sharing/requests", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn list_requests() -> Result<Vec<AccessRequestView>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.list_requests(&caller).await
}

/// An emergency contact asks to open the patient's record.
#[leptos::server(prefix = "/api", endpoint = "sharing/emergency/request", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn ask_emergency(request: EmergencyAsk) -> Result<GrantView, ApiError> {
    let caller = super::caller()?;
    super::backend()?.ask_emergency(&caller, request).await
}

/// The patient refuses an emergency request.
#[leptos::server(prefix = "/api", endpoint = "sharing/emergency/refuse", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn refuse_emergency(request: GrantRef) -> Result<GrantView, ApiError> {
    let caller = super::caller()?;
    super::backend()?.refuse_emergency(&caller, request).await
}

/// Begins replacing the keys under a folder.
#[leptos::server(prefix = "/api", endpoint = "sharing/rotation/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn begin_rotation(request: StartRotation) -> Result<RotationTicket, ApiError> {
    let caller = super::caller()?;
    super::backend()?.start_rotation(&caller, request).await
}

/// Sends one part of the new keys.
#[leptos::server(prefix = "/api", endpoint = "sharing/rotation/part", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn send_rotation_part(request: RotationPart) -> Result<(), ApiError> {
    let caller = super::caller()?;
    super::backend()?.rotation_part(&caller, request).await
}

/// Applies the new keys at once.
#[leptos::server(prefix = "/api", endpoint = "sharing/rotation/commit", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn finish_rotation(request: CommitRotation) -> Result<(), ApiError> {
    let caller = super::caller()?;
    super::backend()?.commit_rotation(&caller, request).await
}

/// The key replacements still owed, and what could block them.
#[leptos::server(prefix = "/api", endpoint = "sharing/rotation/pending", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn pending_rotations() -> Result<OwedRotations, ApiError> {
    let caller = super::caller()?;
    super::backend()?.pending_rotations(&caller).await
}

#[cfg(test)]
mod tests;
