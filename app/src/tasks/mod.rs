//! The app's work, without views: each module runs one protocol or IO flow
//! (open the record, upload, share, rotate keys...) as plain async functions
//! that take progress callbacks and return typed errors. Pages call these and
//! only render and collect input; wasm-bindgen tests drive them in Chromium.

pub mod account;
pub mod admin;
pub mod anchor;
pub mod audit;
pub mod authors;
pub mod bulk;
pub mod common_passwords;
pub mod directory;
pub mod download;
pub mod emergency;
pub mod export;
pub mod fhir;
pub mod health;
pub mod history;
pub mod nodes;
pub mod profile;
pub mod progress;
pub mod record;
pub mod resume;
pub mod sharing;
pub mod transfer;
pub mod upload;
pub mod vitals;
pub mod writer;
