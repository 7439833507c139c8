//! Looking people up in the directory, with every check done here: the entry's
//! self-signature, a doctor's admin certificate, and whether the keys changed
//! since this browser last saw them. The server's word on someone's keys
//! counts for nothing until these pass.

use shared::{api::ApiError, crypto::b64, model::KeyEntry};

/// A directory entry that passed every check, with its safety number.
pub use shared::client::VerifiedEntry;
/// The digits two people compare to know they hold each other's keys.
pub use shared::crypto::fingerprint::SafetyNumber;

use crate::{
    api::directory::lookup_user,
    platform::browser::{remember_keys, seen_keys},
    tasks::anchor,
};

/// Fetches `name`'s entry and checks it; `explain` words a failed call (the
/// directory page names an unknown user, the admin page does not).
pub async fn look_up(
    name: &str,
    explain: impl Fn(&ApiError) -> String,
) -> Result<VerifiedEntry, String> {
    let served = lookup_user(name.to_owned())
        .await
        .map_err(|e| explain(&e))?;
    anchor::check(name, &served).map_err(|e| anchor::explain(e, anchor::Use::LookUp))
}

/// What a lookup found, with how it compares to what was seen before.
#[derive(Clone)]
pub struct Found {
    /// The checked entry.
    pub entry: VerifiedEntry,
    /// `Some(true)`: the same keys as before; `Some(false)`: different; `None`: first look.
    pub same_as_before: Option<bool>,
}

/// How this browser remembers someone's keys: their id and safety number as
/// text, the form `seen_keys` stores.
pub fn key_memo(entry: &VerifiedEntry) -> (String, String) {
    (
        b64::encode(&entry.entry.user_id),
        entry.safety_number.to_string().replace('\n', " "),
    )
}

/// Compares `entry` with the keys this browser saw before for `name`, and
/// remembers them if it never saw any. A change is shown, never silently
/// adopted: [`remember_new_keys`] does that once the person checked.
pub fn compare_with_seen(name: &str, entry: VerifiedEntry) -> Found {
    let (id, number) = key_memo(&entry);
    let same_as_before =
        seen_keys(name).map(|(seen_id, seen_number)| seen_id == id && seen_number == number);
    if same_as_before.is_none() {
        remember_keys(name, &id, &number);
    }
    Found {
        entry,
        same_as_before,
    }
}

/// Remembers `entry`'s keys in place of the ones seen before.
pub fn remember_new_keys(entry: &VerifiedEntry) {
    let (id, number) = key_memo(entry);
    remember_keys(&entry.entry.username, &id, &number);
}

/// The safety number of a person's own entry, to read out to others.
pub fn safety_number_of(entry: &KeyEntry) -> SafetyNumber {
    SafetyNumber::new(
        &entry.user_id,
        &entry.identity_key.to_bytes(),
        &entry.encryption_key,
    )
}
