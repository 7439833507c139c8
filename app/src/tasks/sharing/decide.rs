//! Sharing's pure decisions: what a form's choices mean, which grants the
//! patient made, and the words for a share. No IO, so tests check each one.

use shared::{
    account::Username,
    api::{
        records::NodeKind,
        sharing::{
            validate_reason, AccessRequestView, GrantStatus, GrantView, NewAccessRequest,
            RequestStatus,
        },
    },
    client::VerifiedEntry,
    crypto::b64,
    model::{Id, KeyEntry, Permission, Role},
    records::OpenTree,
    sharing::verify_legacy,
};

use crate::{
    platform::browser::{format_date, parse_date_input},
    session::now_unix,
};

pub use crate::platform::browser::id_text;

/// "Whole record", or the folder's path below the top ("Lab results / 2024").
pub fn scope_label(tree: &OpenTree, id: &Id) -> String {
    if *id == tree.root_id {
        return "Whole record".to_owned();
    }
    let path: Vec<String> = tree
        .path(id)
        .iter()
        .filter(|n| n.view.node_id != tree.root_id)
        .map(|n| n.metadata.name.clone())
        .collect();
    if path.is_empty() {
        "A folder that no longer exists".to_owned()
    } else {
        path.join(" / ")
    }
}

/// What a patient may share: the whole record, every folder and every file
/// with content that is not in the trash (a file's label says so), the
/// whole record first, then by name.
pub fn shareable(tree: &OpenTree) -> Vec<(Id, String)> {
    let mut out: Vec<(Id, String)> = tree
        .nodes()
        .filter(|n| !tree.in_trash(n.id()))
        .filter_map(|n| {
            let id = *n.id();
            if n.is_folder() {
                Some((id, scope_label(tree, &id)))
            } else if n.view.kind == NodeKind::File && n.view.current.is_some() {
                Some((id, format!("{} (file)", scope_label(tree, &id))))
            } else {
                None
            }
        })
        .collect();
    shared::sort::sort_by(&mut out, |a, b| {
        (a.0 != tree.root_id, a.1.to_lowercase()).cmp(&(b.0 != tree.root_id, b.1.to_lowercase()))
    });
    out
}

/// Percent of a key replacement done, from `(parts sent, parts in all)`.
pub fn rekey_percent(state: Option<(u32, u32)>) -> u32 {
    match state {
        Some((done, total)) if total > 0 => done * 100 / total,
        _ => 0,
    }
}

/// When a share ends, in words.
pub fn until_text(expires_at: Option<i64>) -> String {
    match expires_at {
        None => "Until you remove it".to_owned(),
        Some(t) => format!("Until {}", last_day(t)),
    }
}

/// The last day of a share ending at `end`: a share made here ends at the
/// midnight after the chosen day, and people read that day, not the next.
fn last_day(end: i64) -> String {
    format_date(end.saturating_sub(1))
}

/// The end of the chosen day (the whole day is included), or `None` for no
/// end date; an error for a value that is not a date or a day already past.
pub fn end_of_day(value: &str) -> Result<Option<i64>, String> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let start = parse_date_input(value)
        .ok_or_else(|| "The end date is not a date. Pick one from the calendar.".to_owned())?;
    let end = start + 24 * 60 * 60;
    if end <= now_unix() {
        return Err("The end date has already passed. Choose a later date, or none.".to_owned());
    }
    Ok(Some(end))
}

/// The folder (an [`id_text`]) and end date chosen in a form, or what to fix.
pub fn choice(scope: &str, until: &str) -> Result<(Id, Option<i64>), String> {
    let expires_at = end_of_day(until)?;
    let node = b64::decode(scope)
        .and_then(|b| <Id>::try_from(b.as_slice()).ok())
        .ok_or_else(|| "Choose what to share.".to_owned())?;
    Ok((node, expires_at))
}

/// The permission picked in a form's select ("write", anything else reads).
pub fn permission_of(value: &str) -> Permission {
    if value == "write" {
        Permission::ReadWrite
    } else {
        Permission::Read
    }
}

/// What a doctor may now do, for the message after sharing.
pub fn can_now(permission: Permission) -> &'static str {
    match permission {
        Permission::Read => "can now read",
        Permission::ReadWrite => "can now read and add to",
    }
}

/// A permission in words, for the lists of shares.
pub fn permission_text(permission: Permission) -> &'static str {
    match permission {
        Permission::Read => "Read",
        Permission::ReadWrite => "Read and write",
    }
}

/// Whether the patient `me` made this grant: the server lists the grants,
/// and only those that verify under the patient's own key (under the current
/// encoding, or the one before grants signed `key_hash`: PROTOCOL.md 17.8)
/// and name them as the patient are theirs. Any other is shown as such (it
/// never receives a key: rotations and re-issuing refuse it).
pub fn made_by(grant: &GrantView, me: &KeyEntry) -> bool {
    let signed = grant.grant.verify(&me.identity_key).is_ok()
        || verify_legacy(&grant.grant, &me.identity_key).is_ok();
    signed && grant.grant.value.patient_id == me.user_id
}

/// How a grant in the patient's list ends: removed, an end date, or none.
pub fn end_text(grant: &GrantView) -> String {
    match (grant.status, grant.revoked_at, grant.grant.value.expires_at) {
        (GrantStatus::Revoked, Some(t), _) => format!("Removed {}", format_date(t)),
        (_, _, Some(t)) => format!("Until {}", last_day(t)),
        _ => "No end date".to_owned(),
    }
}

/// The requests waiting for an answer, and those answered, in the server's
/// order.
pub fn split_requests(
    requests: &[AccessRequestView],
) -> (Vec<AccessRequestView>, Vec<AccessRequestView>) {
    requests
        .iter()
        .cloned()
        .partition(|r| r.status == RequestStatus::Pending)
}

/// A doctor's request for access as typed in the form, or what to fix.
pub fn access_request(username: &str, reason: &str) -> Result<NewAccessRequest, String> {
    let name = Username::parse(username.trim()).map_err(|e| format!("{e}."))?;
    let reason = validate_reason(reason)?.to_owned();
    Ok(NewAccessRequest {
        patient_username: name.to_string(),
        reason,
    })
}

/// Whether a checked entry may receive a share: a doctor, not disabled.
pub fn doctor_allowed(entry: &VerifiedEntry) -> Result<(), String> {
    let name = &entry.entry.username;
    if entry.entry.role != Role::Doctor {
        return Err(format!(
            "{name} is not a doctor in medvault, so your record cannot be shared with them."
        ));
    }
    if entry.disabled {
        return Err(format!(
            "{name}'s account is disabled by an administrator, so nothing can be shared with it."
        ));
    }
    Ok(())
}
