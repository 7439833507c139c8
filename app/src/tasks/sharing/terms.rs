//! Changing a share: a new end date or permission, signed here and sent
//! (`sharing/grant/change`). After a change that gives less (an earlier end,
//! write access taken back) this browser replaces the folder's keys, as after
//! a removal, keeping the changed share: the doctor gets the new key under
//! the new terms, and a key kept from before opens nothing written after.

use shared::{
    api::sharing::{self, ChangeGrantRequest, GrantView},
    crypto::sign,
    model::{Grant, Permission},
    sharing::{grant_change, GrantChange, GrantTerms},
};

use super::{decide::until_text, permission_text, rotate_after};
use crate::{
    platform::seen_grants::remember_grant,
    session::{now_unix, Session, Unlocked},
    tasks::record::RecordStore,
};

/// The change a person asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareTerms {
    /// Read, or read and write.
    pub permission: Permission,
    /// The end ([`super::end_of_day`] of the chosen day), or none.
    pub expires_at: Option<i64>,
}

/// Whether `terms` would give `grant`'s doctor less than now (then the keys
/// are replaced); the sentence saying what is wrong otherwise.
pub fn narrows(grant: &GrantView, terms: ShareTerms) -> Result<bool, String> {
    let new = changed(&grant.grant.value, terms);
    grant_change(&grant.grant.value, &new, now_unix()).map(|c| c == GrantChange::Narrows)
}

fn changed(old: &Grant, terms: ShareTerms) -> Grant {
    Grant {
        permission: terms.permission,
        expires_at: terms.expires_at,
        revision: old.revision.saturating_add(1),
        ..old.clone()
    }
}

/// Why a change did not go through to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeError {
    /// Nothing was changed: the sentence says why.
    Refused(String),
    /// The share was changed, but replacing the folder's keys did not
    /// finish; [`replace_keys`] finishes it.
    KeysNotReplaced(String),
}

/// Signs and sends the change; after a narrowing, replaces the folder's keys
/// with `progress(done, total)`. Answers the sentence for the page.
pub async fn change_share(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    grant: &GrantView,
    terms: ShareTerms,
    progress: impl Fn(u32, u32),
) -> Result<String, ChangeError> {
    let narrowing = narrows(grant, terms).map_err(ChangeError::Refused)?;
    let new = changed(&grant.grant.value, terms);
    let scope = new.node_id;
    let new_terms = GrantTerms::of(&new);
    let grant_id = new.grant_id;
    let signed = sign::sign(unlocked.keyring.identity(), new);
    sharing::change_grant(ChangeGrantRequest { grant: signed })
        .await
        .map_err(|e| ChangeError::Refused(session.explain(&e)))?;
    // From now on this browser judges the share by these terms, whatever
    // earlier version a server serves.
    remember_grant(&unlocked.key_entry.value.user_id, &grant_id, new_terms);
    let doctor = &grant.doctor_name;
    let now = format!(
        "{doctor} now has: {}, {}.",
        permission_text(terms.permission).to_lowercase(),
        until_text(terms.expires_at).to_lowercase()
    );
    if !narrowing {
        return Ok(now);
    }
    replace_keys(session, store, unlocked, scope, progress)
        .await
        .map_err(ChangeError::KeysNotReplaced)?;
    Ok(format!(
        "{now} The folder's keys were replaced, so a key {doctor} kept from before opens nothing new."
    ))
}

/// Replaces the keys under `scope`, keeping every live share of it (each
/// re-signed over the new key); the sentence of what went wrong otherwise.
pub async fn replace_keys(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    scope: shared::model::Id,
    progress: impl Fn(u32, u32),
) -> Result<(), String> {
    rotate_after(session, store, unlocked, scope, &[], &[], progress)
        .await
        .map_err(|m| {
            format!(
                "The share was changed, but replacing the folder's keys did not finish: {m} \
                 Use “Replace the keys again” to finish it."
            )
        })
}
