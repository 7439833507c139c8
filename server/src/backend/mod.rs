//! The server's implementation of the API: one file or folder per area. Each
//! method authorizes (through [`crate::authz`]), calls the store and (from
//! accounts on) appends to the audit log.
//!
//! [`records`] and [`sharing`] are folders: a thin trait impl in `mod.rs`, the
//! keyspace in `layout.rs`, and one file per group of calls. [`audit`] holds
//! the hash-chained log, its keys in `audit/layout.rs`.
//!
//! Accounts are split by concern: [`users`] (the stored account record),
//! [`sessions`], [`pending`] (half-finished protocol runs, in memory),
//! [`throttle`] (failed sign-ins), [`invites`], and the trait implementations in
//! [`accounts`], [`directory`] and [`admin`].

pub mod access_cache;
pub mod accounts;
pub mod admin;
pub mod audit;
pub mod directory;
pub mod error;
pub mod invites;
pub mod key_file;
pub mod mailer;
pub mod notifications;
pub mod pending;
pub mod records;
pub mod sessions;
pub mod sharing;
pub mod system;
pub mod throttle;
pub mod totp_key;
pub mod users;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shared::{
    api::ApiError,
    crypto::{b64, kdf, opaque::ServerSetup, rng},
};
use zeroize::Zeroizing;

use crate::store::{keys::Key, Batch, Space, Store, StoreError};

pub(crate) use error::{crypto_internal, internal, store_error};
pub use invites::InviteKey;
pub use totp_key::TotpKey;

/// Unix seconds now. Injected so tests can move time (expire a session, an
/// invite, a throttle delay) without sleeping.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The wall clock, as Unix seconds.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    })
}

/// The wall clock moved on by a number of seconds read from `file`, for
/// end-to-end tests of expiry (grants, sessions) without waiting. The file
/// holds a decimal number (negative allowed); missing or unreadable means 0.
/// A background thread re-reads it every 100 ms, so `now()` stays a load.
/// Only in builds with the `test-clock` feature (and this crate's own unit
/// tests), never in production.
#[cfg(any(test, feature = "test-clock"))]
pub fn offset_clock(file: std::path::PathBuf) -> Clock {
    use std::sync::atomic::{AtomicI64, Ordering};
    let offset = Arc::new(AtomicI64::new(0));
    let read = |file: &std::path::Path| -> i64 {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    };
    offset.store(read(&file), Ordering::SeqCst);
    let writer = Arc::downgrade(&offset);
    std::thread::spawn(move || {
        // Ends when the clock is dropped.
        while let Some(offset) = writer.upgrade() {
            offset.store(read(&file), Ordering::SeqCst);
            drop(offset);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    let wall = system_clock();
    Arc::new(move || wall().saturating_add(offset.load(Ordering::SeqCst)))
}

/// The operator's account settings, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSettings {
    /// Whether patients may create an account without an invite.
    pub open_signup: bool,
    /// A session ends after this many seconds without a request.
    pub idle_timeout_secs: u64,
    /// A session ends this many seconds after sign-in, however busy.
    pub absolute_lifetime_secs: u64,
    /// Roles that must have a second factor (`--require-second-factor`): a
    /// session of such a user without one may only turn it on (or sign out)
    /// until it is on.
    pub second_factor_roles: Roles,
}

/// A set of roles, as a bit per role so settings stay `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles(u8);

impl Roles {
    /// No role.
    pub const NONE: Roles = Roles(0);

    /// The set of `roles`.
    pub fn of(roles: &[shared::model::Role]) -> Roles {
        Roles(roles.iter().fold(0, |set, r| set | (1 << r.code())))
    }

    /// Whether `role` is in the set.
    pub fn contains(self, role: shared::model::Role) -> bool {
        self.0 & (1 << role.code()) != 0
    }
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            open_signup: true,
            idle_timeout_secs: 30 * 60,
            absolute_lifetime_secs: 12 * 60 * 60,
            second_factor_roles: Roles::NONE,
        }
    }
}

/// The operator's storage limits for patient records, as given on the command
/// line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordsConfig {
    /// Bytes each account may use: stored ciphertext, unfinished uploads'
    /// reservations and sealed metadata.
    pub quota_bytes: u64,
    /// The largest file (plaintext bytes) accepted; the app refuses bigger files
    /// before sending anything.
    pub max_file_bytes: u64,
}

impl Default for RecordsConfig {
    fn default() -> Self {
        RecordsConfig {
            quota_bytes: 10 << 30,
            max_file_bytes: 2 << 30,
        }
    }
}

/// Everything the backend needs beyond the store.
#[derive(Clone)]
pub struct AccountConfig {
    /// The operator's settings.
    pub settings: AccountSettings,
    /// Quota and file size limits of records.
    pub records: RecordsConfig,
    /// Where "now" comes from.
    pub clock: Clock,
    /// The key of command-line invites (`DIR/invite.key`); without one, such
    /// invites are refused.
    pub invite_key: Option<InviteKey>,
    /// The key that seals TOTP secrets at rest (`<data-dir>.totp-key`); without
    /// one, no second factor can be turned on or checked.
    pub totp_key: Option<TotpKey>,
    /// Sends notification e-mail (`--smtp-url`); without one, none is sent
    /// and the app does not offer it.
    pub mailer: Option<std::sync::Arc<mailer::Mailer>>,
}

impl Default for AccountConfig {
    fn default() -> Self {
        AccountConfig {
            settings: AccountSettings::default(),
            records: RecordsConfig::default(),
            clock: system_clock(),
            invite_key: None,
            totp_key: None,
            mailer: None,
        }
    }
}

/// The server-side secrets of the account protocol, made once per installation
/// and kept in the Meta keyspace. They are the server's own (an attacker who
/// has them still has to guess each password offline), never a user's.
pub(crate) struct ServerSecrets {
    /// OPAQUE's OPRF seed and key pair.
    pub opaque: ServerSetup,
    /// Derives the fake answers for unknown usernames, so that repeated asks
    /// about the same name look alike.
    pub fake_seed: Zeroizing<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
struct StoredSecrets {
    #[serde(with = "b64::vec")]
    opaque_setup: Vec<u8>,
    #[serde(with = "b64::array")]
    fake_seed: [u8; 32],
}

impl Drop for StoredSecrets {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.opaque_setup.zeroize();
        self.fake_seed.zeroize();
    }
}

fn secrets_key() -> Vec<u8> {
    Key::new().str("account-secrets").finish()
}

/// Most chunk writes one group commit takes (each holds one chunk, at most
/// 4 MiB, in memory until it is durable).
const CHUNK_GROUP: usize = 16;

/// Implements every area's backend trait from `shared::api`.
pub struct ServerBackend {
    store: Arc<dyn Store>,
    config: AccountConfig,
    secrets: tokio::sync::OnceCell<Arc<ServerSecrets>>,
    pending: pending::PendingStates,
    throttle: throttle::Throttle,
    audit: audit::AuditLog,
    record_locks: records::locks::RecordLocks,
    /// The chunk GET's kept access decisions; the store above is watched for it.
    access: Arc<access_cache::AccessCache>,
    /// When each account's session index next needs sweeping.
    session_sweeps: sessions::SweepTimes,
    /// Chunk writes, group-committed: concurrent chunk `PUT`s share their
    /// file syncs and one flush.
    chunk_writer: crate::store::group::GroupWriter,
}

impl ServerBackend {
    /// A backend over the given store with default account settings.
    pub fn new(store: Arc<dyn Store>) -> ServerBackend {
        ServerBackend::with_config(store, AccountConfig::default())
    }

    /// A backend over the given store with these account settings.
    pub fn with_config(store: Arc<dyn Store>, config: AccountConfig) -> ServerBackend {
        // Every write, the audit log's included, goes through the watch, so
        // that none can leave a kept access decision standing.
        let shared = store.shared_by_processes();
        let access = Arc::new(if shared {
            access_cache::AccessCache::off()
        } else {
            access_cache::AccessCache::default()
        });
        let store: Arc<dyn Store> =
            Arc::new(access_cache::WatchedStore::new(store, access.clone()));
        let pending = match (&config.totp_key, shared) {
            // Several servers on one store: a run started on one finishes on
            // another, so the states live (sealed) in the store.
            (Some(key), true) => pending::PendingStates::in_store(&store, key),
            _ => pending::PendingStates::default(),
        };
        let throttle = if shared {
            throttle::Throttle::in_store(&store)
        } else {
            throttle::Throttle::default()
        };
        ServerBackend {
            audit: audit::AuditLog::new(store.clone(), config.clock.clone()),
            chunk_writer: crate::store::group::GroupWriter::new(store.clone(), CHUNK_GROUP),
            store,
            access,
            session_sweeps: sessions::SweepTimes::default(),
            config,
            secrets: tokio::sync::OnceCell::new(),
            pending,
            throttle,
            record_locks: records::locks::RecordLocks::default(),
        }
    }

    /// The audit log, for the head signer and for tests.
    pub fn audit_log(&self) -> audit::AuditLog {
        self.audit.clone()
    }

    /// Unix seconds now, from the configured clock.
    pub(crate) fn now(&self) -> i64 {
        (self.config.clock)()
    }

    /// The server secrets, made and stored on first use. Two servers racing on
    /// a fresh store both end up with the one that was written first.
    pub(crate) async fn secrets(&self) -> Result<Arc<ServerSecrets>, ApiError> {
        self.secrets
            .get_or_try_init(|| async {
                for _ in 0..3 {
                    if let Some(bytes) = self
                        .store
                        .get(Space::Meta, &secrets_key())
                        .await
                        .map_err(store_error)?
                    {
                        let stored: StoredSecrets =
                            crate::store::codec::decode(&bytes).map_err(store_error)?;
                        let opaque = ServerSetup::from_bytes(&stored.opaque_setup)
                            .map_err(|_| internal("stored OPAQUE server setup is corrupt"))?;
                        return Ok(Arc::new(ServerSecrets {
                            opaque,
                            fake_seed: Zeroizing::new(stored.fake_seed),
                        }));
                    }
                    let setup = ServerSetup::generate();
                    let stored = StoredSecrets {
                        opaque_setup: setup.to_bytes().as_bytes().to_vec(),
                        fake_seed: rng::bytes().map_err(crypto_internal)?,
                    };
                    let value =
                        Zeroizing::new(crate::store::codec::encode(&stored).map_err(store_error)?);
                    let mut batch = Batch::new();
                    batch.expect_absent(Space::Meta, secrets_key()).put(
                        Space::Meta,
                        secrets_key(),
                        value.to_vec(),
                    );
                    match self.store.apply(batch).await {
                        Ok(()) | Err(StoreError::Conflict) => continue,
                        Err(e) => return Err(store_error(e)),
                    }
                }
                Err(internal("could not create the server secrets"))
            })
            .await
            .cloned()
    }

    /// `len` bytes derived from the fake seed for `purpose` and `name`: the same
    /// every time, unrelated to any real account.
    pub(crate) fn fake_bytes(
        secrets: &ServerSecrets,
        purpose: &str,
        name: &str,
        out: &mut [u8],
    ) -> Result<(), ApiError> {
        let mut info = Vec::with_capacity(purpose.len() + 1 + name.len());
        info.extend_from_slice(purpose.as_bytes());
        info.push(0);
        info.extend_from_slice(name.as_bytes());
        kdf::hkdf_sha256(None, &secrets.fake_seed[..], &info, out).map_err(crypto_internal)
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn the_test_clock_follows_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("clock");
        std::fs::write(&file, "3600\n").unwrap();
        let clock = offset_clock(file.clone());
        let wall = system_clock();
        assert!((clock() - wall() - 3600).abs() <= 2);
        std::fs::write(&file, "-60").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while (clock() - wall() + 60).abs() > 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the clock did not follow"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // Garbage or a missing file means no offset.
        std::fs::write(&file, "soon").unwrap();
        while (clock() - wall()).abs() > 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the clock did not follow"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
