//! A file's complete versions: the list and making an older one current
//! again, for the owner or a doctor whose active grant covers the file.
//! Reading a chunk of one (a download) is in [`super::reads`].

use shared::{
    api::{
        records::{NodeKind, NodeView, VersionRef, VersionView},
        ApiError,
    },
    audit::EventKind,
    model::Id,
};

use super::{
    conflict, event_on,
    layout::{versions_prefix, StoredVersion},
    signed::Signing,
    Names, MAX_VERSIONS_LISTED,
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{codec, Space},
};

/// Every complete version of a file, newest first; logged as a view.
pub(super) async fn list(
    b: &ServerBackend,
    s: &Session,
    node_id: Id,
) -> Result<Vec<VersionView>, ApiError> {
    let (owner, node) = b.readable_node(s, &node_id).await?;
    if node.kind != NodeKind::File {
        return Ok(Vec::new());
    }
    b.record(event_on(s, &owner, EventKind::VersionsViewed, &node_id))
        .await?;
    let rows = b
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
        out.push(b.version_view(&node_id, version, &mut names).await?);
    }
    Ok(out)
}

pub(super) async fn restore(
    b: &ServerBackend,
    s: &Session,
    VersionRef {
        node_id,
        version,
        state,
        head,
    }: VersionRef,
) -> Result<NodeView, ApiError> {
    let owner = s.user.id;
    let mut change = b.change_node(owner, &node_id).await?;
    let node = &mut change.node;
    if node.kind != NodeKind::File {
        return Err(ApiError::bad_request("Only files have versions."));
    }
    if b.stored_version(&node_id, version).await?.is_none() {
        return Err(ApiError::not_found());
    }
    if node.purging {
        return Err(conflict("This item is being deleted for good."));
    }
    if node.current == Some(version) {
        // Already current: a repeated request (say, after a lost answer).
        return b.node_view(change.node, &mut Names::new()).await;
    }
    node.current = Some(version);
    node.revision += 1;
    let signing = Signing {
        state,
        head,
        grant: None,
    };
    b.save_node(s, EventKind::VersionRestored, change, signing, |_| {})
        .await
}
