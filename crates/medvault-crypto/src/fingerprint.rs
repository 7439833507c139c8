//! Safety numbers: a user's keys as digits two people can read to each other.
//!
//! The number depends only on the user's id and public keys, so the patient who
//! looks up a doctor and the doctor who looks at their own profile see the same
//! sixty digits; if a server ever swapped a key, the digits would differ.
//!
//! `digest = SHA-512(bind(FINGERPRINT, [user_id, identity_key, encryption_key]))`;
//! the first 60 bytes are read as twelve 5-byte big-endian integers, each taken
//! modulo 100 000 and written as five digits (≈ 199 bits in all).

use sha2::{Digest, Sha512};

use super::{context, Id};

/// Groups of five digits in a safety number.
pub const GROUPS: usize = 12;

/// A user's safety number: twelve groups of five digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SafetyNumber([u32; GROUPS]);

impl SafetyNumber {
    /// The number for these public keys.
    pub fn new(user_id: &Id, identity_key: &[u8; 32], encryption_key: &[u8; 32]) -> Self {
        let digest = Sha512::digest(context::bind(
            context::FINGERPRINT,
            &[user_id, identity_key, encryption_key],
        ));
        let mut groups = [0u32; GROUPS];
        for (group, chunk) in groups.iter_mut().zip(digest.chunks_exact(5)) {
            let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            // The remainder is below 100 000, so it always fits in a u32.
            *group = u32::try_from(value % 100_000).unwrap_or(0);
        }
        SafetyNumber(groups)
    }

    /// The twelve groups, for layouts that place them in a grid.
    pub fn groups(&self) -> Vec<String> {
        self.0.iter().map(|g| format!("{g:05}")).collect()
    }
}

impl std::fmt::Display for SafetyNumber {
    /// Three lines of four groups, the way the app shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, group) in self.groups().iter().enumerate() {
            if i > 0 {
                f.write_str(if i % 4 == 0 { "\n" } else { " " })?;
            }
            f.write_str(group)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_stability() {
        let a = SafetyNumber::new(&[1; 16], &[2; 32], &[3; 32]);
        let text = a.to_string();
        assert_eq!(text.lines().count(), 3);
        assert_eq!(text.split_whitespace().count(), GROUPS);
        assert!(text
            .split_whitespace()
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
        // Same inputs, same number: both sides compute it independently.
        assert_eq!(a, SafetyNumber::new(&[1; 16], &[2; 32], &[3; 32]));
    }

    #[test]
    fn fail_any_changed_key_changes_the_number() {
        let base = SafetyNumber::new(&[1; 16], &[2; 32], &[3; 32]);
        let mut id = [1u8; 16];
        id[0] ^= 1;
        let mut ik = [2u8; 32];
        ik[31] ^= 1;
        let mut ek = [3u8; 32];
        ek[5] ^= 0x80;
        assert_ne!(base, SafetyNumber::new(&id, &[2; 32], &[3; 32]));
        assert_ne!(base, SafetyNumber::new(&[1; 16], &ik, &[3; 32]));
        assert_ne!(base, SafetyNumber::new(&[1; 16], &[2; 32], &ek));
        // Swapping the two keys is a different number too.
        assert_ne!(base, SafetyNumber::new(&[1; 16], &[3; 32], &[2; 32]));
    }
}
