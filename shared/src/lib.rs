//! Protocol types and the API surface shared by the browser app and the server.
//!
//! Each API call is declared once here as a Leptos server function, so client and
//! server cannot drift apart. This crate does no I/O of its own: on the server the
//! function bodies hand the call to the [`api::Backend`] trait, which the `server`
//! crate implements.

pub mod account;
pub mod api;
pub mod audit;
pub mod client;
pub mod csv;
pub mod fhir;
pub mod format;
pub mod model;
pub mod pins;
pub mod records;
pub mod sharing;
pub mod sort;
pub mod vitals;

/// The crypto core (the `medvault-crypto` crate), under the path the app, the
/// server and the API have always used. Its signed domain types (roles,
/// grants, key entries, manifests) live in [`model`].
pub use medvault_crypto as crypto;

/// The version of this build, reported by the health endpoint and shown in the app.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
