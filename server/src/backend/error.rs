//! How the backend's own failures reach the client: a conflict is the client's
//! to know; any other store, crypto or internal failure is a server fault,
//! logged here once with its detail and answered with a generic `internal`.
//! The edge's `AppError` uses [`fault`] too, so both log alike.

use std::fmt::Display;

use shared::{
    api::{ApiError, ErrorCode},
    crypto::CryptoError,
};

use crate::store::StoreError;

/// A server fault: `detail` goes to the log only, the client gets `internal`.
pub fn fault(detail: impl Display) -> ApiError {
    tracing::error!(error = %detail, "request failed");
    ApiError::from_code(ErrorCode::Internal)
}

/// A store failure as the client sees it: a conflict as such, the rest as a
/// server fault.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict => ApiError::from_code(ErrorCode::Conflict),
        StoreError::Full => {
            tracing::error!("the data directory's filesystem is full: a write was refused");
            ApiError::from_code(ErrorCode::InsufficientStorage)
        }
        e => fault(format_args!("store: {e}")),
    }
}

/// A server fault; `what` goes to the log only.
pub fn internal(what: &str) -> ApiError {
    fault(format_args!("internal: {what}"))
}

/// A crypto failure that is ours (randomness, a KDF), not the client's.
pub fn crypto_internal(_: CryptoError) -> ApiError {
    internal("a cryptographic operation failed unexpectedly")
}
