//! The tables, created and versioned by the server at start.
//!
//! `medvault_schema` holds one row with the schema version. A server creates
//! what is missing and refuses a database whose version is newer than it
//! knows (written by a later medvault: running on it could undo its changes).
//! Servers starting together take one advisory lock, so exactly one of them
//! creates the tables.

use super::{from_pg, table};
use crate::store::{Space, StoreError};

/// The schema this build writes. Raise it with each change of the tables,
/// and teach [`prepare`] the step from the one before.
pub const SCHEMA_VERSION: i32 = 1;

/// The advisory lock number servers take while preparing the schema
/// ("medvault" in ASCII).
const SCHEMA_LOCK: i64 = 0x6d65_6476_6175_6c74;

/// Creates the tables if missing and checks the version, and that chunks
/// are where this server looks for them (`objects`: in an object store).
pub(super) async fn prepare(
    mut client: deadpool_postgres::Object,
    objects: bool,
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(|e| from_pg(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(|e| from_pg(&e))?;
    let mut ddl = String::from(
        "CREATE TABLE IF NOT EXISTS medvault_schema (\
           only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), \
           version integer NOT NULL);\
         CREATE TABLE IF NOT EXISTS medvault_settings (\
           name text PRIMARY KEY, value text NOT NULL);",
    );
    for space in Space::ALL {
        ddl.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {} (key bytea PRIMARY KEY, value bytea NOT NULL);",
            table(space)
        ));
    }
    tx.batch_execute(&ddl).await.map_err(|e| from_pg(&e))?;
    let found: Option<i32> = tx
        .query_opt("SELECT version FROM medvault_schema", &[])
        .await
        .map_err(|e| from_pg(&e))?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(|e| from_pg(&e))?;
    match found {
        None => {
            tx.execute(
                "INSERT INTO medvault_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(|e| from_pg(&e))?;
        }
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::Backend(format!(
                "the database has schema version {v}, newer than this server's \
                 {SCHEMA_VERSION}: run the newer medvault-server"
            )));
        }
        Some(v) => {
            return Err(StoreError::Backend(format!(
                "the database has schema version {v}, which this server cannot upgrade"
            )));
        }
    }
    check_chunk_place(&tx, objects).await?;
    tx.commit().await.map_err(|e| from_pg(&e))
}

/// The setting that says where this database's chunks are: `objects` (an
/// object store, `--blobs`) or `database` (`bytea` in `kv_blobs`), made by
/// the first server. A server looking in the other place would answer every
/// chunk as missing, so it refuses to start instead.
async fn check_chunk_place(
    tx: &deadpool_postgres::Transaction<'_>,
    objects: bool,
) -> Result<(), StoreError> {
    let want = if objects { "objects" } else { "database" };
    let found: Option<String> = tx
        .query_opt(
            "SELECT value FROM medvault_settings WHERE name = 'chunks'",
            &[],
        )
        .await
        .map_err(|e| from_pg(&e))?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(|e| from_pg(&e))?;
    let place = match found {
        Some(place) => place,
        None => {
            let any = tx
                .query_opt("SELECT 1 FROM kv_blobs LIMIT 1", &[])
                .await
                .map_err(|e| from_pg(&e))?
                .is_some();
            // Chunks already stored stay where they are.
            let place = if any { "database" } else { want };
            tx.execute(
                "INSERT INTO medvault_settings (name, value) VALUES ('chunks', $1)",
                &[&place],
            )
            .await
            .map_err(|e| from_pg(&e))?;
            place.to_owned()
        }
    };
    match (place.as_str(), objects) {
        ("objects", false) => Err(StoreError::Backend(
            "this database keeps its chunks in an object store: give --blobs".into(),
        )),
        ("database", true) => Err(StoreError::Backend(
            "this database keeps its chunks in itself: start without --blobs".into(),
        )),
        _ => Ok(()),
    }
}
