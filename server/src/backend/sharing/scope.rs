//! What an active grant opens to its doctor (`sharing/shared`): the shared
//! folder and everything under it (trashed nodes marked as such; their
//! content stays unreadable to the doctor), read as one consistent state and
//! logged as a view before it leaves.

use shared::{
    api::{
        records::{NodeKind, NodeView},
        sharing::{GrantStatus, SharedScope},
        ApiError, ErrorCode,
    },
    audit::EventKind,
    crypto::sign::Signed,
    model::Id,
    records::RecordHead,
};

use crate::{
    authz,
    backend::{
        records::{event_on, layout::StoredNode, Names},
        sessions::Session,
        ServerBackend,
    },
};

/// What an active grant lets the calling doctor open: one consistent state
/// of the shared folder, logged as a view.
pub(super) async fn open(
    b: &ServerBackend,
    s: &Session,
    grant_id: Id,
) -> Result<SharedScope, ApiError> {
    let (_, stored) = b
        .stored_grant(&grant_id)
        .await?
        .filter(|(_, g)| authz::received(s, g))
        .ok_or_else(ApiError::not_found)?;
    if stored.status(b.now()) != GrantStatus::Active {
        return Err(ApiError::not_found());
    }
    let owner = stored.grant.value.patient_id;
    let top = stored.grant.value.node_id;
    // One consistent state of the record, as for its owner.
    let _guard = b.record_locks.lock(&owner).await;
    let (_, head) = b.existing_head(&owner).await?;
    let (_, top_node) = b.owned_node(&owner, &top).await?;
    if top_node.trashed_at.is_some()
        || b.ancestors(&owner, &top_node)
            .await?
            .iter()
            .any(|a| a.trashed_at.is_some())
    {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "The patient has moved this shared folder to the Trash.",
        ));
    }
    let mut children: std::collections::HashMap<Id, Vec<StoredNode>> = Default::default();
    for node in b.all_nodes(&owner).await? {
        if let Some(parent) = node.parent_id {
            children.entry(parent).or_default().push(node);
        }
    }
    let mut names = Names::new();
    let mut nodes: Vec<NodeView> = Vec::new();
    let mut queue = vec![top];
    nodes.push(b.node_view(top_node, &mut names).await?);
    while let Some(parent) = queue.pop() {
        for node in children.remove(&parent).unwrap_or_default() {
            // Trashed nodes are served too (marked `trashed_at`): the
            // record's head still covers them, and a doctor's browser takes
            // a head leaf without its node for a node hidden by the server.
            if node.kind == NodeKind::File && node.current.is_none() {
                continue;
            }
            queue.push(node.node_id);
            nodes.push(b.node_view(node, &mut names).await?);
        }
    }
    let kind = if stored.emergency.is_some() {
        EventKind::EmergencyOpened
    } else {
        EventKind::SharedViewed
    };
    let draft = event_on(s, &owner, kind, &top);
    b.record(draft).await?;
    if let Some(e) = &stored.emergency {
        // Once per request: the patient hears of the opening, not of
        // every page the contact loads.
        let since = e.requested_at.unwrap_or(i64::MIN);
        b.notify_once(&owner, &s.user.id, &stored.grant.value.grant_id, since)
            .await?;
    }
    Ok(SharedScope {
        profile: b.profile_copy(&owner, &top).await?,
        usage: b.usage(&head),
        grant: b.grant_view(stored, &mut names).await?,
        nodes,
        head_leaves: b.head_leaves(&owner, &head).await?,
        head: head.signed,
    })
}

/// The patient's chain of heads after `after`, for the doctor of an active
/// grant (who checks the patient's chain as the patient's browser does).
pub(super) async fn heads(
    b: &ServerBackend,
    s: &Session,
    grant_id: Id,
    after: u64,
) -> Result<Vec<Signed<RecordHead>>, ApiError> {
    let (_, stored) = b
        .stored_grant(&grant_id)
        .await?
        .filter(|(_, g)| authz::received(s, g))
        .ok_or_else(ApiError::not_found)?;
    if stored.status(b.now()) != GrantStatus::Active {
        return Err(ApiError::not_found());
    }
    b.head_chain(&stored.grant.value.patient_id, after).await
}
