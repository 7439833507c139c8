//! The patient's record: folders, files and entries as ciphertext the server
//! cannot read, uploads in chunks, versions and the trash.
//!
//! Authorization is by key: every lookup starts from the caller's own user id
//! (see [`layout`]), so another user's id, an unknown id and a malformed one
//! all miss in the same way and answer the same `not_found`. Only patients
//! create records; a doctor reads through an active grant (see [`crate::authz`]).
//!
//! Every change to a record's structure happens under the owner's lock (one
//! process) and with a precondition on the record's head (any process), in one
//! store batch together with its audit event. Chunks of an upload are written
//! without the lock: each carries a precondition on its upload's state only.
//!
//! The `RecordsBackend` impl below checks the session and hands each typed
//! request to the file that does the work: `nodes` (the tree and changes to
//! one node), `versions` (list, restore, read a chunk), `upload` (start,
//! chunks, cancel), `finish`, `sweep` (dropping uploads), `trash`
//! (emptying it) and [`rotation`]; `reads` and `views` are the shared
//! reads and answers.

mod batch;
mod create;
mod erase;
mod finish;
mod heads;
pub mod layout;
pub mod locks;
mod nodes;
mod profile;
mod reads;
pub mod rotation;
mod signed;
mod sweep;
mod trash;
mod upload;
mod versions;
mod views;

use std::collections::HashMap;

use shared::{
    api::{
        records::{
            AdoptRequest, BatchRequest, ChunkReceipt, FinishUploadRequest, MoveNodeRequest,
            NewNode, NewRecordRequest, NodeRef, NodeRevision, NodeView, ProfileCopies, RecordTree,
            RecordsBackend, StartUploadRequest, UnfinishedUpload, UpdateNodeRequest, UploadTicket,
            Usage, VersionRef, VersionView,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::{aead, hpke, sign::Signed},
    model::Id,
    records::{RecordHead as SignedHead, MAX_SEALED_METADATA},
};
use tokio::sync::MutexGuard;

use self::{
    layout::{head_key, node_key, RecordHead, StoredNode},
    signed::Signing,
};
use super::{audit::Draft, sessions::Session, store_error, ServerBackend};
use crate::store::{codec, Batch, Space, StoreError};

/// Length of a node key wrapped under its parent's (a sealed 32-byte key).
pub const CHILD_KEY_LEN: usize = aead::SEAL_OVERHEAD + 32;
/// Length of a content key wrapped under its node's key.
pub const CONTENT_KEY_LEN: usize = aead::SEAL_OVERHEAD + 32;
/// Most versions `records/versions` lists.
const MAX_VERSIONS_LISTED: usize = 100_000;

pub(crate) fn conflict(message: impl Into<String>) -> ApiError {
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

/// An event about `owner`'s record done by the session's user.
pub(crate) fn event_on(session: &Session, owner: &Id, kind: EventKind, item: &Id) -> Draft {
    Draft::new(kind)
        .actor(&session.user.id)
        .session(&session.hash)
        .subject(owner)
        .item(item)
}

/// The event of a change the caller makes to their own record.
fn event(session: &Session, kind: EventKind, item: &Id) -> Draft {
    event_on(session, &session.user.id, kind, item)
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

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    codec::encode(value).map_err(store_error)
}

/// Usernames of version authors, looked up once per answer.
pub(crate) type Names = HashMap<Id, String>;

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
        state: None,
        write_grant: None,
    }
}

impl ServerBackend {
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

    /// Locks `owner`'s record and reads its head and the node: the start of
    /// every change to one node (`not_found` for a node not in that record).
    async fn change_node(&self, owner: Id, node_id: &Id) -> Result<NodeChange<'_>, ApiError> {
        let guard = self.record_locks.lock(&owner).await;
        let (head_raw, head) = self.existing_head(&owner).await?;
        let (node_raw, node) = self.owned_node(&owner, node_id).await?;
        Ok(NodeChange {
            _guard: guard,
            owner,
            head_raw,
            head,
            node_raw,
            node,
        })
    }

    /// Writes a changed node (with a precondition on its old bytes), its
    /// signed state (checked), and the next head (as `change_head` sets it,
    /// with the owner's next signed head checked), with the event, in the
    /// owner's record (the caller's own, or a patient's for a doctor writing
    /// on their behalf), and answers the node's new view.
    async fn save_node(
        &self,
        session: &Session,
        kind: EventKind,
        change: NodeChange<'_>,
        mut signing: Signing,
        change_head: impl FnOnce(&mut RecordHead),
    ) -> Result<NodeView, ApiError> {
        let NodeChange {
            _guard: _held,
            owner,
            head_raw,
            head,
            node_raw,
            mut node,
        } = change;
        let mut new_head = next_head(&head, change_head);
        let mut batch = Batch::new();
        let leaf = self
            .attach_state(session, &owner, &mut node, &mut signing, None)
            .await?;
        new_head.signed = self
            .sign_off(
                &mut batch,
                session,
                &owner,
                &head,
                &[(node.node_id, Some(leaf))],
                signing.head,
            )
            .await?;
        head_ops(&mut batch, &owner, &head_raw, &new_head)?;
        batch
            .expect_value(Space::Records, node_key(&owner, &node.node_id), node_raw)
            .put(
                Space::Records,
                node_key(&owner, &node.node_id),
                encode(&node)?,
            );
        let draft = event_on(session, &owner, kind, &node.node_id);
        self.commit(batch, Some(draft)).await?;
        self.node_view(node, &mut Names::new()).await
    }
}

/// One node being changed: the owner's lock held, and the record's head and
/// the node as read (their bytes are the preconditions of the write).
struct NodeChange<'a> {
    _guard: MutexGuard<'a, ()>,
    owner: Id,
    head_raw: Vec<u8>,
    head: RecordHead,
    node_raw: Vec<u8>,
    node: StoredNode,
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
        nodes::tree(self, &s).await
    }

    async fn record_seq(&self, caller: &Caller) -> Result<Option<u64>, ApiError> {
        let s = self.require_session(caller).await?;
        nodes::seq(self, &s).await
    }

    async fn create_record(
        &self,
        caller: &Caller,
        record: NewRecordRequest,
    ) -> Result<RecordTree, ApiError> {
        let s = self.require_session(caller).await?;
        create::create_record(self, &s, record).await
    }

    async fn create_node(
        &self,
        caller: &Caller,
        node: NewNode,
        head: Option<Signed<SignedHead>>,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        nodes::create(self, &s, node, head).await
    }

    async fn update_node(
        &self,
        caller: &Caller,
        request: UpdateNodeRequest,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        nodes::update(self, &s, request).await
    }

    async fn move_node(
        &self,
        caller: &Caller,
        request: MoveNodeRequest,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        nodes::move_to(self, &s, request).await
    }

    async fn trash_node(
        &self,
        caller: &Caller,
        request: NodeRevision,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        nodes::trash(self, &s, request).await
    }

    async fn restore_node(&self, caller: &Caller, request: NodeRef) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        nodes::restore(self, &s, request).await
    }

    async fn empty_trash(
        &self,
        caller: &Caller,
        head: Option<Signed<SignedHead>>,
    ) -> Result<Usage, ApiError> {
        let s = self.require_session(caller).await?;
        trash::empty(self, &s, head).await
    }

    async fn fold_head(&self, caller: &Caller, head: Signed<SignedHead>) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        heads::fold(self, &s, head).await
    }

    async fn record_heads(
        &self,
        caller: &Caller,
        after: u64,
    ) -> Result<Vec<Signed<SignedHead>>, ApiError> {
        let s = self.require_session(caller).await?;
        self.head_chain(&s.user.id, after).await
    }

    async fn adopt_record(
        &self,
        caller: &Caller,
        request: AdoptRequest,
    ) -> Result<RecordTree, ApiError> {
        let s = self.require_session(caller).await?;
        heads::adopt(self, &s, request).await
    }

    async fn batch(&self, caller: &Caller, request: BatchRequest) -> Result<Usage, ApiError> {
        let s = self.require_session(caller).await?;
        batch::batch(self, &s, request).await
    }

    async fn list_versions(
        &self,
        caller: &Caller,
        node_id: Id,
    ) -> Result<Vec<VersionView>, ApiError> {
        let s = self.require_session(caller).await?;
        versions::list(self, &s, node_id).await
    }

    async fn restore_version(
        &self,
        caller: &Caller,
        request: VersionRef,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        versions::restore(self, &s, request).await
    }

    async fn start_upload(
        &self,
        caller: &Caller,
        request: StartUploadRequest,
    ) -> Result<UploadTicket, ApiError> {
        let s = self.require_session(caller).await?;
        upload::start(self, &s, request).await
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
        upload::store_chunk(self, &s, node_id, version, index, &bytes).await
    }

    async fn finish_upload(
        &self,
        caller: &Caller,
        request: FinishUploadRequest,
    ) -> Result<NodeView, ApiError> {
        let s = self.require_session(caller).await?;
        finish::finish(self, &s, request).await
    }

    async fn cancel_upload(&self, caller: &Caller, request: VersionRef) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        upload::cancel(self, &s, request).await
    }

    async fn upload_status(
        &self,
        caller: &Caller,
        request: VersionRef,
    ) -> Result<UnfinishedUpload, ApiError> {
        let s = self.require_session(caller).await?;
        upload::status(self, &s, request).await
    }

    async fn get_chunk(
        &self,
        caller: &Caller,
        node_id: Id,
        version: u32,
        index: u32,
    ) -> Result<server_fn::Bytes, ApiError> {
        self.read_chunk(caller, node_id, version, index).await
    }

    async fn profile_copies(&self, caller: &Caller) -> Result<ProfileCopies, ApiError> {
        let s = self.require_session(caller).await?;
        profile::copies(self, &s).await
    }

    async fn put_profile_copies(
        &self,
        caller: &Caller,
        copies: ProfileCopies,
    ) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        profile::put(self, &s, copies).await
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
