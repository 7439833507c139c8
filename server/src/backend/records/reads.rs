//! Reading a record: its head, nodes, versions and manifests, the folders
//! above a node, the quota, and one chunk of a complete version (a download).
//! Every read starts from a key of [`super::layout`], so a node of another
//! record simply misses.

use serde::de::DeserializeOwned;
use shared::{
    api::{
        records::{NodeKind, Usage, MAX_NODES},
        ApiError, Caller,
    },
    audit::EventKind,
    crypto::{sign::Signed, stream::TAG_LEN},
    model::{FileManifest, Id},
};

use super::{
    conflict, human_size,
    layout::{
        chunk_key, head_key, manifest_key, node_key, nodes_prefix, owner_key, version_key,
        RecordHead, StoredNode, StoredVersion,
    },
    too_large,
};
use crate::{
    backend::{
        access_cache::{Readable, TTL_SECS},
        sessions::token_hash,
        store_error, ServerBackend,
    },
    store::{codec, Batch, Space, StoreError, SMALL_READ_MAX},
};

impl ServerBackend {
    pub(crate) async fn load<T: DeserializeOwned>(
        &self,
        space: Space,
        key: &[u8],
    ) -> Result<Option<(Vec<u8>, T)>, ApiError> {
        match self.store.get(space, key).await.map_err(store_error)? {
            Some(raw) => {
                let value = codec::decode(&raw).map_err(store_error)?;
                Ok(Some((raw, value)))
            }
            None => Ok(None),
        }
    }

    /// Who owns a node, from the owner index.
    pub(crate) async fn node_owner(&self, node: &Id) -> Result<Option<Id>, ApiError> {
        let raw = self
            .store
            .get(Space::Records, &owner_key(node))
            .await
            .map_err(store_error)?;
        Ok(raw.and_then(|r| <Id>::try_from(r.as_slice()).ok()))
    }

    /// The record's head as stored, if the record exists.
    pub(super) async fn record_head(
        &self,
        owner: &Id,
    ) -> Result<Option<(Vec<u8>, RecordHead)>, ApiError> {
        self.load(Space::Records, &head_key(owner)).await
    }

    /// The head, or `not_found` for someone without a record.
    pub(crate) async fn existing_head(
        &self,
        owner: &Id,
    ) -> Result<(Vec<u8>, RecordHead), ApiError> {
        self.record_head(owner)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    pub(crate) async fn stored_node(
        &self,
        owner: &Id,
        node: &Id,
    ) -> Result<Option<(Vec<u8>, StoredNode)>, ApiError> {
        self.load(Space::Records, &node_key(owner, node)).await
    }

    /// The caller's node, or `not_found` (whether missing or someone else's).
    pub(crate) async fn owned_node(
        &self,
        owner: &Id,
        node: &Id,
    ) -> Result<(Vec<u8>, StoredNode), ApiError> {
        self.stored_node(owner, node)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    pub(super) async fn stored_version(
        &self,
        node: &Id,
        version: u32,
    ) -> Result<Option<StoredVersion>, ApiError> {
        Ok(self
            .load(Space::Records, &version_key(node, version))
            .await?
            .map(|(_, v)| v))
    }

    /// A complete version's manifest.
    pub(super) async fn stored_manifest(
        &self,
        node: &Id,
        version: u32,
    ) -> Result<Signed<FileManifest>, ApiError> {
        self.load(Space::Records, &manifest_key(node, version))
            .await?
            .map(|(_, m)| m)
            .ok_or_else(|| {
                store_error(StoreError::Corrupt(
                    "a version's manifest is missing".into(),
                ))
            })
    }

    /// Every node of a record, in key order.
    pub(crate) async fn all_nodes(&self, owner: &Id) -> Result<Vec<StoredNode>, ApiError> {
        Ok(self
            .all_node_rows(owner)
            .await?
            .into_iter()
            .map(|(_, node)| node)
            .collect())
    }

    /// Every node of a record with its stored bytes (for preconditions).
    pub(super) async fn all_node_rows(
        &self,
        owner: &Id,
    ) -> Result<Vec<(Vec<u8>, StoredNode)>, ApiError> {
        let rows = self
            .store
            .scan_prefix(
                Space::Records,
                &nodes_prefix(owner),
                None,
                MAX_NODES.saturating_add(1000),
            )
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(_, raw)| {
                let node = codec::decode(&raw).map_err(store_error)?;
                Ok((raw, node))
            })
            .collect()
    }

    pub(crate) fn usage(&self, head: &RecordHead) -> Usage {
        Usage {
            used_bytes: head.used(),
            quota_bytes: self.config.records.quota_bytes,
            max_file_bytes: self.config.records.max_file_bytes,
        }
    }

    /// `413` unless `more` bytes fit in the quota on top of what `head` uses.
    pub(super) fn check_quota(&self, head: &RecordHead, more: u64) -> Result<(), ApiError> {
        let quota = self.config.records.quota_bytes;
        let used = head.used();
        if used.saturating_add(more) <= quota {
            return Ok(());
        }
        let left = quota.saturating_sub(used);
        Err(too_large(format!(
            "There is not enough space left in your record: {} of your {} are free, and this needs {}. Empty the Trash or delete old versions to make room.",
            human_size(left),
            human_size(quota),
            human_size(more)
        )))
    }

    /// The folders from `start`'s parent up to the root, nearest first.
    pub(crate) async fn ancestors(
        &self,
        owner: &Id,
        start: &StoredNode,
    ) -> Result<Vec<StoredNode>, ApiError> {
        let mut out = Vec::new();
        let mut next = start.parent_id;
        while let Some(id) = next {
            if out.len() > MAX_NODES {
                return Err(store_error(StoreError::Corrupt(
                    "a record's folders form a cycle".into(),
                )));
            }
            let (_, node) = self.stored_node(owner, &id).await?.ok_or_else(|| {
                store_error(StoreError::Corrupt("a node's parent is missing".into()))
            })?;
            next = node.parent_id;
            out.push(node);
        }
        Ok(out)
    }

    /// The folder something new goes into: the caller's (`not_found`), a
    /// folder (`bad_request`), and neither it nor a folder above it in the
    /// trash (`conflict`).
    pub(super) async fn target_folder(
        &self,
        owner: &Id,
        folder: &Id,
    ) -> Result<StoredNode, ApiError> {
        let (_, node) = self.owned_node(owner, folder).await?;
        if node.kind != NodeKind::Folder {
            return Err(ApiError::bad_request(
                "Items can only go into a folder, not into a file or an entry.",
            ));
        }
        if node.trashed_at.is_some() || node.purging {
            return Err(conflict(
                "That folder is in the Trash. Restore it first, or choose another folder.",
            ));
        }
        if self
            .ancestors(owner, &node)
            .await?
            .iter()
            .any(|a| a.trashed_at.is_some())
        {
            return Err(conflict(
                "That folder is inside a folder in the Trash. Restore it first, or choose another folder.",
            ));
        }
        Ok(node)
    }

    /// One chunk of a complete version, for its owner or a doctor whose
    /// active grant covers the file; chunk 0 is logged as a read (a download
    /// starts there) before any content leaves.
    ///
    /// The answer to "may this session read this version" is kept for a few
    /// seconds ([`super::super::access_cache`]), so the other chunks of a
    /// download are served after one lookup; a write that could change the
    /// answer, or the end of the session or grant, forgets it.
    pub(crate) async fn read_chunk(
        &self,
        caller: &Caller,
        node_id: Id,
        version: u32,
        index: u32,
    ) -> Result<server_fn::Bytes, ApiError> {
        let session = caller.session_token.as_deref().and_then(|t| token_hash(t));
        if index != 0 {
            if let Some(hash) = &session {
                if let Some(known) = self.access.readable(hash, &node_id, version, self.now()) {
                    if index >= known.chunk_count {
                        return Err(ApiError::not_found());
                    }
                    return self
                        .chunk_bytes(&node_id, version, index, known.chunk_size)
                        .await;
                }
            }
        }
        // Read before the checks: a write during them leaves nothing kept.
        let generation = self.access.generation();
        let s = self.require_session(caller).await?;
        let (owner, grants_until) = self.readable_until(&s, &node_id).await?;
        let stored = self
            .stored_version(&node_id, version)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if index >= stored.chunk_count {
            return Err(ApiError::not_found());
        }
        let bytes = self
            .chunk_bytes(&node_id, version, index, stored.chunk_size)
            .await?;
        if index == 0 {
            // Logged before any content leaves: a download starts here.
            let draft = super::event_on(&s, &owner, EventKind::FileRead, &node_id);
            self.append(Batch::new(), draft)
                .await
                .map_err(store_error)?;
        }
        let until = self
            .now()
            .saturating_add(TTL_SECS)
            .min(self.session_until(&s.record))
            .min(grants_until);
        let readable = Readable {
            chunk_count: stored.chunk_count,
            chunk_size: stored.chunk_size,
            until,
        };
        self.access
            .keep(generation, &s.hash, &node_id, version, readable);
        Ok(bytes)
    }

    /// The stored bytes of one chunk of a version of `chunk_size`, or
    /// `not_found`. Small chunks are read on this thread
    /// ([`crate::store::Store::get_small`]).
    async fn chunk_bytes(
        &self,
        node_id: &Id,
        version: u32,
        index: u32,
        chunk_size: u32,
    ) -> Result<server_fn::Bytes, ApiError> {
        let key = chunk_key(node_id, version, index);
        let sealed = u64::from(chunk_size).saturating_add(TAG_LEN as u64);
        let read = if sealed <= SMALL_READ_MAX {
            self.store.get_small(Space::Blobs, &key).await
        } else {
            self.store.get(Space::Blobs, &key).await
        };
        let bytes = read.map_err(store_error)?.ok_or_else(ApiError::not_found)?;
        Ok(server_fn::Bytes::from(bytes))
    }
}
