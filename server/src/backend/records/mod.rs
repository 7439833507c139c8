//! The patient's record: folders, files and entries as ciphertext the server
//! cannot read, uploads in chunks, versions and the trash.
//!
//! Authorization is by key: every lookup starts from the caller's own user id
//! (see [`layout`]), so another user's id, an unknown id and a malformed one
//! all miss in the same way and answer the same `not_found`. Only patients
//! create records; a doctor reads through an active grant (see [`sharing`]).
//!
//! Every change to a record's structure happens under the owner's lock (one
//! process) and with a precondition on the record's head (any process), in one
//! store batch together with its audit event. Chunks of an upload are written
//! without the lock: each carries a precondition on its upload's state only.

pub mod layout;
pub mod rotation;
pub mod sharing;
mod trash;
mod upload;

use std::collections::{HashMap, HashSet};

use serde::de::DeserializeOwned;
use shared::{
    api::{
        records::{
            ChunkReceipt, NewNode, NodeKind, NodeView, RecordTree, RecordsBackend, UploadTicket,
            Usage, VersionView, MAX_NODES,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::{
        aead, hpke,
        sign::{FileManifest, Role, Signed},
        Id,
    },
    records::MAX_SEALED_METADATA,
};
use tokio::sync::{Mutex, MutexGuard};

use self::layout::{
    head_key, manifest_key, node_key, nodes_prefix, owner_key, version_key, versions_prefix,
    RecordHead, StoredNode, StoredVersion,
};
use super::{audit::Draft, sessions::Session, store_error, ServerBackend};
use crate::store::{codec, Batch, Space, StoreError};

/// Length of a node key wrapped under its parent's (a sealed 32-byte key).
pub const CHILD_KEY_LEN: usize = aead::SEAL_OVERHEAD + 32;
/// Length of a content key wrapped under its node's key.
pub const CONTENT_KEY_LEN: usize = aead::SEAL_OVERHEAD + 32;
/// Most versions `records/versions` lists.
const MAX_VERSIONS_LISTED: usize = 100_000;
/// Lock shards: owners whose ids fall in the same shard wait for each other.
const LOCK_SHARDS: usize = 64;

/// In-process locks that serialise the changes to one record, so concurrent
/// requests of one patient queue instead of failing each other's
/// preconditions. Correctness does not rest on them: the head's precondition
/// still guards every change.
pub struct RecordLocks([Mutex<()>; LOCK_SHARDS]);

impl Default for RecordLocks {
    fn default() -> Self {
        RecordLocks(std::array::from_fn(|_| Mutex::new(())))
    }
}

impl RecordLocks {
    async fn lock(&self, owner: &Id) -> MutexGuard<'_, ()> {
        // The modulo keeps the index in range.
        let shard = (usize::from(owner[0]) << 8 | usize::from(owner[1])) % LOCK_SHARDS;
        self.0[shard].lock().await
    }
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Conflict, message)
}

fn changed_meanwhile() -> ApiError {
    conflict(
        "Your record changed at the same time (in another tab or device). Reload and try again.",
    )
}

fn stale() -> ApiError {
    conflict(
        "This item changed since you loaded it (in another tab or device). Reload and try again.",
    )
}

fn id_taken() -> ApiError {
    conflict("An item with this id already exists. Try again.")
}

fn too_large(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, message)
}

/// A byte count for people, in the app's style ("930 bytes", "1.5 KB", "2 GB"),
/// so a quota message reads like the app's own size checks.
pub fn human_size(bytes: u64) -> String {
    shared::format::format_bytes(bytes)
}

/// Sealed metadata must be present and at most [`MAX_SEALED_METADATA`].
fn check_metadata(metadata: &[u8]) -> Result<(), ApiError> {
    if metadata.len() > MAX_SEALED_METADATA {
        return Err(ApiError::bad_request(format!(
            "The item's details are too large: {} bytes sealed, at most {MAX_SEALED_METADATA}.",
            metadata.len()
        )));
    }
    if metadata.len() <= aead::SEAL_OVERHEAD {
        return Err(ApiError::bad_request(
            "The item's details are missing or malformed.",
        ));
    }
    Ok(())
}

fn check_child_key(wrapped: &[u8]) -> Result<(), ApiError> {
    if wrapped.len() != CHILD_KEY_LEN {
        return Err(ApiError::bad_request(format!(
            "A node key wrapped under its folder's key must be {CHILD_KEY_LEN} bytes."
        )));
    }
    Ok(())
}

fn check_root_key(wrapped: &[u8]) -> Result<(), ApiError> {
    if wrapped.len() != hpke::WRAPPED_LEN {
        return Err(ApiError::bad_request(format!(
            "The record's root key wrapped to you must be {} bytes.",
            hpke::WRAPPED_LEN
        )));
    }
    Ok(())
}

/// The event of a change the caller makes to their own record.
fn event(session: &Session, kind: EventKind, item: &Id) -> Draft {
    sharing::event_on(session, &session.user.id, kind, item)
}

/// Adds the head's precondition and its new value to `batch`.
fn head_ops(batch: &mut Batch, owner: &Id, old: &[u8], new: &RecordHead) -> Result<(), ApiError> {
    batch
        .expect_value(Space::Records, head_key(owner), old.to_vec())
        .put(
            Space::Records,
            head_key(owner),
            codec::encode(new).map_err(store_error)?,
        );
    Ok(())
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    codec::encode(value).map_err(store_error)
}

/// Usernames of version authors, looked up once per answer.
type Names = HashMap<Id, String>;

/// What the stored bytes of a node count against the quota.
fn node_bytes(node: &StoredNode) -> u64 {
    node.metadata.len() as u64
}

fn new_stored_node(node: &NewNode, now: i64) -> StoredNode {
    StoredNode {
        node_id: node.node_id,
        parent_id: node.parent_id,
        kind: node.kind,
        wrapped_key: node.wrapped_key.clone(),
        metadata: node.metadata.clone(),
        revision: 1,
        trashed_at: None,
        current: None,
        version_count: 0,
        last_version: 0,
        created_at: now,
        purging: false,
    }
}

impl ServerBackend {
    async fn load<T: DeserializeOwned>(
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

    /// The record's head as stored, if the record exists.
    async fn record_head(&self, owner: &Id) -> Result<Option<(Vec<u8>, RecordHead)>, ApiError> {
        self.load(Space::Records, &head_key(owner)).await
    }

    /// The head, or `not_found` for someone without a record.
    async fn existing_head(&self, owner: &Id) -> Result<(Vec<u8>, RecordHead), ApiError> {
        self.record_head(owner)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    async fn stored_node(
        &self,
        owner: &Id,
        node: &Id,
    ) -> Result<Option<(Vec<u8>, StoredNode)>, ApiError> {
        self.load(Space::Records, &node_key(owner, node)).await
    }

    /// The caller's node, or `not_found` (whether missing or someone else's).
    async fn owned_node(&self, owner: &Id, node: &Id) -> Result<(Vec<u8>, StoredNode), ApiError> {
        self.stored_node(owner, node)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    async fn stored_version(
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
    async fn stored_manifest(
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
    async fn all_nodes(&self, owner: &Id) -> Result<Vec<StoredNode>, ApiError> {
        Ok(self
            .all_node_rows(owner)
            .await?
            .into_iter()
            .map(|(_, node)| node)
            .collect())
    }

    /// Every node of a record with its stored bytes (for preconditions).
    async fn all_node_rows(&self, owner: &Id) -> Result<Vec<(Vec<u8>, StoredNode)>, ApiError> {
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

    fn usage(&self, head: &RecordHead) -> Usage {
        Usage {
            used_bytes: head.used(),
            quota_bytes: self.config.records.quota_bytes,
            max_file_bytes: self.config.records.max_file_bytes,
        }
    }

    /// `413` unless `more` bytes fit in the quota on top of what `head` uses.
    fn check_quota(&self, head: &RecordHead, more: u64) -> Result<(), ApiError> {
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

    async fn author_name(&self, id: &Id, names: &mut Names) -> Result<String, ApiError> {
        if let Some(name) = names.get(id) {
            return Ok(name.clone());
        }
        let name = match self.user_by_id(id).await? {
            Some(user) => user.username,
            None => String::from("(a deleted account)"),
        };
        names.insert(*id, name.clone());
        Ok(name)
    }

    async fn version_view(
        &self,
        node_id: &Id,
        version: StoredVersion,
        names: &mut Names,
    ) -> Result<VersionView, ApiError> {
        let author_name = self.author_name(&version.author_id, names).await?;
        let manifest = self.stored_manifest(node_id, version.version).await?;
        let write_grant = match version.grant_id {
            Some(id) => Some(
                self.stored_grant(&id)
                    .await?
                    .ok_or_else(|| {
                        store_error(StoreError::Corrupt(
                            "a version's write grant is missing".into(),
                        ))
                    })?
                    .1
                    .grant,
            ),
            None => None,
        };
        Ok(VersionView {
            node_id: *node_id,
            version: version.version,
            chunk_size: version.chunk_size,
            ciphertext_len: version.ciphertext_len,
            wrapped_content_key: version.wrapped_content_key,
            manifest,
            author_id: version.author_id,
            author_name,
            stored_at: version.stored_at,
            write_grant,
        })
    }

    async fn node_view(&self, node: StoredNode, names: &mut Names) -> Result<NodeView, ApiError> {
        let current = match (node.kind, node.current) {
            (NodeKind::File, Some(v)) => {
                let version = self
                    .stored_version(&node.node_id, v)
                    .await?
                    .ok_or_else(|| {
                        store_error(StoreError::Corrupt(
                            "a file's current version is missing".into(),
                        ))
                    })?;
                Some(self.version_view(&node.node_id, version, names).await?)
            }
            _ => None,
        };
        Ok(NodeView {
            node_id: node.node_id,
            parent_id: node.parent_id,
            kind: node.kind,
            wrapped_key: node.wrapped_key,
            metadata: node.metadata,
            revision: node.revision,
            trashed_at: node.trashed_at,
            current,
            version_count: node.version_count,
        })
    }

    /// The folders from `start`'s parent up to the root, nearest first.
    async fn ancestors(&self, owner: &Id, start: &StoredNode) -> Result<Vec<StoredNode>, ApiError> {
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
    async fn target_folder(&self, owner: &Id, folder: &Id) -> Result<StoredNode, ApiError> {
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

    /// Applies a change (with its event, if any); a failed precondition means
    /// the record changed meanwhile.
    async fn commit(&self, batch: Batch, draft: Option<Draft>) -> Result<(), ApiError> {
        let done = match draft {
            Some(draft) => self.append(batch, draft).await.map(drop),
            None => self.store.apply(batch).await,
        };
        done.map_err(|e| match e {
            StoreError::Conflict => changed_meanwhile(),
            e => store_error(e),
        })
    }

    /// The whole record as the client sees it.
    async fn build_tree(&self, owner: &Id, head: &RecordHead) -> Result<RecordTree, ApiError> {
        let mut names = Names::new();
        let mut nodes = Vec::new();
        for node in self.all_nodes(owner).await? {
            if node.kind == NodeKind::File && node.current.is_none() {
                continue;
            }
            nodes.push(self.node_view(node, &mut names).await?);
        }
        Ok(RecordTree {
            owner_id: *owner,
            root_id: head.root_id,
            nodes,
            usage: self.usage(head),
        })
    }

    /// Writes a changed node (with a precondition on its old bytes) and the
    /// head, with the event, and answers the node's new view.
    async fn write_node(
        &self,
        session: &Session,
        kind: EventKind,
        node: (Vec<u8>, StoredNode),
        head: (Vec<u8>, RecordHead),
    ) -> Result<NodeView, ApiError> {
        self.write_node_of(session, &session.user.id, kind, node, head)
            .await
    }

    /// [`Self::write_node`] in `owner`'s record (a doctor writing on the
    /// owner's behalf).
    async fn write_node_of(
        &self,
        session: &Session,
        owner: &Id,
        kind: EventKind,
        (old_raw, node): (Vec<u8>, StoredNode),
        (head_raw, head): (Vec<u8>, RecordHead),
    ) -> Result<NodeView, ApiError> {
        let owner = *owner;
        let mut batch = Batch::new();
        head_ops(&mut batch, &owner, &head_raw, &head)?;
        batch
            .expect_value(Space::Records, node_key(&owner, &node.node_id), old_raw)
            .put(
                Space::Records,
                node_key(&owner, &node.node_id),
                encode(&node)?,
            );
        let draft = sharing::event_on(session, &owner, kind, &node.node_id);
        self.commit(batch, Some(draft)).await?;
        self.node_view(node, &mut Names::new()).await
    }
}

/// The next head: `seq` moved on, the rest as `change` sets it.
fn next_head(head: &RecordHead, change: impl FnOnce(&mut RecordHead)) -> RecordHead {
    let mut new = head.clone();
    new.seq = new.seq.wrapping_add(1);
    change(&mut new);
    new
}

#[async_trait::async_trait]
impl RecordsBackend for ServerBackend {
    async fn record_tree(&self, caller: &Caller) -> Result<Option<RecordTree>, ApiError> {
        let s = self.require_session(caller).await?;
        let owner = s.user.id;
        if self.record_head(&owner).await?.is_none() {
            return Ok(None);
        }
        // Under the lock, so the answer is one consistent state of the record.
        let _guard = self.record_locks.lock(&owner).await;
        if self.uploads_need_sweep(&owner).await? {
            self.sweep_uploads(&owner).await?;
        }
        let (_, head) = self.existing_head(&owner).await?;
        let tree = self.build_tree(&owner, &head).await?;
        // Logged before the answer leaves: seeing the list of items is access.
        self.record(event(&s, EventKind::RecordViewed, &tree.root_id))
            .await?;
        Ok(Some(tree))
    }

    async fn create_record(
        &self,
        caller: &Caller,
        root: NewNode,
        children: Vec<NewNode>,
    ) -> Result<RecordTree, ApiError> {
        let s = self.require_session(caller).await?;
        let owner = s.user.id;
        if s.user.role != Role::Patient {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only patients have a record of their own.",
            ));
        }
        if root.parent_id.is_some() || root.kind != NodeKind::Folder {
            return Err(ApiError::bad_request(
                "The root of a record is a folder without a parent.",
            ));
        }
        check_root_key(&root.wrapped_key)?;
        check_metadata(&root.metadata)?;
        if children.len() >= MAX_NODES {
            return Err(ApiError::bad_request(format!(
                "A record holds at most {MAX_NODES} items."
            )));
        }
        let mut folders = HashSet::from([root.node_id]);
        let mut ids = HashSet::from([root.node_id]);
        let mut bytes = root.metadata.len() as u64;
        for child in &children {
            if !ids.insert(child.node_id) {
                return Err(ApiError::bad_request("Two new items have the same id."));
            }
            match child.parent_id {
                Some(parent) if folders.contains(&parent) => {}
                _ => return Err(ApiError::bad_request(
                    "Each new item must go under the new root or a new folder listed before it.",
                )),
            }
            match child.kind {
                NodeKind::Folder => {
                    folders.insert(child.node_id);
                }
                NodeKind::Entry => {}
                NodeKind::File => {
                    return Err(ApiError::bad_request(
                        "A file is created by uploading it, not with the record.",
                    ))
                }
            }
            check_child_key(&child.wrapped_key)?;
            check_metadata(&child.metadata)?;
            bytes += child.metadata.len() as u64;
        }
        let now = self.now();
        let head = RecordHead {
            root_id: root.node_id,
            seq: 1,
            stored_bytes: bytes,
            reserved_bytes: 0,
            nodes: 1 + children.len() as u64,
        };
        let empty = RecordHead {
            stored_bytes: 0,
            ..head.clone()
        };
        self.check_quota(&empty, bytes)?;

        let _guard = self.record_locks.lock(&owner).await;
        if self.record_head(&owner).await?.is_some() {
            return Err(conflict("You already have a record."));
        }
        let mut batch = Batch::new();
        batch.expect_absent(Space::Records, head_key(&owner)).put(
            Space::Records,
            head_key(&owner),
            encode(&head)?,
        );
        for node in std::iter::once(&root).chain(&children) {
            let value = new_stored_node(node, now);
            batch
                .expect_absent(Space::Records, owner_key(&node.node_id))
                .put(Space::Records, owner_key(&node.node_id), owner.to_vec())
                .put(
                    Space::Records,
                    node_key(&owner, &node.node_id),
                    encode(&value)?,
                );
        }
        match self
            .commit(
                batch,
                Some(event(&s, EventKind::RecordCreated, &root.node_id)),
            )
            .await
        {
            Ok(()) => {}
            Err(e) if e.code == ErrorCode::Conflict => {
                return Err(if self.record_head(&owner).await?.is_some() {
                    conflict("You already have a record.")
                } else {
                    id_taken()
                })
            }
            Err(e) => return Err(e),
        }
        self.build_tree(&owner, &head).await
    }

    async fn create_node(&self, caller: &Caller, node: NewNode) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        let owner = s.user.id;
        let Some(parent_id) = node.parent_id else {
            return Err(ApiError::bad_request(
                "A new item needs the folder it goes into.",
            ));
        };
        if node.kind == NodeKind::File {
            return Err(ApiError::bad_request(
                "A file is created by uploading it (records/upload/start).",
            ));
        }
        check_child_key(&node.wrapped_key)?;
        check_metadata(&node.metadata)?;

        let _guard = self.record_locks.lock(&owner).await;
        let (head_raw, head) = self.existing_head(&owner).await?;
        self.target_folder(&owner, &parent_id).await?;
        if head.nodes >= MAX_NODES as u64 {
            return Err(conflict(format!(
                "Your record holds the most items it can ({MAX_NODES}). Empty the Trash or remove items first."
            )));
        }
        let bytes = node.metadata.len() as u64;
        self.check_quota(&head, bytes)?;
        if self
            .store
            .get(Space::Records, &owner_key(&node.node_id))
            .await
            .map_err(store_error)?
            .is_some()
        {
            return Err(id_taken());
        }
        let value = new_stored_node(&node, self.now());
        let new_head = next_head(&head, |h| {
            h.stored_bytes = h.stored_bytes.saturating_add(bytes);
            h.nodes += 1;
        });
        let mut batch = Batch::new();
        head_ops(&mut batch, &owner, &head_raw, &new_head)?;
        batch
            .expect_absent(Space::Records, owner_key(&node.node_id))
            .put(Space::Records, owner_key(&node.node_id), owner.to_vec())
            .put(
                Space::Records,
                node_key(&owner, &node.node_id),
                encode(&value)?,
            );
        self.commit(
            batch,
            Some(event(&s, EventKind::NodeCreated, &node.node_id)),
        )
        .await?;
        self.node_view(value, &mut Names::new()).await
    }

    async fn update_node(
        &self,
        caller: &Caller,
        node_id: Id,
        revision: u64,
        metadata: Vec<u8>,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        let owner = s.user.id;
        let _guard = self.record_locks.lock(&owner).await;
        let (head_raw, head) = self.existing_head(&owner).await?;
        let (raw, mut node) = self.owned_node(&owner, &node_id).await?;
        if node.revision != revision {
            return Err(stale());
        }
        if node.purging {
            return Err(conflict("This item is being deleted for good."));
        }
        check_metadata(&metadata)?;
        let old = node.metadata.len() as u64;
        let new = metadata.len() as u64;
        if new > old {
            self.check_quota(&head, new - old)?;
        }
        let new_head = next_head(&head, |h| {
            h.stored_bytes = h.stored_bytes.saturating_sub(old).saturating_add(new);
        });
        node.metadata = metadata;
        node.revision += 1;
        self.write_node(
            &s,
            EventKind::NodeUpdated,
            (raw, node),
            (head_raw, new_head),
        )
        .await
    }

    async fn move_node(
        &self,
        caller: &Caller,
        node_id: Id,
        revision: u64,
        new_parent_id: Id,
        wrapped_key: Vec<u8>,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        let owner = s.user.id;
        let _guard = self.record_locks.lock(&owner).await;
        let (head_raw, head) = self.existing_head(&owner).await?;
        let (raw, mut node) = self.owned_node(&owner, &node_id).await?;
        if node.parent_id.is_none() {
            return Err(ApiError::bad_request(
                "The top folder of your record cannot be moved.",
            ));
        }
        if node.revision != revision {
            return Err(stale());
        }
        if node.trashed_at.is_some() || node.purging {
            return Err(conflict(
                "This item is in the Trash. Restore it before moving it.",
            ));
        }
        check_child_key(&wrapped_key)?;
        let target = self.target_folder(&owner, &new_parent_id).await?;
        if target.node_id == node_id
            || self
                .ancestors(&owner, &target)
                .await?
                .iter()
                .any(|a| a.node_id == node_id)
        {
            return Err(conflict(
                "A folder cannot be moved into itself or into one of its own folders.",
            ));
        }
        node.parent_id = Some(new_parent_id);
        node.wrapped_key = wrapped_key;
        node.revision += 1;
        let new_head = next_head(&head, |_| {});
        self.write_node(&s, EventKind::NodeMoved, (raw, node), (head_raw, new_head))
            .await
    }

    async fn trash_node(
        &self,
        caller: &Caller,
        node_id: Id,
        revision: u64,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        // The owner, or a doctor with write access to a folder above it.
        let owner = self.write_access(&s, &node_id, true).await?.owner;
        let _guard = self.record_locks.lock(&owner).await;
        let (head_raw, head) = self.existing_head(&owner).await?;
        let (raw, mut node) = self.owned_node(&owner, &node_id).await?;
        if node.parent_id.is_none() {
            return Err(ApiError::bad_request(
                "The top folder of your record cannot be put in the Trash.",
            ));
        }
        if node.revision != revision {
            return Err(stale());
        }
        if node.trashed_at.is_some() {
            return Err(conflict("This item is already in the Trash."));
        }
        node.trashed_at = Some(self.now());
        node.revision += 1;
        let new_head = next_head(&head, |_| {});
        self.write_node_of(
            &s,
            &owner,
            EventKind::NodeTrashed,
            (raw, node),
            (head_raw, new_head),
        )
        .await
    }

    async fn restore_node(&self, caller: &Caller, node_id: Id) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        let owner = s.user.id;
        let _guard = self.record_locks.lock(&owner).await;
        let (head_raw, head) = self.existing_head(&owner).await?;
        let (raw, mut node) = self.owned_node(&owner, &node_id).await?;
        if node.trashed_at.is_none() {
            return Err(conflict("This item is not in the Trash."));
        }
        if node.purging {
            return Err(conflict(
                "This item is being deleted for good and cannot be restored.",
            ));
        }
        if self
            .ancestors(&owner, &node)
            .await?
            .iter()
            .any(|a| a.trashed_at.is_some())
        {
            return Err(conflict(
                "The folder this item was in is in the Trash too. Restore that folder first.",
            ));
        }
        node.trashed_at = None;
        node.revision += 1;
        let new_head = next_head(&head, |_| {});
        self.write_node(
            &s,
            EventKind::NodeRestored,
            (raw, node),
            (head_raw, new_head),
        )
        .await
    }

    async fn empty_trash(&self, caller: &Caller) -> Result<Usage, ApiError> {
        let s = self.require_session(caller).await?;
        self.empty_trash_of(&s).await
    }

    async fn list_versions(
        &self,
        caller: &Caller,
        node_id: Id,
    ) -> Result<Vec<VersionView>, ApiError> {
        let s = self.require_session(caller).await?;
        let (owner, node) = self.readable_node(&s, &node_id).await?;
        if node.kind != NodeKind::File {
            return Ok(Vec::new());
        }
        self.record(sharing::event_on(
            &s,
            &owner,
            EventKind::VersionsViewed,
            &node_id,
        ))
        .await?;
        let rows = self
            .store
            .scan_prefix(
                Space::Records,
                &versions_prefix(&node_id),
                None,
                MAX_VERSIONS_LISTED,
            )
            .await
            .map_err(store_error)?;
        let mut names = Names::new();
        let mut out = Vec::with_capacity(rows.len());
        for (_, value) in rows.iter().rev() {
            let version: StoredVersion = codec::decode(value).map_err(store_error)?;
            out.push(self.version_view(&node_id, version, &mut names).await?);
        }
        Ok(out)
    }

    async fn restore_version(
        &self,
        caller: &Caller,
        node_id: Id,
        version: u32,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        let owner = s.user.id;
        let _guard = self.record_locks.lock(&owner).await;
        let (head_raw, head) = self.existing_head(&owner).await?;
        let (raw, mut node) = self.owned_node(&owner, &node_id).await?;
        if node.kind != NodeKind::File {
            return Err(ApiError::bad_request("Only files have versions."));
        }
        if self.stored_version(&node_id, version).await?.is_none() {
            return Err(ApiError::not_found());
        }
        if node.purging {
            return Err(conflict("This item is being deleted for good."));
        }
        if node.current == Some(version) {
            // Already current: a repeated request (say, after a lost answer).
            return self.node_view(node, &mut Names::new()).await;
        }
        node.current = Some(version);
        node.revision += 1;
        let new_head = next_head(&head, |_| {});
        self.write_node(
            &s,
            EventKind::VersionRestored,
            (raw, node),
            (head_raw, new_head),
        )
        .await
    }

    async fn start_upload(
        &self,
        caller: &Caller,
        node_id: Id,
        new_node: Option<NewNode>,
        chunk_size: u32,
        ciphertext_len: u64,
    ) -> Result<UploadTicket, ApiError> {
        let s = self.require_session(caller).await?;
        self.start(&s, node_id, new_node, chunk_size, ciphertext_len)
            .await
    }

    async fn put_chunk(
        &self,
        caller: &Caller,
        node_id: Id,
        version: u32,
        index: u32,
        bytes: server_fn::Bytes,
    ) -> Result<ChunkReceipt, ApiError> {
        let s = self.require_session(caller).await?;
        self.store_chunk(&s, node_id, version, index, &bytes).await
    }

    async fn finish_upload(
        &self,
        caller: &Caller,
        node_id: Id,
        version: u32,
        wrapped_content_key: Vec<u8>,
        manifest: Signed<FileManifest>,
        metadata: Vec<u8>,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        self.finish(
            &s,
            node_id,
            version,
            wrapped_content_key,
            manifest,
            metadata,
        )
        .await
    }

    async fn cancel_upload(
        &self,
        caller: &Caller,
        node_id: Id,
        version: u32,
    ) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        self.cancel(&s, node_id, version).await
    }

    async fn get_chunk(
        &self,
        caller: &Caller,
        node_id: Id,
        version: u32,
        index: u32,
    ) -> Result<server_fn::Bytes, ApiError> {
        let s = self.require_session(caller).await?;
        self.read_chunk(&s, node_id, version, index).await
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(10 << 30), "10 GB");
        assert_eq!(human_size(2 << 30), "2 GB");
        assert_eq!(human_size(300 << 20), "300 MB");
    }
}
