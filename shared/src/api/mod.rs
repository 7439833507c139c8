//! The HTTP API: one module per area, each holding its server functions and wire
//! types. Every server function lives under [`API_PREFIX`].

pub mod error;
pub mod system;

pub use error::{ApiError, ErrorCode};

/// Path prefix of every API route, server functions and plain routes alike.
pub const API_PREFIX: &str = "/api";

/// What the server implements for the server functions. Each area adds its own
/// trait as a supertrait, so one `Arc<dyn Backend>` in the request context serves
/// every call.
#[cfg(feature = "ssr")]
pub trait Backend: system::SystemBackend + Send + Sync + 'static {}

#[cfg(feature = "ssr")]
impl<T: system::SystemBackend + Send + Sync + 'static> Backend for T {}

/// The backend the server put into the request context, or an internal error if it
/// is missing (a wiring bug in the router, never the client's fault).
#[cfg(feature = "ssr")]
pub fn backend() -> Result<std::sync::Arc<dyn Backend>, ApiError> {
    leptos::prelude::use_context::<std::sync::Arc<dyn Backend>>().ok_or_else(ApiError::internal)
}
