//! The scale-out backend: every keyspace a table in PostgreSQL, chosen with
//! `--store postgres://…`, so that any number of server processes share one
//! store that operators already know how to run, replicate and back up.
//!
//! Each [`Space`] is a table `kv_<name>` of `(key bytea primary key, value
//! bytea)`. `bytea` compares byte by byte with a shorter prefix first, the
//! order [`Store::scan_prefix`] promises, whatever the database's collation.
//!
//! **Batches** are one transaction at PostgreSQL's default isolation (read
//! committed). Before its first op, a batch takes a transaction-scoped advisory
//! lock for every key it touches, in ascending order of the lock's number: two
//! batches that share a key run one after the other, so a precondition checked
//! early in a batch still holds at its commit, and batches that share keys can
//! never deadlock (each waits only for locks above the ones it holds). A lock's
//! number is the first 8 bytes of SHA-256 over the space and key; two keys
//! that share a number are merely serialized together.
//!
//! **Durability** is PostgreSQL's: a commit returns once its WAL record is
//! flushed (`synchronous_commit`, on by default; keep it on).
//!
//! **Errors** name the SQLSTATE only, never the server's message, which can
//! quote a key ("Key (key)=(…) already exists").

mod batch;
mod schema;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::{blobs::Blobs, Batch, Entry, Space, Store, StoreError};

/// How many connections one server process keeps by default: enough for the
/// request classes' concurrency on a few cores without exhausting
/// PostgreSQL's default `max_connections` (100) with a handful of servers.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// [`Store`] on PostgreSQL; cheap to clone (one shared pool).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Set once the schema is created and checked; every connection waits
    /// for it, so a store made with [`PgStore::lazy`] prepares on first use.
    prepared: std::sync::Arc<tokio::sync::OnceCell<()>>,
    /// Where chunks live, if not in `kv_blobs` itself (`--blobs`).
    blobs: Option<Blobs>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

/// Whether a `--store` value names PostgreSQL rather than a directory.
pub fn is_postgres_url(value: &str) -> bool {
    value.starts_with("postgres://") || value.starts_with("postgresql://")
}

impl PgStore {
    /// Connects with a connection string (`postgres://user@host:port/db`,
    /// with any of libpq's parameters tokio-postgres knows), then creates or
    /// checks the schema. The error never repeats the string, which may hold
    /// a password.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let store = Self::lazy(url, pool_size)?;
        store.ready().await?;
        Ok(store)
    }

    /// Connects and prepares the schema now, so that a server fails at
    /// start rather than at its first request.
    pub async fn ready(&self) -> Result<(), StoreError> {
        drop(self.client().await?);
        Ok(())
    }

    /// The store without connecting yet: the first call connects and
    /// prepares the schema (for code that cannot wait here, like a test's
    /// synchronous set-up). A server uses [`PgStore::connect`], which fails
    /// at start rather than at the first request.
    pub fn lazy(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let config = tokio_postgres::Config::from_str(url).map_err(|_| {
            StoreError::Backend("the PostgreSQL connection string is not valid".into())
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection that broke is found by the next query and
                // dropped; checking each one out costs a round trip.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .build()
            .map_err(|_| StoreError::Backend("PostgreSQL pool could not be built".into()))?;
        Ok(Self {
            pool,
            prepared: Default::default(),
            blobs: None,
        })
    }

    /// Keeps chunks (the Blobs keyspace's values) in `blobs`, with only their
    /// objects' names in the database. Give it before the first call.
    pub fn with_blobs(mut self, blobs: Blobs) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// A stored Blobs value as its bytes: the object it names, when chunks
    /// are in an object store.
    async fn blob_value(&self, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let Some(blobs) = &self.blobs else {
            return Ok(stored);
        };
        blobs
            .get(super::blobs::name_of(&stored)?)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a chunk object is missing".into()))
    }

    /// A connection from the pool, once the schema is ready.
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.prepared
            .get_or_try_init(|| async {
                schema::prepare(self.raw_client().await?, self.blobs.is_some()).await
            })
            .await?;
        self.raw_client().await
    }

    async fn raw_client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => from_pg(&e),
            _ => StoreError::Backend("no PostgreSQL connection available".into()),
        })
    }
}

impl PgStore {
    /// Removes chunk objects that no key names and that were written before
    /// `before` (Unix seconds): left by a server that died between writing a
    /// chunk's object and committing its name, or between a commit and the
    /// removal of the objects it replaced. Give a time well before any
    /// upload in flight (the server uses an hour ago). Returns how many went.
    pub async fn sweep_objects(&self, before: i64) -> Result<usize, StoreError> {
        let Some(blobs) = &self.blobs else {
            return Ok(0);
        };
        // Listed first: an object written after the listing is not looked at.
        let listed = blobs.written_before(before).await?;
        let client = self.client().await?;
        let rows = client
            .query("SELECT value FROM kv_blobs", &[])
            .await
            .map_err(|e| from_pg(&e))?;
        let mut named = std::collections::HashSet::with_capacity(rows.len());
        for row in rows {
            let value: Vec<u8> = row.try_get(0).map_err(|e| from_pg(&e))?;
            named.insert(value);
        }
        drop(client);
        let orphans: Vec<String> = listed
            .into_iter()
            .filter(|name| !named.contains(name.as_bytes()))
            .collect();
        let n = orphans.len();
        blobs.delete_all(orphans).await;
        Ok(n)
    }
}

/// The table of a keyspace.
fn table(space: Space) -> &'static str {
    match space {
        Space::Meta => "kv_meta",
        Space::Users => "kv_users",
        Space::Sessions => "kv_sessions",
        Space::Records => "kv_records",
        Space::Blobs => "kv_blobs",
        Space::Grants => "kv_grants",
        Space::Audit => "kv_audit",
    }
}

/// The first key after every key that starts with `prefix`, or `None` when
/// no such bound exists (an empty prefix, or one of only `0xff` bytes).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A PostgreSQL failure as a [`StoreError`]: a full disk as
/// [`StoreError::Full`], anything else by its SQLSTATE or kind only.
fn from_pg(e: &tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(code) if *code == SqlState::DISK_FULL => StoreError::Full,
        Some(code) if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED => {
            StoreError::Corrupt(format!("PostgreSQL reports corruption ({})", code.code()))
        }
        Some(code) => StoreError::Backend(format!("PostgreSQL error {}", code.code())),
        None if e.is_closed() => StoreError::Backend("PostgreSQL connection closed".into()),
        None => StoreError::Backend("PostgreSQL connection failed".into()),
    }
}

#[async_trait]
impl Store for PgStore {
    async fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let sql = format!("SELECT value FROM {} WHERE key = $1", table(space));
        let statement = client.prepare_cached(&sql).await.map_err(|e| from_pg(&e))?;
        let row = client
            .query_opt(&statement, &[&key])
            .await
            .map_err(|e| from_pg(&e))?;
        let value = row
            .map(|r| r.try_get::<_, Vec<u8>>(0).map_err(|e| from_pg(&e)))
            .transpose()?;
        match value {
            Some(v) if space == Space::Blobs => Ok(Some(self.blob_value(v).await?)),
            other => Ok(other),
        }
    }

    async fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // A cursor below the prefix would start outside it; start at the prefix.
        let (start, inclusive) = match after {
            Some(after) if after >= prefix => (after, false),
            _ => (prefix, true),
        };
        let end = prefix_end(prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT key, value FROM {} WHERE key {} $1 AND ($2::bytea IS NULL OR key < $2) \
             ORDER BY key LIMIT $3",
            table(space),
            if inclusive { ">=" } else { ">" }
        );
        let client = self.client().await?;
        let statement = client.prepare_cached(&sql).await.map_err(|e| from_pg(&e))?;
        let rows = client
            .query(&statement, &[&start, &end, &limit])
            .await
            .map_err(|e| from_pg(&e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let key: Vec<u8> = r.try_get(0).map_err(|e| from_pg(&e))?;
            let mut value: Vec<u8> = r.try_get(1).map_err(|e| from_pg(&e))?;
            if space == Space::Blobs {
                value = self.blob_value(value).await?;
            }
            out.push((key, value));
        }
        Ok(out)
    }

    async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        batch::apply(self, &batch).await
    }

    fn shared_by_processes(&self) -> bool {
        true
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Every commit is already flushed to the WAL.
        self.check().await
    }

    async fn check(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map(drop)
            .map_err(|e| from_pg(&e))
    }
}
