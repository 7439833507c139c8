//! Sharing's protocol steps and decisions, without views.
//!
//! Every grant is made and signed here and its key wrapped here; a doctor's
//! browser checks the patient's signature and opens the key itself, so a
//! server that swaps a grant or a key shows an error, never someone else's
//! data. The pages in `pages/sharing` and `pages/patients` only collect the
//! choices and show what these functions return; errors are the sentence the
//! person reads (what happened and what to do next).
//!
//! `decide` holds the pure decisions and `doctor` the doctor's side; both
//! are re-exported here, so callers name everything `tasks::sharing::…`.

mod decide;
mod doctor;
mod legacy;
mod rekey;
mod terms;

pub use decide::{
    access_request, can_now, choice, doctor_allowed, end_of_day, end_text, id_text, made_by,
    permission_of, permission_text, rekey_percent, scope_label, shareable, split_requests,
    until_text,
};
pub use doctor::{ask_for_access, decline, load_doctor, open_shared, DoctorData, Opened, ENDED};
pub use legacy::{legacy_plan, reissue_legacy_grants, LegacyPlan, Renewed};
pub use rekey::{
    cancel_open_upload, ending, keys_owed, load_keys_owed, owed_reason, replace_owed_keys,
    EndedShare, Ending, KeysOwed, Memory,
};
pub use terms::{change_share, narrows, replace_keys, ChangeError, ShareTerms};

use std::collections::HashSet;

use shared::{
    account::Username,
    api::{
        sharing::{
            AccessRequestView, CommitRotation, CreateGrantRequest, GrantRef, GrantView, RequestRef,
            StartRotation, {self},
        },
        ErrorCode,
    },
    crypto::b64,
    model::{Id, Permission},
    records::{change, OpenTree},
    sharing::{make_grant, plan_rotation, GrantChoice, GrantTerms, RotationOwner},
};

use crate::{
    platform::{
        browser::{format_date, remember_rekeyed_grants, remember_removed_grant, removed_grants},
        seen_grants::{remember_grants, seen_terms},
    },
    session::{now_unix, Session, Unlocked},
    tasks::{directory::checked_keys, record::RecordStore, writer::Writer},
};

// ---------------------------------------------------------------------------
// Looking people up.

/// A directory entry whose keys this browser checked; pages show it.
pub use shared::client::VerifiedEntry;

/// Someone's keys, checked and matching the user's pins ([`checked_keys`]).
pub use crate::tasks::directory::{Checked, Purpose};

/// Looks a user up, checks their keys in this browser and against the
/// user's pins ([`checked_keys`]): a server that serves a forged or
/// mismatched entry, or keys other than the pinned ones, gets an error, never
/// a share.
pub async fn verified_entry(
    session: Session,
    unlocked: &Unlocked,
    username: &str,
) -> Result<Checked, String> {
    let name = Username::parse(username.trim()).map_err(|e| format!("{e}."))?;
    checked_keys(
        session,
        unlocked,
        name.as_str(),
        Purpose::Share,
        |e| {
            if e.code == ErrorCode::NotFound {
                format!("There is no user named {name}. Check the spelling with them.")
            } else {
                session.explain(e)
            }
        },
        None,
    )
    .await
}

/// Looks a doctor up and checks their keys in this browser and against the
/// pins.
pub async fn verified_doctor(
    session: Session,
    unlocked: &Unlocked,
    username: &str,
) -> Result<Checked, String> {
    let checked = verified_entry(session, unlocked, username).await?;
    doctor_allowed(&checked.entry)?;
    Ok(checked)
}

// ---------------------------------------------------------------------------
// The patient's side.

/// Everything the patient's Sharing page shows.
#[derive(Clone)]
pub struct PatientData {
    /// The patient's record, for the folders to share and their names.
    pub tree: OpenTree,
    /// The grants this patient made (or that the server says they made).
    pub grants: Vec<GrantView>,
    /// Doctors' requests to this patient.
    pub requests: Vec<AccessRequestView>,
    /// What signing again the shares made before grants signed their key's
    /// hash did ([`reissue_legacy_grants`]), for the page to say.
    pub renewed: Renewed,
}

/// Loads the patient's Sharing page: the record from the session's store,
/// the grants (its own made before grants signed their key's hash signed
/// again first) and the requests.
pub async fn load_patient(
    session: Session,
    store: RecordStore,
    unlocked: Unlocked,
) -> Result<PatientData, String> {
    let tree = store.open(session, &unlocked).await?;
    let me = unlocked.key_entry.value.user_id;
    let mut grants = sharing::list_grants()
        .await
        .map_err(|e| session.explain(&e))?;
    // Those naming this patient as someone's emergency contact are on the
    // Emergency page.
    grants.retain(|g| g.grant.value.patient_id == me);
    check_revisions(&unlocked, &grants)?;
    let renewed = reissue_legacy_grants(session, &unlocked, &tree, &mut grants).await;
    // The profile's copies follow the shares: a new share gets one, an
    // ended one loses it. A failure here is tried again at the next load.
    let _ = crate::tasks::profile::keep_in_step(session, &unlocked, &tree, &grants).await;
    let requests = sharing::list_requests()
        .await
        .map_err(|e| session.explain(&e))?;
    Ok(PatientData {
        tree,
        grants,
        requests,
        renewed,
    })
}

/// Refuses a list holding one of this patient's grants at an earlier
/// revision than this browser has seen (a server giving back terms the
/// patient took away); remembers the revisions of the rest.
fn check_revisions(unlocked: &Unlocked, grants: &[GrantView]) -> Result<(), String> {
    let me = &unlocked.key_entry.value;
    let seen = seen_terms(&me.user_id);
    let signed: Vec<&shared::model::Grant> = grants
        .iter()
        .filter_map(|g| g.grant.verify(&me.identity_key).ok())
        .collect();
    if let Some(old) = signed.iter().find(|g| {
        seen.get(&g.grant_id)
            .is_some_and(|t| t.revision > g.revision)
    }) {
        let made = format_date(old.created_at);
        return Err(format!(
            "The server showed your share made on {made} as it was before you last changed it, which would give back what you took away. Nothing was opened or changed. Contact your administrator and report this."
        ));
    }
    remember_grants(
        &me.user_id,
        signed.iter().map(|g| (&g.grant_id, GrantTerms::of(g))),
    );
    Ok(())
}

/// Makes, signs and stores a grant of `node` to `doctor`.
pub async fn share_with(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
    doctor: &VerifiedEntry,
    (node, permission, expires_at): (Id, Permission, Option<i64>),
    request_id: Option<Id>,
    emergency_wait_secs: Option<i64>,
) -> Result<GrantView, String> {
    let node_key = tree
        .node(&node)
        .map(|n| n.key.clone())
        .ok_or_else(|| "That folder is no longer in your record. Reload the page.".to_owned())?;
    let choice = GrantChoice {
        doctor: doctor.entry.clone(),
        node_id: node,
        node_key,
        permission,
        expires_at,
        emergency: emergency_wait_secs.is_some(),
    };
    let (grant, wrapped_key) = make_grant(
        &unlocked.key_entry.value,
        unlocked.keyring.identity(),
        &choice,
        now_unix(),
    )?;
    sharing::create_grant(CreateGrantRequest {
        grant,
        wrapped_key,
        request_id,
        emergency_wait_secs,
    })
    .await
    .map_err(|e| session.explain(&e))
}

/// Approves a doctor's request: looks the doctor up again (checked against
/// the pins), checks that the directory names the same account as the
/// request, and shares the chosen folder. Returns the folder's
/// [`scope_label`] and, at a first contact, the note with the doctor's
/// safety number ([`Checked::first_contact_note`]).
pub async fn approve(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
    request: &AccessRequestView,
    chosen: (Id, Permission, Option<i64>),
) -> Result<(String, Option<String>), String> {
    let checked = verified_doctor(session, unlocked, &request.doctor_name).await?;
    let note = checked.first_contact_note(Purpose::Share);
    let doctor = checked.entry;
    if doctor.entry.user_id != request.doctor_id {
        return Err("The directory's answer for this doctor does not match the request, so nothing was shared. Contact your administrator.".to_owned());
    }
    let label = scope_label(tree, &chosen.0);
    share_with(
        session,
        unlocked,
        tree,
        &doctor,
        chosen,
        Some(request.request_id),
        None,
    )
    .await?;
    Ok((label, note))
}

/// Says no to a doctor's request; nothing is shared.
pub async fn deny(session: Session, request_id: Id) -> Result<(), String> {
    sharing::deny_request(RequestRef { request_id })
        .await
        .map(|_| ())
        .map_err(|e| session.explain(&e))
}

/// Ends a grant on the server (the first half of removing access; then
/// [`rotate_keys`]).
pub async fn revoke(session: Session, grant_id: Id) -> Result<(), String> {
    sharing::revoke_grant(GrantRef { grant_id })
        .await
        .map(|_| ())
        .map_err(|e| session.explain(&e))
}

/// Replaces the keys under `scope` after a doctor's access to it was removed
/// (docs/ARCHITECTURE.md, "A key rotation"), reporting `(parts sent, parts in all)` as it goes.
///
/// The new keys go only to grants the patient signed that are still live and
/// were not removed in this browser (`removed` is the grant just removed), to
/// the doctor's key named in each signed grant: the server's list is checked
/// before a single key is made (`plan_rotation`).
pub async fn rotate_keys(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    scope: Id,
    removed: Id,
    progress: impl Fn(u32, u32),
) -> Result<(), String> {
    rotate_after(
        session,
        store,
        unlocked,
        scope,
        &[removed],
        &[removed],
        progress,
    )
    .await
}

/// Replaces the keys under `scope` after the grants `removed` ended (each is
/// remembered as removed first, so no rotation ever gives it a key again);
/// once it commits, this browser remembers that the end of every grant in
/// `answered` has been answered with new keys.
pub(crate) async fn rotate_after(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    scope: Id,
    removed: &[Id],
    answered: &[Id],
    progress: impl Fn(u32, u32),
) -> Result<(), String> {
    // The profile as sealed under the keys about to be replaced: the copies
    // are sealed again under the new ones once the rotation commits.
    let profile = match store.open(session, unlocked).await {
        Ok(tree) => crate::tasks::profile::own(session, unlocked, &tree)
            .await
            .ok()
            .and_then(|(p, _)| p.ok().flatten()),
        Err(_) => None,
    };
    let result = rotate_keys_in(session, store, unlocked, scope, removed, progress).await;
    // The keys under `scope` changed (or may have, partly): no page may keep
    // using the tree from before, whose keys the removed doctor holds.
    store.forget();
    if result.is_ok() {
        let me = b64::encode(&unlocked.key_entry.value.user_id);
        let done: Vec<String> = answered.iter().map(|g| b64::encode(g)).collect();
        remember_rekeyed_grants(&me, &done);
        if let Some(profile) = profile {
            // Best effort: if this fails, the patient saves the profile
            // again (the Account page says the copy no longer opens).
            let _ =
                crate::tasks::profile::reseal_after_rotation(session, store, unlocked, &profile)
                    .await;
        }
    }
    result
}

async fn rotate_keys_in(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    scope: Id,
    removed: &[Id],
    progress: impl Fn(u32, u32),
) -> Result<(), String> {
    let me = &unlocked.key_entry.value;
    let me_b64 = b64::encode(&me.user_id);
    for grant in removed {
        remember_removed_grant(&me_b64, &b64::encode(grant));
    }
    let tree = store.reload(session, unlocked).await?;
    let ticket = sharing::begin_rotation(StartRotation { node_id: scope })
        .await
        .map_err(|e| session.explain(&e))?;
    let mut known: HashSet<Id> = removed_grants(&me_b64)
        .iter()
        .filter_map(|g| b64::decode(g).and_then(|b| Id::try_from(b.as_slice()).ok()))
        .collect();
    known.extend(removed.iter().copied());
    let terms = seen_terms(&me.user_id);
    let owner = RotationOwner {
        entry: me,
        removed: &known,
        terms: &terms,
        now: now_unix(),
        signing_key: unlocked.keyring.identity(),
    };
    let mut parts = plan_rotation(&tree, &owner, &scope, &ticket)?;
    // Each re-keyed node's state after the commit, signed; the commit carries
    // the record's next head over them (docs/PROTOCOL.md, section 4.5).
    let writer = Writer::owner(session, unlocked, store);
    let states = change::sign_rotation(&mut parts, &tree, &writer.signer());
    let total = parts.len() as u32 + 1;
    progress(0, total);
    let count = parts.len() as u32;
    for (i, part) in parts.into_iter().enumerate() {
        sharing::send_rotation_part(part)
            .await
            .map_err(|e| session.explain(&e))?;
        progress(i as u32 + 1, total);
    }
    writer
        .commit(&states, &[], |head| {
            sharing::finish_rotation(CommitRotation {
                rotation_id: ticket.rotation_id,
                parts: count,
                head,
            })
        })
        .await?;
    progress(total, total);
    Ok(())
}

// ---------------------------------------------------------------------------
// The doctor's side.
