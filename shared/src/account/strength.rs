//! The strength meter: a guide for the person typing, never a rule.

use zeroize::Zeroizing;

use super::common::{common_list, common_rank};
use super::password::{
    contains_username, normalize_password, PASSWORD_MAX_CHARS, PASSWORD_MAX_INPUT_BYTES,
    PASSWORD_MIN_CHARS_WITH_SECOND_FACTOR,
};
use super::username::{fold_username, USERNAME_MIN_CHARS};

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

pub(super) const LABELS: [&str; 5] = ["Too short", "Weak", "Fair", "Good", "Strong"];

/// Bits from which the score is 2, 3 and 4 (below the first it is 1).
const SCORE_BITS: [f64; 3] = [40.0, 60.0, 80.0];

/// Bits charged for a letter that follows a letter and is lowercase: people write words,
/// and the meter cannot tell a word from random letters, so it assumes a word (English
/// words from a large dictionary carry roughly 2 to 3 bits a letter).
const WORD_LETTER_BITS: f64 = 3.0;

/// Bits charged for a space right after a letter: between words it is expected, so it
/// adds little.
const WORD_SPACE_BITS: f64 = 1.0;

pub(super) const HINT_SHORT: &str =
    "Use at least 12 characters (15 without a second factor): a few unrelated words in a row";
pub(super) const HINT_LONG: &str = "Use at most 256 characters";
pub(super) const HINT_USERNAME: &str = "Leave your username out of the password";
pub(super) const HINT_COMMON: &str = "This is one of the most common passwords: choose another";
pub(super) const HINT_COMMON_PART: &str =
    "Parts of it are common passwords: add a less common word";
pub(super) const HINT_PATTERN: &str = "Avoid repeats and sequences such as aaa, abcd or 1234";
const HINT_MORE: &str = "Add another word or two";
const HINT_ALMOST: &str = "Good; one more word would make it strong";
pub(super) const HINT_STRONG: &str = "Strong password";

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

pub(super) fn make_strength(score: u8, hint: &'static str) -> Strength {
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
    // Without an installed list there are no common pieces.
    let common_max_chars = common_list().map_or(0, |list| list.max_chars);

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
        for (k, lc) in lower.iter().enumerate().skip(i).take(common_max_chars) {
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
