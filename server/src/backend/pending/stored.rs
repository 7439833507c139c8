//! Pending states in the store, for servers that share one: KE1 answered by
//! one server, KE3 checked by another.
//!
//! Each entry is three rows of the Sessions keyspace, written and removed in
//! one batch:
//!
//! - `16 ‖ kind ‖ id` → the entry, sealed with AES-256-GCM under the TOTP key
//!   (every server has the same key file), with the AAD
//!   `"medvault/v1/server/pending-state\0" ‖ kind ‖ id`: an OPAQUE login
//!   state in the clear would let anyone who reads the database finish that
//!   sign-in without the password;
//! - `17 ‖ kind ‖ expiry (u64) ‖ id` → empty, the order in which they expire;
//! - `18 ‖ kind ‖ address (length-prefixed) ‖ expiry ‖ id` → empty, each client
//!   address's entries, for its share.
//!
//! Taking an entry deletes its rows under the precondition that the entry is
//! still exactly as read, so of two servers taking the same id one gets it.
//! Expired entries are swept in expiry order the same way, and each is handed
//! out for the audit log by the one server whose delete went through. There is
//! no global cap as in memory: rows cost disk, not the server's memory, and
//! the sweep removes them after their lifetime.

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use shared::{api::ApiError, crypto::aead, model::Id};
use zeroize::Zeroizing;

use crate::{
    backend::{store_error, TotpKey},
    store::{keys::Key, keys::KeyReader, Batch, Space, Store, StoreError},
};

const ENTRY: u8 = 16;
const EXPIRY: u8 = 17;
const BY_ADDRESS: u8 = 18;
/// Domain separation of a sealed entry (server-internal, not a wire format).
const SEAL_LABEL: &[u8] = b"medvault/v1/server/pending-state\0";
/// Expired entries removed per sweep, at most.
const SWEEP_BATCH: usize = 256;
/// A process sweeps one kind at most this often (seconds of the server's clock).
const SWEEP_EVERY_SECS: i64 = 5;

/// Why a stored step failed.
pub(super) enum Failed {
    /// The address has its share waiting; the oldest expires then.
    OverShare(i64),
    Store(StoreError),
    /// An entry did not open or decode: another key, or damage.
    Unreadable,
}

impl Failed {
    /// The answer to the client; `share` words the 429.
    pub(super) fn into_api(self, share: impl FnOnce(i64) -> ApiError) -> ApiError {
        match self {
            Failed::OverShare(oldest) => share(oldest),
            Failed::Store(e) => store_error(e),
            Failed::Unreadable => crate::backend::internal(
                "a pending state in the store did not open (are all servers given the same \
                 TOTP key file?)",
            ),
        }
    }
}

impl From<StoreError> for Failed {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::OverShare(_) => f.write_str("over its share"),
            Failed::Store(e) => write!(f, "{e}"),
            Failed::Unreadable => f.write_str("an entry did not open"),
        }
    }
}

/// What is sealed in an entry.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    expires: i64,
    addr: IpAddr,
    value: T,
}

/// One kind of pending state in a shared store.
pub(super) struct Stored {
    store: Arc<dyn Store>,
    key: TotpKey,
    kind: u8,
    last_sweep: AtomicI64,
}

fn address_bytes(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// Expiry times as key bytes: before 1970 sorts first (never happens).
fn time_part(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

impl Stored {
    pub(super) fn new(store: Arc<dyn Store>, key: TotpKey, kind: u8) -> Self {
        Stored {
            store,
            key,
            kind,
            last_sweep: AtomicI64::new(i64::MIN),
        }
    }

    fn entry_key(&self, id: &Id) -> Vec<u8> {
        Key::new().u8(ENTRY).u8(self.kind).fixed(id).finish()
    }

    fn expiry_prefix(&self) -> Vec<u8> {
        Key::new().u8(EXPIRY).u8(self.kind).finish()
    }

    fn expiry_key(&self, expires: i64, id: &Id) -> Vec<u8> {
        Key::new()
            .u8(EXPIRY)
            .u8(self.kind)
            .u64(time_part(expires))
            .fixed(id)
            .finish()
    }

    fn address_prefix(&self, addr: IpAddr) -> Key {
        Key::new()
            .u8(BY_ADDRESS)
            .u8(self.kind)
            .bytes(&address_bytes(addr))
    }

    fn aad(&self, id: &Id) -> Vec<u8> {
        let mut aad = SEAL_LABEL.to_vec();
        aad.push(self.kind);
        aad.extend_from_slice(id);
        aad
    }

    fn open<T: DeserializeOwned>(&self, id: &Id, sealed: &[u8]) -> Result<Envelope<T>, Failed> {
        let plain = aead::open(self.key.aead_key(), &self.aad(id), sealed)
            .map_err(|_| Failed::Unreadable)?;
        serde_json::from_slice(&plain).map_err(|_| Failed::Unreadable)
    }

    /// The batch that removes an entry read as `sealed`, if it is still so.
    fn removal(&self, id: &Id, sealed: &[u8], envelope_expires: i64, addr: IpAddr) -> Batch {
        let entry = self.entry_key(id);
        let mut batch = Batch::new();
        batch
            .expect_value(Space::Sessions, entry.clone(), sealed.to_vec())
            .delete(Space::Sessions, entry)
            .delete(Space::Sessions, self.expiry_key(envelope_expires, id))
            .delete(
                Space::Sessions,
                self.address_prefix(addr)
                    .u64(time_part(envelope_expires))
                    .fixed(id)
                    .finish(),
            );
        batch
    }

    /// Seals and writes an entry, unless `addr` already has `share` waiting.
    pub(super) async fn put<T: Serialize>(
        &self,
        id: Id,
        expires: i64,
        now: i64,
        addr: IpAddr,
        value: &T,
        share: usize,
    ) -> Result<(), Failed> {
        let prefix = self.address_prefix(addr).finish();
        // Entries still alive (expiring after `now`) sort after every
        // `prefix ‖ now ‖ id`: skip the expired.
        let alive_from = self
            .address_prefix(addr)
            .u64(time_part(now))
            .fixed(&[0xff; 16])
            .finish();
        let waiting = self
            .store
            .scan_prefix(Space::Sessions, &prefix, Some(&alive_from), share)
            .await?;
        if waiting.len() >= share {
            let oldest = waiting
                .first()
                .and_then(|(k, _)| {
                    let mut r = KeyReader::new(k);
                    r.u8().ok()?;
                    r.u8().ok()?;
                    r.bytes().ok()?;
                    r.u64().ok()
                })
                .and_then(|t| i64::try_from(t).ok())
                .unwrap_or(now + 1);
            return Err(Failed::OverShare(oldest));
        }
        let plain = Zeroizing::new(
            serde_json::to_vec(&Envelope {
                expires,
                addr,
                value,
            })
            .map_err(|e| Failed::Store(StoreError::Encode(e.to_string())))?,
        );
        let sealed = aead::seal(self.key.aead_key(), &self.aad(&id), &plain)
            .map_err(|_| Failed::Store(StoreError::Backend("sealing failed".into())))?;
        let mut batch = Batch::new();
        batch
            .expect_absent(Space::Sessions, self.entry_key(&id))
            .put(Space::Sessions, self.entry_key(&id), sealed)
            .put(Space::Sessions, self.expiry_key(expires, &id), Vec::new())
            .put(
                Space::Sessions,
                self.address_prefix(addr)
                    .u64(time_part(expires))
                    .fixed(&id)
                    .finish(),
                Vec::new(),
            );
        self.store.apply(batch).await?;
        Ok(())
    }

    /// Takes the entry `id` if it is there and alive: `None` if it is gone,
    /// expired (the sweep hands that one out) or taken by another server
    /// meanwhile.
    pub(super) async fn take<T: DeserializeOwned>(
        &self,
        now: i64,
        id: &Id,
    ) -> Result<Option<(T, i64)>, Failed> {
        let Some(sealed) = self.store.get(Space::Sessions, &self.entry_key(id)).await? else {
            return Ok(None);
        };
        let envelope: Envelope<T> = self.open(id, &sealed)?;
        if envelope.expires <= now {
            return Ok(None);
        }
        let batch = self.removal(id, &sealed, envelope.expires, envelope.addr);
        match self.store.apply(batch).await {
            Ok(()) => Ok(Some((envelope.value, envelope.expires))),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes entries expired at `now`, oldest first, and returns the ones
    /// this server removed (another server may remove some of them first).
    /// Runs at most every few seconds per process.
    pub(super) async fn sweep<T: DeserializeOwned>(&self, now: i64) -> Result<Vec<T>, Failed> {
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) < SWEEP_EVERY_SECS {
            return Ok(Vec::new());
        }
        self.last_sweep.store(now, Ordering::Relaxed);
        let rows = self
            .store
            .scan_prefix(Space::Sessions, &self.expiry_prefix(), None, SWEEP_BATCH)
            .await?;
        let mut gone = Vec::new();
        for (key, _) in rows {
            let mut r = KeyReader::new(&key);
            let (expires, id) = match (r.u8(), r.u8(), r.u64(), r.fixed::<16>()) {
                (Ok(_), Ok(_), Ok(t), Ok(id)) => (t, id),
                _ => {
                    return Err(Failed::Store(StoreError::Corrupt(
                        "pending expiry key".into(),
                    )))
                }
            };
            if i64::try_from(expires).unwrap_or(i64::MAX) > now {
                break;
            }
            match self
                .store
                .get(Space::Sessions, &self.entry_key(&id))
                .await?
            {
                Some(sealed) => {
                    let envelope: Envelope<T> = self.open(&id, &sealed)?;
                    let batch = self.removal(&id, &sealed, envelope.expires, envelope.addr);
                    match self.store.apply(batch).await {
                        Ok(()) => gone.push(envelope.value),
                        Err(StoreError::Conflict) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                // Taken meanwhile: only the index row is left.
                None => self.store.delete(Space::Sessions, key).await?,
            }
        }
        Ok(gone)
    }
}
