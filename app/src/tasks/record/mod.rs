//! The signed-in patient's record: fetched, created with its starter folders on
//! first use, and decrypted with the keys in memory, once per session.
//!
//! [`RecordStore`] is the only way the pages reach the record: it keeps the
//! decrypted tree for the session, so moving between Records, Vital signs,
//! Search and Sharing neither fetches nor decrypts it again. Each arrival asks
//! the server only for the record's change counter (`records/seq`): when a
//! doctor or another tab changed the record meanwhile, the tree is fetched
//! anew. A page that changed the record itself asks for a
//! [`RecordStore::reload`]; every page that shows the tree sees the new one.
//!
//! A server that lies about the counter can only make the browser show the
//! tree it already holds, which it could do anyway by serving an old tree.

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use leptos::prelude::*;
use shared::{
    api::{records, ApiError, ErrorCode},
    crypto::sign::Signed,
    model::{Id, Role},
    records::{new_record, NodeState, OpenTree, RecordHead},
};

use super::writer::Changed;
use crate::session::{now_unix, AuthState, Session, Unlocked};

/// A load of the tree that several callers can wait on together.
type Loading = Shared<LocalBoxFuture<'static, Result<(OpenTree, u64), OpenError>>>;

/// The session's decrypted record, provided as a context by [`crate::App`].
#[derive(Clone, Copy)]
pub struct RecordStore {
    /// The tree as last opened; pages read it reactively.
    tree: RwSignal<Option<OpenTree>, LocalStorage>,
    /// Whose tree `tree` is, so that a different sign-in in this tab never
    /// sees the previous user's record.
    owner: StoredValue<Option<Id>, LocalStorage>,
    /// The record's change counter when `tree` was read.
    seq: StoredValue<u64, LocalStorage>,
    /// The load in flight, if any: callers that arrive meanwhile wait for it
    /// instead of fetching the tree a second time.
    loading: StoredValue<Option<Loading>, LocalStorage>,
    /// Numbers the loads, so an older load never overwrites a newer one.
    generation: StoredValue<u64, LocalStorage>,
}

impl RecordStore {
    /// An empty store (nothing fetched yet).
    pub fn new() -> Self {
        RecordStore {
            tree: RwSignal::new_local(None),
            owner: StoredValue::new_local(None),
            seq: StoredValue::new_local(0),
            loading: StoredValue::new_local(None),
            generation: StoredValue::new_local(0),
        }
    }

    /// Makes a store the app-wide context, and empties it whenever the keys
    /// are no longer open (sign-out, session ended), so nothing decrypted
    /// outlives the session.
    pub fn provide(session: Session) -> Self {
        let store = RecordStore::new();
        provide_context(store);
        Effect::new(move |_| {
            let open = session.state.with(|s| matches!(s, AuthState::Unlocked(_)));
            if !open {
                store.forget();
            }
        });
        store
    }

    /// The tree as last opened (tracked): `None` until the first open finishes.
    pub fn tree(&self) -> ReadSignal<Option<OpenTree>, LocalStorage> {
        self.tree.read_only()
    }

    /// The record, from memory when this session has opened it before and
    /// the server's change counter has not moved since; otherwise fetched
    /// (and created on first use) and decrypted.
    pub async fn open(&self, session: Session, unlocked: &Unlocked) -> Result<OpenTree, OpenError> {
        let me = unlocked.key_entry.value.user_id;
        if self.owner.get_value() == Some(me) && self.loading.with_value(Option::is_none) {
            if let Some(tree) = self.tree.get_untracked() {
                let held = self.seq.get_value();
                match records::record_seq().await {
                    // Nothing changed, and no newer load started meanwhile.
                    Ok(Some(seq))
                        if seq == held
                            && self.owner.get_value() == Some(me)
                            && self.loading.with_value(Option::is_none) =>
                    {
                        return Ok(tree);
                    }
                    Ok(_) => {}
                    Err(e) => return Err(session.explain(&e)),
                }
            }
        }
        match self.loading.get_value() {
            Some(loading) if self.owner.get_value() == Some(me) => {
                loading.await.map(|(tree, _)| tree)
            }
            _ => self.reload(session, unlocked).await,
        }
    }

    /// Fetches and decrypts the record again: after this tab changed it, or
    /// when a flow must act on the server's newest tree (a key rotation).
    pub async fn reload(
        &self,
        session: Session,
        unlocked: &Unlocked,
    ) -> Result<OpenTree, OpenError> {
        let me = unlocked.key_entry.value.user_id;
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        if self.owner.get_value() != Some(me) {
            self.tree.set(None);
            self.owner.set_value(Some(me));
        }
        let unlocked = unlocked.clone();
        let loading: Loading = async move { open_record(session, &unlocked).await }
            .boxed_local()
            .shared();
        self.loading.set_value(Some(loading.clone()));
        let result = loading.await;
        // A newer load, or a sign-out, decides the tree from here on.
        if self.generation.get_value() == generation {
            self.loading.set_value(None);
            if let Ok((tree, seq)) = &result {
                self.seq.set_value(*seq);
                self.tree.set(Some(tree.clone()));
            }
        }
        result.map(|(tree, _)| tree)
    }

    /// [`Self::reload`] when `fresh` (the page just changed the record),
    /// otherwise [`Self::open`].
    pub async fn get(
        &self,
        session: Session,
        unlocked: &Unlocked,
        fresh: bool,
    ) -> Result<OpenTree, OpenError> {
        if fresh {
            self.reload(session, unlocked).await
        } else {
            self.open(session, unlocked).await
        }
    }

    /// Sends one change of the owner's (see [`crate::tasks::writer::Writer`]):
    /// `send` gets the record's next head.
    pub async fn commit<T, F, Fut>(
        &self,
        session: Session,
        _unlocked: &Unlocked,
        _states: &[Signed<NodeState>],
        _removed: &[Id],
        send: F,
    ) -> Result<T, String>
    where
        T: Changed,
        F: Fn(Option<Signed<RecordHead>>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        send(None).await.map_err(|e| session.explain(&e))
    }

    /// Drops the decrypted tree (the keys were closed).
    pub fn forget(&self) {
        self.generation.update_value(|g| *g += 1);
        self.loading.set_value(None);
        self.owner.set_value(None);
        self.tree.set(None);
    }
}

impl Default for RecordStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The session's record store; provided by [`crate::App`].
pub fn use_record_store() -> RecordStore {
    use_context::<RecordStore>().unwrap_or_default()
}

/// Why the record could not be opened, in words for the person.
pub type OpenError = String;

/// Fetches and decrypts the caller's record, creating it first if this patient
/// has none yet. Only patients own a record. [`RecordStore`] is its only caller.
/// Also gives the record's change counter as read with the tree.
async fn open_record(session: Session, unlocked: &Unlocked) -> Result<(OpenTree, u64), OpenError> {
    if unlocked.info.role != Role::Patient {
        return Err("Only patients keep a record in medvault.".to_owned());
    }
    let tree = match records::get_record().await {
        Ok(Some(tree)) => tree,
        Ok(None) => {
            let owner = unlocked.key_entry.value.user_id;
            let public = unlocked.keyring.public_keys();
            let made = shared::crypto::rng::bytes()
                .and_then(|root_id| {
                    new_record(
                        &owner,
                        &public.encryption,
                        unlocked.keyring.identity(),
                        root_id,
                        now_unix(),
                    )
                })
                .map_err(|_| "Your browser could not create the keys for your record. Reload the page and try again.".to_owned())?;
            match records::create_record(made.root, made.children).await {
                Ok(tree) => tree,
                // Another tab made it meanwhile: use that one.
                Err(e) if e.code == ErrorCode::Conflict => records::get_record()
                    .await
                    .map_err(|e| session.explain(&e))?
                    .ok_or_else(|| "Your record could not be found. Reload the page.".to_owned())?,
                Err(e) => return Err(session.explain(&e)),
            }
        }
        Err(e) => return Err(session.explain(&e)),
    };
    let seq = tree.seq;
    let tree = OpenTree::open(tree, unlocked.keyring.encryption()).map_err(|_| {
        "Your record could not be unlocked with your keys. If this keeps happening, contact your administrator."
            .to_owned()
    })?;
    Ok((tree, seq))
}
