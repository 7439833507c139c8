//! The doctor's side of sharing: the Patients page's lists, a request for
//! access, declining a share, and opening one (checked here).

use shared::{
    api::{
        records::NodeKind,
        sharing::{self, AccessRequestView, GrantRef, GrantStatus, GrantView, NewAccessRequest},
        ErrorCode,
    },
    model::{Grant, Id, KeyEntry, Permission},
    records::{change, OpenTree},
    sharing::{grant_allows, open_grant, GrantTerms, GrantTime},
};

use crate::{
    platform::seen_grants::{remember_grant, seen_grant},
    session::{now_unix, Session, Unlocked},
    tasks::directory::{checked_keys, Purpose},
    tasks::{record::check_doctor_view, writer::Writer},
};

/// What a doctor reads when a share ends while they look at it.
pub const ENDED: &str = "Your access to this record has ended: the patient removed it, or its end date passed. Nothing more can be opened from it.";

/// Everything the doctor's Patients page shows.
#[derive(Clone)]
pub struct DoctorData {
    /// Shares naming this doctor.
    pub grants: Vec<GrantView>,
    /// This doctor's requests.
    pub requests: Vec<AccessRequestView>,
}

/// Loads the doctor's Patients page.
pub async fn load_doctor(session: Session) -> Result<DoctorData, String> {
    let grants = sharing::list_grants()
        .await
        .map_err(|e| session.explain(&e))?;
    let requests = sharing::list_requests()
        .await
        .map_err(|e| session.explain(&e))?;
    Ok(DoctorData { grants, requests })
}

/// Sends a doctor's request for access; returns the patient's name.
pub async fn ask_for_access(session: Session, request: NewAccessRequest) -> Result<String, String> {
    let name = request.patient_username.clone();
    sharing::request_access(request)
        .await
        .map_err(|e| session.explain(&e))?;
    Ok(name)
}

/// Declines a share made to this doctor: the server deletes its key.
pub async fn decline(session: Session, grant_id: Id) -> Result<(), String> {
    sharing::decline_grant(GrantRef { grant_id })
        .await
        .map(|_| ())
        .map_err(|e| session.explain(&e))
}

/// What a doctor opened of one grant.
#[derive(Clone)]
pub struct Opened {
    /// The shared part of the record, decrypted.
    pub tree: OpenTree,
    /// The patient's checked directory entry.
    pub patient: KeyEntry,
    /// The grant opened, as the patient signed it (checked): its id, end
    /// date and permission.
    pub grant: Grant,
    /// The grant's status as the server gave it; with `grant`, what
    /// [`Opened::can_write`] judges.
    pub status: GrantStatus,
    /// The doctor (who signs what they write).
    pub me: Id,
    /// The doctor's keys, to sign and encrypt what they add.
    pub keyring: std::sync::Arc<shared::crypto::keyring::Keyring>,
    /// At the first look at this patient's keys (pinned now), the note with
    /// their safety number to compare.
    pub first_contact: Option<String>,
    /// The record has no signed head yet (made before signed records, not yet
    /// opened by the patient since): shown as before, without the checks a
    /// head allows.
    pub unsigned: bool,
    /// The patient's name and date of birth, from the copy sealed for this
    /// folder and signed by them (PROTOCOL 17.10), or why it was refused.
    pub profile: crate::tasks::profile::ProfileShown,
}

impl Opened {
    /// The doctor writing in the patient's record (states signed by the
    /// doctor; no head: the patient's browser folds the change in).
    pub fn writer(&self, session: Session) -> Writer {
        Writer::doctor(session, self.me, self.keyring.clone(), self.patient.user_id)
    }

    /// Whether the doctor may add to the shared folder now, by the one grant
    /// rule the server also applies ([`shared::sharing::grant_allows`]).
    pub fn can_write(&self) -> bool {
        grant_allows(
            &self.grant,
            Some(self.status),
            Permission::ReadWrite,
            GrantTime::Now(now_unix()),
            |_| true,
        )
        .is_ok()
    }
}

/// Opens the grant `grant_id` for this doctor: the grant must carry the
/// patient's signature (checked against the patient's directory entry,
/// verified here and matching the doctor's pins) and its key must open, or
/// nothing is shown.
pub async fn open_shared(
    session: Session,
    unlocked: Unlocked,
    grant_id: String,
) -> Result<Opened, String> {
    let shared = sharing::shared_record(grant_id).await.map_err(|e| {
        if e.code == ErrorCode::NotFound {
            "This record is not shared with you, or no longer: the patient may have removed your access, or its end date has passed.".to_owned()
        } else {
            session.explain(&e)
        }
    })?;
    let lying = "The server's answer about this share is not signed by the patient, so nothing was opened. Contact your administrator.";
    // The patient's keys, checked and compared with this doctor's pins: a
    // key the server swapped in after the first look stops here.
    let patient = checked_keys(
        session,
        &unlocked,
        &shared.grant.patient_name,
        Purpose::Open,
        |e| session.explain(e),
        Some(lying),
    )
    .await?;
    let first_contact = patient.first_contact_note(Purpose::Open);
    let patient = patient.entry;
    let me = unlocked.key_entry.value.user_id;
    let opened = open_grant(
        &shared.grant,
        &patient.entry,
        &me,
        unlocked.keyring.encryption(),
    )
    .map_err(|refusal| refusal.sentence().to_owned())?;
    // A share as it was before the patient's last change that this browser
    // saw: the server gives back terms the patient took away.
    if seen_grant(&me, &opened.grant.grant_id).is_some_and(|t| t.revision > opened.grant.revision) {
        return Err("The server sent this share as it was before the patient last changed it, so it was not opened. Reload the page; if this stays, contact your administrator.".to_owned());
    }
    remember_grant(&me, &opened.grant.grant_id, GrantTerms::of(&opened.grant));
    // The folder as served against the patient's signed head, the head this
    // browser remembers of this record, and who may write what.
    let checked =
        check_doctor_view(session, &unlocked, &patient.entry, &opened.grant, &shared).await?;
    // Items in the patient's trash are checked, not shown; nor are items
    // doctors changed after their grant ended (the patient's browser moves
    // those to the Trash; a folder's late change is a trash, hidden above).
    let trashed = change::purged(&shared.nodes);
    let nodes = shared
        .nodes
        .into_iter()
        .filter(|n| !trashed.contains(&n.node_id))
        .filter(|n| {
            n.kind == NodeKind::Folder || !checked.late.iter().any(|l| l.node_id == n.node_id)
        })
        .collect();
    let profile = crate::tasks::profile::shown(crate::tasks::profile::open_copy(
        &me,
        (&patient.entry.user_id, &patient.entry.identity_key),
        (&opened.grant.node_id, &opened.node_key),
        shared.profile.as_ref(),
    ));
    let tree = OpenTree::open_from(
        patient.entry.user_id,
        opened.grant.node_id,
        opened.node_key,
        nodes,
        shared.usage,
    )
    .map_err(|_| lying.to_owned())?;
    Ok(Opened {
        tree,
        patient: patient.entry,
        status: shared.grant.status,
        grant: opened.grant,
        me,
        keyring: unlocked.keyring.clone(),
        first_contact,
        unsigned: checked.needs_adoption,
        profile,
    })
}
