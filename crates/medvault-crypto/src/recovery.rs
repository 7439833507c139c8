//! The recovery secret: a second way to open the keyring when the password is lost.
//!
//! At registration the browser draws 256 random bits and shows them once as a
//! code the user writes down. The code is Crockford base32 (no I, L, O or U, so
//! it survives handwriting) of the secret followed by a 24-bit checksum, in
//! groups of four: 56 symbols. From the secret the browser derives:
//! - a key that seals a second copy of the keyring (`keyring` module), and
//! - an Ed25519 *verifier* key pair. The server stores only the public half; to
//!   recover, the browser signs a fresh server challenge with the private half.
//!   This proves possession without showing the server the secret or anything
//!   from which it could be recomputed.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{
    aead::Key256,
    context, kdf, rng,
    sign::{Signature, SigningKey, VerifyingKey},
    CryptoError, Id,
};

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Bytes of checksum appended to the secret before encoding.
pub const CHECKSUM_LEN: usize = 3;
/// Symbols in a recovery code: (32 + 3) bytes × 8 / 5.
pub const CODE_SYMBOLS: usize = 56;
/// Symbols per group in the displayed code.
pub const GROUP: usize = 4;

/// A 256-bit recovery secret. Zeroized on drop; never printed or serialised.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RecoverySecret([u8; 32]);

impl std::fmt::Debug for RecoverySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoverySecret(<redacted>)")
    }
}

impl RecoverySecret {
    /// A fresh random secret.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(RecoverySecret(rng::bytes()?))
    }

    /// The secret for known bytes (tests and vectors).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        RecoverySecret(bytes)
    }

    /// The code to show the user: 14 groups of 4 symbols joined by `-`.
    pub fn to_code(&self) -> Zeroizing<String> {
        let mut data = Zeroizing::new([0u8; 32 + CHECKSUM_LEN]);
        data[..32].copy_from_slice(&self.0);
        data[32..].copy_from_slice(&checksum(&self.0));
        let symbols = Zeroizing::new(base32_encode(&data[..]));
        let mut out = String::with_capacity(CODE_SYMBOLS + CODE_SYMBOLS / GROUP);
        for (i, c) in symbols.chars().enumerate() {
            if i > 0 && i % GROUP == 0 {
                out.push('-');
            }
            out.push(c);
        }
        Zeroizing::new(out)
    }

    /// Reads a code as typed: case, spaces and dashes do not matter, and the
    /// look-alikes O→0 and I, L→1 are accepted. A typo fails the checksum.
    pub fn from_code(code: &str) -> Result<Self, CryptoError> {
        let mut values = Zeroizing::new(Vec::with_capacity(CODE_SYMBOLS));
        for c in code.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            values.push(symbol_value(c).ok_or(CryptoError::RecoveryCode)?);
        }
        if values.len() != CODE_SYMBOLS {
            return Err(CryptoError::RecoveryCode);
        }
        let data = Zeroizing::new(base32_decode(&values));
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&data[..32]);
        let secret = RecoverySecret(secret);
        let ok: bool = checksum(&secret.0).ct_eq(&data[32..]).into();
        if !ok {
            return Err(CryptoError::RecoveryCode);
        }
        Ok(secret)
    }

    /// The key that seals the recovery copy of `user_id`'s keyring.
    pub fn sealing_key(&self, user_id: &Id) -> Result<Key256, CryptoError> {
        kdf::derive_key(
            &self.0,
            &context::bind(context::KEYRING_RECOVERY_KEY, &[user_id]),
        )
    }

    fn verifier_signing_key(&self, user_id: &Id) -> Result<SigningKey, CryptoError> {
        let seed = kdf::derive_key(
            &self.0,
            &context::bind(context::RECOVERY_VERIFIER_KEY, &[user_id]),
        )?;
        Ok(SigningKey::from_seed(seed.as_bytes()))
    }

    /// The public verifier the server stores at registration.
    pub fn verifier(&self, user_id: &Id) -> Result<VerifyingKey, CryptoError> {
        Ok(self.verifier_signing_key(user_id)?.verifying_key())
    }

    /// Proves possession: a signature over the server's fresh `challenge`.
    pub fn prove(&self, user_id: &Id, challenge: &[u8]) -> Result<Signature, CryptoError> {
        Ok(self
            .verifier_signing_key(user_id)?
            .sign_bytes(&proof_message(user_id, challenge)))
    }
}

/// Checks a recovery proof against the stored verifier (the server side).
pub fn verify_proof(
    verifier: &VerifyingKey,
    user_id: &Id,
    challenge: &[u8],
    proof: &Signature,
) -> Result<(), CryptoError> {
    verifier.verify_bytes(&proof_message(user_id, challenge), proof)
}

fn proof_message(user_id: &Id, challenge: &[u8]) -> Vec<u8> {
    context::bind(context::RECOVERY_PROOF, &[user_id, challenge])
}

fn checksum(secret: &[u8; 32]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::digest(context::bind(context::RECOVERY_CHECKSUM, &[secret]));
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

fn symbol_value(c: char) -> Option<u8> {
    let c = c.to_ascii_uppercase();
    let c = match c {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .and_then(|p| u8::try_from(p).ok())
}

/// Big-endian bit packing, 5 bits per symbol; 35 bytes make exactly 56 symbols.
fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 8 / 5 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &byte in data {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

fn base32_decode(values: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 5 / 8);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &v in values {
        acc = (acc << 5) | u32::from(v & 31);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    acc.zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Id = [7; 16];

    #[test]
    fn code_shape() {
        let code = RecoverySecret::from_bytes([0xAB; 32]).to_code();
        assert_eq!(code.len(), CODE_SYMBOLS + CODE_SYMBOLS / GROUP - 1);
        assert!(code.split('-').all(|g| g.len() == GROUP));
        assert!(code
            .chars()
            .all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
    }

    #[test]
    fn known_code() {
        // All-zero secret: 256 bits fill 51 whole symbols with zeros; the 52nd
        // holds the last zero bit and the first checksum bits.
        let code = RecoverySecret::from_bytes([0; 32]).to_code();
        let zeros = "0000-".repeat(12) + "000";
        assert!(code.starts_with(&zeros), "{}", &*code);
        let back = RecoverySecret::from_code(&code).unwrap();
        assert_eq!(back.0, [0; 32]);
    }

    #[test]
    fn forgiving_input() {
        let secret = RecoverySecret::generate().unwrap();
        let code = secret.to_code();
        let typed = code
            .to_lowercase()
            .replace('-', " ")
            .replace('0', "o")
            .replace('1', "l");
        assert_eq!(RecoverySecret::from_code(&typed).unwrap().0, secret.0);
        let squashed: String = code.chars().filter(|&c| c != '-').collect();
        assert_eq!(RecoverySecret::from_code(&squashed).unwrap().0, secret.0);
    }

    #[test]
    fn fail_every_single_typo_is_caught() {
        // Every substitution of one symbol, and every swap of two neighbours, in
        // codes made from fixed secrets.
        for seed in 0u8..4 {
            let secret = RecoverySecret::from_bytes([seed.wrapping_mul(37).wrapping_add(1); 32]);
            let code: Vec<u8> = secret.to_code().bytes().filter(|&c| c != b'-').collect();
            for i in 0..code.len() {
                for &sub in ALPHABET.iter() {
                    if sub == code[i] {
                        continue;
                    }
                    let mut bad = code.clone();
                    bad[i] = sub;
                    let text = String::from_utf8(bad).unwrap();
                    assert_eq!(
                        RecoverySecret::from_code(&text).map(|_| ()),
                        Err(CryptoError::RecoveryCode),
                        "substitution at {i}"
                    );
                }
                if i + 1 < code.len() && code[i] != code[i + 1] {
                    let mut bad = code.clone();
                    bad.swap(i, i + 1);
                    let text = String::from_utf8(bad).unwrap();
                    assert!(RecoverySecret::from_code(&text).is_err(), "swap at {i}");
                }
            }
        }
    }

    #[test]
    fn fail_wrong_length_or_alphabet() {
        let code = RecoverySecret::generate().unwrap().to_code();
        assert!(RecoverySecret::from_code(&code[..code.len() - 1]).is_err());
        assert!(RecoverySecret::from_code(&format!("{}0", &*code)).is_err());
        assert!(RecoverySecret::from_code(&code.replacen(
            |c: char| c.is_ascii_alphanumeric(),
            "U",
            1
        ))
        .is_err());
        assert!(RecoverySecret::from_code("").is_err());
        assert!(RecoverySecret::from_code("é").is_err());
    }

    #[test]
    fn proof_round_trip() {
        let secret = RecoverySecret::generate().unwrap();
        let verifier = secret.verifier(&USER).unwrap();
        let proof = secret.prove(&USER, b"challenge-1").unwrap();
        verify_proof(&verifier, &USER, b"challenge-1", &proof).unwrap();
    }

    #[test]
    fn fail_wrong_recovery_code_proof() {
        let secret = RecoverySecret::generate().unwrap();
        let other = RecoverySecret::generate().unwrap();
        let verifier = secret.verifier(&USER).unwrap();
        let proof = other.prove(&USER, b"c").unwrap();
        assert_eq!(
            verify_proof(&verifier, &USER, b"c", &proof),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn fail_replayed_proof_for_other_challenge_or_user() {
        let secret = RecoverySecret::generate().unwrap();
        let verifier = secret.verifier(&USER).unwrap();
        let proof = secret.prove(&USER, b"c1").unwrap();
        assert!(verify_proof(&verifier, &USER, b"c2", &proof).is_err());
        assert!(verify_proof(&verifier, &[8; 16], b"c1", &proof).is_err());
    }

    #[test]
    fn keys_are_separated() {
        let secret = RecoverySecret::from_bytes([1; 32]);
        assert_ne!(
            secret.sealing_key(&USER).unwrap(),
            secret.sealing_key(&[8; 16]).unwrap()
        );
        assert_ne!(
            secret.sealing_key(&USER).unwrap().as_bytes(),
            &secret.verifier(&USER).unwrap().to_bytes()
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", RecoverySecret::from_bytes([1; 32])),
            "RecoverySecret(<redacted>)"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn code_round_trips(bytes in proptest::prelude::any::<[u8; 32]>()) {
            let secret = RecoverySecret::from_bytes(bytes);
            let back = RecoverySecret::from_code(&secret.to_code()).unwrap();
            proptest::prop_assert_eq!(back.0, bytes);
        }
    }
}
