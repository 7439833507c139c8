//! Dropping uploads: a cancel, an expiry or a failed finish first marks the
//! upload `dropping` and frees its quota in one batch, then deletes its
//! chunks, then its record. A crash in between leaves a `dropping` record
//! that the next sweep finishes.
//!
//! A doctor's upload that can never finish (no active read-and-write grant of
//! theirs covers where it writes any more: removed, declined, expired) is
//! dropped as soon as that is noticed, so it never blocks a key rotation.

use std::collections::{HashMap, HashSet};

use shared::{
    api::{sharing::GrantStatus, ApiError},
    model::{Id, Permission},
    sharing::{grant_allows, GrantTime},
};

use super::{
    changed_meanwhile, conflict, encode, head_ops,
    layout::{chunk_key, hash_key, node_key, owner_key, upload_key, uploads_prefix, StoredUpload},
    next_head,
    upload::{CHUNK_TRIES, MAX_OPEN_UPLOADS},
};
use crate::{
    backend::{store_error, ServerBackend},
    store::{codec, Batch, Space, StoreError},
};

/// Chunk keys deleted per batch when content is dropped.
pub(super) const DELETE_BATCH: usize = 512;

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
            self.delete_chunks(node_id, version, upload.chunk_count)
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
    pub(crate) async fn open_uploads(
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

    /// Drops the unfinished uploads in `owner`'s record that a doctor started
    /// and can no longer finish: no active read-and-write grant of theirs
    /// covers the folder (or file) the upload writes into. `only` limits it
    /// to one doctor's. The owner's lock must be held.
    pub(crate) async fn drop_orphaned_uploads(
        &self,
        owner: &Id,
        only: Option<&Id>,
    ) -> Result<(), ApiError> {
        let doomed: Vec<StoredUpload> = self
            .open_uploads(owner)
            .await?
            .into_iter()
            .map(|(_, u)| u)
            .filter(|u| {
                !u.dropping
                    && u.uploader
                        .is_some_and(|d| d != *owner && only.is_none_or(|o| *o == d))
            })
            .collect();
        if doomed.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let grants = self.grants_of_patient(owner).await?;
        let parents: HashMap<Id, Option<Id>> = self
            .all_node_rows(owner)
            .await?
            .into_iter()
            .map(|(_, n)| (n.node_id, n.parent_id))
            .collect();
        for upload in doomed {
            let Some(doctor) = upload.uploader else {
                continue;
            };
            let target = upload
                .new_node
                .as_ref()
                .and_then(|n| n.parent_id)
                .unwrap_or(upload.node_id);
            let path = path_of(&parents, target);
            let covered = grants.iter().any(|(_, g)| {
                g.grant.value.doctor_id == doctor
                    && g.status(now) == GrantStatus::Active
                    && grant_allows(
                        &g.grant.value,
                        None,
                        Permission::ReadWrite,
                        GrantTime::Now(now),
                        |folder| path.contains(folder),
                    )
                    .is_ok()
            });
            if !covered {
                self.drop_upload(owner, &upload.node_id, upload.version)
                    .await?;
            }
        }
        Ok(())
    }

    /// The refusal for a rotation commit while an upload into the rotated
    /// nodes `ids` is unfinished, naming whose it is; `None` if there is none.
    pub(crate) async fn upload_blocking(
        &self,
        owner: &Id,
        ids: &HashSet<Id>,
    ) -> Result<Option<ApiError>, ApiError> {
        let blocking = self.open_uploads(owner).await?.into_iter().find(|(_, u)| {
            !u.dropping
                && (ids.contains(&u.node_id)
                    || u.new_node
                        .as_ref()
                        .is_some_and(|n| n.parent_id.is_some_and(|p| ids.contains(&p))))
        });
        let Some((_, upload)) = blocking else {
            return Ok(None);
        };
        let whose = match upload.uploader.filter(|d| d != owner) {
            Some(doctor) => format!(
                "{}'s upload",
                self.author_name(&doctor, &mut super::Names::new()).await?
            ),
            None => "Your own upload (in another tab or device)".to_owned(),
        };
        Ok(Some(conflict(format!(
            "{whose} into this folder is still running, so its keys cannot be replaced yet. Cancel that upload from the Sharing page, or let it finish, then replace the keys again."
        ))))
    }
}

/// `node` and every folder above it, as far as the record's nodes go (a
/// loop in corrupt data stops after as many steps as there are nodes).
fn path_of(parents: &HashMap<Id, Option<Id>>, node: Id) -> Vec<Id> {
    let mut path = vec![node];
    let mut at = node;
    while let Some(Some(parent)) = parents.get(&at) {
        if path.len() > parents.len() {
            break;
        }
        path.push(*parent);
        at = *parent;
    }
    path
}
