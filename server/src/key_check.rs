//! Servers that share one store must share their key files: a server with
//! another TOTP key cannot finish the sign-ins the others start nor check a
//! second factor, and one with another audit key signs heads no auditor
//! trusts. Copying the files is the operator's job; this check makes a
//! mistake stop the start with a sentence instead of failing requests.
//!
//! The first server on a shared store records a check value of each key in
//! the Meta keyspace: SHA-256 over a label and the TOTP key (a commitment to
//! a random 256-bit key, which reveals nothing of it), and the audit key's
//! public key. Every later start compares.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    backend::TotpKey,
    store::{codec, keys::Key, Batch, Space, Store, StoreError},
};

const TOTP_CHECK_LABEL: &[u8] = b"medvault/v1/server/totp-key-check\0";

/// The check values as stored.
#[derive(Serialize, Deserialize, PartialEq, Eq, Clone, Copy)]
struct Checks {
    totp: [u8; 32],
    audit: [u8; 32],
}

/// Why a start was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    /// A key file differs from the other servers'.
    #[error(
        "the {0} differs from the one the other servers on this database use: give this server \
         a copy of theirs (if every server's key was replaced on purpose, start one of them \
         once with --accept-new-key-files)"
    )]
    Differs(&'static str),
    /// The store failed.
    #[error("could not check the key files against the database: {0}")]
    Store(#[from] StoreError),
}

fn checks_key() -> Vec<u8> {
    Key::new().str("server-key-checks").finish()
}

/// Records or compares the keys of a server on a shared store; `accept`
/// records this server's keys whatever was there.
pub async fn check_shared_keys(
    store: &dyn Store,
    totp: &TotpKey,
    audit_public: &[u8; 32],
    accept: bool,
) -> Result<(), KeyCheckError> {
    let mine = Checks {
        totp: Sha256::new()
            .chain_update(TOTP_CHECK_LABEL)
            .chain_update(totp.aead_key().as_bytes())
            .finalize()
            .into(),
        audit: *audit_public,
    };
    for _ in 0..3 {
        let stored = store.get(Space::Meta, &checks_key()).await?;
        let mut batch = Batch::new();
        match &stored {
            Some(bytes) if !accept => {
                let theirs: Checks = codec::decode(bytes)?;
                if theirs.totp != mine.totp {
                    return Err(KeyCheckError::Differs("TOTP key file"));
                }
                if theirs.audit != mine.audit {
                    return Err(KeyCheckError::Differs("audit key file"));
                }
                return Ok(());
            }
            Some(bytes) => batch.expect_value(Space::Meta, checks_key(), bytes.clone()),
            None => batch.expect_absent(Space::Meta, checks_key()),
        };
        batch.put(Space::Meta, checks_key(), codec::encode(&mine)?);
        match store.apply(batch).await {
            Ok(()) => return Ok(()),
            // Another server recorded its keys first: compare with those.
            Err(StoreError::Conflict) if !accept => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    #[tokio::test]
    async fn the_first_servers_keys_are_the_ones_every_other_must_have() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let (totp, other_totp) = (TotpKey::from_bytes([1; 32]), TotpKey::from_bytes([2; 32]));
        check_shared_keys(&store, &totp, &[7; 32], false)
            .await
            .unwrap();
        check_shared_keys(&store, &totp, &[7; 32], false)
            .await
            .unwrap();
        let e = check_shared_keys(&store, &other_totp, &[7; 32], false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("TOTP key file differs"), "{e}");
        let e = check_shared_keys(&store, &totp, &[8; 32], false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("audit key file differs"), "{e}");
        // Replaced on purpose: accepted once, then the new keys are the rule.
        check_shared_keys(&store, &other_totp, &[8; 32], true)
            .await
            .unwrap();
        check_shared_keys(&store, &other_totp, &[8; 32], false)
            .await
            .unwrap();
        assert!(check_shared_keys(&store, &totp, &[7; 32], false)
            .await
            .is_err());
    }
}
