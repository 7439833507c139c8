//! Health, and the browser's reports of Content-Security-Policy violations.

use axum::{
    body::Bytes,
    http::{header, HeaderMap, StatusCode},
};
use serde::Deserialize;
use shared::api::{system::HealthReport, system::SystemBackend, ApiError, ErrorCode};

use super::ServerBackend;
use crate::error::AppError;

#[async_trait::async_trait]
impl SystemBackend for ServerBackend {
    async fn health(&self) -> Result<HealthReport, ApiError> {
        let store_open = self.store.check().await.is_ok();
        Ok(HealthReport {
            status: if store_open { "ok" } else { "degraded" }.to_owned(),
            version: shared::VERSION.to_owned(),
            store_open,
        })
    }
}

/// The part of a CSP report we look at. Other fields (the page and the blocked
/// address) may carry private data, so they are neither parsed nor logged.
#[derive(Debug, Deserialize)]
struct CspReport {
    #[serde(rename = "csp-report")]
    report: CspReportBody,
}

#[derive(Debug, Deserialize)]
struct CspReportBody {
    #[serde(rename = "effective-directive", default)]
    effective_directive: String,
}

/// `POST /api/csp-report`: the browser tells us it blocked something. A violation
/// in our own app is a bug or an attack, so it is logged as a warning.
pub async fn csp_report(headers: HeaderMap, body: Bytes) -> Result<StatusCode, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(content_type.starts_with("application/csp-report")
        || content_type.starts_with("application/json"))
    {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the report as application/csp-report or application/json.",
        )
        .into());
    }
    let report: CspReport = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("The body is not a valid CSP report (JSON)."))?;
    let directive: String = report
        .report
        .effective_directive
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    tracing::warn!(directive = %directive, "content security policy violation reported");
    Ok(StatusCode::NO_CONTENT)
}
