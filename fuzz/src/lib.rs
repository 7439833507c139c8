//! Helpers shared by the fuzz targets: fixed test keys, and a cursor that
//! splits the fuzzer's bytes into the pieces a target needs.
//!
//! The keys are constants so that a crash reproduces from its input alone.
//! A verifier is fuzzed twice over: with forged bytes (which must be refused
//! without a panic) and with values the target signs or seals itself under
//! these keys (which must pass, reaching the code behind the check).

use medvault_crypto::aead::Key256;
use medvault_crypto::hpke::EncryptionSecretKey;
use medvault_crypto::sign::SigningKey;

/// The symmetric key every sealed box and wrapped key is opened with.
pub fn sym_key() -> Key256 {
    Key256::from_bytes([0x11; 32])
}

/// The HPKE secret key every wrapped node key is opened with.
pub fn hpke_secret() -> EncryptionSecretKey {
    EncryptionSecretKey::from_bytes([0x22; 32])
}

/// The Ed25519 key the targets sign with.
pub fn signing_key() -> SigningKey {
    SigningKey::from_seed(&[0x33; 32])
}

/// A user id and a node id.
pub const USER: [u8; 16] = [0x44; 16];
pub const NODE: [u8; 16] = [0x55; 16];

/// Reads pieces off the front of the fuzzer's bytes; short input gives
/// zeros and empty slices rather than stopping, so every input runs.
pub struct Cursor<'a>(pub &'a [u8]);

impl<'a> Cursor<'a> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}
