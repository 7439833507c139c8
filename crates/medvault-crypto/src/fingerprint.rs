//! Safety numbers: a user's keys as digits two people can read to each other.
//!
//! The number depends only on the user's id and public keys, so the patient who
//! looks up a doctor and the doctor who looks at their own profile see the same
//! sixty digits; if a server ever swapped a key, the digits would differ.
//!
//! `digest = SHA-512(bind(FINGERPRINT, [user_id, identity_key, encryption_key]))`;
//! the first 60 bytes are read as twelve 5-byte big-endian integers, each taken
//! modulo 100 000 and written as five digits (≈ 199 bits in all).
//!
//! The installation's org key has a fingerprint of its own ([`OrgFingerprint`]):
//! `SHA-256(bind(ORG_FINGERPRINT, [public_key]))`, written as 64 lowercase hex
//! digits in 16 groups of 4. The app is built with it and trusts a doctor's
//! certificate only through an admin certified by exactly that key.

use sha2::{Digest, Sha256, Sha512};

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

/// Hex digits in each group of an [`OrgFingerprint`] as shown.
pub const ORG_GROUP_LEN: usize = 4;

/// The fingerprint of an installation's org key (the anchor of the directory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrgFingerprint([u8; 32]);

impl OrgFingerprint {
    /// The fingerprint of the Ed25519 org public key `public_key`.
    pub fn of(public_key: &[u8; 32]) -> Self {
        let digest = Sha256::digest(context::bind(context::ORG_FINGERPRINT, &[public_key]));
        OrgFingerprint(digest.into())
    }

    /// Reads a fingerprint as 64 hex digits, in either case, ignoring spaces,
    /// colons and dashes between them (so the grouped form reads back).
    pub fn parse(text: &str) -> Result<Self, super::CryptoError> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(|b| !matches!(b, b' ' | b':' | b'-' | b'\t' | b'\n' | b'\r'))
            .collect();
        // `from_str_radix` alone would take a leading `+`.
        if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(super::CryptoError::Malformed);
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| super::CryptoError::Malformed)?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| super::CryptoError::Malformed)?;
        }
        Ok(OrgFingerprint(out))
    }

    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// 64 lowercase hex digits with no separators (what build scripts pass on).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Display for OrgFingerprint {
    /// Sixteen groups of four hex digits, separated by spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = self.to_hex();
        for (i, group) in hex.as_bytes().chunks(ORG_GROUP_LEN).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(std::str::from_utf8(group).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_fingerprint_shape_round_trip_and_binding() {
        let key = [7u8; 32];
        let fp = OrgFingerprint::of(&key);
        // Exactly SHA-256 of the labelled key.
        let expected: [u8; 32] =
            Sha256::digest(context::bind(context::ORG_FINGERPRINT, &[&key])).into();
        assert_eq!(fp.to_bytes(), expected);
        let shown = fp.to_string();
        assert_eq!(shown.split(' ').count(), 16);
        assert!(shown.split(' ').all(|g| g.len() == 4
            && g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))));
        assert_eq!(OrgFingerprint::parse(&shown), Ok(fp));
        assert_eq!(OrgFingerprint::parse(&fp.to_hex()), Ok(fp));
        assert_eq!(OrgFingerprint::parse(&fp.to_hex().to_uppercase()), Ok(fp));
        let mut other = key;
        other[31] ^= 1;
        assert_ne!(OrgFingerprint::of(&other), fp);
        // Not the user safety-number hash of the same bytes.
        assert_ne!(
            fp.to_bytes()[..],
            Sha256::digest(context::bind(context::FINGERPRINT, &[&key]))[..]
        );
    }

    #[test]
    fn fail_org_fingerprint_parse_of_bad_text() {
        let hex = OrgFingerprint::of(&[1; 32]).to_hex();
        for bad in [
            String::new(),
            hex[..62].to_owned(),
            format!("{hex}00"),
            format!("{}zz", &hex[..62]),
            format!("{}+1", &hex[..62]),
        ] {
            assert_eq!(
                OrgFingerprint::parse(&bad),
                Err(crate::CryptoError::Malformed),
                "{bad}"
            );
        }
    }

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
