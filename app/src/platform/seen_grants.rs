//! The newest terms this browser has seen of each grant, per user
//! (localStorage `medvault.grant-terms.<user>`, a JSON object from grant id
//! in base64url to [`GrantTerms`]). A grant's `revision` only goes up, so a
//! grant served later with a lower one is a replay of terms the patient has
//! changed since: the doctor's browser refuses it, the patient's judges a
//! doctor's change by the newer terms. Ids, revisions, permissions and end
//! dates are what the server holds anyway, so localStorage is fine. What it
//! cannot protect: a browser that has never seen the later revision.

use std::collections::HashMap;

use shared::{crypto::b64, model::Id, sharing::GrantTerms};

use super::browser::local_storage;

const PREFIX: &str = "medvault.grant-terms.";
/// How many grants a browser remembers per user; past it, one entry (any)
/// makes room.
const KEPT: usize = 2000;

fn key(user: &Id) -> String {
    format!("{PREFIX}{}", b64::encode(user))
}

fn load(user: &Id) -> HashMap<String, GrantTerms> {
    local_storage()
        .and_then(|s| s.get_item(&key(user)).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Every grant's newest terms `user` has seen.
pub fn seen_terms(user: &Id) -> HashMap<Id, GrantTerms> {
    load(user)
        .into_iter()
        .filter_map(|(id, terms)| {
            let id = Id::try_from(b64::decode(&id)?.as_slice()).ok()?;
            Some((id, terms))
        })
        .collect()
}

/// The newest terms `user` has seen of `grant_id`, if any.
pub fn seen_grant(user: &Id, grant_id: &Id) -> Option<GrantTerms> {
    load(user).get(&b64::encode(grant_id)).copied()
}

/// Remembers `terms` of `grant_id` for `user` unless a later revision is
/// already remembered (never going back).
pub fn remember_grant(user: &Id, grant_id: &Id, terms: GrantTerms) {
    remember_grants(user, [(grant_id, terms)]);
}

/// [`remember_grant`] for several grants, with one read and one write of
/// the stored object.
pub fn remember_grants<'a>(user: &Id, grants: impl IntoIterator<Item = (&'a Id, GrantTerms)>) {
    let mut all = load(user);
    for (grant_id, terms) in grants {
        let id = b64::encode(grant_id);
        if all
            .get(&id)
            .is_some_and(|old| old.revision >= terms.revision)
        {
            continue;
        }
        if all.len() >= KEPT && !all.contains_key(&id) {
            if let Some(drop) = all.keys().next().cloned() {
                all.remove(&drop);
            }
        }
        all.insert(id, terms);
    }
    if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(&all)) {
        let _ = storage.set_item(&key(user), &text);
    }
}
