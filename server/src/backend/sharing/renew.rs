//! `sharing/grant/renew`: a grant stored before grants signed `key_hash`
//! no longer verifies; its patient signs the same grant again over a freshly
//! wrapped key, and the server swaps the signed grant and the wrapped key in
//! one write. Only a grant that is provably the patient's old signature is
//! replaced, and only by the same grant: nothing else about access can
//! change through this call.
//!
//! `sharing/grant/change`: a live grant's patient gives it a new end date or
//! permission, signed again; everything else must stay
//! (`shared::sharing::grant_change`). The wrapped key stays too: after a
//! change that gives less, the patient's browser replaces the folder's keys.

use shared::{
    api::{
        sharing::{ChangeGrantRequest, GrantView, RenewGrantRequest},
        ApiError,
    },
    audit::EventKind,
    crypto::hpke,
    model::{Id, Role},
    sharing::{grant_change, verify_legacy, wrapped_key_hash},
};

use tokio::sync::MutexGuard;

use crate::{
    authz,
    backend::{
        audit::Draft, records::conflict, sessions::Session, sharing::layout::StoredGrant,
        ServerBackend,
    },
};

/// A live grant the caller made, read under the patient's lock, which is
/// returned with it and held until the change is written. `(not_patient,
/// ended)` are the sentences for a caller who is no patient and for a grant
/// that ended; a grant that is not the caller's is `not_found`.
async fn my_live_grant<'a>(
    b: &'a ServerBackend,
    s: &Session,
    grant_id: &Id,
    (not_patient, ended): (&str, &str),
) -> Result<(MutexGuard<'a, ()>, Vec<u8>, StoredGrant), ApiError> {
    authz::require_role(s, Role::Patient, not_patient)?;
    let guard = b.record_locks.lock(&s.user.id).await;
    let (raw, stored) = b
        .stored_grant(grant_id)
        .await?
        .filter(|(_, g)| authz::gave(s, g))
        .ok_or_else(ApiError::not_found)?;
    if !stored.status(b.now()).is_live() || stored.revoked_at.is_some() {
        return Err(conflict(ended));
    }
    Ok((guard, raw, stored))
}

/// Replaces a legacy grant of the caller (its patient) with the same grant
/// signed under the current encoding, and its wrapped key with the new one.
pub(super) async fn renew(
    b: &ServerBackend,
    s: &Session,
    request: RenewGrantRequest,
) -> Result<GrantView, ApiError> {
    let me = s.user.id;
    let my_key = &s.user.key_entry.value.identity_key;
    let new = &request.grant.value;
    let (_guard, raw, mut stored) = my_live_grant(
        b,
        s,
        &new.grant_id,
        (
            "Only the patient who made a share signs it again.",
            "This share has already ended, so there is nothing to sign again.",
        ),
    )
    .await?;
    if verify_legacy(&stored.grant, my_key).is_err() {
        return Err(conflict(
            "This share is not one you signed before grants carried their key's hash, so it cannot be signed again this way. Reload the page.",
        ));
    }
    let mut same = new.clone();
    same.key_hash = stored.grant.value.key_hash;
    if same != stored.grant.value {
        return Err(ApiError::bad_request(
            "The share signed again differs from the stored one in more than its key hash. Reload the page.",
        ));
    }
    request.grant.verify(my_key).map_err(|_| {
        ApiError::bad_request(
            "The share is not signed with your key. Sign out, sign in again and retry.",
        )
    })?;
    if request.wrapped_key.len() != hpke::WRAPPED_LEN {
        return Err(ApiError::bad_request(format!(
            "The wrapped key must be {} bytes.",
            hpke::WRAPPED_LEN
        )));
    }
    if wrapped_key_hash(&request.wrapped_key) != new.key_hash {
        return Err(ApiError::bad_request(
            "The share's key hash is not the hash of the key sent with it. Reload the page.",
        ));
    }
    let node = new.node_id;
    stored.grant = request.grant;
    stored.wrapped_key = request.wrapped_key;
    let draft = Draft::own(EventKind::GrantRenewed, &me)
        .session(&s.hash)
        .item(&node);
    b.save_grant(raw, stored, draft).await
}

/// Stores a live grant of the caller (its patient) again with a new end date
/// or permission, which the caller signed.
pub(super) async fn change(
    b: &ServerBackend,
    s: &Session,
    request: ChangeGrantRequest,
) -> Result<GrantView, ApiError> {
    let me = s.user.id;
    let my_key = &s.user.key_entry.value.identity_key;
    let new = &request.grant.value;
    let (_guard, raw, mut stored) = my_live_grant(
        b,
        s,
        &new.grant_id,
        (
            "Only the patient who made a share changes it.",
            "This share has already ended. Share the folder again instead.",
        ),
    )
    .await?;
    if stored.emergency.is_some() {
        return Err(conflict(
            "Emergency access is changed on the Emergency page, not here.",
        ));
    }
    grant_change(&stored.grant.value, new, b.now()).map_err(ApiError::bad_request)?;
    request.grant.verify(my_key).map_err(|_| {
        ApiError::bad_request(
            "The changed share is not signed with your key. Sign out, sign in again and retry.",
        )
    })?;
    let node = new.node_id;
    stored.grant = request.grant;
    let draft = Draft::own(EventKind::GrantChanged, &me)
        .session(&s.hash)
        .item(&node);
    b.save_grant(raw, stored, draft).await
}
