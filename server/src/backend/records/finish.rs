//! Finishing an upload: the signed manifest is checked against the caller's
//! key and the stored chunks' hashes, then the version, the node, the quota
//! and the event are written in one batch.

use shared::api::notifications::NoticeKind;

use crate::backend::notifications::{notify, StoredNotice};
use shared::{
    api::{
        records::{FinishUploadRequest, NodeView, VersionView},
        ApiError,
    },
    audit::EventKind,
    crypto::stream,
};

use super::{
    check_metadata, conflict, encode, head_ops, id_taken,
    layout::{
        hashes_prefix, manifest_key, node_key, owner_key, upload_key, version_key, StoredNode,
        StoredVersion,
    },
    new_stored_node, next_head,
    signed::Signing,
    upload::{already_complete, gone},
    Names, CONTENT_KEY_LEN,
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{Batch, Space, StoreError},
};

/// Completes an upload: checks the manifest against the stored chunks and
/// the author's key, then makes the version current, in one batch.
pub(super) async fn finish(
    b: &ServerBackend,
    s: &Session,
    FinishUploadRequest {
        node_id,
        version,
        wrapped_content_key,
        manifest,
        metadata,
        state,
        head: signed_head,
    }: FinishUploadRequest,
) -> Result<NodeView, ApiError> {
    if wrapped_content_key.len() != CONTENT_KEY_LEN {
        return Err(ApiError::bad_request(format!(
            "The wrapped content key must be {CONTENT_KEY_LEN} bytes."
        )));
    }
    check_metadata(&metadata)?;

    let owner = b.upload_owner(s, &node_id, version).await?;
    let _guard = b.record_locks.lock(&owner).await;
    let key = upload_key(&owner, &node_id, version);
    let Some((upload_raw, upload)) = b.load_upload(s, &owner, &key).await? else {
        // A finish repeated after a lost answer gets the same answer.
        if let Some((_, node)) = b.stored_node(&owner, &node_id).await? {
            if b.stored_version(&node_id, version).await?.is_some() {
                if b.stored_manifest(&node_id, version).await? == manifest {
                    return b.node_view(node, &mut Names::new()).await;
                }
                return Err(already_complete());
            }
        }
        return Err(ApiError::not_found());
    };
    if upload.dropping || b.now() >= upload.expires_at {
        return Err(gone());
    }
    // Chunks arrive in any order; each stored one has its hash.
    let stored = b
        .store
        .scan_prefix(
            Space::Records,
            &hashes_prefix(&node_id, version),
            None,
            upload.chunk_count as usize + 1,
        )
        .await
        .map_err(store_error)?;
    if stored.len() < upload.chunk_count as usize {
        return Err(conflict(format!(
            "Only {} of {} chunks have arrived. Send the rest before finishing.",
            stored.len(),
            upload.chunk_count
        )));
    }
    let (head_raw, head) = b.existing_head(&owner).await?;
    let now = b.now();

    // Where the file is: a new node made now, or the existing one.
    let mut reservation = None;
    let (old_node, mut node): (Option<Vec<u8>>, StoredNode) = match &upload.new_node {
        Some(n) => {
            let parent = n.parent_id.unwrap_or(node_id);
            if b.stored_node(&owner, &parent).await?.is_none() {
                b.drop_upload(&owner, &node_id, version).await?;
                return Err(conflict(
                    "The folder this file was going into was deleted. Upload it again into another folder.",
                ));
            }
            reservation = b
                .store
                .get(Space::Records, &owner_key(&node_id))
                .await
                .map_err(store_error)?;
            // Ours from the start, or absent for an upload started before
            // ids were reserved; anyone else's is taken.
            if reservation.as_ref().is_some_and(|o| o[..] != owner[..]) {
                return Err(id_taken());
            }
            let mut node = new_stored_node(n, now);
            node.revision = 0;
            node.last_version = 1;
            (None, node)
        }
        None => {
            let (raw, node) = b.owned_node(&owner, &node_id).await?;
            (Some(raw), node)
        }
    };
    let parent_id = node
        .parent_id
        .ok_or_else(|| ApiError::bad_request("The top folder of a record is not a file."))?;
    // A doctor's write grant must still cover the place at the finish.
    let target = if upload.new_node.is_some() {
        parent_id
    } else {
        node_id
    };
    let access = b.write_access(s, &target, false).await?;
    if access.owner != owner {
        return Err(ApiError::not_found());
    }

    // The manifest: signed by the caller, about exactly these chunks.
    let m = manifest
        .verify(&s.user.key_entry.value.identity_key)
        .map_err(|_| {
            ApiError::bad_request(
                "The manifest's signature does not verify with your identity key.",
            )
        })?;
    let padded = stream::plaintext_len(upload.ciphertext_len, upload.chunk_size)
        .map_err(|_| store_error(StoreError::Corrupt("an upload's length".into())))?;
    let mismatch = |what: &str| {
        ApiError::bad_request(format!("The manifest's {what} does not match this upload."))
    };
    if m.node_id != node_id {
        return Err(mismatch("file id"));
    }
    if m.version != version {
        return Err(mismatch("version"));
    }
    if m.author_id != s.user.id {
        return Err(mismatch("author"));
    }
    if m.parent_id != parent_id {
        return Err(mismatch("folder"));
    }
    if m.size != padded {
        return Err(mismatch("size"));
    }
    if m.part_hashes.len() as u64 != u64::from(upload.chunk_count) {
        return Err(mismatch("number of parts"));
    }
    if stored.len() != m.part_hashes.len() {
        return Err(store_error(StoreError::Corrupt(
            "an upload's chunk hashes are missing".into(),
        )));
    }
    for (index, ((_, hash), expected)) in stored.iter().zip(&m.part_hashes).enumerate() {
        if hash.as_slice() != expected.as_slice() {
            return Err(ApiError::bad_request(format!(
                "The manifest's hash of chunk {index} does not match the stored chunk."
            )));
        }
    }

    // One batch: the version, the node, the quota and the event.
    let old_bytes = old_node.as_ref().map_or(0, |_| node.metadata.len() as u64);
    let added = upload.ciphertext_len.saturating_add(metadata.len() as u64);
    let mut new_head = next_head(&head, |h| {
        h.reserved_bytes = h.reserved_bytes.saturating_sub(upload.reserved);
        h.stored_bytes = h
            .stored_bytes
            .saturating_sub(old_bytes)
            .saturating_add(added);
    });
    node.metadata = metadata;
    node.current = Some(version);
    node.version_count = node.version_count.saturating_add(1);
    node.revision += 1;
    let stored_version = StoredVersion {
        version,
        chunk_size: upload.chunk_size,
        ciphertext_len: upload.ciphertext_len,
        chunk_count: upload.chunk_count,
        wrapped_content_key,
        author_id: s.user.id,
        stored_at: now,
        grant_id: access.grant_id,
    };
    let mut batch = Batch::new();
    // The node's signed state names this version as current.
    let current = VersionView {
        node_id,
        version,
        chunk_size: stored_version.chunk_size,
        ciphertext_len: stored_version.ciphertext_len,
        wrapped_content_key: stored_version.wrapped_content_key.clone(),
        manifest: manifest.clone(),
        author_id: s.user.id,
        author_name: String::new(),
        stored_at: now,
        write_grant: None,
    };
    let mut signing = Signing {
        state,
        head: signed_head,
        grant: access.grant_id,
    };
    let leaf = b
        .attach_state(s, &owner, &mut node, &mut signing, Some(current))
        .await?;
    new_head.signed = b
        .sign_off(
            &mut batch,
            s,
            &owner,
            &head,
            &[(node_id, Some(leaf))],
            signing.head,
        )
        .await?;
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    batch
        .expect_value(Space::Records, key.clone(), upload_raw)
        .delete(Space::Records, key)
        .expect_absent(Space::Records, version_key(&node_id, version))
        .put(
            Space::Records,
            version_key(&node_id, version),
            encode(&stored_version)?,
        )
        .put(
            Space::Records,
            manifest_key(&node_id, version),
            encode(&manifest)?,
        );
    for (chunk_hash, _) in stored {
        batch.delete(Space::Records, chunk_hash);
    }
    match old_node {
        Some(raw) => {
            batch.expect_value(Space::Records, node_key(&owner, &node_id), raw);
        }
        None => {
            match reservation {
                Some(reserved) => batch.expect_value(Space::Records, owner_key(&node_id), reserved),
                None => batch.expect_absent(Space::Records, owner_key(&node_id)),
            };
            batch.put(Space::Records, owner_key(&node_id), owner.to_vec());
        }
    }
    batch.put(Space::Records, node_key(&owner, &node_id), encode(&node)?);
    let draft = super::event_on(s, &owner, EventKind::FileWritten, &node_id);
    let written = StoredNotice::new(NoticeKind::FileWritten, &s.user.id, b.now()).node(&node_id);
    notify(&mut batch, &owner, written)?;
    b.commit(batch, Some(draft)).await?;
    if s.user.id != owner {
        b.mail_notice(&owner).await;
    }
    b.node_view(node, &mut Names::new()).await
}
