//! Protocol types and the API surface shared by the browser app and the server.
//!
//! Each API call is declared once here as a Leptos server function, so client and
//! server cannot drift apart. This crate does no I/O of its own: on the server the
//! function bodies hand the call to the [`api::Backend`] trait, which the `server`
//! crate implements.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod account;
pub mod api;
pub mod audit;
pub mod client;
pub mod crypto;
pub mod csv;
pub mod format;
pub mod records;
pub mod sharing;
pub mod vitals;

/// The version of this build, reported by the health endpoint and shown in the app.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
