//! SHA-256, for the places the protocol names a value by its hash (a node's
//! wrapped key and metadata in its signed state, a record's leaves and heads).
//! Hashing a canonical encoding ([`crate::context::Encoder`]) keeps every
//! hashed message labelled, like everything signed.

use sha2::{Digest, Sha256};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FIPS 180-2, appendix B.1: SHA-256("abc").
    #[test]
    fn sha256_of_abc_is_the_published_vector() {
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let got: String = sha256(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, expected);
    }
}
