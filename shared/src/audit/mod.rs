//! Audit events: what the log records, its canonical bytes, and the check an
//! auditor runs over the whole log.
//!
//! An event says who (a user id), from which session, what kind, whose data
//! and which item, and when; never a name, a key or content, so the log can be
//! shown to auditors and admins who may read no record. Its canonical encoding
//! is `bind("medvault/v1/audit/event", [...])` (PROTOCOL.md section 12), chained
//! by [`crate::crypto::audit_chain::link`]. [`ChainVerifier`] is the same code
//! on the server's tests and in the auditor's browser.
//!
//! `event.rs` holds the event and its encoding, `verify.rs` the auditor's
//! check, `memory.rs` what the auditor's browser remembers between checks;
//! all are re-exported here, so `shared::audit::X` is the path to use.

mod event;
mod memory;
mod verify;

pub use event::*;
pub use memory::*;
pub use verify::*;

#[cfg(test)]
mod tests;
