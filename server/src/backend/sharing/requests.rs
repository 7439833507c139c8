//! Access requests: a doctor asks a patient for access, with a reason; the
//! patient approves (a grant that names the request, see [`super::grants`])
//! or denies. One pending request per doctor and patient.

use shared::api::notifications::NoticeKind;

use crate::backend::notifications::{notify, StoredNotice};
use shared::{
    account::Username,
    api::{
        sharing::{
            validate_reason, AccessRequestView, NewAccessRequest, RequestRef, RequestStatus,
        },
        ApiError, ErrorCode,
    },
    audit::EventKind,
    model::Role,
};

use super::layout::{
    doctor_request_key, doctor_requests_prefix, patient_request_key, patient_requests_prefix,
    pending_key, request_key, StoredRequest,
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

/// Most requests one doctor may have made (pending or answered).
const MAX_REQUESTS: usize = 1000;

impl ServerBackend {
    /// A request as either side sees it.
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
}

/// A doctor asks a patient for access.
pub(super) async fn ask(
    b: &ServerBackend,
    s: &Session,
    request: NewAccessRequest,
) -> Result<AccessRequestView, ApiError> {
    authz::require_role(s, Role::Doctor, "Only doctors ask patients for access.")?;
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
    let patient = b
        .user_by_name(name.as_str())
        .await?
        .filter(|u| u.role == Role::Patient && !u.disabled)
        .ok_or_else(no_patient)?;
    let me = s.user.id;
    let made = b
        .store
        .scan_prefix(
            Space::Grants,
            &doctor_requests_prefix(&me),
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
        created_at: b.now(),
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
    let asked = StoredNotice::new(NoticeKind::AccessRequested, &me, stored.created_at);
    notify(&mut batch, &patient.id, asked)?;
    let draft = Draft::new(EventKind::AccessRequested)
        .actor(&me)
        .session(&s.hash)
        .subject(&patient.id);
    b.append(batch, draft).await.map_err(|e| match e {
        StoreError::Conflict => conflict(
            "You have already asked this patient. Wait for their answer before asking again.",
        ),
        e => store_error(e),
    })?;
    b.mail_notice(&patient.id).await;
    b.request_view(stored, &mut Names::new()).await
}

/// The patient says no to a pending request.
pub(super) async fn deny(
    b: &ServerBackend,
    s: &Session,
    RequestRef { request_id }: RequestRef,
) -> Result<AccessRequestView, ApiError> {
    let me = s.user.id;
    let _guard = b.record_locks.lock(&me).await;
    let (raw, mut stored) = b
        .stored_request(&request_id)
        .await?
        .filter(|(_, r)| authz::asked(s, r))
        .ok_or_else(ApiError::not_found)?;
    if stored.status != RequestStatus::Pending {
        return Err(conflict("You have already answered this request."));
    }
    stored.status = RequestStatus::Denied;
    stored.decided_at = Some(b.now());
    let mut batch = Batch::new();
    batch
        .expect_value(Space::Grants, request_key(&request_id), raw)
        .put(Space::Grants, request_key(&request_id), encode(&stored)?)
        .delete(Space::Grants, pending_key(&me, &stored.doctor_id));
    let said_no = StoredNotice::new(NoticeKind::AccessDenied, &me, b.now());
    notify(&mut batch, &stored.doctor_id, said_no)?;
    let draft = Draft::own(EventKind::AccessDenied, &me).session(&s.hash);
    b.append(batch, draft).await.map_err(|e| match e {
        StoreError::Conflict => conflict("This request changed meanwhile. Reload and try again."),
        e => store_error(e),
    })?;
    b.mail_notice(&stored.doctor_id).await;
    b.request_view(stored, &mut Names::new()).await
}

/// The caller's requests: received (a patient) or made (a doctor), newest
/// first.
pub(super) async fn list(
    b: &ServerBackend,
    s: &Session,
) -> Result<Vec<AccessRequestView>, ApiError> {
    let prefix = match s.user.role {
        Role::Patient => patient_requests_prefix(&s.user.id),
        Role::Doctor => doctor_requests_prefix(&s.user.id),
        Role::Admin | Role::Auditor => return Ok(Vec::new()),
    };
    let mut requests = b.requests_under(prefix).await?;
    requests.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let mut names = Names::new();
    let mut out = Vec::with_capacity(requests.len());
    for r in requests {
        out.push(b.request_view(r, &mut names).await?);
    }
    Ok(out)
}
