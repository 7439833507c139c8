//! The installation's org key fingerprint, fixed when the app was built
//! (`MEDVAULT_ORG_FINGERPRINT`, see `docs/OPERATIONS.md`). It is the one thing
//! about the directory the server cannot choose: a doctor counts as verified
//! only through an admin certified by the key with this fingerprint.

use shared::crypto::fingerprint::OrgFingerprint;

/// The value the build saw, if any.
const BUILT_IN: Option<&str> = option_env!("MEDVAULT_ORG_FINGERPRINT");

/// The fingerprint this app was built with; `None` when it was built without
/// one (then no doctor is ever shown as verified).
pub fn fingerprint() -> Option<OrgFingerprint> {
    BUILT_IN
        .filter(|text| !text.trim().is_empty())
        .and_then(|text| OrgFingerprint::parse(text).ok())
}
