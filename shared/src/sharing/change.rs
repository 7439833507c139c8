//! Changing a share after it was made: its end date and its permission, with
//! a new grant the patient signs (PROTOCOL.md section 9). Everything else
//! stays: the doctor, their key, the folder, the key hash and when it was
//! made. Giving more (a later end, write access) needs nothing more; giving
//! less is followed by a key replacement of the folder in the patient's
//! browser.

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
    let same_share = Grant {
        permission: old.permission,
        expires_at: old.expires_at,
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
