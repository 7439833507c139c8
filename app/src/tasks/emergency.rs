//! Emergency access (docs/ARCHITECTURE.md, "Sharing"), without views.
//!
//! The patient names a contact (a doctor, or a relative or friend with a
//! medvault account) and a waiting period: this browser signs a read grant of
//! the whole record and wraps the record's top key to the contact now
//! ([`name_contact`]); the server serves that key only after the contact has
//! asked ([`ask`]) and the waiting period has passed without the patient
//! refusing ([`refuse`]).

use shared::{
    api::sharing::{
        validate_reason, validate_wait, Emergency, EmergencyAsk, GrantRef, GrantStatus, GrantView,
        {self},
    },
    client::VerifiedEntry,
    model::{Id, Permission, Role},
    records::OpenTree,
};

use crate::{
    platform::browser::format_time,
    session::{Session, Unlocked},
    tasks::sharing::{share_with, verified_entry, Checked},
};

/// The waiting periods offered, in seconds, with their words.
pub const WAITS: [(i64, &str); 6] = [
    (60 * 60, "1 hour"),
    (24 * 60 * 60, "1 day"),
    (2 * 24 * 60 * 60, "2 days"),
    (7 * 24 * 60 * 60, "7 days"),
    (14 * 24 * 60 * 60, "14 days"),
    (30 * 24 * 60 * 60, "30 days"),
];

/// The waiting period a form starts with, in seconds (2 days).
pub const DEFAULT_WAIT: i64 = 2 * 24 * 60 * 60;

/// A waiting period in words.
pub fn wait_text(secs: i64) -> String {
    match WAITS.iter().find(|(s, _)| *s == secs) {
        Some((_, words)) => (*words).to_owned(),
        None if secs % 86_400 == 0 => format!("{} days", secs / 86_400),
        None => format!("{} hours", secs / 3600),
    }
}

/// The waiting period picked in the form's select, checked, or what to fix.
pub fn wait_of(value: &str) -> Result<i64, String> {
    value
        .parse::<i64>()
        .map_err(|_| "Choose a waiting period.".to_owned())
        .and_then(validate_wait)
}

/// Where an emergency grant stands, in words, for either side's list.
pub fn state_text(emergency: &Emergency, status: GrantStatus) -> String {
    match (status, emergency.requested_at, emergency.opens_at()) {
        (GrantStatus::Waiting, Some(asked), Some(opens)) => format!(
            "Asked {}; opens {} unless refused",
            format_time(asked),
            format_time(opens)
        ),
        (GrantStatus::Active, _, Some(opens)) => format!("Open since {}", format_time(opens)),
        _ => match emergency.refused_at {
            Some(t) => format!("Last request refused {}", format_time(t)),
            None => "Not asked for".to_owned(),
        },
    }
}

/// When a grant's emergency request opens it, as a time ("" if none).
pub fn opens_text(grant: &GrantView) -> String {
    grant
        .emergency
        .as_ref()
        .and_then(Emergency::opens_at)
        .map(format_time)
        .unwrap_or_default()
}

/// Whether a checked entry may be `me`'s emergency contact: a patient or a
/// doctor, not disabled, and not `me`.
pub fn contact_allowed(entry: &VerifiedEntry, me: &Id) -> Result<(), String> {
    let name = &entry.entry.username;
    if !matches!(entry.entry.role, Role::Patient | Role::Doctor) {
        return Err(format!(
            "{name} is an administrator or auditor account and cannot be an emergency contact."
        ));
    }
    if entry.disabled {
        return Err(format!(
            "{name}'s account is disabled by an administrator, so they cannot be your emergency contact."
        ));
    }
    if entry.entry.user_id == *me {
        return Err("You cannot be your own emergency contact.".to_owned());
    }
    Ok(())
}

/// Looks a contact up and checks their entry here and against the user's
/// pins ([`verified_entry`]), then [`contact_allowed`].
pub async fn verified_contact(
    session: Session,
    unlocked: &Unlocked,
    username: &str,
) -> Result<Checked, String> {
    let checked = verified_entry(session, unlocked, username).await?;
    contact_allowed(&checked.entry, &unlocked.key_entry.value.user_id)?;
    Ok(checked)
}

/// Names `contact` as the patient's emergency contact with a waiting period
/// of `wait_secs`: a read grant of the whole record, signed and wrapped here.
pub async fn name_contact(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
    contact: &VerifiedEntry,
    wait_secs: i64,
) -> Result<(), String> {
    let root = tree.root_id;
    share_with(
        session,
        unlocked,
        tree,
        contact,
        (root, Permission::Read, None),
        None,
        Some(wait_secs),
    )
    .await
    .map(|_| ())
}

/// The emergency grants naming `me` as the contact.
pub async fn contact_grants(session: Session, me: Id) -> Result<Vec<GrantView>, String> {
    let mut grants = sharing::list_grants()
        .await
        .map_err(|e| session.explain(&e))?;
    grants.retain(|g| g.grant.value.doctor_id == me && g.emergency.is_some());
    Ok(grants)
}

/// The emergency requests waiting for the patient `me` to answer; none if
/// the list cannot be loaded (the Sharing page shows them too).
pub async fn waiting_for(me: Id) -> Vec<GrantView> {
    let mut grants = sharing::list_grants().await.unwrap_or_default();
    grants.retain(|g| g.grant.value.patient_id == me && g.status == GrantStatus::Waiting);
    grants
}

/// The contact asks to open the record, giving `reason`; returns the grant
/// as it now stands (its request and when it opens).
pub async fn ask(session: Session, grant_id: Id, reason: &str) -> Result<GrantView, String> {
    let reason = validate_reason(reason)?.to_owned();
    sharing::ask_emergency(EmergencyAsk { grant_id, reason })
        .await
        .map_err(|e| session.explain(&e))
}

/// The patient refuses a contact's request; the record stays closed to them.
pub async fn refuse(session: Session, grant_id: Id) -> Result<(), String> {
    sharing::refuse_emergency(GrantRef { grant_id })
        .await
        .map(|_| ())
        .map_err(|e| session.explain(&e))
}
