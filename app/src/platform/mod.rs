//! What the app needs from the browser itself, with no view code and no
//! protocol: storage, focus, dates, the clock, the raw HTTP transport with its
//! retries, and blobs. Tasks and pages build on it; it imports neither.

pub mod audit_memory;
pub mod blob;
pub mod browser;
pub mod clock;
pub mod http;
pub mod idle;
pub mod org;
pub mod resume_notes;
pub mod seen_grants;
pub mod seen_heads;
pub mod spool;
pub mod timing;
