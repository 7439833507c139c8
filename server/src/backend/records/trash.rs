//! Emptying the trash: every node put in the trash, with its whole subtree,
//! its versions and their chunks, deleted for good and its space freed.
//!
//! A big subtree cannot go in one batch, so it goes in steps that each leave a
//! consistent record: the trashed node is first marked `purging` (it can no
//! longer be restored); then, deepest nodes first, a group's content (chunks,
//! unfinished uploads) is deleted and then the group's nodes, versions and
//! accounting in one batch. The last batch, which deletes the trashed node
//! itself, carries the `TrashEmptied` event. A crash part-way leaves a smaller
//! trashed subtree that the next "empty trash" finishes.
//!
//! The owner's next head, over the record with every trashed subtree gone,
//! is checked before anything is deleted and stored with the last batch (an
//! empty trash with no head changes nothing).

use std::collections::{HashMap, HashSet};

use shared::{
    api::{records::Usage, ApiError},
    audit::EventKind,
    crypto::sign::Signed,
    model::Id,
    records::RecordHead as OwnerHead,
};

use super::{
    encode, event, head_ops,
    layout::{
        leaf_key, manifest_key, node_key, override_key, owner_key, profile_key, version_key,
        versions_prefix, StoredNode, StoredVersion,
    },
    next_head, node_bytes,
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{codec, Batch, Space},
};

/// Nodes deleted per batch.
const NODES_PER_BATCH: usize = 64;

/// `top` and everything under it, children before their parents.
fn post_order(top: &Id, children: &HashMap<Id, Vec<Id>>) -> Vec<Id> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(*top, false)];
    while let Some((id, expanded)) = stack.pop() {
        if expanded {
            out.push(id);
            continue;
        }
        if !seen.insert(id) {
            continue;
        }
        stack.push((id, true));
        for kid in children.get(&id).into_iter().flatten() {
            stack.push((*kid, false));
        }
    }
    out
}

/// Whether a folder above `node` is in the trash.
fn under_trashed(node: &StoredNode, by_id: &HashMap<Id, StoredNode>) -> bool {
    let mut next = node.parent_id;
    let mut steps = 0;
    while let Some(id) = next {
        let Some(parent) = by_id.get(&id) else {
            return false;
        };
        if parent.trashed_at.is_some() {
            return true;
        }
        steps += 1;
        if steps > by_id.len() {
            return false;
        }
        next = parent.parent_id;
    }
    false
}

pub(super) async fn empty(
    b: &ServerBackend,
    s: &Session,
    signed_head: Option<Signed<OwnerHead>>,
) -> Result<Usage, ApiError> {
    let owner = s.user.id;
    let _guard = b.record_locks.lock(&owner).await;
    let (_, start) = b.existing_head(&owner).await?;
    b.sweep_uploads(&owner).await?;
    let nodes = b.all_nodes(&owner).await?;
    let mut children: HashMap<Id, Vec<Id>> = HashMap::new();
    for node in &nodes {
        if let Some(parent) = node.parent_id {
            children.entry(parent).or_default().push(node.node_id);
        }
    }
    let by_id: HashMap<Id, StoredNode> = nodes.into_iter().map(|n| (n.node_id, n)).collect();
    let tops: Vec<Id> = by_id
        .values()
        .filter(|n| n.trashed_at.is_some() && !under_trashed(n, &by_id))
        .map(|n| n.node_id)
        .collect();
    let uploads = b.open_uploads(&owner).await?;

    // The owner's next head covers the record after every group is gone; it
    // is checked now and stored with the last batch.
    let groups: Vec<(Id, Vec<Id>)> = tops
        .iter()
        .flat_map(|top| {
            post_order(top, &children)
                .chunks(NODES_PER_BATCH)
                .map(|g| (*top, g.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect();
    if groups.is_empty() && signed_head.is_none() {
        // Nothing to delete and no head: nothing changes.
        let (_, head) = b.existing_head(&owner).await?;
        return Ok(b.usage(&head));
    }
    let purged: HashSet<Id> = groups.iter().flat_map(|(_, g)| g.iter().copied()).collect();
    let head = b
        .check_after(s, &owner, &start, signed_head, |leaves| {
            leaves.retain(|id, _| !purged.contains(id));
        })
        .await?;
    if groups.is_empty() {
        let (head_raw, stored) = b.existing_head(&owner).await?;
        let mut new_head = next_head(&stored, |_| {});
        let mut batch = Batch::new();
        b.store_head(&mut batch, &owner, &head).await?;
        new_head.signed = Some(head);
        head_ops(&mut batch, &owner, &head_raw, &new_head)?;
        b.commit(batch, None).await?;
        return Ok(b.usage(&new_head));
    }

    for top in &tops {
        if let Some((raw, mut node)) = b.stored_node(&owner, top).await? {
            if !node.purging {
                node.purging = true;
                let mut batch = Batch::new();
                batch
                    .expect_value(Space::Records, node_key(&owner, top), raw)
                    .put(Space::Records, node_key(&owner, top), encode(&node)?);
                b.commit(batch, None).await?;
            }
        }
    }
    let last = groups.len() - 1;
    for (n, (top, group)) in groups.iter().enumerate() {
        let mut batch = Batch::new();
        let mut freed = 0u64;
        for id in group {
            let Some(node) = by_id.get(id) else {
                continue;
            };
            for (_, upload) in uploads.iter().filter(|(_, u)| u.node_id == *id) {
                b.drop_upload(&owner, id, upload.version).await?;
            }
            let rows = b
                .store
                .scan_prefix(Space::Records, &versions_prefix(id), None, usize::MAX)
                .await
                .map_err(store_error)?;
            for (_, value) in rows {
                let version: StoredVersion = codec::decode(&value).map_err(store_error)?;
                b.delete_chunks(id, version.version, version.chunk_count)
                    .await?;
                freed = freed.saturating_add(version.ciphertext_len);
                batch
                    .delete(Space::Records, version_key(id, version.version))
                    .delete(Space::Records, manifest_key(id, version.version));
            }
            freed = freed.saturating_add(node_bytes(node));
            batch
                .delete(Space::Records, node_key(&owner, id))
                .delete(Space::Records, owner_key(id))
                .delete(Space::Records, leaf_key(&owner, id))
                .delete(Space::Records, override_key(&owner, id))
                .delete(Space::Records, profile_key(&owner, id));
        }
        let (head_raw, stored) = b.existing_head(&owner).await?;
        let mut new_head = next_head(&stored, |h| {
            h.stored_bytes = h.stored_bytes.saturating_sub(freed);
            h.nodes = h.nodes.saturating_sub(group.len() as u64);
        });
        if n == last {
            b.store_head(&mut batch, &owner, &head).await?;
            new_head.signed = Some(head.clone());
        }
        head_ops(&mut batch, &owner, &head_raw, &new_head)?;
        let draft = group
            .contains(top)
            .then(|| event(s, EventKind::TrashEmptied, top));
        b.commit(batch, draft).await?;
    }
    let (_, head) = b.existing_head(&owner).await?;
    Ok(b.usage(&head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_come_before_their_parents() {
        let id = |n: u8| [n; 16];
        let mut children = HashMap::new();
        children.insert(id(1), vec![id(2), id(3)]);
        children.insert(id(2), vec![id(4)]);
        let order = post_order(&id(1), &children);
        assert_eq!(order.len(), 4);
        let at = |n: u8| order.iter().position(|x| *x == id(n)).unwrap();
        assert!(at(4) < at(2) && at(2) < at(1) && at(3) < at(1));
        assert_eq!(order.last(), Some(&id(1)));
    }
}
