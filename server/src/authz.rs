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
    api::{records::NodeKind, ApiError, Caller, ErrorCode},
    model::{Id, Permission, Role},
    sharing::{grant_allows, GrantTime},
};

use crate::backend::{
    records::layout::StoredNode,
    sessions::Session,
    sharing::layout::{StoredGrant, StoredRequest},
    ServerBackend,
};

/// The refusal while a required second factor is missing.
pub(crate) const SECOND_FACTOR_REQUIRED: &str = "This installation requires a second factor for your role. Turn it on in Account (an authenticator app code) before you continue.";

/// `forbidden` with `refusal` unless the caller holds `role`: for calls whose
/// existence is no secret, such as a doctor creating a record.
pub(crate) fn require_role(s: &Session, role: Role, refusal: &str) -> Result<(), ApiError> {
    if s.user.role == role {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden, refusal))
    }
}

/// Whether the caller is the patient who made the grant.
pub(crate) fn gave(s: &Session, grant: &StoredGrant) -> bool {
    grant.grant.value.patient_id == s.user.id
}

/// Whether the grant names the caller, as doctor or as emergency contact.
pub(crate) fn received(s: &Session, grant: &StoredGrant) -> bool {
    grant.grant.value.doctor_id == s.user.id
}

/// Whether the request was made to the caller (its patient).
pub(crate) fn asked(s: &Session, request: &StoredRequest) -> bool {
    request.patient_id == s.user.id
}

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
    /// The caller's session, or 401; `forbidden` while the installation's
    /// policy wants a second factor the account does not have yet.
    pub(crate) async fn require_session(&self, caller: &Caller) -> Result<Session, ApiError> {
        let s = self.require_session_enrolling(caller).await?;
        self.require_second_factor(&s)?;
        Ok(s)
    }

    /// The caller's session, or 401, whatever the second-factor policy: only
    /// for the calls that turn the second factor on.
    pub(crate) async fn require_session_enrolling(
        &self,
        caller: &Caller,
    ) -> Result<Session, ApiError> {
        self.session(caller).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "You are not signed in, or your session has ended. Sign in again.",
            )
        })
    }

    /// `forbidden` while `--require-second-factor` names the caller's role
    /// and their account has no second factor.
    pub(crate) fn require_second_factor(&self, s: &Session) -> Result<(), ApiError> {
        if self.second_factor_missing(&s.user) {
            return Err(ApiError::new(ErrorCode::Forbidden, SECOND_FACTOR_REQUIRED));
        }
        Ok(())
    }

    /// The caller's session if they hold `role`; anyone else, signed in or
    /// not, gets `not_found`, as if the call did not exist (the audit and
    /// system logs).
    pub(crate) async fn require_hidden_role(
        &self,
        caller: &Caller,
        role: Role,
    ) -> Result<Session, ApiError> {
        match self.session(caller).await? {
            Some(s) if s.user.role == role => {
                self.require_second_factor(&s)?;
                Ok(s)
            }
            _ => Err(ApiError::not_found()),
        }
    }

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
        let now = self.now();
        // Their status was judged by active_received.
        let covering: Vec<StoredGrant> = grants
            .into_iter()
            .filter(|g| allows(g, Permission::Read, now, |f| path.contains(f)))
            .collect();
        if covering.is_empty() {
            return Err(ApiError::not_found());
        }
        Ok((DoctorAccess { owner, node }, path, covering))
    }

    /// The patients whose records the calling doctor may write in now: those
    /// with an active read-and-write grant to them.
    async fn write_patients(&self, s: &Session) -> Result<Vec<Id>, ApiError> {
        let mut out: Vec<Id> = Vec::new();
        let now = self.now();
        for g in self.active_received(s).await? {
            let patient = g.grant.value.patient_id;
            if allows(&g, Permission::ReadWrite, now, |_| true) && !out.contains(&patient) {
                out.push(patient);
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
        let now = self.now();
        let writable = covering
            .iter()
            .find(|g| allows(g, Permission::ReadWrite, now, |f| inside.contains(f)));
        match writable {
            Some(g) => Ok(WriteAccess {
                owner: access.owner,
                grant_id: Some(g.grant.value.grant_id),
            }),
            None if strictly_inside
                && covering
                    .iter()
                    .any(|g| allows(g, Permission::ReadWrite, now, |_| true)) =>
            {
                Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "The folder the patient shared with you cannot be changed, moved or deleted; only what is inside it.",
                ))
            }
            None => Err(ApiError::new(
                ErrorCode::Forbidden,
                "You can only read this part of the patient's record. Ask the patient for read and write access to change it.",
            )),
        }
    }

    /// [`ServerBackend::readable_node`] (of a file: its owner, or a doctor
    /// while it has a complete version), and the first second at which what
    /// opened it ends by the clock alone: never for the owner (`i64::MAX`),
    /// the end of the last grant that covers it for a doctor.
    pub(crate) async fn readable_until(
        &self,
        s: &Session,
        node_id: &Id,
    ) -> Result<(Id, i64), ApiError> {
        if self.stored_node(&s.user.id, node_id).await?.is_some() {
            return Ok((s.user.id, i64::MAX));
        }
        let (access, _, covering) = self.covering_grants(s, node_id).await?;
        if access.node.kind == NodeKind::File && access.node.current.is_none() {
            return Err(ApiError::not_found());
        }
        let until = covering
            .iter()
            .map(|g| g.grant.value.expires_at.unwrap_or(i64::MAX))
            .max()
            .unwrap_or(i64::MIN);
        Ok((access.owner, until))
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

    /// Whose record an upload of the caller's is in: the caller's own, or
    /// (for a doctor) a patient's that this doctor started and still holds
    /// an active read-and-write grant from.
    pub(crate) async fn upload_owner(
        &self,
        s: &Session,
        node_id: &Id,
        version: u32,
    ) -> Result<Id, ApiError> {
        if s.user.role != Role::Doctor || self.has_upload(&s.user.id, node_id, version).await? {
            return Ok(s.user.id);
        }
        for patient in self.write_patients(s).await? {
            if let Some(upload) = self.stored_upload(&patient, node_id, version).await? {
                if upload.uploader == Some(s.user.id) {
                    return Ok(patient);
                }
            }
        }
        Ok(s.user.id)
    }
}

/// The one grant rule ([`grant_allows`], which the browser applies too) for
/// a stored grant whose status the caller has already judged
/// ([`ServerBackend::active_received`]).
fn allows(g: &StoredGrant, asked: Permission, now: i64, in_scope: impl Fn(&Id) -> bool) -> bool {
    grant_allows(&g.grant.value, None, asked, GrantTime::Now(now), in_scope).is_ok()
}
