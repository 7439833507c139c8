//! Where the auditor's browser keeps what it verified of the audit log (the
//! pinned key, the newest event and its hash): localStorage, one entry per
//! auditor. None of it is secret (the server knows all of it); what matters is
//! that the server cannot change it.

use super::browser::local_storage;

const PREFIX: &str = "medvault.audit-memory.";

/// The stored text for the auditor `user_id` (base64url), if any.
pub fn load(user_id: &str) -> Option<String> {
    local_storage()?
        .get_item(&format!("{PREFIX}{user_id}"))
        .ok()
        .flatten()
}

/// Replaces the stored text for `user_id`; false if the browser refused
/// (storage turned off or full).
pub fn save(user_id: &str, text: &str) -> bool {
    local_storage().is_some_and(|s| s.set_item(&format!("{PREFIX}{user_id}"), text).is_ok())
}
