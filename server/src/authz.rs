//! Every access decision of the server in one place: who is signed in, what
//! their role lets them do, and what a doctor's grants open of a patient's
//! record.
//!
//! Backend methods ask here before they read or change anything. Nothing here
//! knows a storage key: it reads through the backend's store helpers and the
//! layout functions of each keyspace. Whatever is outside what the caller may
//! see answers `not_found`, exactly like an id that does not exist, so that a
//! probe learns nothing; `forbidden` is kept for a doctor who may read an item
//! but not change it, as they know it exists.

use shared::{
    api::{records::NodeKind, ApiError, ErrorCode},
    crypto::{
        sign::{Permission, Role},
        Id,
    },
};

use crate::backend::{
    records::layout::StoredNode, sessions::Session, sharing::layout::StoredGrant, ServerBackend,
};

/// Whose record a change goes to, and the write grant it is made under.
pub(crate) struct WriteAccess {
    /// The record's owner.
    pub owner: Id,
    /// The doctor's read-and-write grant; `None` for the owner.
    pub grant_id: Option<Id>,
}

/// What a doctor's active grant opens for one node.
pub(crate) struct DoctorAccess {
    /// The patient.
    pub owner: Id,
    /// The node asked for.
    pub node: StoredNode,
}

impl ServerBackend {
    /// The calling doctor's active grants from `node_id`'s owner whose folder
    /// is the node or one above it, with nothing on the way in the trash.
    /// None at all is `not_found`.
    pub(crate) async fn covering_grants(
        &self,
        s: &Session,
        node_id: &Id,
    ) -> Result<(DoctorAccess, Vec<Id>, Vec<StoredGrant>), ApiError> {
        // Grants name doctors, or emergency contacts of any role but admin
        // and auditor, who never read a record.
        if matches!(s.user.role, Role::Admin | Role::Auditor) {
            return Err(ApiError::not_found());
        }
        let owner = self
            .node_owner(node_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let grants: Vec<StoredGrant> = self
            .active_received(s)
            .await?
            .into_iter()
            .filter(|g| g.grant.value.patient_id == owner)
            .collect();
        if grants.is_empty() {
            return Err(ApiError::not_found());
        }
        let (_, node) = self.owned_node(&owner, node_id).await?;
        let mut chain = vec![node.clone()];
        chain.extend(self.ancestors(&owner, &node).await?);
        if chain.iter().any(|n| n.trashed_at.is_some() || n.purging) {
            return Err(ApiError::not_found());
        }
        let path: Vec<Id> = chain.iter().map(|n| n.node_id).collect();
        let covering: Vec<StoredGrant> = grants
            .into_iter()
            .filter(|g| path.contains(&g.grant.value.node_id))
            .collect();
        if covering.is_empty() {
            return Err(ApiError::not_found());
        }
        Ok((DoctorAccess { owner, node }, path, covering))
    }

    /// The patients whose records the calling doctor may write in now: those
    /// with an active read-and-write grant to them.
    pub(crate) async fn write_patients(&self, s: &Session) -> Result<Vec<Id>, ApiError> {
        let mut out: Vec<Id> = Vec::new();
        for g in self.active_received(s).await? {
            let value = &g.grant.value;
            if value.permission == Permission::ReadWrite && !out.contains(&value.patient_id) {
                out.push(value.patient_id);
            }
        }
        Ok(out)
    }

    /// The calling doctor's access to `node_id`: an active grant from the
    /// node's owner whose folder is the node or one above it, with nothing on
    /// the way in the trash. Anything else is `not_found`.
    pub(crate) async fn doctor_access(
        &self,
        s: &Session,
        node_id: &Id,
    ) -> Result<DoctorAccess, ApiError> {
        let (access, _, _) = self.covering_grants(s, node_id).await?;
        if access.node.kind == NodeKind::File && access.node.current.is_none() {
            return Err(ApiError::not_found());
        }
        Ok(access)
    }

    /// Who may change `node_id`, and as whom: its owner, or a doctor holding
    /// an active read-and-write grant whose folder is the node or one above
    /// it (`strictly_inside`: one above it, for deleting, so that the shared
    /// folder itself stays). A doctor who can only read gets `forbidden`, as
    /// they know the item exists; anyone else `not_found`.
    pub(crate) async fn write_access(
        &self,
        s: &Session,
        node_id: &Id,
        strictly_inside: bool,
    ) -> Result<WriteAccess, ApiError> {
        if self.stored_node(&s.user.id, node_id).await?.is_some() {
            return Ok(WriteAccess {
                owner: s.user.id,
                grant_id: None,
            });
        }
        let (access, path, covering) = self.covering_grants(s, node_id).await?;
        let inside = if strictly_inside {
            &path[1..]
        } else {
            &path[..]
        };
        let writable = covering.iter().find(|g| {
            g.grant.value.permission == Permission::ReadWrite
                && inside.contains(&g.grant.value.node_id)
        });
        match writable {
            Some(g) => Ok(WriteAccess {
                owner: access.owner,
                grant_id: Some(g.grant.value.grant_id),
            }),
            None if strictly_inside
                && covering
                    .iter()
                    .any(|g| g.grant.value.permission == Permission::ReadWrite) =>
            {
                Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "The folder the patient shared with you cannot be deleted; only what is inside it.",
                ))
            }
            None => Err(ApiError::new(
                ErrorCode::Forbidden,
                "You can only read this part of the patient's record. Ask the patient for read and write access to change it.",
            )),
        }
    }

    /// The node as a reader may see it: the caller's own, or one an active
    /// grant opens to the calling doctor. Answers the owner too.
    pub(crate) async fn readable_node(
        &self,
        s: &Session,
        node_id: &Id,
    ) -> Result<(Id, StoredNode), ApiError> {
        if let Some((_, node)) = self.stored_node(&s.user.id, node_id).await? {
            return Ok((s.user.id, node));
        }
        let access = self.doctor_access(s, node_id).await?;
        Ok((access.owner, access.node))
    }
}
