//! Erasing a whole record when its owner deletes the account: every
//! unfinished upload (with its chunks and reservation), every node with its
//! versions, manifests and chunks, and every row kept by owner (head, chain
//! of heads, leaves, overrides, rotation, profile copies). The owner's lock
//! is held throughout, so no change interleaves; each batch leaves nothing
//! that a later one needs, so a crash part-way is finished by erasing again.

use shared::{api::ApiError, model::Id};

use super::{
    layout::{
        chain_prefix, head_key, leaf_key, leaves_prefix, manifest_key, node_key, nodes_prefix,
        override_key, overrides_prefix, owner_key, profile_key, profile_seq_key, profiles_prefix,
        rotation_key, rotation_parts_prefix, uploads_prefix, version_key, versions_prefix,
        StoredVersion,
    },
    sweep::DELETE_BATCH,
};
use crate::{
    backend::{store_error, ServerBackend},
    store::{codec, Batch, Space},
};

/// What an erase removed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Erased {
    /// Nodes (folders, files, entries).
    pub nodes: u64,
    /// Chunks of complete versions.
    pub chunks: u64,
}

impl ServerBackend {
    /// Deletes `owner`'s record and everything stored for it (nothing if
    /// there is none).
    pub(crate) async fn erase_record(&self, owner: &Id) -> Result<Erased, ApiError> {
        let _guard = self.record_locks.lock(owner).await;
        let mut erased = Erased::default();
        for (_, upload) in self.open_uploads(owner).await? {
            self.drop_upload(owner, &upload.node_id, upload.version)
                .await?;
        }
        let mut batch = Batch::new();
        for (_, node) in self.all_node_rows(owner).await? {
            let id = node.node_id;
            let versions = self
                .store
                .scan_prefix(Space::Records, &versions_prefix(&id), None, usize::MAX)
                .await
                .map_err(store_error)?;
            for (_, raw) in versions {
                let version: StoredVersion = codec::decode(&raw).map_err(store_error)?;
                self.delete_chunks(&id, version.version, version.chunk_count)
                    .await?;
                erased.chunks = erased.chunks.saturating_add(u64::from(version.chunk_count));
                batch
                    .delete(Space::Records, version_key(&id, version.version))
                    .delete(Space::Records, manifest_key(&id, version.version));
            }
            batch
                .delete(Space::Records, node_key(owner, &id))
                .delete(Space::Records, owner_key(&id))
                .delete(Space::Records, leaf_key(owner, &id))
                .delete(Space::Records, override_key(owner, &id))
                .delete(Space::Records, profile_key(owner, &id));
            erased.nodes = erased.nodes.saturating_add(1);
            if batch.len() >= DELETE_BATCH {
                let full = std::mem::take(&mut batch);
                self.store.apply(full).await.map_err(store_error)?;
            }
        }
        self.store.apply(batch).await.map_err(store_error)?;
        // Rows kept by owner; whatever the loop above left (a node row that
        // did not decode would have stopped it).
        for prefix in [
            nodes_prefix(owner),
            uploads_prefix(owner),
            rotation_parts_prefix(owner),
            leaves_prefix(owner),
            chain_prefix(owner),
            overrides_prefix(owner),
            profiles_prefix(owner),
        ] {
            self.delete_under(Space::Records, &prefix).await?;
        }
        let mut last = Batch::new();
        last.delete(Space::Records, rotation_key(owner))
            .delete(Space::Records, profile_seq_key(owner))
            .delete(Space::Records, head_key(owner));
        self.store.apply(last).await.map_err(store_error)?;
        Ok(erased)
    }

    /// Deletes every key under `prefix` in `space`, a page at a time. Never
    /// for the Blobs keyspace, whose values are whole chunks.
    pub(crate) async fn delete_under(&self, space: Space, prefix: &[u8]) -> Result<u64, ApiError> {
        let mut deleted = 0u64;
        loop {
            let rows = self
                .store
                .scan_prefix(space, prefix, None, DELETE_BATCH)
                .await
                .map_err(store_error)?;
            if rows.is_empty() {
                return Ok(deleted);
            }
            let mut batch = Batch::new();
            for (key, _) in rows {
                batch.delete(space, key);
                deleted = deleted.saturating_add(1);
            }
            self.store.apply(batch).await.map_err(store_error)?;
        }
    }
}
