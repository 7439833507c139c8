//! Who wrote a file version, checked in this browser before its content is
//! used: the record's owner, or a doctor whose read-and-write grant, signed by
//! the owner, covered the file's folder when the version was made (DESIGN:
//! manifests). A doctor's keys come from the directory and are checked here
//! like any other entry; the server's word on who wrote what counts for
//! nothing.

use shared::{
    api::records::VersionView,
    client::verify_directory_entry,
    crypto::{
        sign::{KeyEntry, VerifyingKey},
        Id,
    },
    sharing::check_version,
};

use crate::{api::directory::lookup_user, session::Session};

/// What the reader is told when a version's author cannot be trusted.
pub const UNTRUSTED: &str = "This version is not signed by the patient or by a doctor the patient allowed to write here, so it was not opened. Contact your administrator.";

/// The author whose signature the version's manifest must carry, after every
/// check of [`check_version`]: `(author id, identity key)`. `covers` is
/// [`shared::records::OpenTree::covers`] of the tree the reader sees.
pub async fn trusted_author(
    session: Session,
    version: &VersionView,
    owner: &KeyEntry,
    covers: impl Fn(&Id, &Id) -> bool,
) -> Result<(Id, VerifyingKey), String> {
    if version.author_id == owner.user_id {
        // The owner may always write; the download checks the manifest against
        // this key and reports a bad one as a changed file.
        return Ok((owner.user_id, owner.identity_key));
    }
    let served = lookup_user(version.author_name.clone())
        .await
        .map_err(|e| session.explain(&e))?;
    let author =
        verify_directory_entry(&version.author_name, &served).map_err(|_| UNTRUSTED.to_owned())?;
    check_version(version, owner, Some(&author.entry), covers).map_err(|_| UNTRUSTED.to_owned())?;
    Ok((author.entry.user_id, author.entry.identity_key))
}
