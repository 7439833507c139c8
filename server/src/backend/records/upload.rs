//! Uploads: start (reserve quota, assign the version), chunks in any order,
//! and cancel. The finish is in [`super::finish`], dropping and
//! expiry in [`super::sweep`], downloads in [`super::versions`].
//!
//! An unfinished upload lives in its [`StoredUpload`] record; its chunks go to
//! the Blobs keyspace with their SHA-256 beside them. Each chunk is one batch:
//! its blob and hash, written only if that index has no hash yet, while the
//! upload record is unchanged (a cancel or expiry changes it first) and no
//! complete version has the same keys. The batch goes through the backend's
//! group writer, so chunks arriving together share their syncs and flush. The
//! record itself is not written per chunk, so chunks in flight together never
//! conflict; which chunks are in is known from their hashes.

use shared::{
    api::{
        records::{
            ChunkReceipt, NodeKind, StartUploadRequest, UnfinishedUpload, UploadTicket, VersionRef,
            MAX_CHUNK_SIZE, MAX_NODES, MIN_CHUNK_SIZE, UPLOAD_TTL_SECS,
        },
        ApiError,
    },
    crypto::{sign::part_hash, stream},
    model::Id,
    records::{padded_len, MAX_SEALED_METADATA},
};

use super::{
    check_child_key, check_metadata, conflict, encode, head_ops, human_size, id_taken,
    layout::{
        chunk_key, hash_key, hashes_prefix, node_key, owner_key, upload_key, version_key,
        StoredUpload,
    },
    next_head, too_large,
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{Batch, Space, StoreError},
};

/// Most chunks one version may have, so that its manifest (about 47 bytes of
/// JSON per chunk) fits a JSON request of the default 1 MiB limit.
pub const MAX_PARTS: u64 = 16_384;
/// Most unfinished uploads one account may hold at once.
pub const MAX_OPEN_UPLOADS: usize = 1000;
/// Times a chunk write (or the mark of a drop) is tried when its upload
/// changed meanwhile.
pub(super) const CHUNK_TRIES: usize = 4;

/// The answer for an upload that was cancelled or has expired.
pub(super) fn gone() -> ApiError {
    ApiError::new(
        shared::api::ErrorCode::NotFound,
        "This upload was cancelled or has expired. Start it again.",
    )
}

/// The answer for a change to a complete version's content.
pub(super) fn already_complete() -> ApiError {
    conflict("This version is already complete; its content cannot change.")
}

/// The exact length of chunk `index` of an upload.
fn expected_len(upload: &StoredUpload, index: u32) -> u64 {
    let frame = u64::from(upload.chunk_size) + stream::TAG_LEN as u64;
    if index.saturating_add(1) < upload.chunk_count {
        frame
    } else {
        upload
            .ciphertext_len
            .saturating_sub(u64::from(upload.chunk_count.saturating_sub(1)) * frame)
    }
}

impl ServerBackend {
    /// The answer for a chunk or finish of an upload that is not there: a
    /// finished version of the caller's is a conflict, anything else not found.
    async fn no_upload(&self, owner: &Id, node_id: &Id, version: u32) -> ApiError {
        match self.stored_node(owner, node_id).await {
            Ok(Some(_)) => match self.stored_version(node_id, version).await {
                Ok(Some(_)) => already_complete(),
                Ok(None) => ApiError::not_found(),
                Err(e) => e,
            },
            Ok(None) => ApiError::not_found(),
            Err(e) => e,
        }
    }

    /// Whether an upload record is stored under this key, whatever it holds.
    pub(crate) async fn has_upload(
        &self,
        owner: &Id,
        node_id: &Id,
        version: u32,
    ) -> Result<bool, ApiError> {
        Ok(self
            .store
            .get(Space::Records, &upload_key(owner, node_id, version))
            .await
            .map_err(store_error)?
            .is_some())
    }

    /// An upload as stored in `owner`'s record.
    pub(crate) async fn stored_upload(
        &self,
        owner: &Id,
        node_id: &Id,
        version: u32,
    ) -> Result<Option<StoredUpload>, ApiError> {
        let key = upload_key(owner, node_id, version);
        Ok(self
            .load::<StoredUpload>(Space::Records, &key)
            .await?
            .map(|(_, upload)| upload))
    }

    /// Loads an upload for the caller: `None` if it is not there or another
    /// person's (a doctor's upload in the owner's record is the doctor's).
    pub(super) async fn load_upload(
        &self,
        s: &Session,
        owner: &Id,
        key: &[u8],
    ) -> Result<Option<(Vec<u8>, StoredUpload)>, ApiError> {
        Ok(self
            .load::<StoredUpload>(Space::Records, key)
            .await?
            .filter(|(_, u)| u.uploader.unwrap_or(*owner) == s.user.id))
    }
}

pub(super) async fn start(
    b: &ServerBackend,
    s: &Session,
    StartUploadRequest {
        node_id,
        new_node,
        chunk_size,
        ciphertext_len,
    }: StartUploadRequest,
) -> Result<UploadTicket, ApiError> {
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return Err(ApiError::bad_request(format!(
            "The chunk size must be {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE} bytes."
        )));
    }
    let misfit = || ApiError::bad_request("The length does not fit a stream of this chunk size.");
    let padded = stream::plaintext_len(ciphertext_len, chunk_size).map_err(|_| misfit())?;
    let chunks = stream::chunk_count(padded, chunk_size).map_err(|_| misfit())?;
    let max_file = b.config.records.max_file_bytes;
    if padded > padded_len(max_file) {
        return Err(too_large(format!(
            "This file is too big. The largest file this server accepts is {}.",
            human_size(max_file)
        )));
    }
    if chunks > MAX_PARTS {
        return Err(ApiError::bad_request(format!(
            "A file may have at most {MAX_PARTS} chunks; use a larger chunk size."
        )));
    }
    let chunk_count = u32::try_from(chunks).map_err(|_| misfit())?;
    if let Some(n) = &new_node {
        if n.node_id != node_id {
            return Err(ApiError::bad_request(
                "The new file's id must be the upload's node id.",
            ));
        }
        if n.kind != NodeKind::File {
            return Err(ApiError::bad_request("An upload creates a file."));
        }
        if n.parent_id.is_none() {
            return Err(ApiError::bad_request(
                "A new file needs the folder it goes into.",
            ));
        }
        check_child_key(&n.wrapped_key)?;
        check_metadata(&n.metadata)?;
    }
    // A new file is written into its folder; a new version into the file.
    let target = new_node
        .as_ref()
        .and_then(|n| n.parent_id)
        .unwrap_or(node_id);
    let access = b.write_access(s, &target, false).await?;
    let owner = access.owner;
    let uploader = access.grant_id.map(|_| s.user.id);

    let _guard = b.record_locks.lock(&owner).await;
    b.existing_head(&owner).await?;
    let open = b.sweep_uploads(&owner).await?;
    let (head_raw, head) = b.existing_head(&owner).await?;
    // The metadata sent at the finish replaces this much of the reservation.
    let reserved = ciphertext_len.saturating_add(MAX_SEALED_METADATA as u64);
    let now = b.now();
    let mut batch = Batch::new();
    let mut new_nodes = 0;
    let version = match &new_node {
        Some(n) => {
            let parent = n.parent_id.unwrap_or(node_id);
            b.target_folder(&owner, &parent).await?;
            if b.store
                .get(Space::Records, &upload_key(&owner, &node_id, 1))
                .await
                .map_err(store_error)?
                .is_some()
            {
                return Err(conflict("An upload of this new file has already started."));
            }
            if b.store
                .get(Space::Records, &owner_key(&node_id))
                .await
                .map_err(store_error)?
                .is_some()
            {
                return Err(id_taken());
            }
            if head.nodes >= MAX_NODES as u64 {
                return Err(conflict(format!(
                    "Your record holds the most items it can ({MAX_NODES}). Empty the Trash or remove items first."
                )));
            }
            new_nodes = 1;
            // The id is the owner's from now on: no other record can start
            // (or later finish) a file with it, so the version and chunk
            // keys, which name the node but not the owner, stay this
            // record's alone.
            batch
                .expect_absent(Space::Records, owner_key(&node_id))
                .expect_absent(Space::Records, upload_key(&owner, &node_id, 1))
                .put(Space::Records, owner_key(&node_id), owner.to_vec());
            1
        }
        None => {
            let (raw, mut node) = b.owned_node(&owner, &node_id).await?;
            if node.kind != NodeKind::File {
                return Err(ApiError::bad_request("Only files have versions."));
            }
            if node.trashed_at.is_some() || node.purging {
                return Err(conflict(
                    "This file is in the Trash. Restore it before adding a version.",
                ));
            }
            let version = node
                .last_version
                .checked_add(1)
                .ok_or_else(|| conflict("This file has no version numbers left."))?;
            node.last_version = version;
            batch
                .expect_value(Space::Records, node_key(&owner, &node_id), raw)
                .put(Space::Records, node_key(&owner, &node_id), encode(&node)?);
            version
        }
    };
    if open >= MAX_OPEN_UPLOADS {
        return Err(conflict(
            "You have too many unfinished uploads. Let them finish, or cancel some, and try again.",
        ));
    }
    b.check_quota(&head, reserved)?;
    let upload = StoredUpload {
        node_id,
        version,
        chunk_size,
        ciphertext_len,
        chunk_count,
        received: 0,
        reserved,
        started_at: now,
        expires_at: now.saturating_add(UPLOAD_TTL_SECS),
        new_node,
        dropping: false,
        uploader,
    };
    let new_head = next_head(&head, |h| {
        h.reserved_bytes = h.reserved_bytes.saturating_add(reserved);
        h.nodes += new_nodes;
    });
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    batch.put(
        Space::Records,
        upload_key(&owner, &node_id, version),
        encode(&upload)?,
    );
    b.commit(batch, None).await?;
    Ok(UploadTicket {
        node_id,
        version,
        chunk_count,
        expires_at: upload.expires_at,
    })
}

/// The answer for a stored chunk: its index, and the one after it.
fn receipt(upload: &StoredUpload, index: u32) -> ChunkReceipt {
    ChunkReceipt {
        index,
        next: index.saturating_add(1).min(upload.chunk_count),
    }
}

pub(super) async fn store_chunk(
    b: &ServerBackend,
    s: &Session,
    node_id: Id,
    version: u32,
    index: u32,
    bytes: &[u8],
) -> Result<ChunkReceipt, ApiError> {
    let owner = b.upload_owner(s, &node_id, version).await?;
    let key = upload_key(&owner, &node_id, version);
    let hash = part_hash(bytes);
    for _ in 0..CHUNK_TRIES {
        let Some((raw, upload)) = b.load_upload(s, &owner, &key).await? else {
            return Err(b.no_upload(&owner, &node_id, version).await);
        };
        if upload.dropping || b.now() >= upload.expires_at {
            return Err(gone());
        }
        if index >= upload.chunk_count {
            return Err(ApiError::bad_request(format!(
                "This upload has {} chunks, numbered 0 to {}.",
                upload.chunk_count,
                upload.chunk_count.saturating_sub(1)
            )));
        }
        let stored = b
            .store
            .get(Space::Records, &hash_key(&node_id, version, index))
            .await
            .map_err(store_error)?;
        if let Some(stored) = stored {
            // Sent twice (a retry after a lost answer): fine if the bytes are
            // the same; a chunk is written once.
            return if stored[..] == hash[..] {
                Ok(receipt(&upload, index))
            } else {
                Err(conflict(format!(
                    "Chunk {index} is already stored with different bytes."
                )))
            };
        }
        let expected = expected_len(&upload, index);
        if bytes.len() as u64 != expected {
            return Err(ApiError::bad_request(format!(
                "Chunk {index} must be exactly {expected} bytes, not {}.",
                bytes.len()
            )));
        }
        // A complete version's chunks never change, whatever upload
        // names the same node and version.
        if b.stored_version(&node_id, version).await?.is_some() {
            return Err(already_complete());
        }
        let mut batch = Batch::new();
        batch
            .expect_absent(Space::Records, version_key(&node_id, version))
            .expect_value(Space::Records, key.clone(), raw)
            .expect_absent(Space::Records, hash_key(&node_id, version, index))
            .put(
                Space::Blobs,
                chunk_key(&node_id, version, index),
                bytes.to_vec(),
            )
            .put(
                Space::Records,
                hash_key(&node_id, version, index),
                hash.to_vec(),
            );
        match b.chunk_writer.apply(batch).await {
            Ok(()) => return Ok(receipt(&upload, index)),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(conflict(
        "The upload changed at the same time. Send the chunk again.",
    ))
}

pub(super) async fn cancel(
    b: &ServerBackend,
    s: &Session,
    VersionRef {
        node_id, version, ..
    }: VersionRef,
) -> Result<(), ApiError> {
    let owner = b.upload_owner(s, &node_id, version).await?;
    let _guard = b.record_locks.lock(&owner).await;
    let key = upload_key(&owner, &node_id, version);
    // The owner cancels any upload in their record, a doctor's too (one whose
    // access ended would otherwise hold up a key rotation for a day); a doctor
    // cancels only their own.
    let mine = |u: &StoredUpload| owner == s.user.id || u.uploader == Some(s.user.id);
    match b.load::<StoredUpload>(Space::Records, &key).await? {
        Some((_, upload)) if mine(&upload) => b.drop_upload(&owner, &node_id, version).await,
        _ => Err(b.no_upload(&owner, &node_id, version).await),
    }
}

/// An unfinished upload of the caller's and the indexes of its stored chunks.
pub(super) async fn status(
    b: &ServerBackend,
    s: &Session,
    VersionRef {
        node_id, version, ..
    }: VersionRef,
) -> Result<UnfinishedUpload, ApiError> {
    let owner = b.upload_owner(s, &node_id, version).await?;
    let key = upload_key(&owner, &node_id, version);
    let Some((_, upload)) = b.load_upload(s, &owner, &key).await? else {
        return Err(b.no_upload(&owner, &node_id, version).await);
    };
    if upload.dropping || b.now() >= upload.expires_at {
        return Err(gone());
    }
    let stored = b
        .store
        .scan_prefix(
            Space::Records,
            &hashes_prefix(&node_id, version),
            None,
            upload.chunk_count as usize,
        )
        .await
        .map_err(store_error)?;
    let held = stored
        .iter()
        .filter_map(|(k, _)| {
            let tail: [u8; 4] = k.get(k.len().checked_sub(4)?..)?.try_into().ok()?;
            Some(u32::from_be_bytes(tail))
        })
        .collect();
    Ok(UnfinishedUpload {
        node_id,
        version,
        chunk_size: upload.chunk_size,
        ciphertext_len: upload.ciphertext_len,
        chunk_count: upload.chunk_count,
        expires_at: upload.expires_at,
        held,
        new_node: upload.new_node,
    })
}
