//! Key pins: the keys of other people a user has seen, so that a server that
//! later serves different keys for them is caught before anything is wrapped
//! to those keys or a signature is trusted under them.
//!
//! A pin names a username, the account id and the safety number of its keys
//! (which stands for both public keys: `fingerprint.rs`). The list is the
//! user's own object on the server, sealed and signed in the browser
//! (`docs/PROTOCOL.md`, "Key pins"):
//!
//! - plain: the JSON [`PinList`];
//! - sealed: `aead::seal(keyring.pins_key(user_id), bind(PINS_SEAL, [user_id,
//!   u64be(counter)]), plain)`;
//! - the [`PinEnvelope`] `{user_id, counter, sealed}`, signed with the user's
//!   identity key under `SIGN_PINS`.
//!
//! Each save raises the counter by one; the browser remembers the highest it
//! verified and refuses a lower one ([`open_pins`]), so a server cannot hand
//! back an older list that lacks a pin (or misses a re-pin) without being seen.
//! The comparison itself ([`PinList::check`]) is pure and tested here.

use serde::{Deserialize, Serialize};

use crate::{
    client::VerifiedEntry,
    crypto::{
        aead, b64,
        context::{self, Encoder},
        fingerprint::{SafetyNumber, GROUPS},
        keyring::Keyring,
        sign::{self, Signable, Signed},
        CryptoError,
    },
    model::{Id, KeyEntry},
};

/// Version of the plain [`PinList`] format.
pub const PINS_FORMAT: u8 = 1;

/// The most bytes of a sealed pin list the server keeps (256 KiB: about
/// 1,500 pins).
pub const MAX_SEALED_PINS: usize = 256 * 1024;

/// Someone's keys as a user saw and accepted them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// Their username (the key of the list).
    pub username: String,
    /// Their account id.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// Their safety number's 60 digits, without spaces.
    pub safety_number: String,
    /// When this pin was made (Unix seconds), so that of two copies of a pin
    /// (two tabs, two devices) the newer one wins a merge.
    pub pinned_at: i64,
}

/// The plain pin list, sorted by username, one pin per username.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinList {
    /// [`PINS_FORMAT`].
    pub version: u8,
    /// The pins.
    pub pins: Vec<Pin>,
}

impl Default for PinList {
    fn default() -> Self {
        PinList {
            version: PINS_FORMAT,
            pins: Vec::new(),
        }
    }
}

/// How an entry compares with a user's pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinCheck {
    /// No pin for this username yet: the first contact. Pin it, and show the
    /// safety number so the user can compare it.
    FirstContact,
    /// The pinned keys.
    Same,
    /// Different keys (or a different account) from the pinned ones: stop.
    Changed(Pin),
}

/// A safety number as the 60 digits a pin keeps.
pub fn digits(number: &SafetyNumber) -> String {
    number.groups().concat()
}

impl PinList {
    /// The pin for `username`, if any.
    pub fn get(&self, username: &str) -> Option<&Pin> {
        self.pins.iter().find(|p| p.username == username)
    }

    /// Compares `entry` (already checked: self-signature, name) with the pin
    /// for its username.
    pub fn check(&self, entry: &VerifiedEntry) -> PinCheck {
        match self.get(&entry.entry.username) {
            None => PinCheck::FirstContact,
            Some(pin)
                if pin.user_id == entry.entry.user_id
                    && pin.safety_number == digits(&entry.safety_number) =>
            {
                PinCheck::Same
            }
            Some(pin) => PinCheck::Changed(pin.clone()),
        }
    }

    /// Pins `entry`'s keys, in place of any pin for the same username.
    pub fn pin(&mut self, entry: &VerifiedEntry, now: i64) {
        self.put(Pin {
            username: entry.entry.username.clone(),
            user_id: entry.entry.user_id,
            safety_number: digits(&entry.safety_number),
            pinned_at: now,
        });
    }

    fn put(&mut self, pin: Pin) {
        match self
            .pins
            .binary_search_by(|p| p.username.as_str().cmp(&pin.username))
        {
            Ok(i) => self.pins[i] = pin,
            Err(i) => self.pins.insert(i, pin),
        }
    }

    /// Takes in `other`'s pins (another tab's or device's save that came
    /// first): pins only one side has are kept, and of two pins for the same
    /// username the newer one wins (a "Trust the new keys" made later).
    pub fn merge(&mut self, other: &PinList) {
        for pin in &other.pins {
            let newer = self
                .get(&pin.username)
                .is_none_or(|mine| pin.pinned_at > mine.pinned_at);
            if newer {
                self.put(pin.clone());
            }
        }
    }

    /// A pin remembered before pins were kept on the server (this browser's
    /// localStorage: username, base64url id, safety number with spaces), if it
    /// is well-formed; otherwise nothing.
    pub fn migrate(&mut self, username: &str, user_id: &str, number: &str, now: i64) {
        let id = b64::decode(user_id).and_then(|b| Id::try_from(b.as_slice()).ok());
        let safety_number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
        let well_formed = safety_number.len() == GROUPS * 5
            && safety_number.bytes().all(|b| b.is_ascii_digit())
            && crate::account::Username::parse(username).is_ok();
        if let (Some(user_id), true) = (id, well_formed) {
            if self.get(username).is_none() {
                self.put(Pin {
                    username: username.to_owned(),
                    user_id,
                    safety_number,
                    pinned_at: now,
                });
            }
        }
    }
}

/// The signed envelope of a user's sealed pins, as the server stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinEnvelope {
    /// The owner of the pins.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// Raised by one with every save; the first save is 1.
    pub counter: u64,
    /// The sealed [`PinList`].
    #[serde(with = "b64::vec")]
    pub sealed: Vec<u8>,
}

impl Signable for PinEnvelope {
    const LABEL: &'static str = context::SIGN_PINS;
    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.user_id)
            .u64(self.counter)
            .bytes(&self.sealed);
    }
}

/// Why a served pin object was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinsError {
    /// Not signed by the user, made for someone else, or does not open.
    Forged,
    /// Older than a copy this browser verified before (or missing after one).
    Rollback {
        /// The highest counter this browser verified.
        seen: u64,
        /// The counter served (0: none).
        served: u64,
    },
    /// Too many pins to store (over [`MAX_SEALED_PINS`]).
    TooLarge,
    /// The browser's cryptography failed.
    Crypto,
}

fn pins_aad(user_id: &Id, counter: u64) -> Vec<u8> {
    context::bind(context::PINS_SEAL, &[user_id, &counter.to_be_bytes()])
}

/// Seals and signs `list` as `user_id`'s pin object number `counter`.
pub fn seal_pins(
    keyring: &Keyring,
    user_id: &Id,
    counter: u64,
    list: &PinList,
) -> Result<Signed<PinEnvelope>, PinsError> {
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(list).map_err(|_| PinsError::Crypto)?);
    let key = keyring.pins_key(user_id).map_err(|_| PinsError::Crypto)?;
    let sealed =
        aead::seal(&key, &pins_aad(user_id, counter), &plain).map_err(|_| PinsError::Crypto)?;
    if sealed.len() > MAX_SEALED_PINS {
        return Err(PinsError::TooLarge);
    }
    Ok(sign::sign(
        keyring.identity(),
        PinEnvelope {
            user_id: *user_id,
            counter,
            sealed,
        },
    ))
}

/// Checks that no pin object is right: fine unless this browser verified one
/// before (`highest_seen`), in which case the server is hiding it.
pub fn check_absent(highest_seen: Option<u64>) -> Result<(), PinsError> {
    match highest_seen {
        Some(seen) if seen > 0 => Err(PinsError::Rollback { seen, served: 0 }),
        _ => Ok(()),
    }
}

/// Verifies and opens `me`'s pin object: signed by `me`'s identity key, made
/// for `me`, not older than `highest_seen`, and it opens under `me`'s pins
/// key with its counter bound in.
pub fn open_pins(
    keyring: &Keyring,
    me: &KeyEntry,
    envelope: &Signed<PinEnvelope>,
    highest_seen: Option<u64>,
) -> Result<PinList, PinsError> {
    let value = envelope
        .verify(&me.identity_key)
        .map_err(|_| PinsError::Forged)?;
    if value.user_id != me.user_id || value.counter == 0 {
        return Err(PinsError::Forged);
    }
    if let Some(seen) = highest_seen.filter(|seen| value.counter < *seen) {
        return Err(PinsError::Rollback {
            seen,
            served: value.counter,
        });
    }
    let key = keyring
        .pins_key(&me.user_id)
        .map_err(|_| PinsError::Crypto)?;
    let plain = aead::open(&key, &pins_aad(&me.user_id, value.counter), &value.sealed).map_err(
        |e| match e {
            CryptoError::Unavailable => PinsError::Crypto,
            _ => PinsError::Forged,
        },
    )?;
    let list: PinList = serde_json::from_slice(&plain).map_err(|_| PinsError::Forged)?;
    if list.version != PINS_FORMAT {
        return Err(PinsError::Forged);
    }
    Ok(list)
}

#[cfg(test)]
mod tests;
