//! Key pins (`GET` and `PUT /api/account/pins`): the user's own sealed, signed
//! list of other people's keys (`crate::pins`), one object per user. The
//! server keeps the latest copy and refuses a save that did not start from it,
//! so two tabs or devices never overwrite each other: the one that loses
//! reads again, merges and saves.

use serde::{Deserialize, Serialize};

use crate::{api::ApiError, crypto::sign::Signed, pins::PinEnvelope};

/// A save of the pin object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavePins {
    /// The counter of the copy this save started from (0: none stored yet).
    /// Anything else stored means another save came first: `conflict`.
    pub expected_counter: u64,
    /// The new object; its counter must be `expected_counter + 1`, its user
    /// the caller, its signature the caller's identity key, and its sealed
    /// bytes at most [`crate::pins::MAX_SEALED_PINS`].
    pub envelope: Signed<PinEnvelope>,
}

/// The caller's pin object, or `null` before the first save.
#[leptos::server(prefix = "/api", endpoint = "account/pins", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn get_pins() -> Result<Option<Signed<PinEnvelope>>, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.get_pins(&caller).await
}

/// Replaces the caller's pin object, if no other save came first.
#[leptos::server(prefix = "/api", endpoint = "account/pins", input = server_fn::codec::PutJson, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn put_pins(request: SavePins) -> Result<(), ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.put_pins(&caller, request).await
}

/// The server side of key pins. `caller` carries the session cookie.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PinsBackend {
    /// The caller's stored pin object (needs a session).
    async fn get_pins(
        &self,
        caller: &crate::api::Caller,
    ) -> Result<Option<Signed<PinEnvelope>>, ApiError>;
    /// Stores the caller's new pin object (needs a session): `conflict` if
    /// the stored counter is not `expected_counter`, `bad_request` for an
    /// object that is not the caller's next one, `payload_too_large` over the
    /// size limit. Nothing changes on any refusal.
    async fn put_pins(
        &self,
        caller: &crate::api::Caller,
        request: SavePins,
    ) -> Result<(), ApiError>;
}
