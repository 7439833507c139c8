//! The installation's anchor in the browser: directory entries checked against
//! the org key fingerprint this app was built with, and the sentences people
//! read when a doctor's certificate does not chain to it.

use shared::{
    api::directory::DirectoryEntry,
    client::{verify_directory_entry, DirectoryError, VerifiedEntry},
};

use crate::{
    api::{explain_crypto, Flow},
    platform::org,
};

/// Where a refused entry was being used, for the sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Looking someone up (the directory, the admin's verify step).
    LookUp,
    /// Sharing with a doctor or approving their request.
    Share,
}

/// A doctor whose certificate is not the installation's, while sharing.
pub const NOT_THIS_INSTALLATION_SHARE: &str = "This doctor's certificate was not made by your installation. Nothing was shared. The server may be showing keys that are not the doctor's: do not share with this account, and tell your administrator.";
/// The same, on a look-up.
pub const NOT_THIS_INSTALLATION_LOOKUP: &str = "This doctor's certificate was not made by your installation, so the server may be showing keys that are not the doctor's. Do not share with this account, and tell your administrator.";
/// What an unverified doctor's card says when the app can verify doctors.
pub const NOT_VERIFIED_YET: &str = "No administrator has checked this doctor's licence yet.";
/// What it says when the app was built without the installation's fingerprint.
pub const NOT_SET_UP: &str =
    "Doctor verification is not set up for this installation, so no doctor is shown as verified.";

/// Checks `served` for `name` with the built-in fingerprint.
pub fn check(name: &str, served: &DirectoryEntry) -> Result<VerifiedEntry, DirectoryError> {
    verify_directory_entry(name, served, org::fingerprint().as_ref())
}

/// The sentence for a refused entry.
pub fn explain(error: DirectoryError, usage: Use) -> String {
    match (error, usage) {
        (DirectoryError::NotThisInstallation, Use::Share) => NOT_THIS_INSTALLATION_SHARE.to_owned(),
        (DirectoryError::NotThisInstallation, Use::LookUp) => {
            NOT_THIS_INSTALLATION_LOOKUP.to_owned()
        }
        (DirectoryError::Crypto(e), _) => explain_crypto(e, Flow::Directory),
    }
}

/// Why a doctor shows as not verified: nobody certified them, or this app
/// cannot verify anyone.
pub fn unverified_doctor_text() -> &'static str {
    if org::fingerprint().is_some() {
        NOT_VERIFIED_YET
    } else {
        NOT_SET_UP
    }
}
