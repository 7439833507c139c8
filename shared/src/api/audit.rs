//! The audit log's calls: the server's audit key (public), the whole log and
//! its signed heads for the auditor, a patient's own history, and the admin's
//! system events. The events carry ids only; the app turns them into names.

use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::{
    audit::{AuditEvent, LogEntry},
    crypto::{
        audit_chain::ChainHead,
        sign::{Signed, VerifyingKey},
    },
};

/// Most entries one page returns.
pub const MAX_PAGE: u32 = 1000;

/// The key that signs chain heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPublicKey {
    /// The server's Ed25519 audit key.
    pub key: VerifyingKey,
}

/// A page of the raw log, for verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// Consecutive entries from the page's `from`.
    pub entries: Vec<LogEntry>,
    /// The newest sequence number when the page was read.
    pub head_seq: u64,
}

/// A page of signed heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadsPage {
    /// Heads in increasing `seq`.
    pub heads: Vec<Signed<ChainHead>>,
}

/// A page of decoded events (a patient's history, the admin's system events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    /// Events in increasing `seq`.
    pub events: Vec<AuditEvent>,
    /// Pass as `after` to get the next page; `None` at the end.
    pub next: Option<u64>,
}

/// The server side of the audit calls.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AuditBackend {
    /// The audit key; public.
    async fn audit_key(&self) -> Result<AuditPublicKey, ApiError>;
    /// Entries `from ..= from + limit - 1` (auditor only).
    async fn audit_log(
        &self,
        caller: &super::Caller,
        from: u64,
        limit: u32,
    ) -> Result<LogPage, ApiError>;
    /// Signed heads with `seq > after` (auditor only).
    async fn audit_heads(
        &self,
        caller: &super::Caller,
        after: u64,
        limit: u32,
    ) -> Result<HeadsPage, ApiError>;
    /// Events whose subject is the caller, with `seq > after`.
    async fn my_history(
        &self,
        caller: &super::Caller,
        after: u64,
        limit: u32,
    ) -> Result<EventsPage, ApiError>;
    /// System events with `seq > after` (admin only).
    async fn system_events(
        &self,
        caller: &super::Caller,
        after: u64,
        limit: u32,
    ) -> Result<EventsPage, ApiError>;
}

/// The server's audit public key, to check signed heads with.
#[leptos::server(prefix = "/api", endpoint = "audit/key", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn audit_key() -> Result<AuditPublicKey, ApiError> {
    super::backend()?.audit_key().await
}

/// A page of the raw log (auditor only).
#[leptos::server(prefix = "/api", endpoint = "audit/log", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn audit_log(from: u64, limit: u32) -> Result<LogPage, ApiError> {
    let caller = super::caller()?;
    super::backend()?.audit_log(&caller, from, limit).await
}

/// A page of signed chain heads (auditor only).
#[leptos::server(prefix = "/api", endpoint = "audit/heads", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn audit_heads(after: u64, limit: u32) -> Result<HeadsPage, ApiError> {
    let caller = super::caller()?;
    super::backend()?.audit_heads(&caller, after, limit).await
}

/// The caller's own access history.
#[leptos::server(prefix = "/api", endpoint = "audit/mine", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn my_history(after: u64, limit: u32) -> Result<EventsPage, ApiError> {
    let caller = super::caller()?;
    super::backend()?.my_history(&caller, after, limit).await
}

/// System events: sign-ins, failures, admin actions (admin only).
#[leptos::server(prefix = "/api", endpoint = "audit/system", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn system_events(after: u64, limit: u32) -> Result<EventsPage, ApiError> {
    let caller = super::caller()?;
    super::backend()?.system_events(&caller, after, limit).await
}
