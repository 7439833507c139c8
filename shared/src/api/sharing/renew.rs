//! `sharing/grant/renew`: a grant made before `key_hash` existed, signed
//! again by its patient over a freshly wrapped key (PROTOCOL.md sections 9
//! and 17).

use serde::{Deserialize, Serialize};

use crate::{
    api::{sharing::GrantView, ApiError},
    crypto::{b64, sign::Signed},
    model::Grant,
};

/// `sharing/grant/renew`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewGrantRequest {
    /// The same grant as stored, every field equal but `key_hash`, signed by
    /// the caller (its patient) under the current encoding.
    pub grant: Signed<Grant>,
    /// The grant's folder key wrapped afresh to its signed `doctor_key`
    /// ([`crate::crypto::hpke::WRAPPED_LEN`] bytes); `key_hash` is its SHA-256.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
}

/// `sharing/grant/change`: a share's new end date or permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeGrantRequest {
    /// The stored grant with a new `expires_at` or `permission` (every other
    /// field equal), signed by the caller, its patient. The wrapped key stays;
    /// after a change that gives less, the patient's browser replaces the
    /// folder's keys (`sharing/rotation/*`).
    pub grant: Signed<Grant>,
}

/// Signs again a grant made before `key_hash` existed.
#[leptos::server(prefix = "/api", endpoint = "sharing/grant/renew", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn renew_grant(request: RenewGrantRequest) -> Result<GrantView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.renew_grant(&caller, request).await
}

/// Gives a share a new end date or permission.
#[leptos::server(prefix = "/api", endpoint = "sharing/grant/change", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn change_grant(request: ChangeGrantRequest) -> Result<GrantView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.change_grant(&caller, request).await
}
