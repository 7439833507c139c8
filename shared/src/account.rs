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
//! were duplicates after lowercasing, so it holds exactly 10,000 entries.
//!
//! # Strength meter
//!
//! [`strength`] is a guide for the person typing, never a rule: it estimates the bits an
//! attacker would need with a small model (see [`strength`]) and may be wrong in both
//! directions. Only [`check_password`] decides what is accepted.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, ScriptExtension, UnicodeScript};
use zeroize::Zeroizing;

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

/// Fewest password characters when the account has a second factor (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS_WITH_SECOND_FACTOR: usize = 12;
/// Fewest password characters when the password is the only factor (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS_SINGLE_FACTOR: usize = 15;
/// Most password characters: enough for any passphrase, and bounds the work of the
/// checks and the meter.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Inputs longer than this are refused before normalising (same reason as for
/// usernames); 256 characters of 4 bytes, each from a few source characters, fit.
const PASSWORD_MAX_INPUT_BYTES: usize = 16 * 1024;

/// Number of entries in the embedded common-password list.
pub const COMMON_PASSWORD_COUNT: usize = 10_000;

/// The embedded list: a `#` header line naming the source, then one lowercase password a
/// line, most common first.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

// ---------------------------------------------------------------------------------------
// Usernames
// ---------------------------------------------------------------------------------------

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

fn is_separator(c: char) -> bool {
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
fn fold_username(input: &str) -> String {
    let lower = input.nfkc().collect::<String>().to_lowercase();
    lower.nfkc().collect()
}

// ---------------------------------------------------------------------------------------
// Passwords
// ---------------------------------------------------------------------------------------

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
    Zeroizing::new(password.nfkc().collect())
}

/// Applies the hard password rules (module docs) to what the user typed, for an account
/// named `username` (raw input is fine: it is normalised here; a name under 3 characters
/// is not compared). `has_second_factor` picks the minimum length: 12 or 15.
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
/// passwords.
pub fn is_common_password(password: &str) -> bool {
    let lower = Zeroizing::new(normalize_password(password).to_lowercase());
    common_rank(&lower).is_some()
}

/// Whether the lowercased password contains the username, as typed or without its
/// separators (`john.smith` → `johnsmith`), once that has at least 3 characters.
fn contains_username(lower_password: &str, username: &str) -> bool {
    let name = fold_username(username.trim());
    let joined: String = name.chars().filter(|c| !is_separator(*c)).collect();
    [name, joined]
        .iter()
        .any(|n| n.chars().count() >= USERNAME_MIN_CHARS && lower_password.contains(n.as_str()))
}

/// The list parsed once: entries sorted for binary search, each with its rank (0 = most
/// common), and the longest entry's length in characters (bounds the meter's search).
struct CommonList {
    sorted: Vec<(&'static str, u16)>,
    max_chars: usize,
}

fn common_list() -> &'static CommonList {
    static LIST: OnceLock<CommonList> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut sorted: Vec<(&'static str, u16)> = COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .zip(0u16..)
            .collect();
        let max_chars = sorted
            .iter()
            .map(|(p, _)| p.chars().count())
            .max()
            .unwrap_or(0);
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        CommonList { sorted, max_chars }
    })
}

/// The rank (0 = most common) of an already lowercased password, if it is on the list.
fn common_rank(lower: &str) -> Option<u16> {
    let list = common_list();
    list.sorted
        .binary_search_by(|(entry, _)| (*entry).cmp(lower))
        .ok()
        .and_then(|i| list.sorted.get(i))
        .map(|(_, rank)| *rank)
}

// ---------------------------------------------------------------------------------------
// Strength meter
// ---------------------------------------------------------------------------------------

/// What the meter shows: a score from 0 to 4, its label and one hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strength {
    /// 0 = too short, 1 = weak, 2 = fair, 3 = good, 4 = strong.
    pub score: u8,
    /// "Too short", "Weak", "Fair", "Good" or "Strong".
    pub label: &'static str,
    /// One short suggestion for making the password better.
    pub hint: &'static str,
}

const LABELS: [&str; 5] = ["Too short", "Weak", "Fair", "Good", "Strong"];

/// Bits from which the score is 2, 3 and 4 (below the first it is 1).
const SCORE_BITS: [f64; 3] = [40.0, 60.0, 80.0];

/// Bits charged for a letter that follows a letter and is lowercase: people write words,
/// and the meter cannot tell a word from random letters, so it assumes a word (English
/// words from a large dictionary carry roughly 2 to 3 bits a letter).
const WORD_LETTER_BITS: f64 = 3.0;

/// Bits charged for a space right after a letter: between words it is expected, so it
/// adds little.
const WORD_SPACE_BITS: f64 = 1.0;

const HINT_SHORT: &str =
    "Use at least 12 characters (15 without a second factor): a few unrelated words in a row";
const HINT_LONG: &str = "Use at most 256 characters";
const HINT_USERNAME: &str = "Leave your username out of the password";
const HINT_COMMON: &str = "This is one of the most common passwords: choose another";
const HINT_COMMON_PART: &str = "Parts of it are common passwords: add a less common word";
const HINT_PATTERN: &str = "Avoid repeats and sequences such as aaa, abcd or 1234";
const HINT_MORE: &str = "Add another word or two";
const HINT_ALMOST: &str = "Good; one more word would make it strong";
const HINT_STRONG: &str = "Strong password";

/// Estimates how hard the password is to guess, as a guide while typing.
///
/// The model: the normalised password is split into pieces in the way that costs an
/// attacker the fewest bits (a shortest path over the characters), where a piece is
/// - one character: log2 of the alphabet in use (lower 26, upper 26, digits 10, ASCII
///   symbols 32, space 1, anything else 64, summed over the classes present), but only
///   [`WORD_LETTER_BITS`] for a lowercase letter right after a letter and
///   [`WORD_SPACE_BITS`] for a space right after a letter;
/// - an entry of the common-password list (4+ characters, any case): log2(rank + 2),
///   plus 1 bit if it had capitals;
/// - the username (3+ characters, any case): 1 bit;
/// - a repeat of something earlier in the password (3+ characters, e.g. `aaaa`,
///   `abcabc`): 2 + log2(length) bits;
/// - a sequence of consecutive code points, up or down (3+ characters, `abcd`, `4321`):
///   the first character's bits + log2(length) + 1.
///
/// Under 12 characters the score is 0 ("Too short"); otherwise it is 1 below 40 bits,
/// 2 below 60, 3 below 80 and 4 from there. A password that is a common one or contains
/// the username is capped at 1, since [`check_password`] refuses it. The meter does not
/// know whether a second factor is on, so it flags only the lower minimum of 12.
///
/// It is honest about its limits: it knows no dictionary beyond the 10,000 passwords, so
/// it credits a passphrase of ordinary words more than a dictionary attack would, and it
/// undervalues random lowercase letters (it takes them for words); it does not see
/// letter substitutions (`Tr0ub4dor`) or keyboard walks beyond the list. Only the first 256
/// characters are examined.
pub fn strength(password: &str, username: &str) -> Strength {
    if password.len() > PASSWORD_MAX_INPUT_BYTES {
        return make_strength(1, HINT_LONG);
    }
    let normalized = normalize_password(password);
    let count = normalized.chars().count();
    if count < PASSWORD_MIN_CHARS_WITH_SECOND_FACTOR {
        return make_strength(0, HINT_SHORT);
    }
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(
        normalized
            .chars()
            .take(PASSWORD_MAX_CHARS)
            .collect::<Vec<char>>(),
    );
    let name: Vec<char> = fold_username(username.trim()).chars().collect();
    let estimate = estimate(&chars, &name);
    let mut score = if estimate.bits < SCORE_BITS[0] {
        1
    } else if estimate.bits < SCORE_BITS[1] {
        2
    } else if estimate.bits < SCORE_BITS[2] {
        3
    } else {
        4
    };
    let lower = Zeroizing::new(normalized.to_lowercase());
    let whole_common = common_rank(&lower).is_some();
    let has_username = contains_username(&lower, username);
    if whole_common || has_username {
        score = 1;
    }
    let hint = if count > PASSWORD_MAX_CHARS {
        HINT_LONG
    } else if has_username {
        HINT_USERNAME
    } else if whole_common {
        HINT_COMMON
    } else if score < 4 && estimate.used_common {
        HINT_COMMON_PART
    } else if score < 4 && estimate.used_pattern {
        HINT_PATTERN
    } else if score < 3 {
        HINT_MORE
    } else if score < 4 {
        HINT_ALMOST
    } else {
        HINT_STRONG
    };
    make_strength(score, hint)
}

fn make_strength(score: u8, hint: &'static str) -> Strength {
    let label = LABELS.get(usize::from(score)).copied().unwrap_or("Strong");
    Strength { score, label, hint }
}

/// The result of the shortest-path split: total bits and which kinds of piece it used
/// (for the hint).
struct Estimate {
    bits: f64,
    used_common: bool,
    used_pattern: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Piece {
    Char,
    Common,
    Username,
    Pattern,
}

/// The shortest path over `chars` (at most [`PASSWORD_MAX_CHARS`]); `name` is the folded
/// username. Quadratic in the length, so cheap enough for every keystroke.
fn estimate(chars: &[char], name: &[char]) -> Estimate {
    let n = chars.len();
    let char_bits = log2(alphabet_size(chars));
    // Lowercase per character for matching the list and the username (both lowercase).
    let lower: Zeroizing<Vec<char>> =
        Zeroizing::new(chars.iter().map(|c| lower_char(*c)).collect());
    let list = common_list();

    // best[j] = (bits to reach position j, piece that ended there, where it started).
    let mut best: Vec<(f64, Piece, usize)> = vec![(f64::INFINITY, Piece::Char, 0); n + 1];
    if let Some(first) = best.first_mut() {
        first.0 = 0.0;
    }
    let longest_repeat = longest_earlier_matches(chars);
    let mut window = Zeroizing::new(String::new());

    for i in 0..n {
        let start = best.get(i).map_or(f64::INFINITY, |b| b.0);
        if !start.is_finite() {
            continue;
        }
        let mut offer = |j: usize, bits: f64, piece: Piece| {
            if let Some(slot) = best.get_mut(j) {
                if start + bits < slot.0 {
                    *slot = (start + bits, piece, i);
                }
            }
        };

        // One character.
        let c = chars.get(i).copied().unwrap_or(' ');
        let after_letter = i > 0 && chars.get(i - 1).is_some_and(|p| p.is_alphabetic());
        let bits = if after_letter && c.is_lowercase() {
            WORD_LETTER_BITS.min(char_bits)
        } else if after_letter && c == ' ' {
            WORD_SPACE_BITS.min(char_bits)
        } else {
            char_bits
        };
        offer(i + 1, bits, Piece::Char);

        // Common-list entries starting here (the list is ASCII).
        window.clear();
        for (k, lc) in lower.iter().enumerate().skip(i).take(list.max_chars) {
            if !lc.is_ascii() {
                break;
            }
            window.push(*lc);
            let len = k + 1 - i;
            if len >= 4 {
                if let Some(rank) = common_rank(&window) {
                    let capitals = chars
                        .get(i..=k)
                        .is_some_and(|s| s.iter().any(|c| c.is_uppercase()));
                    let bits = log2(f64::from(rank) + 2.0) + if capitals { 1.0 } else { 0.0 };
                    offer(k + 1, bits, Piece::Common);
                }
            }
        }

        // The username.
        if name.len() >= USERNAME_MIN_CHARS && lower.get(i..i + name.len()) == Some(name) {
            offer(i + name.len(), 1.0, Piece::Username);
        }

        // Repeats of something earlier.
        let repeat = longest_repeat.get(i).copied().unwrap_or(0);
        for len in 3..=repeat {
            offer(i + len, 2.0 + log2(len as f64), Piece::Pattern);
        }

        // Sequences of consecutive code points.
        let sequence = sequence_length(chars, i);
        for len in 3..=sequence {
            offer(i + len, char_bits + log2(len as f64) + 1.0, Piece::Pattern);
        }
    }

    let bits = best.get(n).map_or(0.0, |b| b.0);
    let mut used_common = false;
    let mut used_pattern = false;
    let mut j = n;
    while j > 0 {
        let Some(&(_, piece, from)) = best.get(j) else {
            break;
        };
        used_common |= piece == Piece::Common;
        used_pattern |= piece == Piece::Pattern;
        j = from;
    }
    Estimate {
        bits,
        used_common,
        used_pattern,
    }
}

/// The alphabet an attacker would search for these characters (see [`strength`]).
fn alphabet_size(chars: &[char]) -> f64 {
    let has = |f: fn(&char) -> bool| chars.iter().any(f);
    let mut size = 0.0;
    if has(|c| c.is_ascii_lowercase()) {
        size += 26.0;
    }
    if has(|c| c.is_ascii_uppercase()) {
        size += 26.0;
    }
    if has(|c| c.is_ascii_digit()) {
        size += 10.0;
    }
    if has(|c| c.is_ascii_punctuation()) {
        size += 32.0;
    }
    if has(|c| *c == ' ') {
        size += 1.0;
    }
    if has(|c| !c.is_ascii() || c.is_ascii_control()) {
        size += 64.0;
    }
    size
}

fn log2(x: f64) -> f64 {
    if x <= 1.0 {
        0.0
    } else {
        x.log2()
    }
}

/// A single-character lowercase mapping; characters whose lowercase is longer are kept.
fn lower_char(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// For each position i, the longest run starting at i that also starts at an earlier
/// position (overlap allowed, as in LZ77): `aaaa` at 1 matches 3 characters from 0.
fn longest_earlier_matches(chars: &[char]) -> Vec<usize> {
    let n = chars.len();
    // common[k * (n + 1) + i] = length of the common prefix of chars[k..] and chars[i..].
    let mut common = vec![0u16; (n + 1) * (n + 1)];
    let mut longest = vec![0usize; n];
    for i in (0..n).rev() {
        for k in (0..i).rev() {
            if chars.get(k) == chars.get(i) {
                let next = common.get((k + 1) * (n + 1) + i + 1).copied().unwrap_or(0);
                let here = next.saturating_add(1);
                if let Some(slot) = common.get_mut(k * (n + 1) + i) {
                    *slot = here;
                }
                if let Some(slot) = longest.get_mut(i) {
                    *slot = (*slot).max(usize::from(here));
                }
            }
        }
    }
    longest
}

/// The length of the run of consecutive code points (step +1 or -1) starting at `i`.
fn sequence_length(chars: &[char], i: usize) -> usize {
    let code = |k: usize| chars.get(k).map(|c| i64::from(u32::from(*c)));
    let (Some(a), Some(b)) = (code(i), code(i + 1)) else {
        return chars.len().saturating_sub(i).min(1);
    };
    let step = b - a;
    if step != 1 && step != -1 {
        return 1;
    }
    let mut len = 2;
    while let (Some(prev), Some(next)) = (code(i + len - 1), code(i + len)) {
        if next - prev != step {
            break;
        }
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(input: &str) -> Result<String, UsernameError> {
        Username::parse(input).map(String::from)
    }

    // --- usernames -------------------------------------------------------------------

    #[test]
    fn usernames_accepted_and_normalised() {
        assert_eq!(name("alice").as_deref(), Ok("alice"));
        assert_eq!(name("Alice.Smith-2").as_deref(), Ok("alice.smith-2"));
        assert_eq!(name("ALICE").as_deref(), Ok("alice"));
        assert_eq!(name("a_b").as_deref(), Ok("a_b"));
        assert_eq!(name("007").as_deref(), Ok("007"));
        assert_eq!(name("Dr.Müller").as_deref(), Ok("dr.müller"));
        assert_eq!(name("Ελένη").as_deref(), Ok("ελένη"));
        assert_eq!(name("山田太郎").as_deref(), Ok("山田太郎"));
        // Exactly 3 and exactly 32 characters (counted after normalisation).
        assert!(name("abc").is_ok());
        assert!(name(&"a".repeat(32)).is_ok());
        assert!(name(&"é".repeat(32)).is_ok());
    }

    #[test]
    fn usernames_fullwidth_normalise_to_ascii() {
        // Fullwidth ＡＬＩＣＥ (U+FF21…) is NFKC-equal to ALICE, then lowercased.
        assert_eq!(
            name("\u{FF21}\u{FF2C}\u{FF29}\u{FF23}\u{FF25}").as_deref(),
            Ok("alice")
        );
        assert_eq!(name("ｂｏｂ＿１").as_deref(), Ok("bob_1"));
        // A ligature and a superscript digit are compatibility characters too.
        assert_eq!(name("\u{FB01}sh²").as_deref(), Ok("fish2"));
    }

    #[test]
    fn usernames_case_insensitive() {
        assert_eq!(Username::parse("MiXeD.Case"), Username::parse("mixed.case"));
        assert_eq!(Username::parse("ÉLODIE"), Username::parse("élodie"));
    }

    #[test]
    fn usernames_combining_characters_compose() {
        // e + COMBINING ACUTE composes to é: one name whichever way it was typed.
        let decomposed = "jose\u{0301}";
        let precomposed = "jos\u{00E9}";
        assert_eq!(name(decomposed).as_deref(), Ok(precomposed));
        assert_eq!(Username::parse(decomposed), Username::parse(precomposed));
        // Length counts the composed characters: "ab" + e + acute is 3, not 4.
        assert_eq!(name("abe\u{0301}").as_deref(), Ok("ab\u{00E9}"));
        // W + ring above only has a precomposed lowercase form: the second NFKC finds it.
        assert_eq!(name("abW\u{030A}").as_deref(), Ok("ab\u{1E98}"));
    }

    #[test]
    fn fail_username_combining_mark_that_does_not_compose() {
        assert_eq!(
            name("abq\u{0301}"),
            Err(UsernameError::InvalidCharacter('\u{0301}'))
        );
    }

    #[test]
    fn usernames_of_one_script_accepted() {
        for input in [
            "dr.jones",
            "иван.петров",
            "ελένη-2",
            "μαρία_7",
            "мария",
            "محمد",
            "山田太郎",
            // Japanese (Han with kana) and Korean with Latin are the mixes UTS #39 allows.
            "やまだ太郎",
            "dr.山田",
            "김민준.kim",
        ] {
            assert!(Username::parse_new(input).is_ok(), "{input}");
        }
    }

    #[test]
    fn fail_username_mixing_scripts() {
        for input in [
            // A Cyrillic о (U+043E) in a Latin name.
            "dr.j\u{043E}nes",
            // A Cyrillic а (U+0430) among Latin letters.
            "\u{0430}lice",
            // A Greek ο (U+03BF) and a Greek α (U+03B1) in Latin names.
            "dr.j\u{03BF}nes",
            "m\u{03B1}ria",
            // Cyrillic with a Latin letter, and Greek with Cyrillic.
            "ивaн",
            "ελενα\u{0430}",
            // Separators do not make two scripts one.
            "alice.иван",
            // Hangul with kana is not one of the allowed mixes.
            "김やまだ",
        ] {
            assert_eq!(
                Username::parse_new(input),
                Err(UsernameError::MixedScripts),
                "{input}"
            );
            // Existing accounts keep signing in: the lookup form does not apply it.
            assert!(name(input).is_ok(), "{input}");
        }
    }

    #[test]
    fn fail_username_emoji() {
        assert_eq!(name("alice😀"), Err(UsernameError::InvalidCharacter('😀')));
        assert_eq!(
            name("a\u{200D}bc"),
            Err(UsernameError::InvalidCharacter('\u{200D}'))
        );
    }

    #[test]
    fn fail_username_punctuation() {
        for (input, c) in [("al@ce", '@'), ("a+b", '+'), ("a/b", '/'), ("bob!", '!')] {
            assert_eq!(
                name(input),
                Err(UsernameError::InvalidCharacter(c)),
                "{input}"
            );
        }
    }

    #[test]
    fn fail_username_surrounding_whitespace() {
        for input in [
            " alice",
            "alice ",
            "\talice",
            "alice\n",
            "\u{00A0}alice",
            "alice\u{3000}",
        ] {
            assert_eq!(
                name(input),
                Err(UsernameError::SurroundingWhitespace),
                "{input:?}"
            );
        }
    }

    #[test]
    fn fail_username_inner_whitespace() {
        assert_eq!(name("alice smith"), Err(UsernameError::Whitespace));
        assert_eq!(name("alice\u{3000}smith"), Err(UsernameError::Whitespace));
    }

    #[test]
    fn fail_username_too_short() {
        assert_eq!(name(""), Err(UsernameError::TooShort));
        assert_eq!(name("ab"), Err(UsernameError::TooShort));
        assert_eq!(name("é"), Err(UsernameError::TooShort));
    }

    #[test]
    fn fail_username_too_long() {
        assert_eq!(name(&"a".repeat(33)), Err(UsernameError::TooLong));
        // Refused before normalising.
        assert_eq!(name(&"a".repeat(100_000)), Err(UsernameError::TooLong));
        // U+FDFA expands to 18 characters under NFKC, but it is not alphanumeric anyway;
        // the ligature ﬃ (3 letters) shows that length counts after normalisation.
        assert_eq!(name(&"\u{FB03}".repeat(11)), Err(UsernameError::TooLong));
        assert!(name(&"\u{FB03}".repeat(10)).is_ok());
    }

    #[test]
    fn fail_username_separator_at_start_or_end() {
        for input in [".alice", "_alice", "-alice"] {
            assert_eq!(name(input), Err(UsernameError::BadStart), "{input}");
        }
        for input in ["alice.", "alice_", "alice-"] {
            assert_eq!(name(input), Err(UsernameError::BadEnd), "{input}");
        }
    }

    #[test]
    fn fail_username_consecutive_separators() {
        for input in ["a..b", "a._b", "a-_-b", "a__b"] {
            assert_eq!(
                name(input),
                Err(UsernameError::ConsecutiveSeparators),
                "{input}"
            );
        }
        assert!(name("a.b_c-d").is_ok());
    }

    #[test]
    fn username_errors_tell_the_user_what_to_do() {
        assert_eq!(
            UsernameError::TooShort.to_string(),
            "The username is too short: use 3 to 32 characters"
        );
        assert_eq!(
            UsernameError::InvalidCharacter('😀').to_string(),
            "The character '😀' is not allowed: use letters, digits, '.', '_' and '-'"
        );
    }

    #[test]
    fn username_serde_round_trip() {
        let parsed: Username = serde_json::from_str("\"Alice\"").unwrap();
        assert_eq!(parsed.as_str(), "alice");
        assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"alice\"");
        assert_eq!(parsed.to_string(), "alice");
        let s: &str = parsed.as_ref();
        assert_eq!(s, "alice");
        assert_eq!("Alice".parse::<Username>(), Ok(parsed));
    }

    #[test]
    fn fail_username_deserialize_invalid() {
        let err = serde_json::from_str::<Username>("\"a\"").unwrap_err();
        assert!(err.to_string().contains("too short"), "{err}");
        assert!(serde_json::from_str::<Username>("\" alice\"").is_err());
        assert!(serde_json::from_str::<Username>("\"al ice\"").is_err());
    }

    // --- passwords -------------------------------------------------------------------

    const PASSPHRASE: &str = "Correct horse battery staple on the hill";

    #[test]
    fn common_list_has_10000_entries() {
        let header = COMMON_PASSWORDS.lines().next().unwrap_or("");
        assert!(header.starts_with("# source: npm package @zxcvbn-ts/language-common 4.1.3"));
        let entries: Vec<&str> = COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert_eq!(entries.len(), COMMON_PASSWORD_COUNT);
        assert_eq!(common_list().sorted.len(), COMMON_PASSWORD_COUNT);
        // Lowercase, no blanks, no duplicates.
        assert!(entries
            .iter()
            .all(|e| !e.is_empty() && *e == e.to_lowercase()));
        let mut unique = entries.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), COMMON_PASSWORD_COUNT);
        // Rank order: the most common first.
        assert_eq!(entries.first().copied(), Some("123456"));
        assert_eq!(common_rank("123456"), Some(0));
        assert_eq!(common_rank("password"), Some(1));
        assert_eq!(common_list().max_chars, 16);
    }

    #[test]
    fn common_lookup_is_case_insensitive() {
        assert!(is_common_password("password"));
        assert!(is_common_password("PassWord"));
        assert!(is_common_password("QWERTY123456"));
        // NFKC first: fullwidth letters are the same password.
        assert!(is_common_password("ｐａｓｓｗｏｒｄ"));
        assert!(!is_common_password(PASSPHRASE));
        assert!(!is_common_password(""));
    }

    #[test]
    fn password_accepts_a_long_passphrase() {
        assert_eq!(check_password(PASSPHRASE, "alice", false), Ok(()));
        assert_eq!(check_password(PASSPHRASE, "alice", true), Ok(()));
        // Any characters are fine: no composition rules, spaces and other scripts too.
        assert_eq!(
            check_password("сонце світить над морем", "alice", false),
            Ok(())
        );
        assert_eq!(check_password(&"é".repeat(256), "alice", false), Ok(()));
    }

    #[test]
    fn password_minimum_depends_on_second_factor() {
        let twelve = "kettle mosai";
        assert_eq!(twelve.chars().count(), 12);
        assert_eq!(check_password(twelve, "alice", true), Ok(()));
        assert_eq!(
            check_password(twelve, "alice", false),
            Err(PasswordError::TooShort { min: 15 })
        );
        let fifteen = "kettle mosaic w";
        assert_eq!(check_password(fifteen, "alice", false), Ok(()));
    }

    #[test]
    fn fail_password_11_chars_with_second_factor() {
        let eleven = "kettle mosa";
        assert_eq!(eleven.chars().count(), 11);
        assert_eq!(
            check_password(eleven, "alice", true),
            Err(PasswordError::TooShort { min: 12 })
        );
    }

    #[test]
    fn fail_password_14_chars_without_second_factor() {
        let fourteen = "kettle mosaic ";
        assert_eq!(fourteen.chars().count(), 14);
        assert_eq!(
            check_password(fourteen, "alice", false),
            Err(PasswordError::TooShort { min: 15 })
        );
    }

    #[test]
    fn fail_password_length_counts_normalised_characters() {
        // 12 bytes-worth of decomposed accents is 6 characters after NFKC.
        let decomposed = "e\u{0301}".repeat(6);
        assert_eq!(decomposed.chars().count(), 12);
        assert_eq!(
            check_password(&decomposed, "alice", true),
            Err(PasswordError::TooShort { min: 12 })
        );
    }

    #[test]
    fn fail_password_too_long() {
        assert_eq!(
            check_password(&"a".repeat(257), "alice", false),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check_password(&"ab".repeat(100_000), "alice", false),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn fail_password_common_in_any_case() {
        // Ranks 2690, 1371 and 2207 of the list; 12, 12 and 15 characters.
        for common in ["Qwerty123456", "1QAZ2WSX3EDC", "qwerty123456"] {
            assert_eq!(
                check_password(common, "alice", true),
                Err(PasswordError::Common),
                "{common}"
            );
        }
        assert_eq!(
            check_password("MailCreated5240", "alice", false),
            Err(PasswordError::Common)
        );
    }

    #[test]
    fn fail_password_contains_username() {
        let cases = [
            ("alice", "alice-in-wonderland-42"),
            ("Alice", "my name is ALICE and I like tea"),
            ("john.smith", "John.Smith-was-here-1987"),
            ("john.smith", "johnsmith was here in 1987"),
            ("ＢＯＢ", "bobby tables drops tables"),
        ];
        for (username, password) in cases {
            assert_eq!(
                check_password(password, username, false),
                Err(PasswordError::ContainsUsername),
                "{username} / {password}"
            );
        }
        // Equal to the username.
        let long_name = "correcthorsebattery";
        assert_eq!(
            check_password(long_name, long_name, false),
            Err(PasswordError::ContainsUsername)
        );
    }

    #[test]
    fn password_may_contain_a_short_username() {
        // Names under 3 characters are not compared (every password would contain "a").
        assert_eq!(check_password(PASSPHRASE, "al", false), Ok(()));
        assert_eq!(check_password(PASSPHRASE, "", false), Ok(()));
    }

    #[test]
    fn password_errors_tell_the_user_what_to_do() {
        assert_eq!(
            PasswordError::TooShort { min: 15 }.to_string(),
            "Use at least 15 characters: a few unrelated words in a row are easy to remember"
        );
        assert_eq!(
            PasswordError::TooLong.to_string(),
            "Use at most 256 characters"
        );
    }

    #[test]
    fn normalize_password_examples() {
        // Decomposed and precomposed accents give the same bytes.
        assert_eq!(
            normalize_password("cafe\u{0301}").as_str(),
            normalize_password("caf\u{00E9}").as_str()
        );
        assert_eq!(
            normalize_password("cafe\u{0301}").as_bytes(),
            b"caf\xC3\xA9"
        );
        // Fullwidth forms, ligatures and the ideographic space become plain ones.
        assert_eq!(normalize_password("ｐａｓｓ１").as_str(), "pass1");
        assert_eq!(normalize_password("\u{FB01}ne").as_str(), "fine");
        assert_eq!(normalize_password("a\u{3000}b").as_str(), "a b");
        // Case and ordinary spaces are kept.
        assert_eq!(normalize_password(" Pass Word ").as_str(), " Pass Word ");
        // Hangul jamo compose.
        assert_eq!(normalize_password("\u{1100}\u{1161}").as_str(), "\u{AC00}");
    }

    // --- strength meter ----------------------------------------------------------------

    #[test]
    fn strength_labels_match_scores() {
        for (score, label) in LABELS.iter().enumerate() {
            let s = make_strength(score as u8, "");
            assert_eq!(s.label, *label);
        }
    }

    #[test]
    fn strength_too_short() {
        let s = strength("Zq9!xv", "alice");
        assert_eq!((s.score, s.label, s.hint), (0, "Too short", HINT_SHORT));
        assert_eq!(strength("", "").score, 0);
    }

    #[test]
    fn strength_scores_rise_on_sample_passwords() {
        let samples = [
            "abc",                                       // too short
            "aaaaaaaaaaaa",                              // a repeat
            "password1234",                              // common word + sequence
            "sunshinesunshine",                          // common word twice
            "mydoglikescheese",                          // words, lowercase
            "my dog likes cheese",                       // words with spaces
            "my dog likes cheese on toast",              // more words
            "My dog, Rex, likes cheese on toast at 7pm", // a sentence
        ];
        let scores: Vec<u8> = samples.iter().map(|p| strength(p, "alice").score).collect();
        assert!(
            scores.windows(2).all(|w| w[0] <= w[1]),
            "not monotonic: {scores:?}"
        );
        assert_eq!(scores.first(), Some(&0));
        assert_eq!(scores.last(), Some(&4));
    }

    #[test]
    fn strength_more_words_never_lower() {
        let mut phrase = String::from("kettle");
        let mut last = 0;
        for word in ["mosaic", "harbour", "violet", "gravel", "tundra", "pepper"] {
            phrase.push(' ');
            phrase.push_str(word);
            let s = strength(&phrase, "alice").score;
            assert!(s >= last, "{phrase}: {s} < {last}");
            last = s;
        }
        assert_eq!(last, 4);
    }

    #[test]
    fn strength_penalises_patterns() {
        let repeat = strength("abcabcabcabc", "alice");
        assert_eq!(repeat.score, 1);
        assert_eq!(repeat.hint, HINT_PATTERN);
        let sequence = strength("abcdefghijklmnop", "alice");
        assert_eq!(sequence.score, 1);
        assert_eq!(sequence.hint, HINT_PATTERN);
        let digits = strength("987654321098", "alice");
        assert_eq!(digits.score, 1);
    }

    #[test]
    fn strength_penalises_common_passwords() {
        let whole = strength("Qwerty123456", "alice");
        assert_eq!((whole.score, whole.hint), (1, HINT_COMMON));
        let parts = strength("dragonmonkeysunshine", "alice");
        assert!(parts.score <= 2, "{parts:?}");
        assert_eq!(parts.hint, HINT_COMMON_PART);
    }

    #[test]
    fn strength_penalises_username() {
        let s = strength("alice wonderland rabbit hole 1865!", "Alice");
        assert_eq!((s.score, s.hint), (1, HINT_USERNAME));
        // The same password without a username in it is strong.
        assert_eq!(
            strength("alice wonderland rabbit hole 1865!", "bob").score,
            4
        );
    }

    #[test]
    fn strength_random_mixed_password_is_strong() {
        let s = strength("q8#Lm2!vZ9@xR4&p", "alice");
        assert_eq!((s.score, s.label, s.hint), (4, "Strong", HINT_STRONG));
    }

    #[test]
    fn strength_too_long_says_so() {
        let s = strength(&"kettle mosaic ".repeat(20), "alice");
        assert_eq!(s.hint, HINT_LONG);
        assert_eq!(strength(&"x".repeat(100_000), "alice").hint, HINT_LONG);
    }

    // --- never panics ------------------------------------------------------------------

    #[cfg(not(target_arch = "wasm32"))]
    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn validation_never_panics(input in any::<String>(), other in any::<String>(), second in any::<bool>()) {
                let _ = Username::parse(&input);
                let _ = check_password(&input, &other, second);
                let s = strength(&input, &other);
                prop_assert!(s.score <= 4);
                let _ = is_common_password(&input);
            }

            #[test]
            fn valid_usernames_are_fixed_points(input in "\\PC{0,40}") {
                if let Ok(name) = Username::parse(&input) {
                    prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
                }
            }

            #[test]
            fn username_like_inputs_never_panic(input in "[a-zA-Z0-9._\\- \u{0301}\u{FF21}-\u{FF3A}😀]{0,40}") {
                if let Ok(name) = Username::parse(&input) {
                    let count = name.as_str().chars().count();
                    prop_assert!((USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&count));
                    prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
                }
            }

            #[test]
            fn long_inputs_stay_fast_and_bounded(chars in proptest::collection::vec(any::<char>(), 200..300)) {
                let input: String = chars.into_iter().collect();
                let s = strength(&input, "alice");
                prop_assert!(s.score <= 4);
            }
        }
    }
}
