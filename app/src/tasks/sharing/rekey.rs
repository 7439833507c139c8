//! Which folders owe new keys, and replacing them.
//!
//! A grant that ended (removed, past its signed end date, declined) leaves
//! keys with its doctor that still open the folder: until the folder's keys
//! are replaced, anything added there is readable with them. The server keeps
//! a list of such folders (`sharing/rotation/pending`), but a lying server
//! could leave one out, so this browser also works them out itself from the
//! grants the patient signed, its own clock against their signed end dates,
//! and its memory (grants it removed, ended grants whose keys it already
//! replaced), and acts on both lists together ([`keys_owed`]).

use std::collections::{HashMap, HashSet};

use shared::{
    api::{
        records::{cancel_upload, VersionRef},
        sharing::{self, GrantStatus, GrantView, OpenUpload, OwedRotations},
    },
    crypto::b64,
    model::{Id, KeyEntry},
    records::OpenTree,
};

use super::{made_by, rotate_after, scope_label};
use crate::{
    platform::browser::{format_date, rekeyed_grants, removed_grants},
    session::{now_unix, Session, Unlocked},
    tasks::record::RecordStore,
};

/// How a share ended, as far as this browser can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The patient removed it (this browser remembers it, or the server says so).
    Removed,
    /// Its signed end date passed by this browser's clock, or the server says so.
    Expired,
    /// The doctor declined it (the server says so).
    Declined,
    /// Only the server's list names it as ended.
    Listed,
}

/// One ended share behind a key replacement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndedShare {
    /// The grant.
    pub grant_id: Id,
    /// Its doctor's username (empty when the grant is not in the list).
    pub doctor: String,
    /// How it ended.
    pub how: Ending,
    /// When, if known (Unix seconds).
    pub at: Option<i64>,
}

/// A folder whose keys must be replaced, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeysOwed {
    /// The folder (the record's root for the whole record).
    pub scope: Id,
    /// Its [`scope_label`].
    pub label: String,
    /// The shares on it, or on folders under it, that ended since.
    pub ended: Vec<EndedShare>,
    /// A replacement of it was started and never finished.
    pub unfinished: bool,
    /// Unfinished uploads into it, which would keep the replacement from
    /// finishing until they finish or are cancelled.
    pub uploads: Vec<OpenUpload>,
}

/// What this browser remembers of the patient's grants.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// Grants it removed.
    pub removed: HashSet<Id>,
    /// Ended grants whose folder's keys it has replaced since.
    pub rekeyed: HashSet<Id>,
}

/// How `grant` has ended, by the signed grant, this browser's clock and
/// memory, or the server's status; `None` while it holds.
pub fn ending(grant: &GrantView, removed: &HashSet<Id>, now: i64) -> Option<(Ending, Option<i64>)> {
    let g = &grant.grant.value;
    if removed.contains(&g.grant_id)
        || grant.revoked_at.is_some()
        || grant.status == GrantStatus::Revoked
    {
        Some((Ending::Removed, grant.revoked_at))
    } else if g.expires_at.is_some_and(|t| t <= now) || grant.status == GrantStatus::Expired {
        Some((Ending::Expired, g.expires_at))
    } else if grant.status == GrantStatus::Declined {
        Some((Ending::Declined, None))
    } else {
        None
    }
}

/// The folders whose keys must be replaced: those of grants the patient
/// signed that ended and whose keys this browser has not replaced since,
/// together with every folder the server lists (and the one whose
/// replacement it says is unfinished). A folder inside another on the list
/// is replaced with it. Folders no longer in the record are left out.
pub fn keys_owed(
    tree: &OpenTree,
    me: &KeyEntry,
    grants: &[GrantView],
    owed: &OwedRotations,
    memory: &Memory,
    now: i64,
) -> Vec<KeysOwed> {
    let mine: Vec<&GrantView> = grants.iter().filter(|g| made_by(g, me)).collect();
    let by_id: HashMap<Id, &GrantView> =
        mine.iter().map(|g| (g.grant.value.grant_id, *g)).collect();
    let mut found: HashMap<Id, KeysOwed> = HashMap::new();
    let mut add = |scope: Id, share: Option<EndedShare>, unfinished: bool| {
        if tree.node(&scope).is_none() {
            return;
        }
        let entry = found.entry(scope).or_insert_with(|| KeysOwed {
            scope,
            label: scope_label(tree, &scope),
            ended: Vec::new(),
            unfinished: false,
            uploads: Vec::new(),
        });
        entry.unfinished |= unfinished;
        if let Some(share) = share {
            if !entry.ended.iter().any(|e| e.grant_id == share.grant_id) {
                entry.ended.push(share);
            }
        }
    };
    let share_of = |g: &GrantView, how: Ending, at: Option<i64>| EndedShare {
        grant_id: g.grant.value.grant_id,
        doctor: g.doctor_name.clone(),
        how,
        at,
    };
    for g in &mine {
        if memory.rekeyed.contains(&g.grant.value.grant_id) {
            continue;
        }
        if let Some((how, at)) = ending(g, &memory.removed, now) {
            add(g.grant.value.node_id, Some(share_of(g, how, at)), false);
        }
    }
    for due in &owed.folders {
        add(due.node_id, None, false);
        for id in &due.grant_ids {
            let share = match by_id.get(id) {
                Some(g) => {
                    let (how, at) =
                        ending(g, &memory.removed, now).unwrap_or((Ending::Listed, None));
                    share_of(g, how, at)
                }
                None => EndedShare {
                    grant_id: *id,
                    doctor: String::new(),
                    how: Ending::Listed,
                    at: None,
                },
            };
            add(due.node_id, Some(share), false);
        }
    }
    if let Some(scope) = owed.under_way {
        add(scope, None, true);
    }
    // Outermost first, so that each inner folder folds into the one above it.
    let mut list: Vec<KeysOwed> = found.into_values().collect();
    shared::sort::sort_by_key(&mut list, |o| {
        (tree.path(&o.scope).len(), o.label.to_lowercase())
    });
    let mut out: Vec<KeysOwed> = Vec::new();
    for o in list {
        match out
            .iter_mut()
            .find(|above| tree.is_within(&o.scope, &above.scope))
        {
            Some(above) => {
                above.unfinished |= o.unfinished;
                for share in o.ended {
                    if !above.ended.iter().any(|e| e.grant_id == share.grant_id) {
                        above.ended.push(share);
                    }
                }
            }
            None => out.push(o),
        }
    }
    for o in &mut out {
        o.uploads = owed
            .uploads
            .iter()
            .filter(|u| tree.is_within(&u.target_id, &o.scope))
            .cloned()
            .collect();
    }
    shared::sort::sort_by_key(&mut out, |o| o.label.to_lowercase());
    out
}

/// Why a folder's keys are being replaced, in one sentence: "dr.x's access
/// ended on 3 May 2026; replacing the keys of Lab results so that keys they
/// kept open nothing new."
pub fn owed_reason(owed: &KeysOwed) -> String {
    let date = |at: Option<i64>| {
        at.map(|t| format!(" on {}", format_date(t)))
            .unwrap_or_default()
    };
    let mut why: Vec<String> = owed
        .ended
        .iter()
        .take(3)
        .map(|e| match (e.how, e.doctor.is_empty()) {
            (Ending::Removed, false) => format!("You removed {}'s access{}", e.doctor, date(e.at)),
            (Ending::Expired, false) => format!("{}'s access ended{}", e.doctor, date(e.at)),
            (Ending::Declined, false) => format!("{} declined your share", e.doctor),
            _ => "A share of it ended".to_owned(),
        })
        .collect();
    if owed.ended.len() > 3 {
        why.push(format!("{} more shares ended", owed.ended.len() - 3));
    }
    if why.is_empty() {
        why.push("An earlier replacement of its keys did not finish".to_owned());
    }
    let text = why.join("; ");
    format!(
        "{text}; replacing the keys of {} so that keys they kept open nothing new.",
        owed.label
    )
}

/// Ids read back from localStorage (base64url, one per entry).
fn ids(list: Vec<String>) -> HashSet<Id> {
    list.iter()
        .filter_map(|g| b64::decode(g).and_then(|b| Id::try_from(b.as_slice()).ok()))
        .collect()
}

/// The folders of the patient's record that owe new keys ([`keys_owed`]),
/// with the server's list if it answers; without it, this browser's own
/// finding still stands.
pub async fn load_keys_owed(
    unlocked: &Unlocked,
    tree: &OpenTree,
    grants: &[GrantView],
) -> Vec<KeysOwed> {
    let me = &unlocked.key_entry.value;
    let owed = sharing::pending_rotations().await.unwrap_or_default();
    let me_b64 = b64::encode(&me.user_id);
    let memory = Memory {
        removed: ids(removed_grants(&me_b64)),
        rekeyed: ids(rekeyed_grants(&me_b64)),
    };
    keys_owed(tree, me, grants, &owed, &memory, now_unix())
}

/// Replaces the keys of one owed folder, as removing access does
/// ([`super::rotate_keys`]), reporting `(parts sent, parts in all)`.
pub async fn replace_owed_keys(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    owed: &KeysOwed,
    progress: impl Fn(u32, u32),
) -> Result<(), String> {
    // Grants only the server calls ended are not remembered as removed: if
    // it lied, the next rotation would refuse a doctor who keeps access.
    let removed: Vec<Id> = owed
        .ended
        .iter()
        .filter(|e| e.how != Ending::Listed)
        .map(|e| e.grant_id)
        .collect();
    let answered: Vec<Id> = owed.ended.iter().map(|e| e.grant_id).collect();
    rotate_after(
        session, store, unlocked, owed.scope, &removed, &answered, progress,
    )
    .await
}

/// Cancels an unfinished upload in the patient's record (their own, or a
/// doctor's), so that it no longer holds up a key replacement.
pub async fn cancel_open_upload(session: Session, upload: &OpenUpload) -> Result<(), String> {
    cancel_upload(VersionRef {
        node_id: upload.node_id,
        version: upload.version,
        state: None,
        head: None,
    })
    .await
    .map_err(|e| session.explain(&e))
}
