//! The view of a node as a change will leave it, and the record's leaves after
//! it (docs/PROTOCOL.md, section 4.5): what a browser signs before it sends a
//! change. Each builder does to a [`NodeView`] exactly what the server does to
//! the stored node (the revision goes up by one), so the signed state
//! `matches` the node as stored.
//!
//! Pure, so the browser, the server's tests and the tamper tool agree.

use std::collections::BTreeMap;

use crate::{
    api::records::{NewNode, NodeView, VersionView},
    crypto::sign::Signed,
    model::{FileManifest, Id},
};

use super::NodeState;

/// `view` one revision on, changed by `edit`.
fn next(view: &NodeView, edit: impl FnOnce(&mut NodeView)) -> NodeView {
    let mut out = view.clone();
    out.revision = out.revision.saturating_add(1);
    out.state = None;
    out.write_grant = None;
    edit(&mut out);
    out
}

/// After `records/node/update`: new sealed metadata.
pub fn with_metadata(view: &NodeView, metadata: &[u8]) -> NodeView {
    next(view, |v| v.metadata = metadata.to_vec())
}

/// After `records/node/move`: a new parent and the key wrapped under it.
pub fn moved(view: &NodeView, new_parent_id: Id, wrapped_key: &[u8]) -> NodeView {
    next(view, |v| {
        v.parent_id = Some(new_parent_id);
        v.wrapped_key = wrapped_key.to_vec();
    })
}

/// After `records/node/trash` (the time is the server's; the state says only
/// "in the trash").
pub fn trashed(view: &NodeView, now: i64) -> NodeView {
    next(view, |v| v.trashed_at = Some(now))
}

/// After `records/node/restore`: out of the trash.
pub fn restored(view: &NodeView) -> NodeView {
    next(view, |v| v.trashed_at = None)
}

/// After `records/version/restore`: `version` is current again.
pub fn with_current(view: &NodeView, version: &VersionView) -> NodeView {
    next(view, |v| v.current = Some(version.clone()))
}

/// A new file's node as `records/upload/start` keeps it until its first
/// version: revision 0, no versions. [`finished`] takes it from there.
pub fn unfinished(node: &NewNode) -> NodeView {
    NodeView {
        node_id: node.node_id,
        parent_id: node.parent_id,
        kind: node.kind,
        wrapped_key: node.wrapped_key.clone(),
        metadata: node.metadata.clone(),
        revision: 0,
        trashed_at: None,
        current: None,
        version_count: 0,
        state: None,
        write_grant: None,
    }
}

/// After `records/upload/finish`: `version` current, one more version, the
/// metadata given with the finish.
pub fn finished(view: &NodeView, version: &VersionView, metadata: &[u8]) -> NodeView {
    next(view, |v| {
        v.metadata = metadata.to_vec();
        v.current = Some(version.clone());
        v.version_count = v.version_count.saturating_add(1);
    })
}

/// The version a finish stores, as far as [`super::version_hash`] covers it
/// (the author's name and the server's time are not covered).
pub fn finished_version(
    manifest: &Signed<FileManifest>,
    wrapped_content_key: &[u8],
    chunk_size: u32,
    ciphertext_len: u64,
) -> VersionView {
    VersionView {
        node_id: manifest.value.node_id,
        version: manifest.value.version,
        chunk_size,
        ciphertext_len,
        wrapped_content_key: wrapped_content_key.to_vec(),
        manifest: manifest.clone(),
        author_id: manifest.value.author_id,
        author_name: String::new(),
        stored_at: 0,
        write_grant: None,
    }
}

/// What `records/trash/empty` deletes of `nodes`: every node in the trash and
/// everything below it.
pub fn purged<'a>(nodes: impl IntoIterator<Item = &'a NodeView>) -> Vec<Id> {
    let parents: BTreeMap<Id, (Option<Id>, bool)> = nodes
        .into_iter()
        .map(|n| (n.node_id, (n.parent_id, n.trashed_at.is_some())))
        .collect();
    let in_trash = |id: &Id| {
        let mut next = Some(*id);
        let mut steps = 0;
        while let Some(at) = next {
            let Some((parent, trashed)) = parents.get(&at) else {
                return false;
            };
            if *trashed {
                return true;
            }
            steps += 1;
            if steps > parents.len() {
                return false;
            }
            next = *parent;
        }
        false
    };
    parents.keys().filter(|id| in_trash(id)).copied().collect()
}

/// After a key rotation's commit (`sharing/rotation/*`): the node key wrapped
/// anew, its metadata sealed under the new key, and a file's current version
/// with its content key wrapped under the new key.
pub fn rekeyed(
    view: &NodeView,
    wrapped_key: &[u8],
    metadata: &[u8],
    current_content_key: Option<&[u8]>,
) -> NodeView {
    next(view, |v| {
        v.wrapped_key = wrapped_key.to_vec();
        v.metadata = metadata.to_vec();
        if let (Some(current), Some(key)) = (v.current.as_mut(), current_content_key) {
            current.wrapped_content_key = key.to_vec();
        }
    })
}

/// Signs, in each rotation part, the state of every node it re-keys as the
/// commit will leave it (`tree` holds the nodes as they are before); returns
/// the states, for the owner's next head.
pub fn sign_rotation(
    parts: &mut [crate::api::sharing::RotationPart],
    tree: &super::OpenTree,
    signer: &super::Signer<'_>,
) -> Vec<Signed<NodeState>> {
    let content_keys: BTreeMap<(Id, u32), Vec<u8>> = parts
        .iter()
        .flat_map(|p| p.versions.iter())
        .map(|v| ((v.node_id, v.version), v.wrapped_content_key.clone()))
        .collect();
    let mut states = Vec::new();
    for node in parts.iter_mut().flat_map(|p| p.nodes.iter_mut()) {
        let Some(open) = tree.node(&node.node_id) else {
            continue;
        };
        let current = open
            .view
            .current
            .as_ref()
            .and_then(|c| content_keys.get(&(node.node_id, c.version)))
            .map(Vec::as_slice);
        let state = signer.state(&rekeyed(
            &open.view,
            &node.wrapped_key,
            &node.metadata,
            current,
        ));
        node.state = Some(state.clone());
        states.push(state);
    }
    states
}

#[cfg(test)]
#[path = "change/tests.rs"]
mod tests;
