//! Creating a record: the root, the starter folders, each with its
//! owner-signed state, and the genesis head over exactly them, in one batch
//! (`records/create`, or a patient's sign-up with the account).

use std::collections::HashSet;

use shared::{
    api::{
        records::{NewRecordRequest, NodeKind, RecordTree, MAX_NODES},
        ApiError, ErrorCode,
    },
    audit::EventKind,
    crypto::sign::VerifyingKey,
    model::{Id, Role},
    records::HeadLeaf,
};

use super::{
    check_child_key, check_metadata, check_root_key, conflict, encode, event, id_taken,
    layout::{head_key, node_key, owner_key, RecordHead, StoredNode},
    new_stored_node,
    signed::{check_genesis, check_state, state_view, store_genesis},
};
use crate::{
    authz,
    backend::{sessions::Session, ServerBackend},
    store::{Batch, Space},
};

/// A new record checked and ready to write.
pub(crate) struct PreparedRecord {
    owner: Id,
    head: RecordHead,
    nodes: Vec<StoredNode>,
    leaves: Vec<HeadLeaf>,
}

impl PreparedRecord {
    /// The root folder's id.
    pub(crate) fn root_id(&self) -> Id {
        self.head.root_id
    }

    /// Adds the record's writes to `batch`, each new key expected absent.
    pub(crate) fn ops(&self, batch: &mut Batch) -> Result<(), ApiError> {
        let owner = &self.owner;
        batch.expect_absent(Space::Records, head_key(owner)).put(
            Space::Records,
            head_key(owner),
            encode(&self.head)?,
        );
        for node in &self.nodes {
            batch
                .expect_absent(Space::Records, owner_key(&node.node_id))
                .put(Space::Records, owner_key(&node.node_id), owner.to_vec())
                .put(
                    Space::Records,
                    node_key(owner, &node.node_id),
                    encode(node)?,
                );
        }
        match &self.head.signed {
            Some(head) => store_genesis(batch, owner, head, &self.leaves),
            None => Ok(()),
        }
    }
}

impl ServerBackend {
    /// Checks a new record for `owner`, whose identity key is `key`: shapes,
    /// sizes, the quota, every node's owner-signed state (revision 1) and the
    /// genesis head over exactly them.
    pub(crate) fn prepare_record(
        &self,
        owner: &Id,
        key: &VerifyingKey,
        record: NewRecordRequest,
    ) -> Result<PreparedRecord, ApiError> {
        let NewRecordRequest {
            root,
            children,
            head,
        } = record;
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
        let mut nodes = Vec::with_capacity(children.len() + 1);
        let mut leaves = Vec::with_capacity(children.len() + 1);
        for node in std::iter::once(&root).chain(&children) {
            let mut stored = new_stored_node(node, now);
            let view = state_view(&stored, None);
            let state = check_state(node.state.clone(), owner, owner, key, &view)?;
            leaves.push(HeadLeaf::of(&state));
            stored.state = Some(state);
            nodes.push(stored);
        }
        check_genesis(&head, owner, &root.node_id, key, &leaves)?;
        let head = RecordHead {
            root_id: root.node_id,
            seq: 1,
            stored_bytes: bytes,
            reserved_bytes: 0,
            nodes: nodes.len() as u64,
            signed: Some(head),
        };
        let empty = RecordHead {
            stored_bytes: 0,
            ..head.clone()
        };
        self.check_quota(&empty, bytes)?;
        Ok(PreparedRecord {
            owner: *owner,
            head,
            nodes,
            leaves,
        })
    }
}

/// `records/create`: the caller's record, if they have none yet.
pub(super) async fn create_record(
    b: &ServerBackend,
    s: &Session,
    record: NewRecordRequest,
) -> Result<RecordTree, ApiError> {
    let owner = s.user.id;
    authz::require_role(
        s,
        Role::Patient,
        "Only patients have a record of their own.",
    )?;
    let prepared = b.prepare_record(&owner, &s.user.key_entry.value.identity_key, record)?;
    let _guard = b.record_locks.lock(&owner).await;
    if b.record_head(&owner).await?.is_some() {
        return Err(conflict("You already have a record."));
    }
    let mut batch = Batch::new();
    prepared.ops(&mut batch)?;
    match b
        .commit(
            batch,
            Some(event(s, EventKind::RecordCreated, &prepared.root_id())),
        )
        .await
    {
        Ok(()) => {}
        Err(e) if e.code == ErrorCode::Conflict => {
            return Err(if b.record_head(&owner).await?.is_some() {
                conflict("You already have a record.")
            } else {
                id_taken()
            })
        }
        Err(e) => return Err(e),
    }
    b.build_tree(&owner, &prepared.head).await
}
