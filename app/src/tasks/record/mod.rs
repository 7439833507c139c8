//! The signed-in patient's record: fetched, checked, created with its starter
//! folders on first use, and decrypted with the keys in memory, once per
//! session.
//!
//! [`RecordStore`] is the only way the pages reach the record: it keeps the
//! decrypted tree for the session, so moving between Records, Vital signs,
//! Search and Sharing neither fetches nor decrypts it again. Each arrival asks
//! the server only for the record's change counter (`records/seq`): when a
//! doctor or another tab changed the record meanwhile, the tree is fetched
//! anew. A page that changed the record itself asks for a
//! [`RecordStore::reload`]; every page that shows the tree sees the new one.
//!
//! Every fetched tree is checked against the record's signed head before it is
//! shown ([`check`]): a refusal is the alarm's sentence, and nothing of the
//! tree is kept. The store also holds the verified head and leaves, and sends
//! the owner's changes one at a time, each with the next head ([`commit`]).
//!
//! A server that lies about the counter can only make the browser show the
//! tree it already holds, which it could do anyway by serving an old tree.

use std::rc::Rc;

use futures::{
    future::{FutureExt, LocalBoxFuture, Shared},
    lock::Mutex,
};
use leptos::prelude::*;
use shared::{
    api::records,
    crypto::sign::Signed,
    model::Id,
    records::{HeadLeaf, OpenTree, RecordHead},
};

use crate::session::{AuthState, Session, Unlocked};

mod check;
mod commit;
mod late;
mod open;

use open::open_record;

pub use check::{check_doctor_view, checked_authors};

/// A record as loaded: decrypted, with the change counter read with it and
/// the verified head and leaves (`None` and empty: a record not yet signed).
#[derive(Clone)]
struct Loaded {
    tree: OpenTree,
    seq: u64,
    head: Option<Signed<RecordHead>>,
    leaves: Vec<HeadLeaf>,
    /// What the owner reads about doctors' late changes moved to the Trash
    /// by this load, if any.
    notice: Option<String>,
}

/// A load of the tree that several callers can wait on together.
type Loading = Shared<LocalBoxFuture<'static, Result<Loaded, OpenError>>>;

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
    /// The newest head this store verified or made.
    head: StoredValue<Option<Signed<RecordHead>>, LocalStorage>,
    /// The leaves of every node at `head`.
    leaves: StoredValue<Vec<HeadLeaf>, LocalStorage>,
    /// The notice of the last load that moved doctors' late changes to the
    /// Trash, until the session ends.
    notice: RwSignal<Option<String>, LocalStorage>,
    /// Held by each load and each change: changes go one at a time, and a
    /// load never checks against a head a change is moving on.
    lock: StoredValue<Rc<Mutex<()>>, LocalStorage>,
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
            head: StoredValue::new_local(None),
            leaves: StoredValue::new_local(Vec::new()),
            notice: RwSignal::new_local(None),
            lock: StoredValue::new_local(Rc::new(Mutex::new(()))),
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

    /// What the owner reads about doctors' late changes this session moved
    /// to the Trash (tracked).
    pub fn notice(&self) -> ReadSignal<Option<String>, LocalStorage> {
        self.notice.read_only()
    }

    /// The newest head this store verified or made (`None`: not loaded, or
    /// a record not yet signed).
    pub fn head(&self) -> Option<Signed<RecordHead>> {
        self.head.get_value()
    }

    /// The record, from memory when this session has opened it before and
    /// the server's change counter has not moved since; otherwise fetched
    /// (and created on first use), checked and decrypted.
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
                loading.await.map(|loaded| loaded.tree)
            }
            _ => self.reload(session, unlocked).await,
        }
    }

    /// Fetches, checks and decrypts the record again: after this tab changed
    /// it, or when a flow must act on the server's newest tree (a key
    /// rotation).
    pub async fn reload(
        &self,
        session: Session,
        unlocked: &Unlocked,
    ) -> Result<OpenTree, OpenError> {
        let generation = self.next_generation(unlocked);
        let unlocked = unlocked.clone();
        let lock = self.lock.get_value();
        let loading: Loading = async move {
            let _turn = lock.lock().await;
            open_record(session, &unlocked).await
        }
        .boxed_local()
        .shared();
        self.loading.set_value(Some(loading.clone()));
        let result = loading.await;
        self.settle(generation, &result);
        result.map(|loaded| loaded.tree)
    }

    /// Starts a load: its number, after forgetting another user's tree.
    fn next_generation(&self, unlocked: &Unlocked) -> u64 {
        let me = unlocked.key_entry.value.user_id;
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        if self.owner.get_value() != Some(me) {
            self.tree.set(None);
            self.head.set_value(None);
            self.leaves.set_value(Vec::new());
            self.notice.set(None);
            self.owner.set_value(Some(me));
        }
        generation
    }

    /// Keeps what load `generation` found, unless a newer load or a sign-out
    /// decides from here on. A refused record keeps nothing.
    fn settle(&self, generation: u64, result: &Result<Loaded, OpenError>) {
        if self.generation.get_value() != generation {
            return;
        }
        self.loading.set_value(None);
        match result {
            Ok(loaded) => {
                self.seq.set_value(loaded.seq);
                self.head.set_value(loaded.head.clone());
                self.leaves.set_value(loaded.leaves.clone());
                if loaded.notice.is_some() {
                    self.notice.set(loaded.notice.clone());
                }
                self.tree.set(Some(loaded.tree.clone()));
            }
            Err(_) => {
                self.head.set_value(None);
                self.leaves.set_value(Vec::new());
                self.tree.set(None);
            }
        }
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

    /// Drops the decrypted tree (the keys were closed).
    pub fn forget(&self) {
        self.generation.update_value(|g| *g += 1);
        self.loading.set_value(None);
        self.owner.set_value(None);
        self.head.set_value(None);
        self.leaves.set_value(Vec::new());
        self.notice.set(None);
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
