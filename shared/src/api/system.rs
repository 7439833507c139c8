//! System-level calls: the health check that the app and operators use.

use serde::{Deserialize, Serialize};

use super::ApiError;

/// What `GET /api/health` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// `"ok"` when the server can serve requests.
    pub status: String,
    /// The server's build version.
    pub version: String,
    /// Whether the record store is open and answering.
    pub store_open: bool,
}

/// The server side of the system calls.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SystemBackend {
    /// Reports whether the server and its store are working.
    async fn health(&self) -> Result<HealthReport, ApiError>;
}

/// Reports the server's version and whether its store is open. A GET so that load
/// balancers and `curl` can probe it.
#[leptos::server(prefix = "/api", endpoint = "health", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn health() -> Result<HealthReport, ApiError> {
    super::backend()?.health().await
}
