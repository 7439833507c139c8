//! The hard password rules (NIST SP 800-63B).

use zeroize::Zeroizing;

use super::common::common_rank;
use super::nfkc::nfkc;
use super::username::{fold_username, is_separator, USERNAME_MIN_CHARS};

/// Fewest password characters when the account has a second factor (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS_WITH_SECOND_FACTOR: usize = 12;
/// Fewest password characters when the password is the only factor (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS_SINGLE_FACTOR: usize = 15;
/// Most password characters: enough for any passphrase, and bounds the work of the
/// checks and the meter.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Inputs longer than this are refused before normalising (same reason as for
/// usernames); 256 characters of 4 bytes, each from a few source characters, fit.
pub(super) const PASSWORD_MAX_INPUT_BYTES: usize = 16 * 1024;

/// Number of entries in the common-password list (`super::common`).
pub const COMMON_PASSWORD_COUNT: usize = 10_000;

/// Why a password was refused; each message tells the user what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer characters than the minimum that applies (`min`).
    #[error("Use at least {min} characters: a few unrelated words in a row are easy to remember")]
    TooShort {
        /// The minimum that applies: 12 with a second factor, 15 without.
        min: usize,
    },
    /// More than [`PASSWORD_MAX_CHARS`] characters.
    #[error("Use at most 256 characters")]
    TooLong,
    /// One of the 10,000 most common passwords, in any case.
    #[error("This is one of the 10,000 most common passwords: choose another")]
    Common,
    /// The password is or contains the username.
    #[error("Leave your username out of the password")]
    ContainsUsername,
}

/// The password as the app uses it: NFKC-normalised. OPAQUE runs on these UTF-8 bytes,
/// so one password typed on different keyboards or systems gives the same bytes. Case
/// is kept. The copy is zeroised when dropped, since it is the password.
pub fn normalize_password(password: &str) -> Zeroizing<String> {
    Zeroizing::new(nfkc(password))
}

/// Applies the hard password rules (module docs) to what the user typed, for an account
/// named `username` (raw input is fine: it is normalised here; a name under 3 characters
/// is not compared). `has_second_factor` picks the minimum length: 12 or 15. The
/// common-password rule applies once the list is installed
/// ([`super::install_common_passwords`]); before that it is skipped.
pub fn check_password(
    password: &str,
    username: &str,
    has_second_factor: bool,
) -> Result<(), PasswordError> {
    if password.len() > PASSWORD_MAX_INPUT_BYTES {
        return Err(PasswordError::TooLong);
    }
    let normalized = normalize_password(password);
    let count = normalized.chars().count();
    let min = if has_second_factor {
        PASSWORD_MIN_CHARS_WITH_SECOND_FACTOR
    } else {
        PASSWORD_MIN_CHARS_SINGLE_FACTOR
    };
    if count < min {
        return Err(PasswordError::TooShort { min });
    }
    if count > PASSWORD_MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    let lower = Zeroizing::new(normalized.to_lowercase());
    if common_rank(&lower).is_some() {
        return Err(PasswordError::Common);
    }
    if contains_username(&lower, username) {
        return Err(PasswordError::ContainsUsername);
    }
    Ok(())
}

/// Whether `password` (normalised and lowercased here) is one of the 10,000 most common
/// passwords (false while no list is installed).
pub fn is_common_password(password: &str) -> bool {
    let lower = Zeroizing::new(normalize_password(password).to_lowercase());
    common_rank(&lower).is_some()
}

/// Whether the lowercased password contains the username, as typed or without its
/// separators (`john.smith` → `johnsmith`), once that has at least 3 characters.
pub(super) fn contains_username(lower_password: &str, username: &str) -> bool {
    let name = fold_username(username.trim());
    let joined: String = name.chars().filter(|c| !is_separator(*c)).collect();
    [name, joined]
        .iter()
        .any(|n| n.chars().count() >= USERNAME_MIN_CHARS && lower_password.contains(n.as_str()))
}
