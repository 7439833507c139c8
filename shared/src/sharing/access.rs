//! The one grant rule: does a grant allow a permission on a node at a time.
//!
//! The server (serving and changing a patient's nodes for a doctor), the app
//! (what a doctor may do in a shared folder) and this crate (trusting a
//! version a doctor wrote, choosing who gets a rotation's new keys) all ask
//! the same question. Answering it in one pure function keeps their answers
//! from drifting apart: a grant is open, has not ended, covers the node and
//! allows what is asked.

use crate::{
    api::sharing::GrantStatus,
    model::{Grant, Id, Permission},
};

/// How far apart two browsers' clocks may be when a doctor's manifest time is
/// compared with the patient's grant times.
pub const WRITE_CLOCK_SKEW_SECS: i64 = 600;

/// The moment a grant is judged at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantTime {
    /// Now, by the checker's own clock (Unix seconds): the grant must not have
    /// ended, i.e. its end, if any, is after this moment.
    Now(i64),
    /// A moment another browser signed (a manifest's `created_at`): it must lie
    /// within the grant's signed window, widened by [`WRITE_CLOCK_SKEW_SECS`]
    /// at both ends because the two clocks differ.
    Signed(i64),
}

/// Why a grant does not allow what was asked. The server answers all of them
/// as `not_found` or `forbidden` and the app as a sentence; the variants say
/// which rule failed, for tests and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantRefusal {
    /// The patient removed it.
    Revoked,
    /// The doctor (or emergency contact) declined it.
    Declined,
    /// An emergency grant that is not open (on standby, or waiting).
    NotOpen,
    /// Its end date has passed (or the server already calls it expired).
    Expired,
    /// The signed moment lies outside the grant's window ([`GrantTime::Signed`]).
    OutsideWindow,
    /// The node is neither the grant's folder nor under it.
    OutsideScope,
    /// Writing was asked of a read-only grant.
    ReadOnly,
}

/// Whether its end date, if any, is still ahead at `now`.
pub fn is_current(grant: &Grant, now: i64) -> bool {
    grant.expires_at.is_none_or(|t| t > now)
}

/// Whether `grant` allows `asked` on a node at `at`.
///
/// - `status` is the grant's status as the server keeps it: it must be
///   [`GrantStatus::Active`]. `None` when the checker cannot know it (a
///   browser judging a version by the grant signed into it; a later removal
///   does not undo what was written while the grant held), or when the caller
///   has already judged the status by its own rule (a rotation re-wraps every
///   live grant, emergency ones on standby included).
/// - `in_scope(folder)` answers whether `folder` is the node asked about or a
///   folder above it (the server: the node's path; the app: `OpenTree::covers`).
/// - `asked` is [`Permission::Read`] to read, [`Permission::ReadWrite`] to add
///   or change something.
///
/// The checks run in that order (status, time, scope, permission), and the
/// first that fails is the answer. Who signed the grant and whom it names are
/// the caller's to check first: this rule judges a grant already trusted.
pub fn grant_allows(
    grant: &Grant,
    status: Option<GrantStatus>,
    asked: Permission,
    at: GrantTime,
    in_scope: impl Fn(&Id) -> bool,
) -> Result<(), GrantRefusal> {
    match status {
        None | Some(GrantStatus::Active) => {}
        Some(GrantStatus::Revoked) => return Err(GrantRefusal::Revoked),
        Some(GrantStatus::Declined) => return Err(GrantRefusal::Declined),
        Some(GrantStatus::Expired) => return Err(GrantRefusal::Expired),
        Some(GrantStatus::Standby | GrantStatus::Waiting) => return Err(GrantRefusal::NotOpen),
    }
    match at {
        GrantTime::Now(now) if !is_current(grant, now) => return Err(GrantRefusal::Expired),
        GrantTime::Now(_) => {}
        GrantTime::Signed(t) => {
            let started = t >= grant.created_at.saturating_sub(WRITE_CLOCK_SKEW_SECS);
            let not_ended = grant
                .expires_at
                .is_none_or(|end| t < end.saturating_add(WRITE_CLOCK_SKEW_SECS));
            if !started || !not_ended {
                return Err(GrantRefusal::OutsideWindow);
            }
        }
    }
    if !in_scope(&grant.node_id) {
        return Err(GrantRefusal::OutsideScope);
    }
    if asked == Permission::ReadWrite && grant.permission != Permission::ReadWrite {
        return Err(GrantRefusal::ReadOnly);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
