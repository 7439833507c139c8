//! Uploads: start (reserve quota, assign the version), chunks strictly in
//! order, finish (check the signed manifest against the stored chunks, then
//! make the version current in one batch), cancel and expiry; and downloads.
//!
//! An unfinished upload lives in its [`StoredUpload`] record; its chunks go to
//! the Blobs keyspace with their SHA-256 beside them, each chunk in one batch
//! with the upload's `received` count (a precondition on the record's old bytes
//! keeps two writers of one upload apart). Dropping an upload (cancel, expiry,
//! a failed finish) first marks it `dropping` and frees its quota in one batch,
//! then deletes its chunks, then the record: a crash in between leaves a
//! `dropping` record that the next sweep finishes.

use shared::{
    api::{
        records::{
            ChunkReceipt, NewNode, NodeKind, NodeView, UploadTicket, MAX_CHUNK_SIZE, MAX_NODES,
            MIN_CHUNK_SIZE, UPLOAD_TTL_SECS,
        },
        ApiError,
    },
    audit::EventKind,
    crypto::{
        sign::{part_hash, FileManifest, Signed},
        stream, Id,
    },
    records::{padded_len, MAX_SEALED_METADATA},
};

use super::{
    check_child_key, check_metadata, conflict, encode, head_ops, human_size, id_taken,
    layout::{
        chunk_key, hash_key, hashes_prefix, manifest_key, node_key, owner_key, upload_key,
        uploads_prefix, version_key, StoredNode, StoredUpload, StoredVersion,
    },
    new_stored_node, next_head, too_large, Names, CONTENT_KEY_LEN,
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{codec, Batch, Space, StoreError},
};

/// Most chunks one version may have, so that its manifest (about 47 bytes of
/// JSON per chunk) fits a JSON request of the default 1 MiB limit.
pub const MAX_PARTS: u64 = 16_384;
/// Most unfinished uploads one account may hold at once.
pub const MAX_OPEN_UPLOADS: usize = 1000;
/// Chunk keys deleted per batch when content is dropped.
const DELETE_BATCH: usize = 512;
/// Times a chunk write is tried when its upload changed meanwhile.
const CHUNK_TRIES: usize = 4;

fn gone() -> ApiError {
    ApiError::new(
        shared::api::ErrorCode::NotFound,
        "This upload was cancelled or has expired. Start it again.",
    )
}

fn already_complete() -> ApiError {
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
    pub(super) async fn start(
        &self,
        s: &Session,
        node_id: Id,
        new_node: Option<NewNode>,
        chunk_size: u32,
        ciphertext_len: u64,
    ) -> Result<UploadTicket, ApiError> {
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(ApiError::bad_request(format!(
                "The chunk size must be {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE} bytes."
            )));
        }
        let misfit =
            || ApiError::bad_request("The length does not fit a stream of this chunk size.");
        let padded = stream::plaintext_len(ciphertext_len, chunk_size).map_err(|_| misfit())?;
        let chunks = stream::chunk_count(padded, chunk_size).map_err(|_| misfit())?;
        let max_file = self.config.records.max_file_bytes;
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
        let access = self.write_access(s, &target, false).await?;
        let owner = access.owner;
        let uploader = access.grant_id.map(|_| s.user.id);

        let _guard = self.record_locks.lock(&owner).await;
        self.existing_head(&owner).await?;
        let open = self.sweep_uploads(&owner).await?;
        let (head_raw, head) = self.existing_head(&owner).await?;
        // The metadata sent at the finish replaces this much of the reservation.
        let reserved = ciphertext_len.saturating_add(MAX_SEALED_METADATA as u64);
        let now = self.now();
        let mut batch = Batch::new();
        let mut new_nodes = 0;
        let version = match &new_node {
            Some(n) => {
                let parent = n.parent_id.unwrap_or(node_id);
                self.target_folder(&owner, &parent).await?;
                if self
                    .store
                    .get(Space::Records, &upload_key(&owner, &node_id, 1))
                    .await
                    .map_err(store_error)?
                    .is_some()
                {
                    return Err(conflict("An upload of this new file has already started."));
                }
                if self
                    .store
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
                let (raw, mut node) = self.owned_node(&owner, &node_id).await?;
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
        self.check_quota(&head, reserved)?;
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
        self.commit(batch, None).await?;
        Ok(UploadTicket {
            node_id,
            version,
            chunk_count,
            expires_at: upload.expires_at,
        })
    }

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
    async fn load_upload(
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

    pub(super) async fn store_chunk(
        &self,
        s: &Session,
        node_id: Id,
        version: u32,
        index: u32,
        bytes: &[u8],
    ) -> Result<ChunkReceipt, ApiError> {
        let owner = self.upload_owner(s, &node_id, version).await?;
        let key = upload_key(&owner, &node_id, version);
        let hash = part_hash(bytes);
        for _ in 0..CHUNK_TRIES {
            let Some((raw, upload)) = self.load_upload(s, &owner, &key).await? else {
                return Err(self.no_upload(&owner, &node_id, version).await);
            };
            if upload.dropping || self.now() >= upload.expires_at {
                return Err(gone());
            }
            if index >= upload.chunk_count {
                return Err(ApiError::bad_request(format!(
                    "This upload has {} chunks, numbered 0 to {}.",
                    upload.chunk_count,
                    upload.chunk_count.saturating_sub(1)
                )));
            }
            if index < upload.received {
                // A retry after a lost answer succeeds if the bytes are the same.
                let stored = self
                    .store
                    .get(Space::Records, &hash_key(&node_id, version, index))
                    .await
                    .map_err(store_error)?;
                return if stored.as_deref() == Some(&hash[..]) {
                    Ok(ChunkReceipt {
                        index,
                        next: upload.received,
                    })
                } else {
                    Err(conflict(format!(
                        "Chunk {index} is already stored with different bytes."
                    )))
                };
            }
            if index > upload.received {
                return Err(conflict(format!(
                    "Chunk {index} came before chunk {}. Send the chunks in order.",
                    upload.received
                )));
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
            if self.stored_version(&node_id, version).await?.is_some() {
                return Err(already_complete());
            }
            let received = index + 1;
            let updated = StoredUpload { received, ..upload };
            let mut batch = Batch::new();
            batch
                .expect_absent(Space::Records, version_key(&node_id, version))
                .expect_value(Space::Records, key.clone(), raw)
                .put(Space::Records, key.clone(), encode(&updated)?)
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
            match self.store.apply(batch).await {
                Ok(()) => {
                    return Ok(ChunkReceipt {
                        index,
                        next: received,
                    })
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(conflict(
            "The upload changed at the same time. Send the chunk again.",
        ))
    }

    pub(super) async fn finish(
        &self,
        s: &Session,
        node_id: Id,
        version: u32,
        wrapped_content_key: Vec<u8>,
        manifest: Signed<FileManifest>,
        metadata: Vec<u8>,
    ) -> Result<NodeView, ApiError> {
        if wrapped_content_key.len() != CONTENT_KEY_LEN {
            return Err(ApiError::bad_request(format!(
                "The wrapped content key must be {CONTENT_KEY_LEN} bytes."
            )));
        }
        check_metadata(&metadata)?;

        let owner = self.upload_owner(s, &node_id, version).await?;
        let _guard = self.record_locks.lock(&owner).await;
        let key = upload_key(&owner, &node_id, version);
        let Some((upload_raw, upload)) = self.load_upload(s, &owner, &key).await? else {
            // A finish repeated after a lost answer gets the same answer.
            if let Some((_, node)) = self.stored_node(&owner, &node_id).await? {
                if self.stored_version(&node_id, version).await?.is_some() {
                    if self.stored_manifest(&node_id, version).await? == manifest {
                        return self.node_view(node, &mut Names::new()).await;
                    }
                    return Err(already_complete());
                }
            }
            return Err(ApiError::not_found());
        };
        if upload.dropping || self.now() >= upload.expires_at {
            return Err(gone());
        }
        if upload.received < upload.chunk_count {
            return Err(conflict(format!(
                "Only {} of {} chunks have arrived. Send the rest before finishing.",
                upload.received, upload.chunk_count
            )));
        }
        let (head_raw, head) = self.existing_head(&owner).await?;
        let now = self.now();

        // Where the file is: a new node made now, or the existing one.
        let mut reservation = None;
        let (old_node, mut node): (Option<Vec<u8>>, StoredNode) = match &upload.new_node {
            Some(n) => {
                let parent = n.parent_id.unwrap_or(node_id);
                if self.stored_node(&owner, &parent).await?.is_none() {
                    self.drop_upload(&owner, &node_id, version).await?;
                    return Err(conflict(
                        "The folder this file was going into was deleted. Upload it again into another folder.",
                    ));
                }
                reservation = self
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
                let (raw, node) = self.owned_node(&owner, &node_id).await?;
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
        let access = self.write_access(s, &target, false).await?;
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
        let stored = self
            .store
            .scan_prefix(
                Space::Records,
                &hashes_prefix(&node_id, version),
                None,
                upload.chunk_count as usize + 1,
            )
            .await
            .map_err(store_error)?;
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
        let new_head = next_head(&head, |h| {
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
                    Some(reserved) => {
                        batch.expect_value(Space::Records, owner_key(&node_id), reserved)
                    }
                    None => batch.expect_absent(Space::Records, owner_key(&node_id)),
                };
                batch.put(Space::Records, owner_key(&node_id), owner.to_vec());
            }
        }
        batch.put(Space::Records, node_key(&owner, &node_id), encode(&node)?);
        let draft = super::event_on(s, &owner, EventKind::FileWritten, &node_id);
        self.commit(batch, Some(draft)).await?;
        self.node_view(node, &mut Names::new()).await
    }

    pub(super) async fn cancel(
        &self,
        s: &Session,
        node_id: Id,
        version: u32,
    ) -> Result<(), ApiError> {
        let owner = self.upload_owner(s, &node_id, version).await?;
        let _guard = self.record_locks.lock(&owner).await;
        let key = upload_key(&owner, &node_id, version);
        if self.load_upload(s, &owner, &key).await?.is_none() {
            return Err(self.no_upload(&owner, &node_id, version).await);
        }
        self.drop_upload(&owner, &node_id, version).await
    }

    /// Drops an upload (the owner's lock held): frees its quota and marks it
    /// in one batch, then deletes its chunks and its record.
    pub(super) async fn drop_upload(
        &self,
        owner: &Id,
        node_id: &Id,
        version: u32,
    ) -> Result<(), ApiError> {
        let key = upload_key(owner, node_id, version);
        let mut marked = None;
        for _ in 0..CHUNK_TRIES {
            let Some((raw, upload)) = self.load::<StoredUpload>(Space::Records, &key).await? else {
                return Ok(());
            };
            if upload.dropping {
                marked = Some(upload);
                break;
            }
            let (head_raw, head) = self.existing_head(owner).await?;
            let new_head = next_head(&head, |h| {
                h.reserved_bytes = h.reserved_bytes.saturating_sub(upload.reserved);
                if upload.new_node.is_some() {
                    h.nodes = h.nodes.saturating_sub(1);
                }
            });
            let dropping = StoredUpload {
                dropping: true,
                ..upload
            };
            let mut batch = Batch::new();
            head_ops(&mut batch, owner, &head_raw, &new_head)?;
            batch.expect_value(Space::Records, key.clone(), raw).put(
                Space::Records,
                key.clone(),
                encode(&dropping)?,
            );
            match self.store.apply(batch).await {
                Ok(()) => {
                    marked = Some(dropping);
                    break;
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        let Some(upload) = marked else {
            return Err(super::changed_meanwhile());
        };
        // Chunks under a complete version's keys are that version's, never
        // this upload's to delete.
        if self.stored_version(node_id, version).await?.is_none() {
            self.delete_chunks(node_id, version, upload.received)
                .await?;
        }
        let mut batch = Batch::new();
        batch.delete(Space::Records, key);
        // A new file's id is given back once nothing of it is left, if it is
        // still this record's reservation (a node of that id is not).
        if upload.new_node.is_some() && self.stored_node(owner, node_id).await?.is_none() {
            let reserved = self
                .store
                .get(Space::Records, &owner_key(node_id))
                .await
                .map_err(store_error)?;
            if reserved.as_deref() == Some(&owner[..]) {
                batch
                    .expect_absent(Space::Records, node_key(owner, node_id))
                    .expect_value(Space::Records, owner_key(node_id), owner.to_vec())
                    .delete(Space::Records, owner_key(node_id));
            }
        }
        self.store.apply(batch).await.map_err(|e| match e {
            StoreError::Conflict => super::changed_meanwhile(),
            e => store_error(e),
        })
    }

    /// Deletes chunks `0..count` of a version and their hashes, a few hundred
    /// keys per batch.
    pub(super) async fn delete_chunks(
        &self,
        node_id: &Id,
        version: u32,
        count: u32,
    ) -> Result<(), ApiError> {
        let mut batch = Batch::new();
        for index in 0..count {
            batch
                .delete(Space::Blobs, chunk_key(node_id, version, index))
                .delete(Space::Records, hash_key(node_id, version, index));
            if batch.len() >= DELETE_BATCH {
                let full = std::mem::take(&mut batch);
                self.store.apply(full).await.map_err(store_error)?;
            }
        }
        self.store.apply(batch).await.map_err(store_error)
    }

    /// The caller's unfinished uploads as stored.
    pub(super) async fn open_uploads(
        &self,
        owner: &Id,
    ) -> Result<Vec<(Vec<u8>, StoredUpload)>, ApiError> {
        let rows = self
            .store
            .scan_prefix(
                Space::Records,
                &uploads_prefix(owner),
                None,
                MAX_OPEN_UPLOADS * 2,
            )
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(_, raw)| {
                let upload = codec::decode(&raw).map_err(store_error)?;
                Ok((raw, upload))
            })
            .collect()
    }

    /// Whether some upload of the owner has expired or is half dropped.
    pub(super) async fn uploads_need_sweep(&self, owner: &Id) -> Result<bool, ApiError> {
        let now = self.now();
        Ok(self
            .open_uploads(owner)
            .await?
            .iter()
            .any(|(_, u)| u.dropping || now >= u.expires_at))
    }

    /// Drops expired uploads and finishes half-dropped ones (the owner's lock
    /// held); returns how many uploads remain open.
    pub(super) async fn sweep_uploads(&self, owner: &Id) -> Result<usize, ApiError> {
        let now = self.now();
        let mut open = 0;
        for (_, upload) in self.open_uploads(owner).await? {
            if upload.dropping || now >= upload.expires_at {
                self.drop_upload(owner, &upload.node_id, upload.version)
                    .await?;
            } else {
                open += 1;
            }
        }
        Ok(open)
    }

    pub(super) async fn read_chunk(
        &self,
        s: &Session,
        node_id: Id,
        version: u32,
        index: u32,
    ) -> Result<server_fn::Bytes, ApiError> {
        let (owner, _) = self.readable_node(s, &node_id).await?;
        let stored = self
            .stored_version(&node_id, version)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if index >= stored.chunk_count {
            return Err(ApiError::not_found());
        }
        let bytes = self
            .store
            .get(Space::Blobs, &chunk_key(&node_id, version, index))
            .await
            .map_err(store_error)?
            .ok_or_else(ApiError::not_found)?;
        if index == 0 {
            // Logged before any content leaves: a download starts here.
            let draft = super::event_on(s, &owner, EventKind::FileRead, &node_id);
            self.append(Batch::new(), draft)
                .await
                .map_err(store_error)?;
        }
        Ok(server_fn::Bytes::from(bytes))
    }
}
