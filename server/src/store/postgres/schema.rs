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

/// Creates the tables if missing and checks the version.
pub(super) async fn prepare(mut client: deadpool_postgres::Object) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(|e| from_pg(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(|e| from_pg(&e))?;
    let mut ddl = String::from(
        "CREATE TABLE IF NOT EXISTS medvault_schema (\
           only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), \
           version integer NOT NULL);",
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
    tx.commit().await.map_err(|e| from_pg(&e))
}
