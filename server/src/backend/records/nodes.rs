//! The record's tree: reading it whole, creating it, and the changes to one
//! node (create, rename or edit, move, trash, restore). Each change runs
//! under the owner's lock with a precondition on the record's head (see
//! [`ServerBackend::change_node`] and [`ServerBackend::save_node`]).

use shared::{
    api::{
        records::{
            MoveNodeRequest, NewNode, NodeKind, NodeRef, NodeRevision, NodeView, RecordTree,
            UpdateNodeRequest, MAX_NODES,
        },
        ApiError, ErrorCode,
    },
    audit::EventKind,
    crypto::sign::Signed,
    model::Id,
    records::RecordHead as OwnerHead,
};
use tokio::sync::MutexGuard;

use super::{
    check_child_key, check_metadata, conflict, encode, event, event_on, head_ops, id_taken,
    layout::{node_key, owner_key, RecordHead},
    new_stored_node, next_head,
    signed::Signing,
    stale, Names,
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{Batch, Space},
};

/// The head of `owner`'s record with its expired uploads dropped, held under
/// the record's lock so that what the caller reads next is one consistent
/// state; `None` before the record exists. What `tree` and `seq` both start
/// from.
async fn swept_head<'a>(
    b: &'a ServerBackend,
    owner: &Id,
) -> Result<Option<(MutexGuard<'a, ()>, RecordHead)>, ApiError> {
    if b.record_head(owner).await?.is_none() {
        return Ok(None);
    }
    let guard = b.record_locks.lock(owner).await;
    if b.uploads_need_sweep(owner).await? {
        b.sweep_uploads(owner).await?;
    }
    let (_, head) = b.existing_head(owner).await?;
    Ok(Some((guard, head)))
}

/// The caller's record, or `None` before they made one; logged as a view.
pub(super) async fn tree(b: &ServerBackend, s: &Session) -> Result<Option<RecordTree>, ApiError> {
    let owner = s.user.id;
    let Some((_guard, head)) = swept_head(b, &owner).await? else {
        return Ok(None);
    };
    let tree = b.build_tree(&owner, &head).await?;
    // Logged before the answer leaves: seeing the list of items is access.
    b.record(event(s, EventKind::RecordViewed, &tree.root_id))
        .await?;
    Ok(Some(tree))
}

/// The change counter of the caller's record. Logged as a view of the list
/// of items, like [`tree`]: the browser shows the list it holds once this
/// says that list is current. Expired uploads are dropped first, as `tree`
/// does, so the counter covers that change too.
pub(super) async fn seq(b: &ServerBackend, s: &Session) -> Result<Option<u64>, ApiError> {
    let Some((_guard, head)) = swept_head(b, &s.user.id).await? else {
        return Ok(None);
    };
    b.record(event(s, EventKind::RecordViewed, &head.root_id))
        .await?;
    Ok(Some(head.seq))
}

pub(super) async fn create(
    b: &ServerBackend,
    s: &Session,
    node: NewNode,
    head: Option<Signed<OwnerHead>>,
) -> Result<NodeView, ApiError> {
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
    // The owner, or a doctor with write access to the folder (the folder
    // they were given or any folder under it).
    let access = b.write_access(s, &parent_id, false).await?;
    let owner = access.owner;

    let signed_head = head;
    let _guard = b.record_locks.lock(&owner).await;
    let (head_raw, head) = b.existing_head(&owner).await?;
    b.target_folder(&owner, &parent_id).await?;
    if head.nodes >= MAX_NODES as u64 {
        return Err(conflict(format!(
            "Your record holds the most items it can ({MAX_NODES}). Empty the Trash or remove items first."
        )));
    }
    let bytes = node.metadata.len() as u64;
    b.check_quota(&head, bytes)?;
    if b.store
        .get(Space::Records, &owner_key(&node.node_id))
        .await
        .map_err(store_error)?
        .is_some()
    {
        return Err(id_taken());
    }
    let mut value = new_stored_node(&node, b.now());
    let mut new_head = next_head(&head, |h| {
        h.stored_bytes = h.stored_bytes.saturating_add(bytes);
        h.nodes += 1;
    });
    let mut batch = Batch::new();
    let mut signing = Signing {
        state: node.state.clone(),
        head: signed_head,
        grant: access.grant_id,
    };
    let leaf = b
        .attach_state(s, &owner, &mut value, &mut signing, None)
        .await?;
    new_head.signed = b
        .sign_off(
            &mut batch,
            s,
            &owner,
            &head,
            &[(node.node_id, Some(leaf))],
            signing.head,
        )
        .await?;
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    batch
        .expect_absent(Space::Records, owner_key(&node.node_id))
        .put(Space::Records, owner_key(&node.node_id), owner.to_vec())
        .put(
            Space::Records,
            node_key(&owner, &node.node_id),
            encode(&value)?,
        );
    let draft = event_on(s, &owner, EventKind::NodeCreated, &node.node_id);
    b.commit(batch, Some(draft)).await?;
    b.node_view(value, &mut Names::new()).await
}

pub(super) async fn update(
    b: &ServerBackend,
    s: &Session,
    UpdateNodeRequest {
        node_id,
        revision,
        metadata,
        state,
        head,
    }: UpdateNodeRequest,
) -> Result<NodeView, ApiError> {
    // The owner, or a doctor with write access to a folder above it.
    let access = b.write_access(s, &node_id, true).await?;
    let owner = access.owner;
    let mut change = b.change_node(owner, &node_id).await?;
    let node = &mut change.node;
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
        b.check_quota(&change.head, new - old)?;
    }
    node.metadata = metadata;
    node.revision += 1;
    let signing = Signing {
        state,
        head,
        grant: access.grant_id,
    };
    b.save_node(s, EventKind::NodeUpdated, change, signing, |h| {
        h.stored_bytes = h.stored_bytes.saturating_sub(old).saturating_add(new);
    })
    .await
}

pub(super) async fn move_to(
    b: &ServerBackend,
    s: &Session,
    MoveNodeRequest {
        node_id,
        revision,
        new_parent_id,
        wrapped_key,
        state,
        head,
    }: MoveNodeRequest,
) -> Result<NodeView, ApiError> {
    // The owner; or a doctor moving within one read-and-write grant: the
    // item strictly inside its folder, the new place in it.
    let access = b.write_access(s, &node_id, true).await?;
    if access.grant_id.is_some() {
        let into = b.write_access(s, &new_parent_id, false).await?;
        if into.owner != access.owner || into.grant_id != access.grant_id {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "You can move items only within the folder the patient shared with you.",
            ));
        }
    }
    let owner = access.owner;
    let mut change = b.change_node(owner, &node_id).await?;
    let node = &mut change.node;
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
    let target = b.target_folder(&owner, &new_parent_id).await?;
    if target.node_id == node_id
        || b.ancestors(&owner, &target)
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
    let signing = Signing {
        state,
        head,
        grant: access.grant_id,
    };
    b.save_node(s, EventKind::NodeMoved, change, signing, |_| {})
        .await
}

pub(super) async fn trash(
    b: &ServerBackend,
    s: &Session,
    NodeRevision {
        node_id,
        revision,
        state,
        head,
    }: NodeRevision,
) -> Result<NodeView, ApiError> {
    // The owner, or a doctor with write access to a folder above it.
    let access = b.write_access(s, &node_id, true).await?;
    let owner = access.owner;
    let mut change = b.change_node(owner, &node_id).await?;
    let node = &mut change.node;
    if node.parent_id.is_none() {
        return Err(ApiError::bad_request(
            "The top folder of your record cannot be put in the Trash.",
        ));
    }
    if node.revision != revision {
        return Err(stale());
    }
    // The owner may sign an item already in the Trash again, as trashed
    // (their browser takes a doctor's late change in that way): it stays
    // there, from when it was put there.
    let resign = access.grant_id.is_none() && state.is_some();
    match node.trashed_at {
        Some(_) if !resign => return Err(conflict("This item is already in the Trash.")),
        Some(_) => {}
        None => node.trashed_at = Some(b.now()),
    }
    node.revision += 1;
    let signing = Signing {
        state,
        head,
        grant: access.grant_id,
    };
    b.save_node(s, EventKind::NodeTrashed, change, signing, |_| {})
        .await
}

pub(super) async fn restore(
    b: &ServerBackend,
    s: &Session,
    NodeRef {
        node_id,
        state,
        head,
    }: NodeRef,
) -> Result<NodeView, ApiError> {
    let owner = s.user.id;
    let mut change = b.change_node(owner, &node_id).await?;
    let node = &mut change.node;
    if node.trashed_at.is_none() {
        return Err(conflict("This item is not in the Trash."));
    }
    if node.purging {
        return Err(conflict(
            "This item is being deleted for good and cannot be restored.",
        ));
    }
    if b.ancestors(&owner, node)
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
    let signing = Signing {
        state,
        head,
        grant: None,
    };
    b.save_node(s, EventKind::NodeRestored, change, signing, |_| {})
        .await
}
