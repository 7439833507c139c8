//! Emergency access: a patient names a contact whose grant stays on standby;
//! the contact asks, and the record opens when the waiting period ends unless
//! the patient refuses first. The grant itself is made in [`super::grants`].

use shared::api::notifications::NoticeKind;

use crate::backend::notifications::StoredNotice;
use shared::{
    api::{
        sharing::{validate_reason, EmergencyAsk, GrantRef, GrantStatus, GrantView},
        ApiError,
    },
    audit::EventKind,
};

use crate::authz;
use crate::backend::{
    audit::Draft,
    records::{conflict, event_on},
    sessions::Session,
    ServerBackend,
};

/// An emergency contact asks to open their grant; the waiting period starts.
pub(super) async fn ask(
    b: &ServerBackend,
    s: &Session,
    ask: EmergencyAsk,
) -> Result<GrantView, ApiError> {
    let reason = validate_reason(&ask.reason)
        .map_err(ApiError::bad_request)?
        .to_owned();
    let found = b
        .stored_grant(&ask.grant_id)
        .await?
        .filter(|(_, g)| authz::received(s, g) && g.emergency.is_some());
    let Some((_, found)) = found else {
        return Err(ApiError::not_found());
    };
    let patient = found.grant.value.patient_id;
    let _guard = b.record_locks.lock(&patient).await;
    let (raw, mut stored) = b
        .stored_grant(&ask.grant_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = b.now();
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
        s,
        &patient,
        EventKind::EmergencyRequested,
        &stored.grant.value.node_id,
    );
    let notice = StoredNotice::new(NoticeKind::EmergencyRequested, &s.user.id, now)
        .grant(&stored.grant.value.grant_id);
    let view = b
        .save_grant_noticed(raw, stored, draft, Some((patient, notice)))
        .await?;
    b.mail_notice(&patient).await;
    Ok(view)
}

/// The patient refuses an emergency request before it opens.
pub(super) async fn refuse(
    b: &ServerBackend,
    s: &Session,
    GrantRef { grant_id }: GrantRef,
) -> Result<GrantView, ApiError> {
    let me = s.user.id;
    let _guard = b.record_locks.lock(&me).await;
    let (raw, mut stored) = b
        .stored_grant(&grant_id)
        .await?
        .filter(|(_, g)| authz::gave(s, g) && g.emergency.is_some())
        .ok_or_else(ApiError::not_found)?;
    match stored.status(b.now()) {
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
        e.refused_at = Some(b.now());
    }
    let draft = Draft::own(EventKind::EmergencyRefused, &me)
        .session(&s.hash)
        .item(&stored.grant.value.node_id);
    b.save_grant(raw, stored, draft).await
}
