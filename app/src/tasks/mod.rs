//! The app's work, without views: each module runs one protocol or IO flow
//! (open the record, upload, share, rotate keys...) as plain async functions
//! that take progress callbacks and return typed errors. Pages call these and
//! only render and collect input; wasm-bindgen tests drive them in Chromium.

pub mod download;
pub mod nodes;
pub mod progress;
pub mod record;
pub mod sharing;
pub mod transfer;
pub mod upload;
