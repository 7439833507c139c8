//! The newest record head this browser verified, per reader and record
//! (localStorage `medvault.record-head.<user>.<owner>`, ids in base64url): a
//! later load refuses an older head or a fork of it. A head names no content
//! (a counter and a hash), so localStorage is fine. What it cannot protect:
//! a browser that has never seen a head (a new device, cleared storage)
//! accepts the newest head the server shows it.

use shared::{crypto::b64, model::Id, records::verify::Seen};

use super::browser::local_storage;

const PREFIX: &str = "medvault.record-head.";

fn key(user: &Id, owner: &Id) -> String {
    format!("{PREFIX}{}.{}", b64::encode(user), b64::encode(owner))
}

/// The head `user` last verified of `owner`'s record, if any.
pub fn seen_head(user: &Id, owner: &Id) -> Option<Seen> {
    let text = local_storage()?
        .get_item(&key(user, owner))
        .ok()
        .flatten()?;
    serde_json::from_str(&text).ok()
}

/// Remembers `seen` as the newest head `user` verified of `owner`'s record
/// (never going back to an older counter).
pub fn remember_head(user: &Id, owner: &Id, seen: &Seen) {
    if seen_head(user, owner).is_some_and(|old| old.counter > seen.counter) {
        return;
    }
    if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(seen)) {
        let _ = storage.set_item(&key(user, owner), &text);
    }
}
