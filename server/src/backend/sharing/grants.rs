//! Grants: a patient shares a folder (or the whole record) with a doctor,
//! removes that access, or the doctor declines it; the lists of both sides;
//! and what an active grant opens to its doctor (`sharing/shared`).
//!
//! A grant and its event are written in one batch; every change to a stored
//! grant carries a precondition on its old bytes, under the patient's lock,
//! since revocation and key rotation rewrite grants too.

use shared::api::notifications::NoticeKind;

use crate::backend::notifications::{notify, StoredNotice};
use shared::{
    api::{
        records::NodeKind,
        sharing::{
            validate_wait, CreateGrantRequest, Emergency, GrantRef, GrantStatus, GrantView,
            RequestStatus, GRANT_CLOCK_SKEW_SECS, MAX_GRANTS,
        },
        ApiError,
    },
    audit::EventKind,
    crypto::hpke,
    model::{Id, Permission, Role},
};

use super::layout::{
    doctor_grant_key, doctor_grants_prefix, grant_key, patient_grant_key, patient_grants_prefix,
    pending_key, request_key, StoredGrant,
};
use crate::{
    authz,
    backend::{
        audit::Draft,
        records::{conflict, encode, Names},
        sessions::Session,
        store_error, ServerBackend,
    },
    store::{Batch, Space, StoreError},
};

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

fn grant_id_taken() -> ApiError {
    conflict("A grant with this id already exists. Share again: a new id is chosen each time.")
}

/// The refusal for anyone but a patient.
const ONLY_PATIENTS: &str = "Only patients share their record with doctors.";

impl ServerBackend {
    /// Writes a changed grant (only if it is still as read) with its event,
    /// and answers its new view.
    pub(super) async fn save_grant(
        &self,
        raw: Vec<u8>,
        stored: StoredGrant,
        draft: Draft,
    ) -> Result<GrantView, ApiError> {
        self.save_grant_noticed(raw, stored, draft, None).await
    }

    /// [`Self::save_grant`] with a notice for `(recipient, notice)` in the
    /// same write.
    pub(super) async fn save_grant_noticed(
        &self,
        raw: Vec<u8>,
        stored: StoredGrant,
        draft: Draft,
        notice: Option<(shared::model::Id, StoredNotice)>,
    ) -> Result<GrantView, ApiError> {
        let mut batch = replace_grant(raw, &stored)?;
        if let Some((to, notice)) = notice {
            notify(&mut batch, &to, notice)?;
        }
        self.append(batch, draft).await.map_err(|e| match e {
            StoreError::Conflict => {
                conflict("This access changed meanwhile. Reload and try again.")
            }
            e => store_error(e),
        })?;
        self.grant_view(stored, &mut Names::new()).await
    }

    /// Appends `grant_expired` for a grant whose end date has passed, the
    /// first time anyone lists it afterwards, and marks it in the same batch
    /// so that it is logged once; its folder is noted as needing new keys
    /// ([`Self::log_expiry`]).
    async fn note_expiry(&self, grant: StoredGrant) -> Result<StoredGrant, ApiError> {
        if grant.expiry_logged || grant.status(self.now()) != GrantStatus::Expired {
            return Ok(grant);
        }
        self.log_expiry(grant).await
    }

    /// A grant as either side sees it; its key only while it is open.
    pub(crate) async fn grant_view(
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
        if shared::sharing::wrapped_key_hash(&request.wrapped_key) != grant.key_hash {
            return Err(ApiError::bad_request(
                "The grant's key hash is not the hash of the key sent with it. Reload the page and share again.",
            ));
        }
        if grant.revision != 0 {
            return Err(ApiError::bad_request(
                "A new share starts at revision 0. Reload the page and share again.",
            ));
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
        // A file is shared once it has content: its grant covers that file
        // alone (every version of it), as a folder's covers its subtree.
        if node.kind == NodeKind::File && node.current.is_none() {
            return Err(conflict(
                "That file is still being uploaded. Share it once the upload has finished.",
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
                "That item is in the Trash. Restore it before sharing it.",
            ));
        }
        Ok(())
    }
}

/// Stores a grant the caller (a patient) signed, approving a request if it
/// names one.
pub(super) async fn create(
    b: &ServerBackend,
    s: &Session,
    request: CreateGrantRequest,
) -> Result<GrantView, ApiError> {
    authz::require_role(s, Role::Patient, ONLY_PATIENTS)?;
    let me = s.user.id;
    b.check_new_grant(s, &request).await?;
    let grant = request.grant.value.clone();

    let _guard = b.record_locks.lock(&me).await;
    // Also checked in the batch below, so two racing creates cannot both
    // win; this only gives the clearer answer.
    if b.stored_grant(&grant.grant_id).await?.is_some() {
        return Err(grant_id_taken());
    }
    let mine = b.grants_under(patient_grants_prefix(&me)).await?;
    if mine.len() >= MAX_GRANTS {
        return Err(conflict(format!(
            "You have made the most grants medvault keeps ({MAX_GRANTS})."
        )));
    }
    let now = b.now();
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
            let (raw, mut pending) = b
                .stored_request(&request_id)
                .await?
                .filter(|(_, r)| authz::asked(s, r))
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
    let announced = match kind {
        EventKind::AccessApproved => NoticeKind::AccessApproved,
        EventKind::EmergencyContactNamed => NoticeKind::ContactNamed,
        _ => NoticeKind::ShareReceived,
    };
    let notice = StoredNotice::new(announced, &me, now).grant(&grant.grant_id);
    notify(&mut batch, &grant.doctor_id, notice)?;
    let draft = Draft::own(kind, &me).session(&s.hash).item(&grant.node_id);
    match b.append(batch, draft).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => return Err(conflict(
            "That grant id is taken, or the request was answered meanwhile. Reload and try again.",
        )),
        Err(e) => return Err(store_error(e)),
    }
    b.mail_notice(&grant.doctor_id).await;
    b.grant_view(stored, &mut Names::new()).await
}

/// Ends a grant at once (the patient who made it).
pub(super) async fn revoke(
    b: &ServerBackend,
    s: &Session,
    GrantRef { grant_id }: GrantRef,
) -> Result<GrantView, ApiError> {
    let me = s.user.id;
    let _guard = b.record_locks.lock(&me).await;
    let (raw, mut stored) = b
        .stored_grant(&grant_id)
        .await?
        .filter(|(_, g)| authz::gave(s, g))
        .ok_or_else(ApiError::not_found)?;
    if stored.revoked_at.is_some() {
        return Err(conflict("This access was already removed."));
    }
    if stored.declined_at.is_some() {
        return Err(conflict(
            "The doctor already declined this share, so they have no access to remove.",
        ));
    }
    stored.revoked_at = Some(b.now());
    stored.wrapped_key = Vec::new();
    let draft = Draft::own(EventKind::GrantRevoked, &me)
        .session(&s.hash)
        .item(&stored.grant.value.node_id);
    let batch = replace_grant(raw, &stored)?;
    b.save_ended_grant(batch, stored, draft).await
}

/// Ends a grant made to the caller, who no longer wants it.
pub(super) async fn decline(
    b: &ServerBackend,
    s: &Session,
    GrantRef { grant_id }: GrantRef,
) -> Result<GrantView, ApiError> {
    let draft = Draft::new(EventKind::GrantDeclined)
        .actor(&s.user.id)
        .session(&s.hash);
    decline_named(b, &s.user.id, &grant_id, draft).await
}

/// Declines `grant_id` on behalf of the user it names (`doctor`): the
/// caller's own decline, or the end of the shares naming an account that is
/// deleted. `draft` is the event (actor and session); the subject and item
/// are filled in here.
pub(super) async fn decline_named(
    b: &ServerBackend,
    doctor: &Id,
    grant_id: &Id,
    draft: Draft,
) -> Result<GrantView, ApiError> {
    let named = |g: &StoredGrant| g.grant.value.doctor_id == *doctor;
    let (_, found) = b
        .stored_grant(grant_id)
        .await?
        .filter(|(_, g)| named(g))
        .ok_or_else(ApiError::not_found)?;
    let patient = found.grant.value.patient_id;
    // The patient's lock: revocation and rotation rewrite grants under it.
    let _guard = b.record_locks.lock(&patient).await;
    let (raw, mut stored) = b
        .stored_grant(grant_id)
        .await?
        .filter(|(_, g)| named(g))
        .ok_or_else(ApiError::not_found)?;
    match stored.status(b.now()) {
        GrantStatus::Active | GrantStatus::Standby | GrantStatus::Waiting => {}
        GrantStatus::Declined => return Err(conflict("You have already declined this share.")),
        GrantStatus::Expired | GrantStatus::Revoked => {
            return Err(conflict(
                "This share has already ended: the patient removed it, or its end date passed.",
            ))
        }
    }
    stored.declined_at = Some(b.now());
    stored.wrapped_key = Vec::new();
    // Out of the doctor's index too: a declined grant no longer costs them
    // a read on every request, nor a line in their list.
    let mut batch = replace_grant(raw, &stored)?;
    batch.delete(Space::Grants, doctor_grant_key(doctor, grant_id));
    let draft = draft.subject(&patient).item(&stored.grant.value.node_id);
    b.save_ended_grant(batch, stored, draft).await
}

/// The caller's grants, given and received, newest first.
pub(super) async fn list(b: &ServerBackend, s: &Session) -> Result<Vec<GrantView>, ApiError> {
    // A patient's own grants, and (patients and doctors) those that name
    // the caller: as doctor, or as emergency contact.
    let me = s.user.id;
    let prefixes = match s.user.role {
        Role::Patient => vec![patient_grants_prefix(&me), doctor_grants_prefix(&me)],
        Role::Doctor => vec![doctor_grants_prefix(&me)],
        Role::Admin | Role::Auditor => return Ok(Vec::new()),
    };
    let mut grants = Vec::new();
    for prefix in prefixes {
        for (_, grant) in b.grant_rows_under(&prefix).await? {
            grants.push(b.note_expiry(grant).await?);
        }
    }
    grants.sort_by_key(|g| std::cmp::Reverse(g.grant.value.created_at));
    let mut names = Names::new();
    let mut out = Vec::with_capacity(grants.len());
    for g in grants {
        out.push(b.grant_view(g, &mut names).await?);
    }
    Ok(out)
}
