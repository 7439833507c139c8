//! `records/profile` and `records/profile/put`: the owner's profile copies
//! (PROTOCOL 17.10). The server checks only what it can see: that each copy
//! is sealed for a folder of the caller's own record, once, within the size
//! bounds. What is inside (and who signed it) is for the readers' browsers.

use std::collections::HashSet;

use shared::{
    api::{
        records::{NodeKind, ProfileCopies, ProfileCopy, MAX_PROFILE_COPIES},
        ApiError,
    },
    audit::EventKind,
    model::Id,
    records::profile::{MAX_SEALED_PROFILE, MIN_SEALED_PROFILE},
};

use super::{
    event,
    layout::{profile_key, profile_seq_key, profiles_prefix},
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{Batch, Space},
};

/// The owner's copies as stored.
pub(super) async fn copies(b: &ServerBackend, s: &Session) -> Result<ProfileCopies, ApiError> {
    let owner = s.user.id;
    b.existing_head(&owner).await?;
    let seq = stored_seq(b, &owner).await?.unwrap_or(0);
    let copies = stored_copies(b, &owner).await?;
    Ok(ProfileCopies { copies, seq })
}

/// Every copy stored for `owner`'s record, by node.
async fn stored_copies(b: &ServerBackend, owner: &Id) -> Result<Vec<ProfileCopy>, ApiError> {
    let prefix = profiles_prefix(owner);
    let rows = b
        .store
        .scan_prefix(Space::Records, &prefix, None, MAX_PROFILE_COPIES)
        .await
        .map_err(store_error)?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, sealed)| {
            let node_id: Id = key.get(prefix.len()..)?.try_into().ok()?;
            Some(ProfileCopy { node_id, sealed })
        })
        .collect())
}

/// The `seq` of the stored copies, if any were ever stored.
async fn stored_seq(b: &ServerBackend, owner: &Id) -> Result<Option<u64>, ApiError> {
    let raw = b
        .store
        .get(Space::Records, &profile_seq_key(owner))
        .await
        .map_err(store_error)?;
    Ok(raw.and_then(|r| {
        <[u8; 8]>::try_from(r.as_slice())
            .ok()
            .map(u64::from_be_bytes)
    }))
}

/// Replaces the owner's copies with `given`, in one batch with its event.
pub(super) async fn put(
    b: &ServerBackend,
    s: &Session,
    given: ProfileCopies,
) -> Result<(), ApiError> {
    let owner = s.user.id;
    if given.copies.len() > MAX_PROFILE_COPIES {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_PROFILE_COPIES} copies of a profile can be kept."
        )));
    }
    let mut seen = HashSet::new();
    for copy in &given.copies {
        if !seen.insert(copy.node_id) {
            return Err(ApiError::bad_request(
                "Each folder can hold one copy of the profile.",
            ));
        }
        if !(MIN_SEALED_PROFILE..=MAX_SEALED_PROFILE).contains(&copy.sealed.len()) {
            return Err(ApiError::bad_request(format!(
                "A sealed profile must be {MIN_SEALED_PROFILE} to {MAX_SEALED_PROFILE} bytes."
            )));
        }
    }
    let _guard = b.record_locks.lock(&owner).await;
    let (_, head) = b.existing_head(&owner).await?;
    let old_seq = stored_seq(b, &owner).await?;
    if old_seq.is_some_and(|old| given.seq < old) {
        return Err(ApiError::new(
            shared::api::ErrorCode::Conflict,
            "Your profile was changed meanwhile, in another tab or on another device. Reload the page to see it, then save again.",
        ));
    }
    for copy in &given.copies {
        // Not one of the caller's folders or files: the same answer as
        // for an id that does not exist.
        let (_, node) = b.owned_node(&owner, &copy.node_id).await?;
        if node.kind == NodeKind::Entry {
            return Err(ApiError::bad_request(
                "A profile is sealed for the record's root, a folder or a file, never a reading.",
            ));
        }
    }
    let mut batch = Batch::new();
    // The head and the seq were read above, under the lock.
    for old in stored_copies(b, &owner).await? {
        if !seen.contains(&old.node_id) {
            batch.delete(Space::Records, profile_key(&owner, &old.node_id));
        }
    }
    batch.put(
        Space::Records,
        profile_seq_key(&owner),
        given.seq.to_be_bytes().to_vec(),
    );
    for copy in given.copies {
        batch.put(
            Space::Records,
            profile_key(&owner, &copy.node_id),
            copy.sealed,
        );
    }
    let draft = event(s, EventKind::ProfileChanged, &head.root_id);
    b.commit(batch, Some(draft)).await
}

impl ServerBackend {
    /// The owner's profile copy sealed under `node`'s key, if there is one.
    pub(crate) async fn profile_copy(
        &self,
        owner: &Id,
        node: &Id,
    ) -> Result<Option<ProfileCopy>, ApiError> {
        let sealed = self
            .store
            .get(Space::Records, &profile_key(owner, node))
            .await
            .map_err(store_error)?;
        Ok(sealed.map(|sealed| ProfileCopy {
            node_id: *node,
            sealed,
        }))
    }
}
