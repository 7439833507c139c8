//! Committing a key rotation: every stored part is read back, the new keys
//! must cover the folder's subtree exactly (nodes, versions and live grants,
//! each once), and everything is written in one batch with the record's
//! head, only if nothing changed since the rotation started.

use std::collections::{HashMap, HashSet};

use shared::{
    api::{
        sharing::{CommitRotation, RotationPart},
        ApiError, ErrorCode,
    },
    audit::EventKind,
    crypto::hpke,
    model::{Id, Role},
    records::HeadLeaf,
};

use super::{restart, MAX_PARTS, ONLY_THE_PATIENT};
use crate::{
    authz,
    backend::{
        records::{
            conflict, encode, event, head_ops,
            layout::{
                leaf_key, node_key, rotation_key, rotation_part_key, version_key, RecordHead,
            },
            next_head,
            signed::{check_own_state, state_view},
            CHILD_KEY_LEN,
        },
        sessions::Session,
        sharing::layout::grant_key,
        store_error, ServerBackend,
    },
    store::{Batch, Space},
};

pub(crate) async fn commit(
    b: &ServerBackend,
    s: &Session,
    CommitRotation {
        rotation_id,
        parts,
        head: signed_head,
        ..
    }: CommitRotation,
) -> Result<(), ApiError> {
    authz::require_role(s, Role::Patient, ONLY_THE_PATIENT)?;
    let owner = s.user.id;
    let _guard = b.record_locks.lock(&owner).await;
    let (rotation_raw, rotation) = b.rotation(&owner, &rotation_id).await?;
    let (head_raw, head) = b.existing_head(&owner).await?;
    if head.seq != rotation.head_seq {
        let mut batch = Batch::new();
        ServerBackend::release(
            &mut batch,
            &owner,
            &head_raw,
            &head,
            Some((rotation_raw, rotation)),
        )?;
        ServerBackend::drop_parts(&mut batch, &owner, b.part_keys(&owner).await?);
        b.store.apply(batch).await.map_err(store_error)?;
        return Err(restart());
    }
    let mut new_nodes = HashMap::new();
    let mut new_versions = HashMap::new();
    let mut new_grants = HashMap::new();
    let duplicate = || ApiError::bad_request("An item appears twice in the new keys.");
    for index in 0..parts.min(MAX_PARTS) {
        let (_, part) = b
            .load::<RotationPart>(Space::Records, &rotation_part_key(&owner, index))
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(format!("Part {index} of the new keys is missing."))
            })?;
        for n in part.nodes {
            if new_nodes.insert(n.node_id, n).is_some() {
                return Err(duplicate());
            }
        }
        for v in part.versions {
            if new_versions.insert((v.node_id, v.version), v).is_some() {
                return Err(duplicate());
            }
        }
        for g in part.grants {
            if new_grants.insert(g.grant_id, g).is_some() {
                return Err(duplicate());
            }
        }
    }
    let subtree = b.subtree(&owner, &rotation.scope).await?;
    let incomplete = |what: &str| {
        ApiError::bad_request(format!(
            "The new keys do not cover the folder exactly ({what}). Start again."
        ))
    };
    if new_nodes.len() != subtree.nodes.len() {
        return Err(incomplete("items"));
    }
    if new_versions.len() != subtree.versions.len() {
        return Err(incomplete("file versions"));
    }
    if new_grants.len() != subtree.grants.len() {
        return Err(incomplete("doctors' keys"));
    }
    let ids: HashSet<Id> = subtree.nodes.iter().map(|(_, n)| n.node_id).collect();
    if b.open_uploads(&owner).await?.iter().any(|(_, u)| {
        !u.dropping
            && (ids.contains(&u.node_id)
                || u.new_node
                    .as_ref()
                    .is_some_and(|n| n.parent_id.is_some_and(|p| ids.contains(&p))))
    }) {
        return Err(conflict(
            "An upload into this folder is still running. Let it finish, then try again.",
        ));
    }

    let mut batch = Batch::new();
    let mut leaves = Vec::new();
    let mut changed = Vec::with_capacity(subtree.nodes.len());
    let mut old_bytes = 0u64;
    let mut new_bytes = 0u64;
    for (raw, mut node) in subtree.nodes {
        let new = new_nodes
            .remove(&node.node_id)
            .ok_or_else(|| incomplete("items"))?;
        let want = if node.parent_id.is_none() {
            hpke::WRAPPED_LEN
        } else {
            CHILD_KEY_LEN
        };
        if new.wrapped_key.len() != want {
            return Err(ApiError::bad_request("A new node key has the wrong size."));
        }
        old_bytes += node.metadata.len() as u64;
        new_bytes += new.metadata.len() as u64;
        node.wrapped_key = new.wrapped_key;
        node.metadata = new.metadata;
        node.revision += 1;
        changed.push((raw, node, new.state));
    }
    let mut new_versions_seen = HashMap::new();
    for (raw, node_id, mut version) in subtree.versions {
        let new = new_versions
            .remove(&(node_id, version.version))
            .ok_or_else(|| incomplete("file versions"))?;
        new_versions_seen.insert((node_id, version.version), new.wrapped_content_key.clone());
        version.wrapped_content_key = new.wrapped_content_key;
        batch
            .expect_value(Space::Records, version_key(&node_id, version.version), raw)
            .put(
                Space::Records,
                version_key(&node_id, version.version),
                encode(&version)?,
            );
    }
    for (raw, mut grant) in subtree.grants {
        let id = grant.grant.value.grant_id;
        let new = new_grants
            .remove(&id)
            .ok_or_else(|| incomplete("doctors' keys"))?;
        grant.wrapped_key = new.wrapped_key;
        batch.expect_value(Space::Grants, grant_key(&id), raw).put(
            Space::Grants,
            grant_key(&id),
            encode(&grant)?,
        );
    }
    // The parts' reservation is given back as the new metadata takes
    // the old one's place; what grows must fit the quota.
    let released = RecordHead {
        reserved_bytes: head.reserved_bytes.saturating_sub(rotation.reserved),
        ..head.clone()
    };
    if new_bytes > old_bytes {
        b.check_quota(&released, new_bytes - old_bytes)?;
    }
    let mut new_head = next_head(&released, |h| {
        h.stored_bytes = h
            .stored_bytes
            .saturating_sub(old_bytes)
            .saturating_add(new_bytes);
    });
    for (raw, mut node, state) in changed {
        if head.signed.is_some() {
            // The owner's new state: new key, metadata and current version.
            let mut current = b.state_current(&node).await?;
            if let Some(c) = current.as_mut() {
                if let Some(v) = new_versions_seen.get(&(c.node_id, c.version)) {
                    c.wrapped_content_key.clone_from(v);
                }
            }
            let view = state_view(&node, current);
            let state = check_own_state(state, &owner, s, &view)?;
            leaves.push(HeadLeaf::of(&state));
            node.state = Some(state);
            node.write_grant = None;
        }
        batch
            .expect_value(Space::Records, node_key(&owner, &node.node_id), raw)
            .put(
                Space::Records,
                node_key(&owner, &node.node_id),
                encode(&node)?,
            );
    }
    if head.signed.is_some() {
        // The owner's next head over the record with the new states.
        let signed = b
            .check_after(s, &owner, &head, signed_head, |all| {
                for leaf in &leaves {
                    all.insert(leaf.node_id, *leaf);
                }
            })
            .await?;
        for leaf in &leaves {
            batch.put(
                Space::Records,
                leaf_key(&owner, &leaf.node_id),
                encode(leaf)?,
            );
        }
        b.store_head(&mut batch, &owner, &signed).await?;
        new_head.signed = Some(signed);
    }
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    batch.expect_value(Space::Records, rotation_key(&owner), rotation_raw);
    ServerBackend::drop_parts(&mut batch, &owner, b.part_keys(&owner).await?);
    b.commit(
        batch,
        Some(event(s, EventKind::KeysRotated, &rotation.scope)),
    )
    .await
    .map_err(|e| {
        if e.code == ErrorCode::Conflict {
            restart()
        } else {
            e
        }
    })
}
