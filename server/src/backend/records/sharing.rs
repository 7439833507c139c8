//! Grants and access requests, and the doctor's way into a patient's record.
//!
//! Grants keyspace:
//!
//! | key                              | value |
//! |----------------------------------|-------|
//! | `1 ‖ grant id`                   | [`StoredGrant`] |
//! | `2 ‖ patient id ‖ grant id`      | empty: the patient's grants |
//! | `3 ‖ doctor id ‖ grant id`       | empty: the doctor's grants |
//! | `4 ‖ request id`                 | [`StoredRequest`] |
//! | `5 ‖ patient id ‖ request id`    | empty: requests to the patient |
//! | `6 ‖ doctor id ‖ request id`     | empty: the doctor's requests |
//! | `7 ‖ patient id ‖ doctor id`     | the pending request's id: one per pair |
//!
//! A doctor's access to a node is decided on every request from what is
//! stored: the node's owner (the records' owner index), the doctor's grants
//! from that patient that are neither revoked nor past their end by the
//! server's clock, and the node's folders up to the root. A node outside
//! every such grant, or in the patient's trash, is `not_found`.

use serde::{Deserialize, Serialize};
use shared::{
    account::Username,
    api::{
        records::{NodeKind, NodeView},
        sharing::{
            validate_reason, validate_wait, AccessRequestView, CreateGrantRequest, Emergency,
            EmergencyAsk, GrantStatus, GrantView, NewAccessRequest, RequestStatus, RotationPart,
            RotationTicket, SharedScope, SharingBackend, GRANT_CLOCK_SKEW_SECS, MAX_GRANTS,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::{
        b64, hpke,
        sign::{Grant, Permission, Role, Signed},
        Id,
    },
};

use super::{
    conflict, encode,
    layout::{owner_key, StoredNode},
    Names,
};
use crate::{
    backend::{audit::Draft, sessions::Session, store_error, ServerBackend},
    store::{keys::Key, Batch, Space, StoreError},
};

/// Most requests one doctor may have made (pending or answered).
const MAX_REQUESTS: usize = 1000;
/// Index keys read per store scan when listing grants or requests.
const INDEX_PAGE: usize = 512;

/// Key of a stored grant in the Grants keyspace.
pub fn grant_key(grant: &Id) -> Vec<u8> {
    Key::new().u8(1).fixed(grant).finish()
}

/// Key of the (empty) entry that lists a grant under its patient.
pub fn patient_grant_key(patient: &Id, grant: &Id) -> Vec<u8> {
    Key::new().u8(2).fixed(patient).fixed(grant).finish()
}

/// Key of the (empty) entry that lists a grant under its doctor.
pub fn doctor_grant_key(doctor: &Id, grant: &Id) -> Vec<u8> {
    Key::new().u8(3).fixed(doctor).fixed(grant).finish()
}

fn request_key(request: &Id) -> Vec<u8> {
    Key::new().u8(4).fixed(request).finish()
}

fn patient_request_key(patient: &Id, request: &Id) -> Vec<u8> {
    Key::new().u8(5).fixed(patient).fixed(request).finish()
}

fn doctor_request_key(doctor: &Id, request: &Id) -> Vec<u8> {
    Key::new().u8(6).fixed(doctor).fixed(request).finish()
}

fn pending_key(patient: &Id, doctor: &Id) -> Vec<u8> {
    Key::new().u8(7).fixed(patient).fixed(doctor).finish()
}

/// A grant as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// As the patient signed it.
    pub grant: Signed<Grant>,
    /// The scope's key wrapped to the doctor; emptied on revocation.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// When the patient removed it.
    pub revoked_at: Option<i64>,
    /// The request it approved.
    #[serde(with = "b64::option_array")]
    pub request_id: Option<Id>,
    /// An emergency contact's grant: open only after a request and the wait.
    #[serde(default)]
    pub emergency: Option<Emergency>,
    /// Its end date passed and `grant_expired` was appended (once).
    #[serde(default)]
    pub expiry_logged: bool,
    /// When its doctor declined it.
    #[serde(default)]
    pub declined_at: Option<i64>,
}

impl StoredGrant {
    /// Where it stands at `now`.
    pub fn status(&self, now: i64) -> GrantStatus {
        if self.revoked_at.is_some() {
            GrantStatus::Revoked
        } else if self.declined_at.is_some() {
            GrantStatus::Declined
        } else if self.grant.value.expires_at.is_some_and(|t| t <= now) {
            GrantStatus::Expired
        } else {
            match &self.emergency {
                None => GrantStatus::Active,
                Some(e) => match e.opens_at() {
                    None => GrantStatus::Standby,
                    Some(t) if now < t => GrantStatus::Waiting,
                    Some(_) => GrantStatus::Active,
                },
            }
        }
    }
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRequest {
    /// The request.
    #[serde(with = "b64::array")]
    pub request_id: Id,
    /// Asked.
    #[serde(with = "b64::array")]
    pub patient_id: Id,
    /// Asking.
    #[serde(with = "b64::array")]
    pub doctor_id: Id,
    /// In the doctor's words.
    pub reason: String,
    /// When.
    pub created_at: i64,
    /// Where it stands.
    pub status: RequestStatus,
    /// When the patient decided.
    pub decided_at: Option<i64>,
    /// The approving grant.
    #[serde(with = "b64::option_array")]
    pub grant_id: Option<Id>,
}

/// Whose record a change goes to, and the write grant it is made under.
pub(super) struct WriteAccess {
    /// The record's owner.
    pub owner: Id,
    /// The doctor's read-and-write grant; `None` for the owner.
    pub grant_id: Option<Id>,
}

/// What a doctor's active grant opens for one node.
pub(super) struct DoctorAccess {
    /// The patient.
    pub owner: Id,
    /// The node asked for.
    pub node: StoredNode,
}

/// A batch that replaces a grant with `new`, only if it is still stored as
/// `raw`.
fn replace_grant(raw: Vec<u8>, new: &StoredGrant) -> Result<Batch, ApiError> {
    let key = grant_key(&new.grant.value.grant_id);
    let mut batch = Batch::new();
    batch
        .expect_value(Space::Grants, key.clone(), raw)
        .put(Space::Grants, key, encode(new)?);
    Ok(batch)
}

/// An event about `owner`'s record done by the session's user.
pub(super) fn event_on(session: &Session, owner: &Id, kind: EventKind, item: &Id) -> Draft {
    Draft::new(kind)
        .actor(&session.user.id)
        .session(&session.hash)
        .subject(owner)
        .item(item)
}

fn grant_id_taken() -> ApiError {
    conflict("A grant with this id already exists. Share again: a new id is chosen each time.")
}

fn only_patients() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "Only patients share their record with doctors.",
    )
}

impl ServerBackend {
    /// Who owns a node, from the owner index.
    pub(super) async fn node_owner(&self, node: &Id) -> Result<Option<Id>, ApiError> {
        let raw = self
            .store
            .get(Space::Records, &owner_key(node))
            .await
            .map_err(store_error)?;
        Ok(raw.and_then(|r| <Id>::try_from(r.as_slice()).ok()))
    }

    pub(super) async fn stored_grant(
        &self,
        grant: &Id,
    ) -> Result<Option<(Vec<u8>, StoredGrant)>, ApiError> {
        self.load(Space::Grants, &grant_key(grant)).await
    }

    /// The ids at the end of every index key under `prefix`, read a page at a
    /// time. Nothing is cut off: ids are chosen by whoever makes a grant, so a
    /// window in key order would let anyone push real entries out of view.
    async fn ids_under(&self, prefix: &[u8]) -> Result<Vec<Id>, ApiError> {
        let mut out = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let rows = self
                .store
                .scan_prefix(Space::Grants, prefix, after.as_deref(), INDEX_PAGE)
                .await
                .map_err(store_error)?;
            let full = rows.len() == INDEX_PAGE;
            for (key, _) in &rows {
                let id = key
                    .get(prefix.len()..)
                    .and_then(|tail| <Id>::try_from(tail).ok())
                    .ok_or_else(|| {
                        store_error(StoreError::Corrupt("a sharing index key".into()))
                    })?;
                out.push(id);
            }
            match rows.into_iter().last() {
                Some((key, _)) if full => after = Some(key),
                _ => return Ok(out),
            }
        }
    }

    /// The grants under an index prefix (`2 ‖ patient` or `3 ‖ doctor`), with
    /// their stored bytes (for preconditions).
    async fn grant_rows_under(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, StoredGrant)>, ApiError> {
        let mut out = Vec::new();
        for id in self.ids_under(prefix).await? {
            if let Some(found) = self.stored_grant(&id).await? {
                out.push(found);
            }
        }
        Ok(out)
    }

    /// The grants under an index prefix, without their stored bytes.
    async fn grants_under(&self, prefix: Vec<u8>) -> Result<Vec<StoredGrant>, ApiError> {
        Ok(self
            .grant_rows_under(&prefix)
            .await?
            .into_iter()
            .map(|(_, grant)| grant)
            .collect())
    }

    /// A patient's grants with their stored bytes (for preconditions).
    pub(super) async fn grants_of_patient(
        &self,
        patient: &Id,
    ) -> Result<Vec<(Vec<u8>, StoredGrant)>, ApiError> {
        self.grant_rows_under(&Key::new().u8(2).fixed(patient).finish())
            .await
    }

    /// The calling doctor's active grants from `node_id`'s owner whose folder
    /// is the node or one above it, with nothing on the way in the trash.
    /// None at all is `not_found`.
    async fn covering_grants(
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

    /// Writes a changed grant (only if it is still as read) with its event,
    /// and answers its new view.
    async fn save_grant(
        &self,
        raw: Vec<u8>,
        stored: StoredGrant,
        draft: Draft,
    ) -> Result<GrantView, ApiError> {
        let batch = replace_grant(raw, &stored)?;
        self.append(batch, draft).await.map_err(|e| match e {
            StoreError::Conflict => {
                conflict("This access changed meanwhile. Reload and try again.")
            }
            e => store_error(e),
        })?;
        self.grant_view_of(stored, &mut Names::new()).await
    }

    /// Appends `grant_expired` for a grant whose end date has passed, the
    /// first time anyone lists it afterwards, and marks it in the same batch
    /// so that it is logged once.
    async fn note_expiry(&self, raw: Vec<u8>, grant: StoredGrant) -> Result<StoredGrant, ApiError> {
        if grant.expiry_logged || grant.status(self.now()) != GrantStatus::Expired {
            return Ok(grant);
        }
        let marked = StoredGrant {
            expiry_logged: true,
            ..grant
        };
        let batch = replace_grant(raw, &marked)?;
        let draft = Draft::new(EventKind::GrantExpired)
            .subject(&marked.grant.value.patient_id)
            .item(&marked.grant.value.node_id);
        match self.append(batch, draft).await {
            // Another request logged it first.
            Ok(_) | Err(StoreError::Conflict) => Ok(marked),
            Err(e) => Err(store_error(e)),
        }
    }

    /// The patients whose records the calling doctor may write in now: those
    /// with an active read-and-write grant to them.
    pub(super) async fn write_patients(&self, s: &Session) -> Result<Vec<Id>, ApiError> {
        let mut out: Vec<Id> = Vec::new();
        for g in self.active_received(s).await? {
            let value = &g.grant.value;
            if value.permission == Permission::ReadWrite && !out.contains(&value.patient_id) {
                out.push(value.patient_id);
            }
        }
        Ok(out)
    }

    /// The grants naming the caller (as doctor or emergency contact) that are
    /// active now.
    async fn active_received(&self, s: &Session) -> Result<Vec<StoredGrant>, ApiError> {
        let now = self.now();
        Ok(self
            .grants_under(Key::new().u8(3).fixed(&s.user.id).finish())
            .await?
            .into_iter()
            .filter(|g| g.status(now) == GrantStatus::Active)
            .collect())
    }

    /// The calling doctor's access to `node_id`: an active grant from the
    /// node's owner whose folder is the node or one above it, with nothing on
    /// the way in the trash. Anything else is `not_found`.
    pub(super) async fn doctor_access(
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
    pub(super) async fn write_access(
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
    pub(super) async fn readable_node(
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

    pub(super) async fn grant_view_of(
        &self,
        stored: StoredGrant,
        names: &mut Names,
    ) -> Result<GrantView, ApiError> {
        let patient_name = self
            .author_name(&stored.grant.value.patient_id, names)
            .await?;
        let doctor_name = self
            .author_name(&stored.grant.value.doctor_id, names)
            .await?;
        let status = stored.status(self.now());
        // A key is handed over only while the grant is open: an emergency
        // contact's waits on the server until then.
        let wrapped_key = if status == GrantStatus::Active {
            stored.wrapped_key
        } else {
            Vec::new()
        };
        Ok(GrantView {
            status,
            grant: stored.grant,
            wrapped_key,
            patient_name,
            doctor_name,
            revoked_at: stored.revoked_at,
            emergency: stored.emergency,
        })
    }

    async fn request_view(
        &self,
        stored: StoredRequest,
        names: &mut Names,
    ) -> Result<AccessRequestView, ApiError> {
        Ok(AccessRequestView {
            patient_name: self.author_name(&stored.patient_id, names).await?,
            doctor_name: self.author_name(&stored.doctor_id, names).await?,
            request_id: stored.request_id,
            patient_id: stored.patient_id,
            doctor_id: stored.doctor_id,
            reason: stored.reason,
            created_at: stored.created_at,
            status: stored.status,
            decided_at: stored.decided_at,
            grant_id: stored.grant_id,
        })
    }

    async fn stored_request(
        &self,
        request: &Id,
    ) -> Result<Option<(Vec<u8>, StoredRequest)>, ApiError> {
        self.load(Space::Grants, &request_key(request)).await
    }

    async fn requests_under(&self, prefix: Vec<u8>) -> Result<Vec<StoredRequest>, ApiError> {
        let mut out = Vec::new();
        for id in self.ids_under(&prefix).await? {
            if let Some((_, request)) = self.stored_request(&id).await? {
                out.push(request);
            }
        }
        Ok(out)
    }

    /// Checks a new grant against the caller, the doctor and the record.
    async fn check_new_grant(
        &self,
        s: &Session,
        request: &CreateGrantRequest,
    ) -> Result<(), ApiError> {
        let me = s.user.id;
        let grant = &request.grant.value;
        if grant.patient_id != me {
            return Err(ApiError::bad_request(
                "A grant must name you as the patient who shares.",
            ));
        }
        request
            .grant
            .verify(&s.user.key_entry.value.identity_key)
            .map_err(|_| {
                ApiError::bad_request(
                    "The grant is not signed with your key. Sign out, sign in again and retry.",
                )
            })?;
        if request.wrapped_key.len() != hpke::WRAPPED_LEN {
            return Err(ApiError::bad_request(format!(
                "The wrapped key must be {} bytes.",
                hpke::WRAPPED_LEN
            )));
        }
        let now = self.now();
        if grant.expires_at.is_some_and(|t| t <= now) {
            return Err(ApiError::bad_request(
                "The end date has already passed. Choose a later date, or none.",
            ));
        }
        // `abs_diff`: the time is the client's, and `created_at - now` overflows
        // for values near i64::MIN or i64::MAX.
        if grant.created_at.abs_diff(now) > GRANT_CLOCK_SKEW_SECS.unsigned_abs() {
            return Err(ApiError::bad_request(
                "The grant's date is far from the server's clock. Check your computer's date and time.",
            ));
        }
        if grant.doctor_id == me {
            return Err(ApiError::bad_request(
                "You cannot share your record with yourself.",
            ));
        }
        let doctor = self
            .user_by_id(&grant.doctor_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let emergency = request.emergency_wait_secs.is_some();
        match (doctor.role, emergency) {
            (Role::Doctor, _) | (Role::Patient, true) => {}
            (_, false) => {
                return Err(ApiError::bad_request(format!(
                    "{} is not a doctor, so your record cannot be shared with them.",
                    doctor.username
                )))
            }
            (_, true) => {
                return Err(ApiError::bad_request(format!(
                    "{} is an administrator or auditor account and cannot be an emergency contact.",
                    doctor.username
                )))
            }
        }
        if let Some(wait) = request.emergency_wait_secs {
            validate_wait(wait).map_err(ApiError::bad_request)?;
            if grant.permission != Permission::Read || request.request_id.is_some() {
                return Err(ApiError::bad_request(
                    "An emergency contact gets read access, named by you rather than asked for.",
                ));
            }
        }
        if grant.doctor_key != doctor.key_entry.value.encryption_key {
            return Err(ApiError::bad_request(format!(
                "The grant names other keys than {}'s. Reload the page and share again.",
                doctor.username
            )));
        }
        if doctor.disabled {
            return Err(conflict(format!(
                "{}'s account is disabled, so nothing can be shared with it.",
                doctor.username
            )));
        }
        let (_, node) = self.owned_node(&me, &grant.node_id).await?;
        if node.kind != NodeKind::Folder {
            return Err(ApiError::bad_request(
                "Only a folder or the whole record can be shared.",
            ));
        }
        if emergency && node.parent_id.is_some() {
            return Err(ApiError::bad_request(
                "An emergency contact is given the whole record, not one folder.",
            ));
        }
        if node.trashed_at.is_some()
            || node.purging
            || self
                .ancestors(&me, &node)
                .await?
                .iter()
                .any(|a| a.trashed_at.is_some())
        {
            return Err(conflict(
                "That folder is in the Trash. Restore it before sharing it.",
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SharingBackend for ServerBackend {
    async fn create_grant(
        &self,
        caller: &Caller,
        request: CreateGrantRequest,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        if s.user.role != Role::Patient {
            return Err(only_patients());
        }
        let me = s.user.id;
        self.check_new_grant(&s, &request).await?;
        let grant = request.grant.value.clone();

        let _guard = self.record_locks.lock(&me).await;
        // Also checked in the batch below, so two racing creates cannot both
        // win; this only gives the clearer answer.
        if self.stored_grant(&grant.grant_id).await?.is_some() {
            return Err(grant_id_taken());
        }
        let mine = self
            .grants_under(Key::new().u8(2).fixed(&me).finish())
            .await?;
        if mine.len() >= MAX_GRANTS {
            return Err(conflict(format!(
                "You have made the most grants medvault keeps ({MAX_GRANTS})."
            )));
        }
        let now = self.now();
        if mine.iter().any(|g| {
            g.grant.value.doctor_id == grant.doctor_id
                && g.grant.value.node_id == grant.node_id
                && g.status(now).is_live()
        }) {
            return Err(conflict(
                "This doctor already has access to that folder. Remove that access first to change it.",
            ));
        }
        let mut batch = Batch::new();
        let kind = match request.request_id {
            None if request.emergency_wait_secs.is_some() => EventKind::EmergencyContactNamed,
            None => EventKind::GrantCreated,
            Some(request_id) => {
                let (raw, mut pending) = self
                    .stored_request(&request_id)
                    .await?
                    .filter(|(_, r)| r.patient_id == me)
                    .ok_or_else(ApiError::not_found)?;
                if pending.doctor_id != grant.doctor_id {
                    return Err(ApiError::bad_request(
                        "The grant is for another doctor than the one who asked.",
                    ));
                }
                if pending.status != RequestStatus::Pending {
                    return Err(conflict("You have already answered this request."));
                }
                pending.status = RequestStatus::Approved;
                pending.decided_at = Some(now);
                pending.grant_id = Some(grant.grant_id);
                batch
                    .expect_value(Space::Grants, request_key(&request_id), raw)
                    .put(Space::Grants, request_key(&request_id), encode(&pending)?)
                    .delete(Space::Grants, pending_key(&me, &grant.doctor_id));
                EventKind::AccessApproved
            }
        };
        let stored = StoredGrant {
            grant: request.grant,
            wrapped_key: request.wrapped_key,
            revoked_at: None,
            request_id: request.request_id,
            expiry_logged: false,
            declined_at: None,
            emergency: request.emergency_wait_secs.map(|wait_secs| Emergency {
                wait_secs,
                requested_at: None,
                reason: None,
                refused_at: None,
            }),
        };
        batch
            .expect_absent(Space::Grants, grant_key(&grant.grant_id))
            .put(Space::Grants, grant_key(&grant.grant_id), encode(&stored)?)
            .put(
                Space::Grants,
                patient_grant_key(&me, &grant.grant_id),
                Vec::new(),
            )
            .put(
                Space::Grants,
                doctor_grant_key(&grant.doctor_id, &grant.grant_id),
                Vec::new(),
            );
        let draft = Draft::own(kind, &me).session(&s.hash).item(&grant.node_id);
        match self.append(batch, draft).await {
            Ok(_) => {}
            Err(StoreError::Conflict) => {
                return Err(conflict(
                    "That grant id is taken, or the request was answered meanwhile. Reload and try again.",
                ))
            }
            Err(e) => return Err(store_error(e)),
        }
        self.grant_view_of(stored, &mut Names::new()).await
    }

    async fn revoke_grant(&self, caller: &Caller, grant_id: Id) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        let me = s.user.id;
        let _guard = self.record_locks.lock(&me).await;
        let (raw, mut stored) = self
            .stored_grant(&grant_id)
            .await?
            .filter(|(_, g)| g.grant.value.patient_id == me)
            .ok_or_else(ApiError::not_found)?;
        if stored.revoked_at.is_some() {
            return Err(conflict("This access was already removed."));
        }
        if stored.declined_at.is_some() {
            return Err(conflict(
                "The doctor already declined this share, so they have no access to remove.",
            ));
        }
        stored.revoked_at = Some(self.now());
        stored.wrapped_key = Vec::new();
        let draft = Draft::own(EventKind::GrantRevoked, &me)
            .session(&s.hash)
            .item(&stored.grant.value.node_id);
        self.save_grant(raw, stored, draft).await
    }

    async fn decline_grant(&self, caller: &Caller, grant_id: Id) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        let me = s.user.id;
        let mine = |g: &StoredGrant| g.grant.value.doctor_id == me;
        let (_, found) = self
            .stored_grant(&grant_id)
            .await?
            .filter(|(_, g)| mine(g))
            .ok_or_else(ApiError::not_found)?;
        let patient = found.grant.value.patient_id;
        // The patient's lock: revocation and rotation rewrite grants under it.
        let _guard = self.record_locks.lock(&patient).await;
        let (raw, mut stored) = self
            .stored_grant(&grant_id)
            .await?
            .filter(|(_, g)| mine(g))
            .ok_or_else(ApiError::not_found)?;
        match stored.status(self.now()) {
            GrantStatus::Active | GrantStatus::Standby | GrantStatus::Waiting => {}
            GrantStatus::Declined => return Err(conflict("You have already declined this share.")),
            GrantStatus::Expired | GrantStatus::Revoked => {
                return Err(conflict(
                    "This share has already ended: the patient removed it, or its end date passed.",
                ))
            }
        }
        stored.declined_at = Some(self.now());
        stored.wrapped_key = Vec::new();
        // Out of the doctor's index too: a declined grant no longer costs them
        // a read on every request, nor a line in their list.
        let mut batch = replace_grant(raw, &stored)?;
        batch.delete(Space::Grants, doctor_grant_key(&me, &grant_id));
        let draft = event_on(
            &s,
            &patient,
            EventKind::GrantDeclined,
            &stored.grant.value.node_id,
        );
        self.append(batch, draft).await.map_err(|e| match e {
            StoreError::Conflict => conflict("This share changed meanwhile. Reload and try again."),
            e => store_error(e),
        })?;
        self.grant_view_of(stored, &mut Names::new()).await
    }

    async fn list_grants(&self, caller: &Caller) -> Result<Vec<GrantView>, ApiError> {
        let s = self.require_session(caller).await?;
        // A patient's own grants, and (patients and doctors) those that name
        // the caller: as doctor, or as emergency contact.
        let indexes: &[u8] = match s.user.role {
            Role::Patient => &[2, 3],
            Role::Doctor => &[3],
            Role::Admin | Role::Auditor => return Ok(Vec::new()),
        };
        let mut grants = Vec::new();
        for index in indexes {
            let rows = self
                .grant_rows_under(&Key::new().u8(*index).fixed(&s.user.id).finish())
                .await?;
            for (raw, grant) in rows {
                grants.push(self.note_expiry(raw, grant).await?);
            }
        }
        grants.sort_by_key(|g| std::cmp::Reverse(g.grant.value.created_at));
        let mut names = Names::new();
        let mut out = Vec::with_capacity(grants.len());
        for g in grants {
            out.push(self.grant_view_of(g, &mut names).await?);
        }
        Ok(out)
    }

    async fn shared_record(&self, caller: &Caller, grant_id: Id) -> Result<SharedScope, ApiError> {
        let s = self.require_session(caller).await?;
        let (_, stored) = self
            .stored_grant(&grant_id)
            .await?
            .filter(|(_, g)| g.grant.value.doctor_id == s.user.id)
            .ok_or_else(ApiError::not_found)?;
        if stored.status(self.now()) != GrantStatus::Active {
            return Err(ApiError::not_found());
        }
        let owner = stored.grant.value.patient_id;
        let top = stored.grant.value.node_id;
        // One consistent state of the record, as for its owner.
        let _guard = self.record_locks.lock(&owner).await;
        let (_, head) = self.existing_head(&owner).await?;
        let (_, top_node) = self.owned_node(&owner, &top).await?;
        if top_node.trashed_at.is_some()
            || self
                .ancestors(&owner, &top_node)
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
        for node in self.all_nodes(&owner).await? {
            if let Some(parent) = node.parent_id {
                children.entry(parent).or_default().push(node);
            }
        }
        let mut names = Names::new();
        let mut nodes: Vec<NodeView> = Vec::new();
        let mut queue = vec![top];
        nodes.push(self.node_view(top_node, &mut names).await?);
        while let Some(parent) = queue.pop() {
            for node in children.remove(&parent).unwrap_or_default() {
                if node.trashed_at.is_some()
                    || node.purging
                    || (node.kind == NodeKind::File && node.current.is_none())
                {
                    continue;
                }
                queue.push(node.node_id);
                nodes.push(self.node_view(node, &mut names).await?);
            }
        }
        let kind = if stored.emergency.is_some() {
            EventKind::EmergencyOpened
        } else {
            EventKind::SharedViewed
        };
        let draft = event_on(&s, &owner, kind, &top);
        self.record(draft).await?;
        Ok(SharedScope {
            usage: self.usage(&head),
            grant: self.grant_view_of(stored, &mut names).await?,
            nodes,
        })
    }

    async fn request_access(
        &self,
        caller: &Caller,
        request: NewAccessRequest,
    ) -> Result<AccessRequestView, ApiError> {
        let s = self.require_session(caller).await?;
        if s.user.role != Role::Doctor {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only doctors ask patients for access.",
            ));
        }
        let reason = validate_reason(&request.reason)
            .map_err(ApiError::bad_request)?
            .to_owned();
        let no_patient = || {
            ApiError::new(
                ErrorCode::NotFound,
                "There is no patient with that username. Check the spelling with your patient.",
            )
        };
        let name = Username::parse(&request.patient_username).map_err(|_| no_patient())?;
        let patient = self
            .user_by_name(name.as_str())
            .await?
            .filter(|u| u.role == Role::Patient && !u.disabled)
            .ok_or_else(no_patient)?;
        let me = s.user.id;
        let made = self
            .store
            .scan_prefix(
                Space::Grants,
                &Key::new().u8(6).fixed(&me).finish(),
                None,
                MAX_REQUESTS,
            )
            .await
            .map_err(store_error)?;
        if made.len() >= MAX_REQUESTS {
            return Err(conflict(format!(
                "You have made the most requests medvault keeps ({MAX_REQUESTS})."
            )));
        }
        let mut request_id = [0u8; 16];
        shared::crypto::rng::fill(&mut request_id).map_err(|_| ApiError::internal())?;
        let stored = StoredRequest {
            request_id,
            patient_id: patient.id,
            doctor_id: me,
            reason,
            created_at: self.now(),
            status: RequestStatus::Pending,
            decided_at: None,
            grant_id: None,
        };
        let mut batch = Batch::new();
        batch
            .expect_absent(Space::Grants, pending_key(&patient.id, &me))
            .expect_absent(Space::Grants, request_key(&request_id))
            .put(
                Space::Grants,
                pending_key(&patient.id, &me),
                request_id.to_vec(),
            )
            .put(Space::Grants, request_key(&request_id), encode(&stored)?)
            .put(
                Space::Grants,
                patient_request_key(&patient.id, &request_id),
                Vec::new(),
            )
            .put(
                Space::Grants,
                doctor_request_key(&me, &request_id),
                Vec::new(),
            );
        let draft = Draft::new(EventKind::AccessRequested)
            .actor(&me)
            .session(&s.hash)
            .subject(&patient.id);
        self.append(batch, draft).await.map_err(|e| match e {
            StoreError::Conflict => conflict(
                "You have already asked this patient. Wait for their answer before asking again.",
            ),
            e => store_error(e),
        })?;
        self.request_view(stored, &mut Names::new()).await
    }

    async fn deny_request(
        &self,
        caller: &Caller,
        request_id: Id,
    ) -> Result<AccessRequestView, ApiError> {
        let s = self.require_session(caller).await?;
        let me = s.user.id;
        let _guard = self.record_locks.lock(&me).await;
        let (raw, mut stored) = self
            .stored_request(&request_id)
            .await?
            .filter(|(_, r)| r.patient_id == me)
            .ok_or_else(ApiError::not_found)?;
        if stored.status != RequestStatus::Pending {
            return Err(conflict("You have already answered this request."));
        }
        stored.status = RequestStatus::Denied;
        stored.decided_at = Some(self.now());
        let mut batch = Batch::new();
        batch
            .expect_value(Space::Grants, request_key(&request_id), raw)
            .put(Space::Grants, request_key(&request_id), encode(&stored)?)
            .delete(Space::Grants, pending_key(&me, &stored.doctor_id));
        let draft = Draft::own(EventKind::AccessDenied, &me).session(&s.hash);
        self.append(batch, draft).await.map_err(|e| match e {
            StoreError::Conflict => {
                conflict("This request changed meanwhile. Reload and try again.")
            }
            e => store_error(e),
        })?;
        self.request_view(stored, &mut Names::new()).await
    }

    async fn list_requests(&self, caller: &Caller) -> Result<Vec<AccessRequestView>, ApiError> {
        let s = self.require_session(caller).await?;
        let index = match s.user.role {
            Role::Patient => 5,
            Role::Doctor => 6,
            Role::Admin | Role::Auditor => return Ok(Vec::new()),
        };
        let mut requests = self
            .requests_under(Key::new().u8(index).fixed(&s.user.id).finish())
            .await?;
        requests.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        let mut names = Names::new();
        let mut out = Vec::with_capacity(requests.len());
        for r in requests {
            out.push(self.request_view(r, &mut names).await?);
        }
        Ok(out)
    }

    async fn ask_emergency(
        &self,
        caller: &Caller,
        ask: EmergencyAsk,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        let reason = validate_reason(&ask.reason)
            .map_err(ApiError::bad_request)?
            .to_owned();
        let found = self
            .stored_grant(&ask.grant_id)
            .await?
            .filter(|(_, g)| g.grant.value.doctor_id == s.user.id && g.emergency.is_some());
        let Some((_, found)) = found else {
            return Err(ApiError::not_found());
        };
        let patient = found.grant.value.patient_id;
        let _guard = self.record_locks.lock(&patient).await;
        let (raw, mut stored) = self
            .stored_grant(&ask.grant_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let now = self.now();
        match stored.status(now) {
            GrantStatus::Standby => {}
            GrantStatus::Waiting => {
                return Err(conflict(
                    "You have already asked. The record opens when the waiting period ends, unless the patient refuses.",
                ))
            }
            GrantStatus::Active => return Err(conflict("The record is already open to you.")),
            GrantStatus::Expired | GrantStatus::Revoked | GrantStatus::Declined => {
                return Err(ApiError::not_found())
            }
        }
        if let Some(e) = stored.emergency.as_mut() {
            e.requested_at = Some(now);
            e.reason = Some(reason);
        }
        let draft = event_on(
            &s,
            &patient,
            EventKind::EmergencyRequested,
            &stored.grant.value.node_id,
        );
        self.save_grant(raw, stored, draft).await
    }

    async fn refuse_emergency(&self, caller: &Caller, grant_id: Id) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        let me = s.user.id;
        let _guard = self.record_locks.lock(&me).await;
        let (raw, mut stored) = self
            .stored_grant(&grant_id)
            .await?
            .filter(|(_, g)| g.grant.value.patient_id == me && g.emergency.is_some())
            .ok_or_else(ApiError::not_found)?;
        match stored.status(self.now()) {
            GrantStatus::Waiting => {}
            GrantStatus::Active => {
                return Err(conflict(
                    "The waiting period is over and your record is open to this contact. Remove their access to close it.",
                ))
            }
            GrantStatus::Standby => return Err(conflict("There is no request to refuse.")),
            GrantStatus::Expired | GrantStatus::Revoked => {
                return Err(conflict("This emergency contact was already removed."))
            }
            GrantStatus::Declined => {
                return Err(conflict(
                    "This contact already declined to be your emergency contact; there is nothing to refuse.",
                ))
            }
        }
        if let Some(e) = stored.emergency.as_mut() {
            e.requested_at = None;
            e.reason = None;
            e.refused_at = Some(self.now());
        }
        let draft = Draft::own(EventKind::EmergencyRefused, &me)
            .session(&s.hash)
            .item(&stored.grant.value.node_id);
        self.save_grant(raw, stored, draft).await
    }

    async fn start_rotation(
        &self,
        caller: &Caller,
        node_id: Id,
    ) -> Result<RotationTicket, ApiError> {
        let s = self.require_session(caller).await?;
        self.start_rotation_of(&s, node_id).await
    }

    async fn rotation_part(&self, caller: &Caller, part: RotationPart) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        self.store_rotation_part(&s, part).await
    }

    async fn commit_rotation(
        &self,
        caller: &Caller,
        rotation_id: Id,
        parts: u32,
    ) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        self.commit_rotation_of(&s, rotation_id, parts).await
    }
}
