//! One error type for the server. What the client sees is an [`ApiError`]
//! (`{"code", "message"}` with the matching status); what the log sees is the
//! detail behind it.

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use shared::api::{ApiError, ErrorCode};

use crate::{backend::error::fault, store::StoreError};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A failure the client caused or may know about, already worded for them.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The store failed; a conflict is the client's to know, the rest is ours.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Anything else that went wrong on our side; the text is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// What the client is told. Server faults are logged here, once, with their
    /// detail, and answered with a generic message.
    pub fn to_api(&self) -> ApiError {
        match self {
            AppError::Api(e) => e.clone(),
            AppError::Store(StoreError::Conflict) => ApiError::from_code(ErrorCode::Conflict),
            AppError::Store(_) | AppError::Internal(_) => fault(self),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        e.to_api()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        api_error_response(&self.to_api())
    }
}

/// The JSON response for an API error, with the status its code maps to.
pub fn api_error_response(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(e).unwrap_or_else(|_| {
        br#"{"code":"internal","message":"The server ran into a problem."}"#.to_vec()
    });
    let mut res = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Some(secs) = e.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}

/// Fallback for any `/api` path that names no call.
pub async fn api_not_found() -> Response {
    api_error_response(&ApiError::new(
        ErrorCode::NotFound,
        "There is no API call at this address.",
    ))
}

/// Makes every `/api` error a JSON `ApiError` with the right status, whichever
/// layer produced it: server functions answer every error with 500 and the
/// encoded `ApiError` (its code carries the real status), and the router's 405 or
/// a body limit's 413 come with no JSON body at all.
pub async fn normalize_api_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Error bodies are small; anything larger is not one of ours anyway.
    let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let api = is_json
        .then(|| serde_json::from_slice::<ApiError>(&bytes).ok())
        .flatten()
        .unwrap_or_else(|| ApiError::from_code(ErrorCode::from_http_status(status.as_u16())));
    let fixed = api_error_response(&api);
    let (fixed_parts, fixed_body) = fixed.into_parts();
    parts.status = fixed_parts.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    // Leptos marks server function errors with this header; the JSON body says it all.
    parts
        .headers
        .remove(server_fn::error::SERVER_FN_ERROR_HEADER);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::RETRY_AFTER);
    if let Some(v) = fixed_parts.headers.get(header::RETRY_AFTER) {
        parts.headers.insert(header::RETRY_AFTER, v.clone());
    }
    Response::from_parts(parts, Body::new(fixed_body))
}

/// Refuses a request body over `limit` bytes with 413, before the handler runs.
/// Checks the declared length first, then reads at most `limit + 1` bytes, so a
/// body without a length (chunked) cannot slip past.
///
/// Not tower-http's `RequestBodyLimitLayer`: that layer only cuts the body off
/// while the handler reads it, and a server function reads a cut-off body as
/// malformed JSON (400 `bad_request`), so a streamed body over the limit would
/// not get its 413. Reading the body here, before the handler, keeps the 413
/// (and this message) with or without a length.
pub async fn limit_body(limit: usize, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let (parts, body) = req.into_parts();
    match to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(limit),
    }
}

fn too_large(limit: usize) -> Response {
    api_error_response(&ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("The request body is larger than the {limit} bytes this server accepts."),
    ))
}
