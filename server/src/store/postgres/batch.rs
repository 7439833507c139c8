//! One [`Batch`] as one transaction: advisory locks on its keys, its ops in
//! order, commit (see the module above for why the locks).
//!
//! With chunks in an object store, a batch first writes each new chunk as a
//! new object and puts the object's name in its place; the transaction then
//! swaps the names in with everything else. Objects whose names a committed
//! batch replaced or deleted are removed after the commit, and the new
//! objects of a batch that failed at once. A crash in between leaves only
//! objects no key names, which `PgStore::sweep_objects` removes.

use sha2::{Digest, Sha256};
use tokio_postgres::error::SqlState;

use super::{from_pg, table, PgStore};
use crate::store::{blobs::Blobs, Batch, Op, Space, StoreError};

/// How often a batch is retried after PostgreSQL aborted it for a deadlock or
/// a serialization failure; the locks make both rare (a lock-number clash with
/// another application's advisory locks, say).
const RETRIES: usize = 5;

/// Why one attempt at a batch failed.
enum Failed {
    /// A precondition did not hold.
    Conflict,
    /// Run it again: PostgreSQL chose it as a deadlock's victim.
    Retry,
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Failed {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code() {
            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => Failed::Retry,
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => Failed::Retry,
            _ => Failed::Store(from_pg(&e)),
        }
    }
}

/// The advisory lock number of a key: the first 8 bytes of
/// SHA-256("medvault-kv-lock" ‖ space name ‖ 0 ‖ key).
fn lock_number(space: Space, key: &[u8]) -> i64 {
    let mut hash = Sha256::new();
    hash.update(b"medvault-kv-lock");
    hash.update(space.name().as_bytes());
    hash.update([0]);
    hash.update(key);
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The key an op touches.
fn key_of(op: &Op) -> &[u8] {
    match op {
        Op::Put { key, .. }
        | Op::Delete { key, .. }
        | Op::ExpectAbsent { key, .. }
        | Op::ExpectValue { key, .. } => key,
    }
}

/// Writes the batch's new chunks as objects; returns the batch with their
/// names in place of the bytes, and the names.
async fn stage(blobs: &Blobs, batch: &Batch) -> Result<(Batch, Vec<String>), StoreError> {
    let mut staged = Vec::new();
    let mut out = Batch::new();
    for op in batch.ops() {
        match op {
            Op::Put {
                space: Space::Blobs,
                key,
                value,
            } => {
                let name = Blobs::new_name()?;
                if let Err(e) = blobs.put_new(&name, value.clone()).await {
                    blobs.delete_all(staged).await;
                    return Err(e);
                }
                out.put(Space::Blobs, key.clone(), name.clone().into_bytes());
                staged.push(name);
            }
            other => {
                out.push(other.clone());
            }
        }
    }
    Ok((out, staged))
}

/// Applies `batch` atomically, retrying a deadlock's victim.
pub(super) async fn apply(store: &PgStore, batch: &Batch) -> Result<(), StoreError> {
    let Some(blobs) = &store.blobs else {
        return apply_rows(store, batch).await.map(drop);
    };
    let (batch, staged) = stage(blobs, batch).await?;
    match apply_rows(store, &batch).await {
        Ok(replaced) => {
            blobs.delete_all(replaced).await;
            Ok(())
        }
        Err(e) => {
            blobs.delete_all(staged).await;
            Err(e)
        }
    }
}

/// The transaction, retried after a deadlock; answers the object names the
/// batch stopped using.
async fn apply_rows(store: &PgStore, batch: &Batch) -> Result<Vec<String>, StoreError> {
    let mut locks: Vec<i64> = batch
        .ops()
        .iter()
        .map(|op| lock_number(op.space(), key_of(op)))
        .collect();
    locks.sort_unstable();
    locks.dedup();
    for _ in 0..RETRIES {
        match attempt(store, batch, &locks).await {
            Ok(replaced) => return Ok(replaced),
            Err(Failed::Conflict) => return Err(StoreError::Conflict),
            Err(Failed::Store(e)) => return Err(e),
            Err(Failed::Retry) => continue,
        }
    }
    Err(StoreError::Backend(
        "PostgreSQL kept aborting the transaction (deadlock or serialization failure)".into(),
    ))
}

async fn attempt(store: &PgStore, batch: &Batch, locks: &[i64]) -> Result<Vec<String>, Failed> {
    let objects = store.blobs.is_some();
    let mut replaced = Vec::new();
    let mut client = store.client().await.map_err(Failed::Store)?;
    let tx = client.transaction().await?;
    // Sorted before the call; a volatile function in the select list is
    // evaluated after the ORDER BY, so the locks are taken in this order.
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k ORDER BY k")
        .await?;
    tx.execute(&lock, &[&locks]).await?;
    for op in batch.ops() {
        let t = table(op.space());
        let in_objects = objects && op.space() == Space::Blobs;
        match op {
            Op::Put { key, value, .. } => {
                if in_objects {
                    let old = tx
                        .prepare_cached(&format!("SELECT value FROM {t} WHERE key = $1"))
                        .await?;
                    if let Some(row) = tx.query_opt(&old, &[key]).await? {
                        replaced.push(
                            String::from_utf8_lossy(&row.try_get::<_, Vec<u8>>(0)?).into_owned(),
                        );
                    }
                }
                let sql = format!(
                    "INSERT INTO {t} (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                );
                let statement = tx.prepare_cached(&sql).await?;
                tx.execute(&statement, &[key, value]).await?;
            }
            Op::Delete { key, .. } => {
                let statement = tx
                    .prepare_cached(&format!("DELETE FROM {t} WHERE key = $1 RETURNING value"))
                    .await?;
                for row in tx.query(&statement, &[key]).await? {
                    if in_objects {
                        replaced.push(
                            String::from_utf8_lossy(&row.try_get::<_, Vec<u8>>(0)?).into_owned(),
                        );
                    }
                }
            }
            Op::ExpectAbsent { key, .. } => {
                let statement = tx
                    .prepare_cached(&format!("SELECT 1 FROM {t} WHERE key = $1"))
                    .await?;
                if tx.query_opt(&statement, &[key]).await?.is_some() {
                    return Err(Failed::Conflict);
                }
            }
            Op::ExpectValue { key, value, .. } if in_objects => {
                let statement = tx
                    .prepare_cached(&format!("SELECT value FROM {t} WHERE key = $1"))
                    .await?;
                let holds = match tx.query_opt(&statement, &[key]).await? {
                    Some(row) => {
                        let name: Vec<u8> = row.try_get(0)?;
                        store.blob_value(name).await.map_err(Failed::Store)? == *value
                    }
                    None => false,
                };
                if !holds {
                    return Err(Failed::Conflict);
                }
            }
            Op::ExpectValue { key, value, .. } => {
                let statement = tx
                    .prepare_cached(&format!("SELECT value = $2 FROM {t} WHERE key = $1"))
                    .await?;
                let holds = match tx.query_opt(&statement, &[key, value]).await? {
                    Some(row) => row.try_get::<_, bool>(0)?,
                    None => false,
                };
                if !holds {
                    return Err(Failed::Conflict);
                }
            }
        }
    }
    // Dropping an uncommitted transaction rolls it back, on every early return.
    tx.commit().await?;
    Ok(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_numbers_differ_by_space_and_key() {
        let a = lock_number(Space::Meta, b"head");
        assert_ne!(a, lock_number(Space::Audit, b"head"));
        assert_ne!(a, lock_number(Space::Meta, b"head2"));
        assert_eq!(a, lock_number(Space::Meta, b"head"));
    }
}
