//! Dropping uploads: a cancel, an expiry or a failed finish first marks the
//! upload `dropping` and frees its quota in one batch, then deletes its
//! chunks, then its record. A crash in between leaves a `dropping` record
//! that the next sweep finishes.

use shared::{api::ApiError, model::Id};

use super::{
    changed_meanwhile, encode, head_ops,
    layout::{chunk_key, hash_key, node_key, owner_key, upload_key, uploads_prefix, StoredUpload},
    next_head,
    upload::{CHUNK_TRIES, MAX_OPEN_UPLOADS},
};
use crate::{
    backend::{store_error, ServerBackend},
    store::{codec, Batch, Space, StoreError},
};

/// Chunk keys deleted per batch when content is dropped.
const DELETE_BATCH: usize = 512;

impl ServerBackend {
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
            return Err(changed_meanwhile());
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
            StoreError::Conflict => changed_meanwhile(),
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
}
