//! A user's private keys, and how they are sealed for storage on the server.
//!
//! A keyring holds the Ed25519 identity key (signs key entries, grants and
//! manifests) and the X25519 encryption key (opens node keys wrapped with HPKE).
//! Both are made in the browser. The server keeps two sealed copies: one under a
//! key derived from OPAQUE's `export_key` (so only the password opens it) and one
//! under a key derived from the recovery secret. Changing the password re-seals;
//! nothing else changes.
//!
//! Plain encoding (never stored unsealed), version 2 (81 bytes): `0x02 ||
//! ed25519 seed (32) || x25519 secret (32) || record id (16)`: a patient's
//! keyring names the record made at sign-up, so a browser never makes a second
//! one. Version 1 (65 bytes, the same without the record id) still opens and
//! names no record; a version-1 keyring is sealed again as version 1. Sealed: `aead::seal(key, aad, plain)`, with
//! `key = HKDF(export_key or recovery secret, info = bind(label, [user_id]))` and
//! `aad = bind(KEYRING_SEAL, [user_id, kind])`, kind 1 = password, 2 = recovery.

use zeroize::Zeroizing;

use super::{
    aead::{self, Key256},
    context,
    hpke::{EncryptionPublicKey, EncryptionSecretKey},
    kdf,
    recovery::RecoverySecret,
    sign::{SigningKey, VerifyingKey},
    CryptoError, Id,
};

/// Version byte of the plain keyring encoding that names a record.
pub const KEYRING_VERSION: u8 = 2;
/// Version byte of the first encoding (no record id).
pub const KEYRING_VERSION_V1: u8 = 1;
const PLAIN_LEN_V1: usize = 1 + 32 + 32;
const PLAIN_LEN: usize = PLAIN_LEN_V1 + 16;
/// Length of a sealed keyring (version 2).
pub const SEALED_LEN: usize = PLAIN_LEN + aead::SEAL_OVERHEAD;
/// Length of a sealed version-1 keyring (accounts made before version 2).
pub const SEALED_LEN_V1: usize = PLAIN_LEN_V1 + aead::SEAL_OVERHEAD;

/// Which secret sealed a keyring copy; bound into its associated data so one
/// copy can never be presented as the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealKind {
    /// Sealed under the password's OPAQUE `export_key`.
    Password = 1,
    /// Sealed under the recovery secret.
    Recovery = 2,
}

/// The public halves, as published in the key directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKeys {
    /// Ed25519 identity key.
    pub identity: VerifyingKey,
    /// X25519 encryption key.
    pub encryption: EncryptionPublicKey,
}

/// A user's private keys, in memory only while signed in. Zeroized on drop.
pub struct Keyring {
    identity: SigningKey,
    encryption: EncryptionSecretKey,
    record_id: Option<Id>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(<redacted>)")
    }
}

impl Keyring {
    /// Fresh keys for a new account (naming no record: see
    /// [`Keyring::with_record`]).
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Keyring {
            identity: SigningKey::generate()?,
            encryption: EncryptionSecretKey::generate()?,
            record_id: None,
        })
    }

    /// The same keys, naming `record_id` as the owner's record (a patient's
    /// sign-up, which makes the record with this root id).
    pub fn with_record(mut self, record_id: Id) -> Self {
        self.record_id = Some(record_id);
        self
    }

    /// The record this keyring's owner made at sign-up (`None`: a keyring
    /// from before version 2, or an account with no record).
    pub fn record_id(&self) -> Option<Id> {
        self.record_id
    }

    /// The identity key, for signing.
    pub fn identity(&self) -> &SigningKey {
        &self.identity
    }

    /// The X25519 secret, for opening wrapped node keys (`hpke`).
    pub fn encryption(&self) -> &EncryptionSecretKey {
        &self.encryption
    }

    /// The public halves.
    pub fn public_keys(&self) -> PublicKeys {
        PublicKeys {
            identity: self.identity.verifying_key(),
            encryption: self.encryption.public_key(),
        }
    }

    fn to_plain(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(PLAIN_LEN));
        out.push(match self.record_id {
            Some(_) => KEYRING_VERSION,
            None => KEYRING_VERSION_V1,
        });
        out.extend_from_slice(&self.identity.seed()[..]);
        out.extend_from_slice(&self.encryption.to_bytes()[..]);
        if let Some(id) = &self.record_id {
            out.extend_from_slice(id);
        }
        out
    }

    fn from_plain(plain: &[u8]) -> Result<Self, CryptoError> {
        let record_id = match (plain.first(), plain.len()) {
            (Some(&KEYRING_VERSION_V1), PLAIN_LEN_V1) => None,
            (Some(&KEYRING_VERSION), PLAIN_LEN) => {
                let mut id: Id = [0; 16];
                id.copy_from_slice(&plain[PLAIN_LEN_V1..PLAIN_LEN]);
                Some(id)
            }
            _ => return Err(CryptoError::Malformed),
        };
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&plain[1..33]);
        Ok(Keyring {
            identity: SigningKey::from_seed(&seed),
            encryption: EncryptionSecretKey::from_slice(&plain[33..65])?,
            record_id,
        })
    }

    fn seal_under(
        &self,
        key: &Key256,
        user_id: &Id,
        kind: SealKind,
    ) -> Result<Vec<u8>, CryptoError> {
        aead::seal(key, &seal_aad(user_id, kind), &self.to_plain())
    }

    fn open_under(
        key: &Key256,
        user_id: &Id,
        kind: SealKind,
        sealed: &[u8],
    ) -> Result<Self, CryptoError> {
        if sealed.len() != SEALED_LEN && sealed.len() != SEALED_LEN_V1 {
            return Err(CryptoError::Malformed);
        }
        let plain = aead::open(key, &seal_aad(user_id, kind), sealed)?;
        Self::from_plain(&plain)
    }

    /// Seals the keyring under the password (OPAQUE's `export_key`). Also how a
    /// password change re-seals: call it again with the new `export_key`.
    pub fn seal_with_password(
        &self,
        export_key: &[u8],
        user_id: &Id,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal_under(
            &password_key(export_key, user_id)?,
            user_id,
            SealKind::Password,
        )
    }

    /// Opens the password-sealed copy after a successful OPAQUE login.
    pub fn open_with_password(
        export_key: &[u8],
        user_id: &Id,
        sealed: &[u8],
    ) -> Result<Self, CryptoError> {
        Self::open_under(
            &password_key(export_key, user_id)?,
            user_id,
            SealKind::Password,
            sealed,
        )
    }

    /// Seals the recovery copy.
    pub fn seal_with_recovery(
        &self,
        secret: &RecoverySecret,
        user_id: &Id,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal_under(&secret.sealing_key(user_id)?, user_id, SealKind::Recovery)
    }

    /// Opens the recovery copy with the secret read from the user's code.
    pub fn open_with_recovery(
        secret: &RecoverySecret,
        user_id: &Id,
        sealed: &[u8],
    ) -> Result<Self, CryptoError> {
        Self::open_under(
            &secret.sealing_key(user_id)?,
            user_id,
            SealKind::Recovery,
            sealed,
        )
    }

    /// The key that seals `user_id`'s key pins (the keys of other people
    /// they have checked): `HKDF(plain keyring encoding, info =
    /// bind(PINS_KEY, [user_id]))`. The keyring stays the same across password
    /// changes and recovery, so the pins open on every device and after both.
    pub fn pins_key(&self, user_id: &Id) -> Result<Key256, CryptoError> {
        kdf::derive_key(
            &self.to_plain(),
            &context::bind(context::PINS_KEY, &[user_id]),
        )
    }
}

impl Keyring {
    /// The key of `user_id`'s notes about unfinished uploads kept in a
    /// browser: `HKDF(plain keyring encoding, info = bind(UPLOAD_RESUME_KEY,
    /// [user_id]))`. It wraps each note's content key and keys the tag that
    /// recognises a file picked again; the note holds nothing else secret.
    pub fn resume_key(&self, user_id: &Id) -> Result<Key256, CryptoError> {
        kdf::derive_key(
            &self.to_plain(),
            &context::bind(context::UPLOAD_RESUME_KEY, &[user_id]),
        )
    }
}

fn password_key(export_key: &[u8], user_id: &Id) -> Result<Key256, CryptoError> {
    kdf::derive_key(
        export_key,
        &context::bind(context::KEYRING_PASSWORD_KEY, &[user_id]),
    )
}

fn seal_aad(user_id: &Id, kind: SealKind) -> Vec<u8> {
    context::bind(context::KEYRING_SEAL, &[user_id, &[kind as u8]])
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Id = [3; 16];

    #[test]
    fn pins_key_is_the_keyrings_own_and_the_users_own() {
        let keyring = Keyring::generate().unwrap();
        let again = keyring.pins_key(&USER).unwrap();
        assert_eq!(
            keyring.pins_key(&USER).unwrap().as_bytes(),
            again.as_bytes()
        );
        assert_ne!(
            keyring.pins_key(&[4; 16]).unwrap().as_bytes(),
            again.as_bytes()
        );
        let other = Keyring::generate().unwrap();
        assert_ne!(other.pins_key(&USER).unwrap().as_bytes(), again.as_bytes());
        // Survives sealing and opening, as on another device.
        let sealed = keyring.seal_with_password(&[9; 64], &USER).unwrap();
        let opened = Keyring::open_with_password(&[9; 64], &USER, &sealed).unwrap();
        assert_eq!(opened.pins_key(&USER).unwrap().as_bytes(), again.as_bytes());
    }

    #[test]
    fn password_round_trip_keeps_keys() {
        let ring = Keyring::generate().unwrap();
        let export = [5u8; 64];
        let sealed = ring.seal_with_password(&export, &USER).unwrap();
        assert_eq!(sealed.len(), SEALED_LEN_V1, "no record named: version 1");
        let back = Keyring::open_with_password(&export, &USER, &sealed).unwrap();
        assert_eq!(back.public_keys(), ring.public_keys());
        assert_eq!(*back.encryption().to_bytes(), *ring.encryption().to_bytes());
        assert_eq!(back.record_id(), None);
    }

    #[test]
    fn version_2_names_the_record_and_keeps_it_through_a_reseal() {
        let ring = Keyring::generate().unwrap().with_record([8; 16]);
        let export = [5u8; 64];
        let sealed = ring.seal_with_password(&export, &USER).unwrap();
        assert_eq!(sealed.len(), SEALED_LEN);
        let back = Keyring::open_with_password(&export, &USER, &sealed).unwrap();
        assert_eq!(back.record_id(), Some([8; 16]));
        assert_eq!(back.public_keys(), ring.public_keys());
        let secret = RecoverySecret::generate().unwrap();
        let copy = back.seal_with_recovery(&secret, &USER).unwrap();
        let again = Keyring::open_with_recovery(&secret, &USER, &copy).unwrap();
        assert_eq!(again.record_id(), Some([8; 16]));
    }

    #[test]
    fn a_version_1_keyring_still_opens_and_names_no_record() {
        // The version-1 encoding, sealed as accounts made before version 2 hold it.
        let ring = Keyring::generate().unwrap();
        let export = [5u8; 64];
        let key = password_key(&export, &USER).unwrap();
        let mut plain = vec![1u8];
        plain.extend_from_slice(&ring.identity().seed()[..]);
        plain.extend_from_slice(&ring.encryption().to_bytes()[..]);
        let sealed = aead::seal(&key, &seal_aad(&USER, SealKind::Password), &plain).unwrap();
        assert_eq!(sealed.len(), SEALED_LEN_V1);
        let back = Keyring::open_with_password(&export, &USER, &sealed).unwrap();
        assert_eq!(back.public_keys(), ring.public_keys());
        assert_eq!(back.record_id(), None);
    }

    #[test]
    fn recovery_round_trip_and_reseal_for_new_password() {
        let ring = Keyring::generate().unwrap();
        let secret = RecoverySecret::generate().unwrap();
        let sealed = ring.seal_with_recovery(&secret, &USER).unwrap();
        let typed = RecoverySecret::from_code(&secret.to_code()).unwrap();
        let back = Keyring::open_with_recovery(&typed, &USER, &sealed).unwrap();
        let new_export = [6u8; 64];
        let resealed = back.seal_with_password(&new_export, &USER).unwrap();
        let again = Keyring::open_with_password(&new_export, &USER, &resealed).unwrap();
        assert_eq!(again.public_keys(), ring.public_keys());
    }

    #[test]
    fn fail_wrong_password() {
        let ring = Keyring::generate().unwrap();
        let sealed = ring.seal_with_password(&[1u8; 64], &USER).unwrap();
        assert_eq!(
            Keyring::open_with_password(&[2u8; 64], &USER, &sealed).map(|_| ()),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn fail_wrong_recovery_secret() {
        let ring = Keyring::generate().unwrap();
        let sealed = ring
            .seal_with_recovery(&RecoverySecret::generate().unwrap(), &USER)
            .unwrap();
        let other = RecoverySecret::generate().unwrap();
        assert!(Keyring::open_with_recovery(&other, &USER, &sealed).is_err());
    }

    #[test]
    fn fail_other_user_or_other_kind() {
        let ring = Keyring::generate().unwrap();
        let export = [1u8; 64];
        let sealed = ring.seal_with_password(&export, &USER).unwrap();
        assert!(Keyring::open_with_password(&export, &[4; 16], &sealed).is_err());
        // The same key material used as a "recovery" copy does not open: the kind
        // is bound into the associated data.
        let key = password_key(&export, &USER).unwrap();
        assert!(Keyring::open_under(&key, &USER, SealKind::Recovery, &sealed).is_err());
    }

    #[test]
    fn fail_flipped_bit_anywhere() {
        let ring = Keyring::generate().unwrap();
        let export = [1u8; 64];
        let sealed = ring.seal_with_password(&export, &USER).unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x10;
            assert!(
                Keyring::open_with_password(&export, &USER, &bad).is_err(),
                "byte {i}"
            );
        }
    }

    #[test]
    fn fail_malformed_lengths_and_versions() {
        let ring = Keyring::generate().unwrap();
        let export = [1u8; 64];
        let sealed = ring.seal_with_password(&export, &USER).unwrap();
        assert_eq!(
            Keyring::open_with_password(&export, &USER, &sealed[..sealed.len() - 1]).map(|_| ()),
            Err(CryptoError::Malformed)
        );
        assert_eq!(
            Keyring::open_with_password(&export, &USER, &[]).map(|_| ()),
            Err(CryptoError::Malformed)
        );
        // A correctly sealed body with a wrong plain version is refused too:
        // another version byte, or a version that does not fit the length.
        let key = password_key(&export, &USER).unwrap();
        for (version, named) in [(3u8, false), (2, false), (1, true), (0, true)] {
            let ring = match named {
                true => Keyring::generate().unwrap().with_record([8; 16]),
                false => Keyring::generate().unwrap(),
            };
            let mut plain = ring.to_plain();
            plain[0] = version;
            let bad = aead::seal(&key, &seal_aad(&USER, SealKind::Password), &plain).unwrap();
            assert_eq!(
                Keyring::open_with_password(&export, &USER, &bad).map(|_| ()),
                Err(CryptoError::Malformed),
                "version {version}"
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let ring = Keyring::generate().unwrap();
        assert_eq!(format!("{ring:?}"), "Keyring(<redacted>)");
    }
}
