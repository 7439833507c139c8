//! Helpers shared by the fuzz targets: fixed test keys, and a cursor that
//! splits the fuzzer's bytes into the pieces a target needs.
//!
//! The keys are constants so that a crash reproduces from its input alone.
//! A verifier is fuzzed twice over: with forged bytes (which must be refused
//! without a panic) and with values the target signs or seals itself under
//! these keys (which must pass, reaching the code behind the check).

use medvault_crypto::aead::Key256;
use medvault_crypto::hpke::EncryptionSecretKey;
use medvault_crypto::sign::SigningKey;

/// The symmetric key every sealed box and wrapped key is opened with.
pub fn sym_key() -> Key256 {
    Key256::from_bytes([0x11; 32])
}

/// The HPKE secret key every wrapped node key is opened with.
pub fn hpke_secret() -> EncryptionSecretKey {
    EncryptionSecretKey::from_bytes([0x22; 32])
}

/// The Ed25519 key the targets sign with.
pub fn signing_key() -> SigningKey {
    SigningKey::from_seed(&[0x33; 32])
}

/// A user id and a node id.
pub const USER: [u8; 16] = [0x44; 16];
pub const NODE: [u8; 16] = [0x55; 16];

/// Reads pieces off the front of the fuzzer's bytes; short input gives
/// zeros and empty slices rather than stopping, so every input runs.
pub struct Cursor<'a>(pub &'a [u8]);

impl<'a> Cursor<'a> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

/// A store in memory, for targets that drive the server's real backend: sled
/// would sync to disk on every write (a few executions a second) and grow
/// without end over a campaign, while a map is cloned fresh for each input.
pub mod mem {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use server::store::{Batch, Entry, Op, Space, Store, StoreError};

    type Map = BTreeMap<(usize, Vec<u8>), Vec<u8>>;

    /// Every keyspace in one map, keyed by the space's index and the key.
    #[derive(Default)]
    pub struct MemStore(Mutex<Map>);

    impl MemStore {
        /// A store holding a copy of `other`'s contents.
        pub fn copy_of(other: &MemStore) -> MemStore {
            MemStore(Mutex::new(other.map().clone()))
        }

        fn map(&self) -> std::sync::MutexGuard<'_, Map> {
            // A panic while held is a crash the fuzzer reports anyway.
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// Makes the contents a copy of `other`'s again.
        pub fn reset_to(&self, other: &MemStore) {
            let copy = other.map().clone();
            *self.map() = copy;
        }

        /// Sets a value directly, as a corrupt or forged store would hold it.
        pub fn set(&self, space: Space, key: &[u8], value: &[u8]) {
            self.map()
                .insert((space.index(), key.to_vec()), value.to_vec());
        }
    }

    #[async_trait::async_trait]
    impl Store for MemStore {
        async fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.map().get(&(space.index(), key.to_vec())).cloned())
        }

        async fn scan_prefix(
            &self,
            space: Space,
            prefix: &[u8],
            after: Option<&[u8]>,
            limit: usize,
        ) -> Result<Vec<Entry>, StoreError> {
            let map = self.map();
            let start = (space.index(), prefix.to_vec());
            Ok(map
                .range(start..)
                .take_while(|((s, k), _)| *s == space.index() && k.starts_with(prefix))
                .filter(|((_, k), _)| after.is_none_or(|a| k.as_slice() > a))
                .take(limit)
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect())
        }

        /// Ops in order on a copy, which replaces the map only when every
        /// precondition held: all or nothing, as the trait asks.
        async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
            let mut map = self.map();
            let mut next = map.clone();
            for op in batch.ops() {
                match op {
                    Op::Put { space, key, value } => {
                        next.insert((space.index(), key.clone()), value.clone());
                    }
                    Op::Delete { space, key } => {
                        next.remove(&(space.index(), key.clone()));
                    }
                    Op::ExpectAbsent { space, key } => {
                        if next.contains_key(&(space.index(), key.clone())) {
                            return Err(StoreError::Conflict);
                        }
                    }
                    Op::ExpectValue { space, key, value } => {
                        if next.get(&(space.index(), key.clone())) != Some(value) {
                            return Err(StoreError::Conflict);
                        }
                    }
                }
            }
            *map = next;
            Ok(())
        }

        async fn flush(&self) -> Result<(), StoreError> {
            Ok(())
        }

        async fn check(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }
}

/// A server with one account, for targets that drive the real account
/// handlers: made once per process (one Argon2 run at sign-up), then copied
/// into a fresh backend for each input so that no throttle, pending step or
/// audit event carries over from one input to the next.
pub mod accounts {
    use std::sync::{Arc, OnceLock};

    use server::backend::{AccountConfig, ServerBackend};
    use server::store::Store;
    use shared::api::account::{SignupBackend, SignupFinishRequest};
    use shared::api::records::{NodeKind, RecordsBackend, StartUploadRequest, UploadTicket};
    use shared::api::{Caller, CookieChange};
    use shared::client::Signup;
    use shared::crypto::keyring::Keyring;
    use shared::records::keys::new_file_node;
    use shared::records::model::{NodeMetadata, STARTER_FOLDERS};
    use shared::records::padding::StreamLayout;
    use shared::records::tree::OpenTree;
    use zeroize::Zeroizing;

    use super::mem::MemStore;

    /// The server's clock: fixed, so that inputs reproduce.
    pub const NOW: i64 = 1_800_000_000;
    /// The account that exists, and its password.
    pub const ALICE: &str = "alice";
    pub const PASSWORD: &str = "correct horse battery staple";
    /// A name free for sign-up.
    pub const BOB: &str = "bob";

    pub struct World {
        pub runtime: tokio::runtime::Runtime,
        /// The store after Alice signed up and started uploading a file.
        pub store: MemStore,
        /// A complete second sign-up request (Bob's), to vary one field of.
        pub bob: SignupFinishRequest,
        /// Alice's session cookie, her keys, and her unfinished upload.
        pub session: String,
        pub keyring: Keyring,
        pub upload: UploadTicket,
    }

    pub fn caller() -> Caller {
        Caller::new(None, [192, 0, 2, 1].into(), "fuzz".into())
    }

    /// A caller with Alice's session.
    pub fn alice() -> Caller {
        Caller::new(
            Some(Zeroizing::new(world().session.clone())),
            [192, 0, 2, 1].into(),
            "fuzz".into(),
        )
    }

    /// A backend over `store` with the fixed clock.
    pub fn backend(store: Arc<dyn Store>) -> ServerBackend {
        ServerBackend::with_config(
            store,
            AccountConfig {
                clock: Arc::new(|| NOW),
                ..AccountConfig::default()
            },
        )
    }

    /// The size of the upload's chunks.
    pub const CHUNK: u32 = 4096;

    pub fn world() -> &'static World {
        static WORLD: OnceLock<World> = OnceLock::new();
        WORLD.get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let store = Arc::new(MemStore::default());
            let server = backend(store.clone());
            let (bob, session, keyring, upload) = runtime.block_on(async {
                let caller = caller();
                let (signup, req) = Signup::start(ALICE, PASSWORD, None).expect("start");
                let started = server.signup_start(&caller, req).await.expect("started");
                let account = signup.finish(&started, NOW).expect("finish");
                server
                    .signup_finish(&caller, account.request)
                    .await
                    .expect("signed up");
                let CookieChange::Set(session) = caller.cookie_change() else {
                    panic!("no session after sign-up");
                };
                let keyring = account.keyring;
                let alice =
                    Caller::new(Some(session.clone()), [192, 0, 2, 1].into(), "fuzz".into());
                let tree = server
                    .record_tree(&alice)
                    .await
                    .expect("tree")
                    .expect("a record");
                let tree = OpenTree::open(tree, keyring.encryption()).expect("open");
                let folder = tree
                    .nodes()
                    .find(|n| n.view.kind == NodeKind::Folder && n.view.parent_id.is_some())
                    .expect("a starter folder");
                let file_len = 3 * u64::from(CHUNK) + 100;
                let mut meta = NodeMetadata::new("scan.pdf", STARTER_FOLDERS[1].1, NOW);
                meta.size = Some(file_len);
                let (node, _) = new_file_node(folder, &meta).expect("node");
                let layout = StreamLayout::new(file_len, CHUNK).expect("layout");
                let upload = server
                    .start_upload(
                        &alice,
                        StartUploadRequest {
                            node_id: node.node_id,
                            new_node: Some(node),
                            chunk_size: CHUNK,
                            ciphertext_len: layout.ciphertext_len(),
                        },
                    )
                    .await
                    .expect("upload started");
                let (signup, req) = Signup::start(BOB, PASSWORD, None).expect("start");
                let started = server.signup_start(&caller, req).await.expect("started");
                let bob = signup.finish(&started, NOW).expect("finish").request;
                (bob, session.to_string(), keyring, upload)
            });
            World {
                runtime,
                store: MemStore::copy_of(&store),
                bob,
                session,
                keyring,
                upload,
            }
        })
    }
}
