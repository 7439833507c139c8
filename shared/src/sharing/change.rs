//! Changing a share after it was made: its end date and its permission, with
//! a new grant the patient signs (PROTOCOL.md section 9). Everything else
//! stays: the doctor, their key, the folder, the key hash and when it was
//! made. Giving more (a later end, write access) needs nothing more; giving
//! less is followed by a key replacement of the folder in the patient's
//! browser. Each change counts its `revision` up by one, so browsers that
//! saw it can refuse the earlier terms if a server serves them again
//! ([`GrantTerms`]).

use crate::model::{Grant, Permission};

/// What a change of a share does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantChange {
    /// Only more: a later end (or none) and the same or wider permission.
    Widens,
    /// Less of at least one: an earlier end, or write access taken back.
    Narrows,
}

/// Whether `new` is a change of `old` allowed at `now`, and which kind;
/// otherwise the sentence saying why not.
pub fn grant_change(old: &Grant, new: &Grant, now: i64) -> Result<GrantChange, String> {
    if Some(new.revision) != old.revision.checked_add(1) {
        return Err(
            "A changed share must count its revision up by one. Reload the page and change it again."
                .into(),
        );
    }
    let same_share = Grant {
        permission: old.permission,
        expires_at: old.expires_at,
        revision: old.revision,
        ..new.clone()
    };
    if same_share != *old {
        return Err(
            "A changed share may differ only in its end date and its permission. Reload the page."
                .into(),
        );
    }
    if new.permission == old.permission && new.expires_at == old.expires_at {
        return Err("Nothing was changed: choose another end date or permission.".into());
    }
    if new.expires_at.is_some_and(|end| end <= now) {
        return Err(
            "The new end date has already passed. Choose a later one, or remove the share.".into(),
        );
    }
    let later_or_same_end = match (old.expires_at, new.expires_at) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(o), Some(n)) => n >= o,
    };
    let wider_or_same =
        !(old.permission == Permission::ReadWrite && new.permission == Permission::Read);
    Ok(if later_or_same_end && wider_or_same {
        GrantChange::Widens
    } else {
        GrantChange::Narrows
    })
}

/// The terms of a grant a browser has seen, kept per grant id: a grant
/// served later with a lower `revision` is a replay of terms the patient
/// has since changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GrantTerms {
    /// The grant's `revision`.
    pub revision: u32,
    /// Its permission at that revision.
    pub permission: Permission,
    /// Its end at that revision.
    pub expires_at: Option<i64>,
}

impl GrantTerms {
    /// The terms `grant` states.
    pub fn of(grant: &Grant) -> GrantTerms {
        GrantTerms {
            revision: grant.revision,
            permission: grant.permission,
            expires_at: grant.expires_at,
        }
    }

    /// `grant` with these terms when they are of a later revision than its
    /// own (what the patient's signature says now); `grant` as it is
    /// otherwise.
    pub fn newest(known: Option<&GrantTerms>, grant: &Grant) -> Grant {
        match known {
            Some(k) if k.revision > grant.revision => Grant {
                permission: k.permission,
                expires_at: k.expires_at,
                revision: k.revision,
                ..grant.clone()
            },
            _ => grant.clone(),
        }
    }
}
