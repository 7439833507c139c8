//! Who writes a change to a record, and how it is signed and sent
//! (docs/PROTOCOL.md, section 4.5).
//!
//! Every change carries the signed state of each node it changes, as the node
//! will be after it: the author (the owner, or a doctor under a write grant)
//! signs it with their identity key. The owner's changes also carry the
//! record's next head; they go through the session's [`RecordStore`], which
//! sends them one at a time.

use std::{future::Future, sync::Arc};

use shared::{
    api::{records::NodeView, ApiError},
    crypto::{keyring::Keyring, sign::Signed},
    model::Id,
    records::{NodeState, RecordHead, Signer},
};

use super::record::RecordStore;
use crate::session::{now_unix, Session, Unlocked};

/// The author of a change and the record it goes into.
#[derive(Clone)]
pub struct Writer {
    /// The signed-in session.
    pub session: Session,
    /// The author.
    pub author_id: Id,
    /// The author's keys (the identity key signs).
    pub keyring: Arc<Keyring>,
    /// The record's owner.
    pub owner_id: Id,
    /// The owner's record store and open keys (`None` for a doctor: doctors
    /// never make heads).
    store: Option<(RecordStore, Unlocked)>,
}

impl Writer {
    /// The owner writing in their own record, through the session's store.
    pub fn owner(session: Session, unlocked: &Unlocked, store: RecordStore) -> Writer {
        Writer {
            session,
            author_id: unlocked.key_entry.value.user_id,
            keyring: unlocked.keyring.clone(),
            owner_id: unlocked.key_entry.value.user_id,
            store: Some((store, unlocked.clone())),
        }
    }

    /// The signed-in owner, through `store`, if the keys are open.
    pub fn for_owner(session: Session, store: RecordStore) -> Result<Writer, String> {
        use leptos::prelude::WithUntracked;
        session.state.with_untracked(|s| match s {
            crate::session::AuthState::Unlocked(u) => Ok(Writer::owner(session, u, store)),
            _ => Err("Your session has ended. Sign in again to continue.".to_owned()),
        })
    }

    /// A doctor writing in `owner_id`'s record under a read-and-write grant.
    pub fn doctor(session: Session, author_id: Id, keyring: Arc<Keyring>, owner_id: Id) -> Writer {
        Writer {
            session,
            author_id,
            keyring,
            owner_id,
            store: None,
        }
    }

    /// The signer of this change, with this browser's clock.
    pub fn signer(&self) -> Signer<'_> {
        Signer {
            owner_id: self.owner_id,
            author_id: self.author_id,
            key: self.keyring.identity(),
            now: now_unix(),
        }
    }

    /// The signed state of `view` (the view the change will leave).
    pub fn sign(&self, view: &NodeView) -> Signed<NodeState> {
        self.signer().state(view)
    }

    /// Sends one change that leaves the nodes in `states` and deletes
    /// `removed`: `send` is called with the record's next head (the owner's
    /// changes) or none (a doctor's). The answer, or the sentence to show.
    pub async fn commit<T, F, Fut>(
        &self,
        states: &[Signed<NodeState>],
        removed: &[Id],
        send: F,
    ) -> Result<T, String>
    where
        F: Fn(Option<Signed<RecordHead>>) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        match &self.store {
            Some((store, unlocked)) => {
                store
                    .commit(self.session, unlocked, states, removed, send)
                    .await
            }
            None => send(None).await.map_err(|e| self.session.explain(&e)),
        }
    }
}
