//! The medvault server: an axum HTTP API over a sled store that holds only
//! ciphertext, wrapped keys, signatures and grants, and serves the built app.

pub mod app;
pub mod authz;
pub mod backend;
pub mod error;
pub mod extract;
pub mod key_check;
pub mod memory;
pub mod migrate;
pub mod overload;
pub mod proxy;
pub mod serve;
pub mod state;
pub mod store;
pub mod web;
