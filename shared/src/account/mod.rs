//! Credential rules that the browser and the server both apply: what a username may
//! be, which passwords are accepted, and a strength meter.
//!
//! Everything here is pure (no I/O, no clock, no randomness), so the app can run it on
//! every keystroke and the server can run the very same code again: a client can skip
//! the browser's checks, so the server never trusts them.
//!
//! # Usernames
//!
//! [`Username::parse`] turns what the user typed into the one stored form:
//!
//! 1. Leading or trailing whitespace is an error, not silently trimmed: a name that looks
//!    the same but signs in differently would confuse people.
//! 2. Unicode is normalised with NFKC, lowercased, then NFKC again. NFKC makes fullwidth
//!    `ＡＬＩＣＥ`, ligatures and precomposed/decomposed accents one name; lowercasing
//!    makes usernames case-insensitive (`Alice` and `alice` are the same account); the
//!    second NFKC composes the few letter + accent pairs that only have a precomposed
//!    form in lowercase (`W` + ring above becomes `ẘ`). This is lowercasing, not full
//!    case folding: `straße` and `strasse` are different names.
//! 3. After normalisation the name has 3 to 32 characters (Unicode scalar values), each a
//!    letter or digit of any script (`char::is_alphanumeric`) or one of the separators
//!    `.`, `_`, `-`. No spaces, no emoji, no punctuation, no combining mark that did not
//!    compose into a letter.
//! 4. It starts and ends with a letter or digit, and two separators never stand next to
//!    each other (`a.b-c` is fine, `a..b`, `a._b`, `.ab`, `ab-` are not): such names are
//!    nearly always typos and are easy to confuse with each other.
//! 5. For a new account ([`Username::parse_new`], used at sign-up) its letters come
//!    from one script (UTS #39 "highly restrictive"): the intersection of the
//!    Unicode `Script_Extensions` of its characters, ignoring
//!    `Common` and `Inherited` ones (ASCII digits, the separators, combining marks),
//!    must not be empty. Pure Latin, Cyrillic, Greek, Arabic, ... names are fine;
//!    `dr.jоnes` with a Cyrillic `о`, or Latin mixed with Greek, is refused. The
//!    combinations that UTS #39 allows for East Asian writing also pass: Latin with
//!    Han, Hiragana and Katakana; Latin with Han and Bopomofo; Latin with Han and
//!    Hangul. This stops look-alike names made by swapping in a letter from another
//!    script; a look-alike within one script (`rn` for `m`) is not detected, and the
//!    key directory's fingerprints remain what finally protects a user.
//!
//! # Passwords (NIST SP 800-63B)
//!
//! [`check_password`] applies the hard rules: at least 12 characters when a second
//! factor is on and 15 when it is not, at most 256, no composition rules, none of the
//! 10,000 most common passwords (case-insensitive), and not the username or anything
//! containing it (case-insensitive, also with the username's separators removed) once
//! the username has at least 3 characters. Characters are Unicode scalar values of the
//! NFKC form ([`normalize_password`]), which is also what the app feeds to OPAQUE: the
//! same password typed on another keyboard or OS (precomposed or decomposed accents,
//! fullwidth forms) then still signs in.
//!
//! The common-password list is `shared/data/common-passwords.txt`: the first 10,000
//! entries, in rank order, of `src/passwords.json` in the npm package
//! `@zxcvbn-ts/language-common` 4.1.3 (MIT, licence beside the list), lowercased; none
//! were duplicates after lowercasing, so it holds exactly 10,000 entries. It is not
//! compiled into the app: the browser fetches it (`/common-passwords.txt`, a static file
//! of the built app) and [`install_common_passwords`] takes it only if its SHA-256 is the
//! pinned [`COMMON_PASSWORDS_SHA256`]. Until then the common rule is skipped.
//!
//! # Strength meter
//!
//! [`strength`] is a guide for the person typing, never a rule: it estimates the bits an
//! attacker would need with a small model (see [`strength`]) and may be wrong in both
//! directions. Only [`check_password`] decides what is accepted.
//!
//! NFKC is the `unicode-normalization` crate natively and the browser's
//! `String.prototype.normalize("NFKC")` in the app (`nfkc.rs`), which keeps the
//! crate's tables out of the WASM; Unicode's stability policy makes both agree on
//! every character assigned in both versions.
//!
//! One file per topic: `username.rs`, `password.rs`, `common.rs`, `nfkc.rs` and `strength.rs`; their
//! public items are re-exported here, so `shared::account::X` is the path to use.

mod common;
mod nfkc;
mod password;
mod strength;
mod username;

pub use common::{
    common_passwords_installed, install_common_passwords, CommonListError,
    COMMON_PASSWORDS_MAX_BYTES, COMMON_PASSWORDS_PATH, COMMON_PASSWORDS_SHA256,
};
pub use nfkc::NFKC_SAMPLES;
pub use password::*;
pub use strength::*;
pub use username::*;

#[cfg(test)]
mod tests;
