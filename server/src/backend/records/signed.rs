//! Signed records on the server (docs/PROTOCOL.md, section 4.5): what an
//! honest server can check of the states and heads a change carries.
//!
//! Every change carries the signed state of the node it changes, as the node
//! will be stored ([`check_state`]); a change by the owner also carries the
//! record's next head, which must follow the stored head and cover the leaves
//! of every node after the change ([`ServerBackend::sign_off`]). A doctor's
//! change carries no head: the node's leaf as of the newest head is kept
//! (`HeadOverride`) so the tree still answers the head's leaves, and the
//! owner's browser folds the change into the next head.
//!
//! The current leaves live in their own keyspace (`owner ‖ node → HeadLeaf`),
//! written in the same batch as the node, so checking a head reads a list of
//! small hashes and never re-hashes every state.

use std::collections::BTreeMap;

use shared::{
    api::{
        records::{NodeKind, NodeView, VersionView, MAX_NODES},
        ApiError,
    },
    crypto::sign::{Signed, VerifyingKey},
    model::Id,
    records::{head_link, state_hash, HeadLeaf, NodeState, RecordHead as OwnerHead},
};

use super::{
    conflict, encode,
    layout::{
        chain_key, leaf_key, leaves_prefix, override_key, overrides_prefix, HeadOverride,
        RecordHead, StoredNode,
    },
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{codec, Batch, Space, StoreError},
};

/// What a change signs: the node's new state, the owner's next head and,
/// for a doctor, the write grant they change the node under.
#[derive(Default)]
pub(super) struct Signing {
    /// The node's state after the change, signed by the caller.
    pub state: Option<Signed<NodeState>>,
    /// The owner's next head (none from a doctor).
    pub head: Option<Signed<OwnerHead>>,
    /// A doctor's read-and-write grant.
    pub grant: Option<Id>,
}

/// The view a node's state describes: the node as stored, with `current`
/// the version it names (read from the store, or the one being finished).
pub(super) fn state_view(node: &StoredNode, current: Option<VersionView>) -> NodeView {
    NodeView {
        node_id: node.node_id,
        parent_id: node.parent_id,
        kind: node.kind,
        wrapped_key: node.wrapped_key.clone(),
        metadata: node.metadata.clone(),
        revision: node.revision,
        trashed_at: node.trashed_at,
        current,
        version_count: node.version_count,
        state: None,
        write_grant: None,
    }
}

/// Checks a change's signed state: present, signed by the caller's identity
/// key (`key`), naming the caller as author and `owner` as the record's
/// owner, and describing `view` (the node as it will be stored).
pub(super) fn check_state(
    state: Option<Signed<NodeState>>,
    owner: &Id,
    author: &Id,
    key: &VerifyingKey,
    view: &NodeView,
) -> Result<Signed<NodeState>, ApiError> {
    let Some(state) = state else {
        return Err(ApiError::bad_request(
            "This change needs the item's new state signed by you, and the signed state is missing. Reload the page and try again.",
        ));
    };
    let value = state.verify(key).map_err(|_| {
        ApiError::bad_request(
            "The item's signed state does not verify with your identity key. Nothing was changed.",
        )
    })?;
    if value.author_id != *author {
        return Err(ApiError::bad_request(
            "The item's signed state names someone else as its author. Nothing was changed.",
        ));
    }
    if value.owner_id != *owner {
        return Err(ApiError::bad_request(
            "The item's signed state is for another record. Nothing was changed.",
        ));
    }
    if !value.matches(owner, view) {
        return Err(ApiError::bad_request(
            "The item's signed state does not match the item as it will be stored. Reload the page and try again.",
        ));
    }
    Ok(state)
}

/// The caller's own signed state (see [`check_state`]).
pub(super) fn check_own_state(
    state: Option<Signed<NodeState>>,
    owner: &Id,
    s: &Session,
    view: &NodeView,
) -> Result<Signed<NodeState>, ApiError> {
    check_state(
        state,
        owner,
        &s.user.id,
        &s.user.key_entry.value.identity_key,
        view,
    )
}

fn head_mismatch() -> ApiError {
    ApiError::bad_request(
        "The record's new head does not match the record after this change. Nothing was changed; reload the page and try again.",
    )
}

fn missing_head() -> ApiError {
    ApiError::bad_request(
        "This change needs your record's next head, signed by you, and it is missing. Reload the page and try again.",
    )
}

/// A stale head: the record moved on since the browser read it.
pub(super) fn changed_meanwhile() -> ApiError {
    conflict("The record changed meanwhile; reload it and try again. Nothing was changed.")
}

/// Checks the signature, owner, root, state hash and node count of a head
/// over `leaves` (its place in the chain is checked by the caller).
fn check_head_body(
    head: &Signed<OwnerHead>,
    owner: &Id,
    root: &Id,
    key: &VerifyingKey,
    leaves: &[HeadLeaf],
) -> Result<(), ApiError> {
    check_head_names(head, owner, root, key)?;
    check_head_leaves(head, leaves)
}

/// The head is signed by `key` and names this record.
fn check_head_names(
    head: &Signed<OwnerHead>,
    owner: &Id,
    root: &Id,
    key: &VerifyingKey,
) -> Result<(), ApiError> {
    let value = head.verify(key).map_err(|_| {
        ApiError::bad_request(
            "The record's new head does not verify with your identity key. Nothing was changed.",
        )
    })?;
    if value.owner_id != *owner || value.root_id != *root {
        return Err(ApiError::bad_request(
            "The record's new head names another record. Nothing was changed.",
        ));
    }
    Ok(())
}

/// The head (already verified) covers exactly `leaves`.
fn check_head_leaves(head: &Signed<OwnerHead>, leaves: &[HeadLeaf]) -> Result<(), ApiError> {
    let value = &head.value;
    if value.state_hash != state_hash(leaves) || value.node_count as usize != leaves.len() {
        return Err(head_mismatch());
    }
    Ok(())
}

/// Checks a genesis head (counter 1, no previous) over exactly `leaves`.
pub(super) fn check_genesis(
    head: &Signed<OwnerHead>,
    owner: &Id,
    root: &Id,
    key: &VerifyingKey,
    leaves: &[HeadLeaf],
) -> Result<(), ApiError> {
    if head.value.counter != 1 || head.value.previous != [0; 32] {
        return Err(ApiError::bad_request(
            "A record's first head must have counter 1 and no previous head. Nothing was changed.",
        ));
    }
    check_head_body(head, owner, root, key, leaves)
}

/// Checks the owner's next head after `stored` over `leaves`: a stale one
/// (wrong counter or link) is `conflict`, anything else wrong `bad_request`.
pub(super) fn check_next(
    head: &Signed<OwnerHead>,
    stored: &Signed<OwnerHead>,
    key: &VerifyingKey,
    leaves: &[HeadLeaf],
) -> Result<(), ApiError> {
    check_head_names(head, &stored.value.owner_id, &stored.value.root_id, key)?;
    // Stale before wrong: a head built on an older one also covers other
    // leaves, and the browser retries only on a conflict.
    if head.value.counter != stored.value.counter.saturating_add(1)
        || head.value.previous != head_link(stored)
    {
        return Err(changed_meanwhile());
    }
    check_head_leaves(head, leaves)
}

/// Puts the ops that store a genesis head (chain and leaves) into `batch`.
pub(super) fn store_genesis(
    batch: &mut Batch,
    owner: &Id,
    head: &Signed<OwnerHead>,
    leaves: &[HeadLeaf],
) -> Result<(), ApiError> {
    batch.put(Space::Records, chain_key(owner, 1), encode(head)?);
    for leaf in leaves {
        batch.put(
            Space::Records,
            leaf_key(owner, &leaf.node_id),
            encode(leaf)?,
        );
    }
    Ok(())
}

/// Only a legacy record lacks a head; its owner's browser signs it first.
pub(super) fn not_adopted() -> ApiError {
    conflict(
        "Your record has not been signed yet. Reload the page so this browser can sign it, then try again.",
    )
}

impl ServerBackend {
    /// The current leaf of every node with a signed state, by node id.
    pub(super) async fn current_leaves(
        &self,
        owner: &Id,
    ) -> Result<BTreeMap<Id, HeadLeaf>, ApiError> {
        let rows = self
            .store
            .scan_prefix(
                Space::Records,
                &leaves_prefix(owner),
                None,
                MAX_NODES.saturating_add(1000),
            )
            .await
            .map_err(store_error)?;
        let mut out = BTreeMap::new();
        for (_, value) in rows {
            let leaf: HeadLeaf = codec::decode(&value).map_err(store_error)?;
            out.insert(leaf.node_id, leaf);
        }
        Ok(out)
    }

    /// Nodes a doctor changed since the newest head, with their leaf then.
    async fn head_overrides(
        &self,
        owner: &Id,
    ) -> Result<Vec<(Vec<u8>, Id, HeadOverride)>, ApiError> {
        let rows = self
            .store
            .scan_prefix(
                Space::Records,
                &overrides_prefix(owner),
                None,
                MAX_NODES.saturating_add(1000),
            )
            .await
            .map_err(store_error)?;
        let prefix = overrides_prefix(owner).len();
        let mut out = Vec::with_capacity(rows.len());
        for (key, value) in rows {
            let node = key
                .get(prefix..)
                .and_then(|k| Id::try_from(k).ok())
                .ok_or_else(|| store_error(StoreError::Corrupt("a head override key".into())))?;
            out.push((key, node, codec::decode(&value).map_err(store_error)?));
        }
        Ok(out)
    }

    /// The leaves the newest head covers: the current ones, with the nodes
    /// doctors changed since put back as they were (none for a record
    /// without a head).
    pub(crate) async fn head_leaves(
        &self,
        owner: &Id,
        head: &RecordHead,
    ) -> Result<Vec<HeadLeaf>, ApiError> {
        if head.signed.is_none() {
            return Ok(Vec::new());
        }
        let mut leaves = self.current_leaves(owner).await?;
        for (_, node, at) in self.head_overrides(owner).await? {
            match at.at_head {
                Some(leaf) => leaves.insert(node, leaf),
                None => leaves.remove(&node),
            };
        }
        Ok(leaves.into_values().collect())
    }

    /// The current version of a stored file, as its state names it.
    pub(super) async fn state_current(
        &self,
        node: &StoredNode,
    ) -> Result<Option<VersionView>, ApiError> {
        let (NodeKind::File, Some(v)) = (node.kind, node.current) else {
            return Ok(None);
        };
        let version = self
            .stored_version(&node.node_id, v)
            .await?
            .ok_or_else(|| {
                store_error(StoreError::Corrupt(
                    "a file's current version is missing".into(),
                ))
            })?;
        let manifest = self.stored_manifest(&node.node_id, v).await?;
        Ok(Some(VersionView {
            node_id: node.node_id,
            version: version.version,
            chunk_size: version.chunk_size,
            ciphertext_len: version.ciphertext_len,
            wrapped_content_key: version.wrapped_content_key,
            manifest,
            author_id: version.author_id,
            author_name: String::new(),
            stored_at: version.stored_at,
            write_grant: None,
        }))
    }

    /// Checks the caller's signed state for `node` as it will be stored and
    /// attaches it (and a doctor's grant); answers the node's new leaf.
    pub(super) async fn attach_state(
        &self,
        s: &Session,
        owner: &Id,
        node: &mut StoredNode,
        signing: &mut Signing,
        current: Option<VersionView>,
    ) -> Result<HeadLeaf, ApiError> {
        let current = match current {
            Some(v) => Some(v),
            None => self.state_current(node).await?,
        };
        let view = state_view(node, current);
        let state = check_own_state(signing.state.take(), owner, s, &view)?;
        let leaf = HeadLeaf::of(&state);
        node.state = Some(state);
        node.write_grant = signing.grant;
        Ok(leaf)
    }

    /// The signing side of a change to `owner`'s record, under its lock: the
    /// owner's next head is checked over the leaves after `changes` (a node
    /// id with its new leaf, or `None` for a node deleted); a doctor's change
    /// keeps the changed nodes' leaves as of the head. Adds the leaves, the
    /// chain and the overrides to `batch` and answers the signed head the
    /// record has after the change.
    pub(super) async fn sign_off(
        &self,
        batch: &mut Batch,
        s: &Session,
        owner: &Id,
        stored: &RecordHead,
        changes: &[(Id, Option<HeadLeaf>)],
        head: Option<Signed<OwnerHead>>,
    ) -> Result<Option<Signed<OwnerHead>>, ApiError> {
        let mut leaves = self.current_leaves(owner).await?;
        let before = leaves.clone();
        for (node, leaf) in changes {
            match leaf {
                Some(leaf) => {
                    leaves.insert(*node, *leaf);
                    batch.put(Space::Records, leaf_key(owner, node), encode(leaf)?);
                }
                None => {
                    leaves.remove(node);
                    batch.delete(Space::Records, leaf_key(owner, node));
                }
            };
        }
        if s.user.id != *owner {
            if head.is_some() {
                return Err(ApiError::bad_request(
                    "Only the record's owner signs its head; a change by a doctor carries none.",
                ));
            }
            if stored.signed.is_some() {
                let kept: Vec<Id> = self
                    .head_overrides(owner)
                    .await?
                    .into_iter()
                    .map(|(_, node, _)| node)
                    .collect();
                for (node, _) in changes {
                    if !kept.contains(node) {
                        let at = HeadOverride {
                            at_head: before.get(node).copied(),
                        };
                        batch.put(Space::Records, override_key(owner, node), encode(&at)?);
                    }
                }
            }
            return Ok(stored.signed.clone());
        }
        let Some(previous) = &stored.signed else {
            return Err(not_adopted());
        };
        let head = head.ok_or_else(missing_head)?;
        let leaves: Vec<HeadLeaf> = leaves.into_values().collect();
        check_next(
            &head,
            previous,
            &s.user.key_entry.value.identity_key,
            &leaves,
        )?;
        self.store_head(batch, owner, &head).await?;
        Ok(Some(head))
    }

    /// Checks the owner's next head over the current leaves as `change`
    /// leaves them (nothing is written).
    pub(super) async fn check_after(
        &self,
        s: &Session,
        owner: &Id,
        stored: &RecordHead,
        head: Option<Signed<OwnerHead>>,
        change: impl FnOnce(&mut BTreeMap<Id, HeadLeaf>),
    ) -> Result<Signed<OwnerHead>, ApiError> {
        if s.user.id != *owner {
            return Err(ApiError::bad_request(
                "Only the record's owner signs its head.",
            ));
        }
        let Some(previous) = &stored.signed else {
            return Err(not_adopted());
        };
        let head = head.ok_or_else(missing_head)?;
        let mut leaves = self.current_leaves(owner).await?;
        change(&mut leaves);
        let leaves: Vec<HeadLeaf> = leaves.into_values().collect();
        check_next(
            &head,
            previous,
            &s.user.key_entry.value.identity_key,
            &leaves,
        )?;
        Ok(head)
    }

    /// Adds the ops of an accepted owner head: its place in the chain, and
    /// no node pending any more.
    pub(super) async fn store_head(
        &self,
        batch: &mut Batch,
        owner: &Id,
        head: &Signed<OwnerHead>,
    ) -> Result<(), ApiError> {
        let key = chain_key(owner, head.value.counter);
        batch
            .expect_absent(Space::Records, key.clone())
            .put(Space::Records, key, encode(head)?);
        for (key, _, _) in self.head_overrides(owner).await? {
            batch.delete(Space::Records, key);
        }
        Ok(())
    }
}
