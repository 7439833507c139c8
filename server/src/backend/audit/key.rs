//! The audit signing key lives in a file outside the store.
//!
//! Anyone who can write the store can rewrite events, but without this key
//! cannot sign a head over the result, and the auditor's browser, which
//! remembers the key it first verified, refuses heads under any other key.
//! The file holds the 32-byte Ed25519 seed (mode 0600). It is made by
//! `medvault-server audit-key init --out FILE` (kept by the operator, given
//! with `serve --audit-key-file`), or at first start at `<data-dir>.audit-key`,
//! beside the data directory and never inside it.
//!
//! Stores written before this change keep the seed in the Meta keyspace. At
//! start, [`load_or_migrate`] moves it to the key file (if there is none yet)
//! and deletes it from the store; a store whose seed differs from the key
//! file's is refused, since heads signed under one would not verify under the
//! other. The server never signs with a seed read from the store.

use std::path::{Path, PathBuf};

use shared::crypto::{audit_chain::key_fingerprint, sign::SigningKey};
use zeroize::Zeroizing;

use super::layout::{signing_key_key, StoredKey};
use crate::{
    backend::key_file,
    store::{codec, Space, Store, StoreError},
};

/// What the default key file's name adds to the data directory's.
pub const DEFAULT_SUFFIX: &str = ".audit-key";

const IF_REMOVED: &str = "restore the right file from a backup: heads signed under another key no longer verify in the auditors' browsers";

/// Where the key came from at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The key file was there.
    File,
    /// No key anywhere: a new key file was made.
    Created,
    /// An old store's seed was moved to the key file and deleted from the store.
    MovedFromStore,
}

/// Why the audit key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AuditKeyError {
    /// Reading or writing the key file failed.
    #[error("the audit key file {path}: {source}")]
    File {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Reading or changing the store failed.
    #[error("moving the audit key out of the store failed: {0}")]
    Store(#[from] StoreError),
    /// The store holds a different seed than the key file.
    #[error(
        "the store holds an audit key different from the one in {0}. \
         Heads signed under one do not verify under the other, so the server will not guess. \
         Find out which key the auditors have verified (compare fingerprints), \
         then either remove or replace the key file with that key, or start on a copy of the store without it."
    )]
    Mismatch(PathBuf),
}

/// The default key file: `<data-dir>.audit-key`, beside the data directory.
pub fn default_path(data_dir: &Path) -> std::io::Result<PathBuf> {
    key_file::beside(data_dir, DEFAULT_SUFFIX, "--audit-key-file")
}

/// Makes a new audit key at `path` (0600; an existing file is never
/// overwritten) and returns it.
pub fn init_file(path: &Path) -> Result<SigningKey, AuditKeyError> {
    let file_error = |source| AuditKeyError::File {
        path: path.to_owned(),
        source,
    };
    let key = SigningKey::generate().map_err(|_| {
        file_error(std::io::Error::other(
            "the operating system gave no randomness",
        ))
    })?;
    key_file::create_with(path, &key.seed()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            file_error(std::io::Error::other(
                "already exists; an audit key is never overwritten (move the old file away first if you really mean to replace it)",
            ))
        } else {
            file_error(e)
        }
    })?;
    Ok(key)
}

/// The audit key's public half and fingerprint, as the CLI prints them.
pub fn describe(key: &SigningKey) -> (String, String) {
    let public = key.verifying_key().to_bytes();
    (
        shared::crypto::b64::encode(&public),
        key_fingerprint(&public),
    )
}

async fn stored_seed(store: &dyn Store) -> Result<Option<Zeroizing<[u8; 32]>>, StoreError> {
    let Some(bytes) = store.get(Space::Meta, &signing_key_key()).await? else {
        return Ok(None);
    };
    let stored: StoredKey = codec::decode(&bytes)?;
    Ok(Some(Zeroizing::new(stored.seed)))
}

async fn delete_seed(store: &dyn Store) -> Result<(), StoreError> {
    store.delete(Space::Meta, signing_key_key()).await?;
    store.flush().await
}

/// The audit key from `path`, moving an old store's seed there first (see the
/// module notes), or a new key file if neither exists.
pub async fn load_or_migrate(
    store: &dyn Store,
    path: &Path,
) -> Result<(SigningKey, KeySource), AuditKeyError> {
    let file_error = |source| AuditKeyError::File {
        path: path.to_owned(),
        source,
    };
    let in_file = key_file::read(path, IF_REMOVED).map_err(file_error)?;
    let in_store = stored_seed(store).await?;
    match (in_file, in_store) {
        (Some(file), None) => Ok((SigningKey::from_seed(&file), KeySource::File)),
        (Some(file), Some(old)) if *file == *old => {
            // A move stopped between writing the file and deleting the seed.
            delete_seed(store).await?;
            Ok((SigningKey::from_seed(&file), KeySource::File))
        }
        (Some(_), Some(_)) => Err(AuditKeyError::Mismatch(path.to_owned())),
        (None, Some(old)) => {
            key_file::create_with(path, &old).map_err(file_error)?;
            delete_seed(store).await?;
            Ok((SigningKey::from_seed(&old), KeySource::MovedFromStore))
        }
        (None, None) => {
            let seed = key_file::load_or_create(path, IF_REMOVED).map_err(file_error)?;
            Ok((SigningKey::from_seed(&seed), KeySource::Created))
        }
    }
}
