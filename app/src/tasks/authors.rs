//! Who wrote a file version, checked in this browser before its content is
//! used: the record's owner, or a doctor whose read-and-write grant, signed by
//! the owner, covered the file's folder when the version was made
//! (`shared::sharing::check_version`). A doctor's keys come from the directory and are checked here
//! like any other entry; the server's word on who wrote what counts for
//! nothing.

use std::collections::HashMap;

use shared::{
    api::records::VersionView,
    client::verify_directory_entry,
    crypto::sign::VerifyingKey,
    model::{Id, KeyEntry},
    sharing::check_version,
};

use crate::{api::directory::lookup_user, platform::org, session::Session};

/// What the reader is told when a version's author cannot be trusted.
pub const UNTRUSTED: &str = "This version is not signed by the patient or by a doctor the patient allowed to write here, so it was not opened. Contact your administrator.";

/// Authors' directory entries, looked up and checked once each, so that a
/// page or an export asks the directory once per author. Only the entry is
/// remembered: every version is still checked on its own, against its own
/// write grant.
#[derive(Default)]
pub struct Authors(HashMap<Id, KeyEntry>);

impl Authors {
    /// The author whose signature the version's manifest must carry, after
    /// every check of [`check_version`]: `(author id, identity key)`. `covers`
    /// is [`shared::records::OpenTree::covers`] of the tree the reader sees.
    pub async fn trusted(
        &mut self,
        session: Session,
        version: &VersionView,
        owner: &KeyEntry,
        covers: impl Fn(&Id, &Id) -> bool,
    ) -> Result<(Id, VerifyingKey), String> {
        if version.author_id == owner.user_id {
            // The owner may always write; the download checks the manifest
            // against this key and reports a bad one as a changed file.
            return Ok((owner.user_id, owner.identity_key));
        }
        if !self.0.contains_key(&version.author_id) {
            let served = lookup_user(version.author_name.clone())
                .await
                .map_err(|e| session.explain(&e))?;
            let author =
                verify_directory_entry(&version.author_name, &served, org::fingerprint().as_ref())
                    .map_err(|_| UNTRUSTED.to_owned())?;
            self.0.insert(author.entry.user_id, author.entry);
        }
        let author = self.0.get(&version.author_id);
        check_version(version, owner, author, covers).map_err(|_| UNTRUSTED.to_owned())?;
        let author = author.ok_or_else(|| UNTRUSTED.to_owned())?;
        Ok((author.user_id, author.identity_key))
    }
}

/// [`Authors::trusted`] for a single version.
pub async fn trusted_author(
    session: Session,
    version: &VersionView,
    owner: &KeyEntry,
    covers: impl Fn(&Id, &Id) -> bool,
) -> Result<(Id, VerifyingKey), String> {
    Authors::default()
        .trusted(session, version, owner, covers)
        .await
}
