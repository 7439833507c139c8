//! The owner's changes, one at a time, each with the record's next head
//! (docs/PROTOCOL.md, section 4.5): the head after the one this store holds,
//! over the leaves after the change. A head the server no longer has as its
//! newest (another tab or device changed the record) is refused with 409:
//! the store loads the record again (checking it) and tries once more.

use std::future::Future;

use leptos::prelude::*;

use shared::{
    api::{ApiError, ErrorCode},
    crypto::sign::Signed,
    model::Id,
    records::{
        verify::{leaves_after, next_head, Seen},
        NodeState, RecordHead,
    },
};

use super::{check, open::open_record, OpenError, RecordStore};
use crate::session::{now_unix, Session, Unlocked};

/// What the owner reads when their record changed elsewhere twice over.
pub const CHANGED_ELSEWHERE: &str =
    "Your record changed in another window; reload to see it. Nothing was changed here.";

impl RecordStore {
    /// Sends one change of the owner's that leaves the nodes in `states` and
    /// deletes `removed`: `send` is called with the record's next head
    /// (none for a record not yet signed). On success the store holds that
    /// head and its leaves, and this browser remembers it.
    pub async fn commit<T, F, Fut>(
        &self,
        session: Session,
        unlocked: &Unlocked,
        states: &[Signed<NodeState>],
        removed: &[Id],
        send: F,
    ) -> Result<T, String>
    where
        F: Fn(Option<Signed<RecordHead>>) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let lock = self.lock.get_value();
        let _turn = lock.lock().await;
        let me = unlocked.key_entry.value.user_id;
        if self.owner.get_value() != Some(me) || self.head.with_value(Option::is_none) {
            self.load_locked(session, unlocked).await?;
        }
        let mut retried = false;
        loop {
            let Some(head) = self.head.get_value() else {
                // A record not yet signed (made before signed records, with
                // items this browser could not open): no head to move on.
                return send(None).await.map_err(|e| session.explain(&e));
            };
            let leaves = leaves_after(&self.leaves.get_value(), states, removed);
            let next = next_head(&head, &leaves, now_unix()).sign(unlocked.keyring.identity());
            match send(Some(next.clone())).await {
                Ok(answer) => {
                    check::remember(unlocked, &me, &Seen::of(&next));
                    self.head.set_value(Some(next));
                    self.leaves.set_value(leaves);
                    return Ok(answer);
                }
                Err(e) if e.code == ErrorCode::Conflict => {
                    // Reload and look: if the record's head did not move, the
                    // conflict was about the change itself (an upload still
                    // running, an item already in the Trash) and the server's
                    // own sentence says what to do.
                    self.load_locked(session, unlocked).await?;
                    let moved = self.head.with_value(|now| now.as_ref() != Some(&head));
                    if !moved {
                        return Err(session.explain(&e));
                    }
                    if retried {
                        return Err(CHANGED_ELSEWHERE.to_owned());
                    }
                    retried = true;
                }
                Err(e) => return Err(session.explain(&e)),
            }
        }
    }

    /// Loads (checks, decrypts) the record while this caller holds the lock.
    async fn load_locked(&self, session: Session, unlocked: &Unlocked) -> Result<(), OpenError> {
        let generation = self.next_generation(unlocked);
        let result = open_record(session, unlocked).await;
        self.settle(generation, &result);
        result.map(|_| ())
    }
}
