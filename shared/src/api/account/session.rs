//! The signed-in user's session: what it is, the list of sessions, and signing
//! out here or everywhere.

use serde::{Deserialize, Serialize};

use crate::{
    api::ApiError,
    crypto::b64,
    model::{Id, Role},
};

/// What the signed-in user is, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The account's id.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// The account's (normalised) username.
    pub username: String,
    /// The account's role as the server records it (from sign-up, or an
    /// admin's change: PROTOCOL 15.8, 15.13).
    pub role: Role,
    /// Whether a TOTP second factor is on.
    pub totp_enabled: bool,
    /// When this session ends at the latest, Unix seconds.
    pub expires_at: i64,
    /// Seconds without a request after which the session ends.
    pub idle_timeout_secs: u64,
    /// The installation requires a second factor for this role and the
    /// account has none: until it is turned on, the server answers every
    /// other call with `forbidden`, and the app leads to the set-up.
    /// Absent (false) from servers before the policy existed.
    #[serde(default)]
    pub second_factor_required: bool,
    /// The installation requires a second factor for this role
    /// (`--require-second-factor`), so once on it cannot be turned off.
    /// Absent (false) from servers before the policy existed.
    #[serde(default)]
    pub second_factor_policy: bool,
}

/// One of the account's active sessions, for "where am I signed in".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// A public handle for the session (not its token), for [`revoke_session`].
    pub id: String,
    /// When it began, Unix seconds.
    pub created_at: i64,
    /// When it was last used, Unix seconds (to the minute).
    pub last_seen: i64,
    /// A short description of the browser, from its User-Agent.
    pub client: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// What a password change or recovery did to the account's other sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsEnded {
    /// How many other sessions were ended.
    pub ended_sessions: u32,
}

/// The current session, or `None`. A GET: it changes nothing but the idle clock.
#[leptos::server(prefix = "/api", endpoint = "account/session", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn current_session() -> Result<Option<SessionInfo>, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.current_session(&caller).await
}

/// Signs out here.
#[leptos::server(prefix = "/api", endpoint = "account/logout", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn logout() -> Result<(), ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.logout(&caller).await
}

/// Signs out on every device.
#[leptos::server(prefix = "/api", endpoint = "account/logout-everywhere", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn logout_everywhere() -> Result<SessionsEnded, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.logout_everywhere(&caller).await
}

/// The account's active sessions.
#[leptos::server(prefix = "/api", endpoint = "account/sessions", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn sessions() -> Result<Vec<SessionSummary>, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.sessions(&caller).await
}

/// Ends one session of the account.
#[leptos::server(prefix = "/api", endpoint = "account/sessions/revoke", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn revoke_session(id: String) -> Result<(), ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.revoke_session(&caller, id).await
}

/// The server side of the session list and signing out. `caller` carries the session cookie, the client
/// address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SessionBackend {
    /// The caller's session, or `None` when signed out.
    async fn current_session(
        &self,
        caller: &crate::api::Caller,
    ) -> Result<Option<SessionInfo>, ApiError>;
    /// Ends the caller's session.
    async fn logout(&self, caller: &crate::api::Caller) -> Result<(), ApiError>;
    /// Ends every session of the caller's account, this one included.
    async fn logout_everywhere(
        &self,
        caller: &crate::api::Caller,
    ) -> Result<SessionsEnded, ApiError>;
    /// The account's active sessions.
    async fn sessions(&self, caller: &crate::api::Caller) -> Result<Vec<SessionSummary>, ApiError>;
    /// Ends one of the account's sessions by its public id.
    async fn revoke_session(&self, caller: &crate::api::Caller, id: String)
        -> Result<(), ApiError>;
}
