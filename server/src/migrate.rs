//! `medvault-server migrate`: moves an installation from the embedded sled
//! store to PostgreSQL, for when one machine is no longer enough.
//!
//! The copy is of the store's keys and values, space by space, so it carries
//! everything (accounts, records, chunks, grants, the audit chain) without
//! knowing what any of it means; the server's key files stay where they are
//! (every server of the new installation is given them). It refuses:
//!
//! - a live source: sled locks its directory, so a running server makes the
//!   open fail, and nothing is copied while requests could still change it;
//! - a target that holds anything: merging two installations is not a move.
//!
//! After the copy both stores are read again in key order and compared
//! space by space, by count and by SHA-256 over every (key, value), and the
//! report shows both, so the operator sees what was checked.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::store::{blobs::Blobs, Batch, PgStore, SledStore, Space, Store, StoreError};

/// Keys read and written per step.
const PAGE: usize = 256;
/// A batch is written once its values reach this many bytes.
const BATCH_BYTES: usize = 16 << 20;

/// What was moved and checked, per keyspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceReport {
    /// The keyspace.
    pub space: Space,
    /// Keys in it, the same in both stores.
    pub keys: u64,
    /// Bytes of keys and values.
    pub bytes: u64,
    /// SHA-256 over every (key, value) in key order, the same in both.
    pub digest: [u8; 32],
}

/// Why a move did not happen or did not check out.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The sled store did not open: usually a server still running on it.
    #[error("cannot open the store in {0}: is a server still running on it? Stop it first ({1})")]
    Source(String, StoreError),
    /// The database did not open.
    #[error("cannot open the PostgreSQL store: {0}")]
    Target(StoreError),
    /// The database already holds data.
    #[error(
        "the PostgreSQL store already holds data (keyspace {0}): migrate only into an empty \
         database"
    )]
    TargetNotEmpty(Space),
    /// Reading or writing failed midway; the target holds part of the data.
    #[error("the copy failed: {0}; empty the database before trying again")]
    Copy(StoreError),
    /// The two stores differ after the copy.
    #[error(
        "the copy does not match the source in keyspace {space}: {source_keys} keys there, \
         {target_keys} here; empty the database before trying again"
    )]
    Mismatch {
        /// Where.
        space: Space,
        /// Keys in the source.
        source_keys: u64,
        /// Keys in the target.
        target_keys: u64,
    },
}

/// Copies the sled store in `from` into the empty PostgreSQL store at `to`
/// (its chunks into the object store `blobs`, if given) and checks the copy.
pub async fn migrate(
    from: &Path,
    to: &str,
    blobs: Option<&str>,
    connections: usize,
) -> Result<Vec<SpaceReport>, MigrateError> {
    let source =
        SledStore::open(from).map_err(|e| MigrateError::Source(from.display().to_string(), e))?;
    let mut target = PgStore::lazy(to, connections).map_err(MigrateError::Target)?;
    if let Some(blobs) = blobs {
        target = target.with_blobs(
            Blobs::open_probed(blobs)
                .await
                .map_err(MigrateError::Target)?,
        );
    }
    target.ready().await.map_err(MigrateError::Target)?;
    for space in Space::ALL {
        let any = target
            .scan_prefix(space, b"", None, 1)
            .await
            .map_err(MigrateError::Target)?;
        if !any.is_empty() {
            return Err(MigrateError::TargetNotEmpty(space));
        }
    }
    for space in Space::ALL {
        copy_space(&source, &target, space)
            .await
            .map_err(MigrateError::Copy)?;
    }
    let mut report = Vec::new();
    for space in Space::ALL {
        let there = summary(&source, space).await.map_err(MigrateError::Copy)?;
        let here = summary(&target, space).await.map_err(MigrateError::Copy)?;
        if there != here {
            return Err(MigrateError::Mismatch {
                space,
                source_keys: there.keys,
                target_keys: here.keys,
            });
        }
        report.push(here);
    }
    Ok(report)
}

async fn copy_space(from: &dyn Store, to: &dyn Store, space: Space) -> Result<(), StoreError> {
    let mut after: Option<Vec<u8>> = None;
    let mut batch = Batch::new();
    let mut held = 0usize;
    loop {
        let page = from.scan_prefix(space, b"", after.as_deref(), PAGE).await?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = Some(last.clone());
        for (key, value) in page {
            held += key.len() + value.len();
            batch
                .expect_absent(space, key.clone())
                .put(space, key, value);
            if held >= BATCH_BYTES || batch.len() >= 2 * PAGE {
                to.apply(std::mem::take(&mut batch)).await?;
                held = 0;
            }
        }
    }
    to.apply(batch).await
}

/// Count, size and digest of a keyspace, read in key order.
pub async fn summary(store: &dyn Store, space: Space) -> Result<SpaceReport, StoreError> {
    let mut hash = Sha256::new();
    let (mut keys, mut bytes) = (0u64, 0u64);
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = store
            .scan_prefix(space, b"", after.as_deref(), PAGE)
            .await?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = Some(last.clone());
        for (key, value) in &page {
            hash.update((key.len() as u64).to_be_bytes());
            hash.update(key);
            hash.update((value.len() as u64).to_be_bytes());
            hash.update(value);
            keys += 1;
            bytes += (key.len() + value.len()) as u64;
        }
    }
    Ok(SpaceReport {
        space,
        keys,
        bytes,
        digest: hash.finalize().into(),
    })
}
