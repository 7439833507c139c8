//! The medvault server: an axum HTTP API over a sled store that holds only
//! ciphertext, wrapped keys, signatures and grants, and serves the built app.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod app;
pub mod authz;
pub mod backend;
pub mod error;
pub mod proxy;
pub mod serve;
pub mod store;
pub mod web;
