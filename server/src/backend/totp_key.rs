//! TOTP secrets at rest: sealed under a server key that lives outside the store.
//!
//! The key is 32 random bytes in a file of its own (mode 0600, made on first
//! start), by default `<data-dir>.totp-key` next to the data directory rather
//! than inside it, or wherever `serve --totp-key-file` says. A copy of the store
//! alone (a backup, a stolen disk image of the data directory) then gives no
//! second factor away; a server started on such a copy without the key file
//! makes a new key and fails every second-factor check, with a log line that
//! says why.
//!
//! A stored secret is the sealed box of `shared::crypto::aead`:
//! `0x01 ‖ nonce (12) ‖ AES-256-GCM(key, nonce, secret (20 bytes), aad) ‖ tag (16)`,
//! 49 bytes, with `aad = "medvault/v1/server/totp-secret\0" ‖ user id (16)`, so a
//! sealed secret moved to another account does not open.
//!
//! Records written before sealing hold the plaintext base32 secret; the server
//! seals them all when it starts ([`seal_plaintext_secrets`]) and refuses to use
//! one it still meets afterwards.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use shared::{
    crypto::{
        aead::{
            Key256, {self},
        },
        totp::{TotpSecret, SECRET_LEN},
        CryptoError,
    },
    model::Id,
};

use super::users::{users_prefix, SealedTotp, UserRecord};
use crate::store::{codec, Batch, Space, Store, StoreError};

/// What the default key file's name adds to the data directory's.
pub const DEFAULT_SUFFIX: &str = ".totp-key";
/// Domain separation of the sealed secret (server-internal, not a wire format).
const TOTP_SEAL_LABEL: &[u8] = b"medvault/v1/server/totp-secret\0";

/// The key that seals TOTP secrets at rest. Never printed.
#[derive(Clone)]
pub struct TotpKey(Arc<Key256>);

impl TotpKey {
    /// A key from raw bytes (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> TotpKey {
        TotpKey(Arc::new(Key256::from_bytes(bytes)))
    }

    /// Reads the key file at `path`, creating it (0600) with a fresh key if it is
    /// not there yet.
    pub fn load_or_create(path: &Path) -> std::io::Result<TotpKey> {
        let key = super::key_file::load_or_create(
            path,
            "restore the right file from a backup: without it no second factor can be checked",
        )?;
        Ok(TotpKey::from_bytes(*key))
    }

    /// Where the key file lives by default: `<data-dir>.totp-key`, beside the
    /// data directory (which must exist). A data directory that is the file
    /// system's root has no beside: give `--totp-key-file` then.
    pub fn default_path(data_dir: &Path) -> std::io::Result<PathBuf> {
        let dir = std::fs::canonicalize(data_dir)?;
        let Some(name) = dir.file_name() else {
            return Err(std::io::Error::other(
                "the data directory is the file system's root, so the TOTP key file cannot go beside it; give --totp-key-file",
            ));
        };
        let mut file = name.to_os_string();
        file.push(DEFAULT_SUFFIX);
        Ok(dir.with_file_name(file))
    }

    /// The key itself, for the server's other sealed states (pending
    /// sign-ins in a shared store), each under its own AAD label.
    pub(crate) fn aead_key(&self) -> &Key256 {
        &self.0
    }

    fn aad(user_id: &Id) -> Vec<u8> {
        let mut aad = Vec::with_capacity(TOTP_SEAL_LABEL.len() + user_id.len());
        aad.extend_from_slice(TOTP_SEAL_LABEL);
        aad.extend_from_slice(user_id);
        aad
    }

    /// Seals `secret` for the account `user_id`, with a fresh nonce.
    pub fn seal(&self, user_id: &Id, secret: &TotpSecret) -> Result<SealedTotp, CryptoError> {
        let sealed = aead::seal(&self.0, &Self::aad(user_id), secret.as_bytes())?;
        SealedTotp::try_from(sealed.as_slice()).map_err(|_| CryptoError::Malformed)
    }

    /// Opens a secret sealed by [`TotpKey::seal`] for `user_id`; `Decrypt` with
    /// another key or for another account.
    pub fn open(&self, user_id: &Id, sealed: &SealedTotp) -> Result<TotpSecret, CryptoError> {
        let plain = aead::open(&self.0, &Self::aad(user_id), sealed)?;
        let bytes: [u8; SECRET_LEN] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        Ok(TotpSecret::from_bytes(bytes))
    }
}

/// Seals every TOTP secret still stored in plaintext (records from before
/// sealing) and removes the plaintext; returns how many were sealed. Run once
/// when the server starts, before it serves anything.
pub async fn seal_plaintext_secrets(store: &dyn Store, key: &TotpKey) -> Result<usize, StoreError> {
    let mut sealed = 0;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = store
            .scan_prefix(Space::Users, &users_prefix(), after.as_deref(), 1000)
            .await?;
        let Some((last, _)) = page.last() else {
            return Ok(sealed);
        };
        after = Some(last.clone());
        for (k, old) in page {
            let mut record: UserRecord = codec::decode(&old)?;
            let Some(text) = record.totp_secret.take() else {
                continue;
            };
            let secret = TotpSecret::from_base32(text.trim())
                .map_err(|_| StoreError::Corrupt("a stored TOTP secret is not base32".into()))?;
            drop(zeroize::Zeroizing::new(text));
            record.totp_sealed = Some(
                key.seal(&record.id, &secret)
                    .map_err(|_| StoreError::Encode("sealing a TOTP secret failed".into()))?,
            );
            let mut batch = Batch::new();
            batch.expect_value(Space::Users, k.clone(), old).put(
                Space::Users,
                k,
                codec::encode(&record)?,
            );
            // A record changed meanwhile is sealed at the next start.
            match store.apply(batch).await {
                Ok(()) => sealed += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_key_and_the_account() {
        let key = TotpKey::from_bytes([7; 32]);
        let secret = TotpSecret::generate().unwrap();
        let sealed = key.seal(&[1; 16], &secret).unwrap();
        assert_eq!(sealed[0], 1, "version byte");
        assert_eq!(
            key.open(&[1; 16], &sealed).unwrap().as_bytes(),
            secret.as_bytes()
        );
        assert_ne!(key.seal(&[1; 16], &secret).unwrap(), sealed, "fresh nonce");
        assert!(key.open(&[2; 16], &sealed).is_err(), "another account");
        let other = TotpKey::from_bytes([8; 32]);
        assert!(other.open(&[1; 16], &sealed).is_err(), "another key");
        let mut flipped = sealed;
        flipped[20] ^= 1;
        assert!(key.open(&[1; 16], &flipped).is_err(), "a flipped bit");
    }

    #[test]
    fn the_key_file_is_made_once_with_mode_0600_beside_the_data_directory() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let path = TotpKey::default_path(&data).unwrap();
        assert_eq!(
            path,
            std::fs::canonicalize(root.path())
                .unwrap()
                .join("data.totp-key")
        );
        let key = TotpKey::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = TotpKey::load_or_create(&path).unwrap();
        let secret = TotpSecret::generate().unwrap();
        let sealed = key.seal(&[3; 16], &secret).unwrap();
        assert!(again.open(&[3; 16], &sealed).is_ok(), "the same key");
        assert!(TotpKey::default_path(Path::new("/")).is_err());
    }
}
