//! Other people's keys, with every check done here: the entry's
//! self-signature, a doctor's admin certificate, and the user's key pins
//! (`shared::pins`, `docs/PROTOCOL.md` 15.10). The server's word on someone's
//! keys counts for nothing until these pass.
//!
//! [`checked_keys`] is the one way every path gets another user's keys before
//! it wraps a key to them or trusts their signature (sharing, approving a
//! request, a doctor opening a record, emergency contacts, who wrote a
//! version): the first keys seen are pinned and their safety number shown; a
//! change stops the action until the user checks and chooses "Trust the new
//! keys" on the Directory page ([`trust_new_keys`]).
//!
//! The pins are the user's own sealed, signed object on the server, so they
//! hold on every device; this browser remembers the highest copy it verified
//! and refuses an older one.

use leptos::prelude::WithUntracked;
use shared::{
    api::{
        account::{get_pins, put_pins, SavePins},
        ApiError, ErrorCode,
    },
    client::DirectoryError,
    crypto::b64,
    model::KeyEntry,
    pins::{check_absent, open_pins, seal_pins, PinCheck, PinList, PinsError},
};

/// A directory entry that passed every check, with its safety number.
pub use shared::client::VerifiedEntry;
/// The digits two people compare to know they hold each other's keys.
pub use shared::crypto::fingerprint::SafetyNumber;

use crate::{
    api::directory::lookup_user,
    platform::browser::{local_seen_keys, pins_counter, remember_pins_counter},
    session::{now_unix, AuthState, Session, Unlocked},
    tasks::anchor,
};

/// Fetches `name`'s entry and checks it; `explain` words a failed call (the
/// directory page names an unknown user, the admin page does not). No pin
/// check: for the admin's certificate only, which wraps nothing.
pub async fn look_up(
    name: &str,
    explain: impl Fn(&ApiError) -> String,
) -> Result<VerifiedEntry, String> {
    look_up_or(name, explain, None, anchor::Use::LookUp).await
}

/// [`look_up`], with `forged` (if given) as the sentence for an entry that
/// fails its checks.
/// A certificate that does not chain to the installation's org key is
/// always named as such ([`anchor::explain`]), whatever `forged` says.
async fn look_up_or(
    name: &str,
    explain: impl Fn(&ApiError) -> String,
    forged: Option<&str>,
    usage: anchor::Use,
) -> Result<VerifiedEntry, String> {
    let served = lookup_user(name.to_owned())
        .await
        .map_err(|e| explain(&e))?;
    anchor::check(name, &served).map_err(|e| match (forged, e) {
        (_, e @ DirectoryError::NotThisInstallation) => anchor::explain(e, usage),
        (Some(sentence), _) => sentence.to_owned(),
        (None, e) => anchor::explain(e, usage),
    })
}

/// What a path was about to do with someone's keys, for the sentence that
/// says it was not done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Share (a folder, a request's approval, an emergency contact).
    Share,
    /// Open a record shared by this person.
    Open,
    /// Trust a file version this person wrote.
    Version,
    /// Only look (the Directory page).
    Look,
}

impl Purpose {
    fn not_done(self) -> &'static str {
        match self {
            Purpose::Share => "nothing was shared",
            Purpose::Open => "nothing was opened",
            Purpose::Version => "the version was not opened",
            Purpose::Look => "the keys could not be checked",
        }
    }
}

/// Someone's keys, checked and matching the user's pins.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The checked entry.
    pub entry: VerifiedEntry,
    /// Whether these keys were seen (and pinned) for the first time now.
    pub first_contact: bool,
}

impl Checked {
    /// For a first contact, the sentence that shows the safety number to
    /// compare; `None` for keys pinned before.
    pub fn first_contact_note(&self, purpose: Purpose) -> Option<String> {
        if !self.first_contact {
            return None;
        }
        let name = &self.entry.entry.username;
        let number = self.entry.safety_number.groups().join(" ");
        Some(match purpose {
            Purpose::Open => format!(
                "First time you open {name}'s record. Their safety number: {number}; compare it with them in person or on the phone."
            ),
            _ => format!(
                "First time you share with {name}. Safety number: {number}; compare it with them in person or on the phone."
            ),
        })
    }
}

/// The sentence for keys that differ from the pinned ones.
pub fn changed_keys(name: &str, purpose: Purpose) -> String {
    format!(
        "{name}'s keys have changed since you first saw them, so {}. They may have set up their account again, or someone may be pretending to be them. Compare the new safety number with {name} in person or on the phone, then choose \"Trust the new keys\" on the Directory page.",
        purpose.not_done()
    )
}

fn pins_refused(e: PinsError, purpose: Purpose) -> String {
    let not_done = purpose.not_done();
    match e {
        PinsError::Rollback { seen, served } => format!(
            "The server sent an older copy of your saved keys (copy {served}; this browser has already seen copy {seen}), so {not_done}. Reload the page and try again; if this message comes back, contact your administrator."
        ),
        PinsError::Forged => format!(
            "The server's copy of your saved keys is not signed by you, so {not_done}. Contact your administrator."
        ),
        PinsError::TooLarge => format!(
            "You have saved more people's keys than the server keeps, so {not_done}. Contact your administrator."
        ),
        PinsError::Crypto => format!(
            "This browser could not open your saved keys, so {not_done}. Reload the page and try again."
        ),
    }
}

/// The open keys of this tab's session, read without tracking.
pub fn unlocked_now(session: Session) -> Result<Unlocked, String> {
    session.state.with_untracked(|s| match s {
        AuthState::Unlocked(u) => Ok(u.clone()),
        _ => Err("Your keys are locked in this tab. Sign in again, then retry.".to_owned()),
    })
}

/// The user's pins as stored, with the stored counter (0: none stored).
struct Loaded {
    list: PinList,
    counter: u64,
}

fn me_text(me: &KeyEntry) -> String {
    b64::encode(&me.user_id)
}

/// Reads, verifies and opens the user's pin object; with none stored yet,
/// the pins this browser kept before (localStorage) are taken in, to be saved
/// with the next change.
async fn load_pins(
    session: Session,
    unlocked: &Unlocked,
    purpose: Purpose,
) -> Result<Loaded, String> {
    let me = &unlocked.key_entry.value;
    let seen = pins_counter(&me_text(me));
    let served = get_pins().await.map_err(|e| session.explain(&e))?;
    match served {
        Some(envelope) => {
            let list = open_pins(&unlocked.keyring, me, &envelope, seen)
                .map_err(|e| pins_refused(e, purpose))?;
            remember_pins_counter(&me_text(me), envelope.value.counter);
            Ok(Loaded {
                list,
                counter: envelope.value.counter,
            })
        }
        None => {
            check_absent(seen).map_err(|e| pins_refused(e, purpose))?;
            let mut list = PinList::default();
            for (username, id, number) in local_seen_keys() {
                list.migrate(&username, &id, &number, now_unix());
            }
            Ok(Loaded { list, counter: 0 })
        }
    }
}

/// Applies `change` to the stored pins and saves them, reading again and
/// re-applying it if another tab or device saved first. `change` says whether
/// it changed anything; a list migrated from this browser is saved either way.
async fn update_pins<T>(
    session: Session,
    unlocked: &Unlocked,
    purpose: Purpose,
    mut change: impl FnMut(&mut PinList) -> Result<(T, bool), String>,
) -> Result<T, String> {
    let me = &unlocked.key_entry.value;
    let mut tries = 0;
    loop {
        let mut loaded = load_pins(session, unlocked, purpose).await?;
        let (out, changed) = change(&mut loaded.list)?;
        let migrated = loaded.counter == 0 && !loaded.list.pins.is_empty();
        if !changed && !migrated {
            return Ok(out);
        }
        let counter = loaded.counter + 1;
        let envelope = seal_pins(&unlocked.keyring, &me.user_id, counter, &loaded.list)
            .map_err(|e| pins_refused(e, purpose))?;
        match put_pins(SavePins {
            expected_counter: loaded.counter,
            envelope,
        })
        .await
        {
            Ok(()) => {
                remember_pins_counter(&me_text(me), counter);
                return Ok(out);
            }
            Err(e) if e.code == ErrorCode::Conflict && tries < 3 => tries += 1,
            Err(e) => return Err(session.explain(&e)),
        }
    }
}

/// Compares `entry` with the user's pins: a first contact is pinned now, the
/// same keys pass, changed keys are `PinCheck::Changed` (not an error: the
/// Directory page shows them with the choice to trust them).
pub async fn compare_with_pins(
    session: Session,
    unlocked: &Unlocked,
    entry: &VerifiedEntry,
    purpose: Purpose,
) -> Result<PinCheck, String> {
    update_pins(session, unlocked, purpose, |list| {
        let check = list.check(entry);
        let first = check == PinCheck::FirstContact;
        if first {
            list.pin(entry, now_unix());
        }
        Ok((check, first))
    })
    .await
}

/// The one way to get another user's keys: looks `name` up, checks the
/// entry here, and compares it with the user's pins. Changed keys stop the
/// action with [`changed_keys`]. `explain` words a failed look-up, `forged`
/// (if given) an entry that fails its checks.
pub async fn checked_keys(
    session: Session,
    unlocked: &Unlocked,
    name: &str,
    purpose: Purpose,
    explain: impl Fn(&ApiError) -> String,
    forged: Option<&str>,
) -> Result<Checked, String> {
    let usage = if purpose == Purpose::Share {
        anchor::Use::Share
    } else {
        anchor::Use::LookUp
    };
    let entry = look_up_or(name, explain, forged, usage).await?;
    match compare_with_pins(session, unlocked, &entry, purpose).await? {
        PinCheck::Changed(_) => Err(changed_keys(&entry.entry.username, purpose)),
        check => Ok(Checked {
            first_contact: check == PinCheck::FirstContact,
            entry,
        }),
    }
}

/// Pins `entry`'s keys in place of the ones pinned before, once the user has
/// compared the new safety number ("Trust the new keys").
pub async fn trust_new_keys(
    session: Session,
    unlocked: &Unlocked,
    entry: &VerifiedEntry,
) -> Result<(), String> {
    update_pins(session, unlocked, Purpose::Look, |list| {
        list.pin(entry, now_unix());
        Ok(((), true))
    })
    .await
}

/// What the Directory page found, with how it compares to the pins.
#[derive(Clone)]
pub struct Found {
    /// The checked entry.
    pub entry: VerifiedEntry,
    /// `Some(true)`: the pinned keys; `Some(false)`: different; `None`: first
    /// look (pinned now).
    pub same_as_before: Option<bool>,
}

/// Looks `name` up for the Directory page: like [`checked_keys`], but changed
/// keys are shown (with the choice to trust them), not refused.
pub async fn look_up_pinned(
    session: Session,
    unlocked: &Unlocked,
    name: &str,
    explain: impl Fn(&ApiError) -> String,
) -> Result<Found, String> {
    let entry = look_up(name, explain).await?;
    let check = compare_with_pins(session, unlocked, &entry, Purpose::Look).await?;
    Ok(Found {
        entry,
        same_as_before: match check {
            PinCheck::FirstContact => None,
            PinCheck::Same => Some(true),
            PinCheck::Changed(_) => Some(false),
        },
    })
}

/// The safety number of a person's own entry, to read out to others.
pub fn safety_number_of(entry: &KeyEntry) -> SafetyNumber {
    SafetyNumber::new(
        &entry.user_id,
        &entry.identity_key.to_bytes(),
        &entry.encryption_key,
    )
}
