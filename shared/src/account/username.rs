//! Usernames: the one normalised form, the characters allowed and the
//! one-script rule for new accounts (rules in the module docs of `account`).

use serde::{Deserialize, Serialize};
use unicode_script::{Script, ScriptExtension, UnicodeScript};

use super::nfkc::nfkc;

/// Fewest characters in a normalised username.
pub const USERNAME_MIN_CHARS: usize = 3;
/// Most characters in a normalised username.
pub const USERNAME_MAX_CHARS: usize = 32;
/// Inputs longer than this are refused before normalising, so a huge request costs
/// nothing. A valid name is far below it: 32 characters, each composed from at most a
/// few source characters of at most 4 bytes.
const USERNAME_MAX_INPUT_BYTES: usize = 1024;
/// The characters that may separate the letter/digit runs of a username.
const USERNAME_SEPARATORS: [char; 3] = ['.', '_', '-'];

/// A valid username in its one normalised form (see the module docs), so two accounts
/// can never differ only in case or Unicode form. Deserialising validates too, so a
/// `Username` inside a request is always valid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a username was refused; each message tells the user what to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Whitespace before or after the name.
    #[error("Remove the spaces at the start or end of the username")]
    SurroundingWhitespace,
    /// Fewer than [`USERNAME_MIN_CHARS`] characters after normalisation.
    #[error("The username is too short: use 3 to 32 characters")]
    TooShort,
    /// More than [`USERNAME_MAX_CHARS`] characters after normalisation.
    #[error("The username is too long: use 3 to 32 characters")]
    TooLong,
    /// Whitespace inside the name.
    #[error("Spaces are not allowed in a username: use '.', '_' or '-' between words")]
    Whitespace,
    /// A character that is not a letter, a digit or a separator (the first one found).
    #[error("The character {0:?} is not allowed: use letters, digits, '.', '_' and '-'")]
    InvalidCharacter(char),
    /// The name starts with a separator.
    #[error("Start the username with a letter or a digit")]
    BadStart,
    /// The name ends with a separator.
    #[error("End the username with a letter or a digit")]
    BadEnd,
    /// Two separators next to each other.
    #[error("Put a letter or a digit between '.', '_' and '-'")]
    ConsecutiveSeparators,
    /// Letters from more than one script, such as a Cyrillic `а` in a Latin name.
    #[error("The username mixes letters from different alphabets (for example Latin and Cyrillic letters that look alike): use letters from one alphabet")]
    MixedScripts,
}

impl Username {
    /// Normalises and validates what the user typed (rules in the module docs).
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        if input.starts_with(char::is_whitespace) || input.ends_with(char::is_whitespace) {
            return Err(UsernameError::SurroundingWhitespace);
        }
        if input.len() > USERNAME_MAX_INPUT_BYTES {
            return Err(UsernameError::TooLong);
        }
        let name = fold_username(input);
        if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
            return Err(UsernameError::SurroundingWhitespace);
        }
        for c in name.chars() {
            if c.is_whitespace() {
                return Err(UsernameError::Whitespace);
            }
            if !c.is_alphanumeric() && !is_separator(c) {
                return Err(UsernameError::InvalidCharacter(c));
            }
        }
        let count = name.chars().count();
        if count < USERNAME_MIN_CHARS {
            return Err(UsernameError::TooShort);
        }
        if count > USERNAME_MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        if name.starts_with(is_separator) {
            return Err(UsernameError::BadStart);
        }
        if name.ends_with(is_separator) {
            return Err(UsernameError::BadEnd);
        }
        let mut previous_was_separator = false;
        for c in name.chars() {
            let separator = is_separator(c);
            if separator && previous_was_separator {
                return Err(UsernameError::ConsecutiveSeparators);
            }
            previous_was_separator = separator;
        }
        Ok(Self(name))
    }

    /// [`Username::parse`] plus the rule for a new account's name: letters from one
    /// script (module docs, rule 5). Sign-up uses this; sign-in, recovery and look-ups
    /// use `parse`, so an account named before the rule existed still works.
    pub fn parse_new(input: &str) -> Result<Self, UsernameError> {
        let name = Self::parse(input)?;
        if !single_script(name.as_str()) {
            return Err(UsernameError::MixedScripts);
        }
        Ok(name)
    }

    /// The normalised name, as stored and compared.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Username {
    type Err = UsernameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl TryFrom<&str> for Username {
    type Error = UsernameError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

pub(super) fn is_separator(c: char) -> bool {
    USERNAME_SEPARATORS.contains(&c)
}

/// The script combinations UTS #39 "highly restrictive" allows besides a single
/// script: how Japanese, Chinese (with Bopomofo) and Korean are written, with Latin.
const ALLOWED_SCRIPT_MIXES: [&[Script]; 3] = [
    &[
        Script::Latin,
        Script::Han,
        Script::Hiragana,
        Script::Katakana,
    ],
    &[Script::Latin, Script::Han, Script::Bopomofo],
    &[Script::Latin, Script::Han, Script::Hangul],
];

/// Whether the letters of `name` all come from one script, or from one of the
/// [`ALLOWED_SCRIPT_MIXES`] (module docs, rule 5).
fn single_script(name: &str) -> bool {
    let letters: Vec<ScriptExtension> = name
        .chars()
        .map(|c| c.script_extension())
        .filter(|ext| !ext.is_common() && !ext.is_inherited())
        .collect();
    let mut resolved = ScriptExtension::from(Script::Common);
    for ext in &letters {
        resolved.intersect_with(*ext);
    }
    if !resolved.is_empty() {
        return true;
    }
    ALLOWED_SCRIPT_MIXES.iter().any(|mix| {
        letters
            .iter()
            .all(|ext| mix.iter().any(|script| ext.contains_script(*script)))
    })
}

/// NFKC, lowercase, NFKC: the username's one form (why in the module docs). Also used
/// to compare a password with a username that is still being typed.
pub(super) fn fold_username(input: &str) -> String {
    nfkc(&nfkc(input).to_lowercase())
}
