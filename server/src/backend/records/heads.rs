//! The record's chain of heads: folding doctors' pending changes into a new
//! head (`records/head`), listing the chain (`records/heads`, and
//! `sharing/heads` for a doctor), and adopting a record made before signed
//! records (`records/adopt`).

use std::collections::HashMap;

use shared::{
    api::{
        records::{AdoptRequest, NodeKind, RecordTree, MAX_HEADS_LISTED},
        ApiError,
    },
    crypto::sign::Signed,
    model::Id,
    records::{HeadLeaf, RecordHead as OwnerHead},
};

use super::{
    conflict, encode, head_ops,
    layout::{chain_key, chain_prefix, leaves_prefix, node_key},
    next_head,
    signed::{check_genesis, check_own_state, state_view, store_genesis},
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{codec, Batch, Space},
};

/// `records/head`: the owner's next head over the record as it is.
pub(super) async fn fold(
    b: &ServerBackend,
    s: &Session,
    head: Signed<OwnerHead>,
) -> Result<(), ApiError> {
    let owner = s.user.id;
    let _guard = b.record_locks.lock(&owner).await;
    let (head_raw, stored) = b.existing_head(&owner).await?;
    let head = b
        .check_after(s, &owner, &stored, Some(head), |_| {})
        .await?;
    let mut batch = Batch::new();
    b.store_head(&mut batch, &owner, &head).await?;
    let mut new_head = next_head(&stored, |_| {});
    new_head.signed = Some(head);
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    b.commit(batch, None).await
}

/// `records/adopt`: a state for every visible node, exactly as stored, and
/// the genesis head over them, while the record has no head.
pub(super) async fn adopt(
    b: &ServerBackend,
    s: &Session,
    AdoptRequest { states, head }: AdoptRequest,
) -> Result<RecordTree, ApiError> {
    let owner = s.user.id;
    let _guard = b.record_locks.lock(&owner).await;
    let (head_raw, stored) = b.existing_head(&owner).await?;
    if stored.signed.is_some() {
        return Err(conflict(
            "Your record is already signed; there is nothing to adopt. Reload the page.",
        ));
    }
    let mut by_node = HashMap::with_capacity(states.len());
    for state in states {
        if by_node.insert(state.value.node_id, state).is_some() {
            return Err(ApiError::bad_request(
                "Two signed states name the same item. Nothing was changed.",
            ));
        }
    }
    let mut batch = Batch::new();
    let mut leaves = Vec::new();
    for (raw, mut node) in b.all_node_rows(&owner).await? {
        if node.kind == NodeKind::File && node.current.is_none() {
            continue;
        }
        let view = state_view(&node, b.state_current(&node).await?);
        let state = check_own_state(by_node.remove(&node.node_id), &owner, s, &view)?;
        leaves.push(HeadLeaf::of(&state));
        node.state = Some(state);
        node.write_grant = None;
        let key = node_key(&owner, &node.node_id);
        batch.expect_value(Space::Records, key.clone(), raw).put(
            Space::Records,
            key,
            encode(&node)?,
        );
    }
    if !by_node.is_empty() {
        return Err(ApiError::bad_request(
            "A signed state names an item your record does not have. Nothing was changed.",
        ));
    }
    check_genesis(
        &head,
        &owner,
        &stored.root_id,
        &s.user.key_entry.value.identity_key,
        &leaves,
    )?;
    // Leaves a doctor's state left before adoption are replaced.
    for (key, _) in b
        .store
        .scan_prefix(Space::Records, &leaves_prefix(&owner), None, usize::MAX)
        .await
        .map_err(store_error)?
    {
        batch.delete(Space::Records, key);
    }
    store_genesis(&mut batch, &owner, &head, &leaves)?;
    let mut new_head = next_head(&stored, |_| {});
    new_head.signed = Some(head);
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    b.commit(batch, None).await?;
    b.build_tree(&owner, &new_head).await
}

impl ServerBackend {
    /// The signed heads of `owner`'s record after counter `after`, oldest
    /// first (`not_found` without a record).
    pub(crate) async fn head_chain(
        &self,
        owner: &Id,
        after: u64,
    ) -> Result<Vec<Signed<OwnerHead>>, ApiError> {
        self.existing_head(owner).await?;
        let start = chain_key(owner, after);
        let rows = self
            .store
            .scan_prefix(
                Space::Records,
                &chain_prefix(owner),
                Some(&start),
                MAX_HEADS_LISTED,
            )
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|(_, v)| codec::decode(v).map_err(store_error))
            .collect()
    }
}
