//! Rules 5 and 6: every served node is signed by someone allowed to write it,
//! and is either the head's state of that node or a doctor's pending change.

use std::collections::HashMap;

use super::{GrantKnowledge, OwnerKeys, RecordAlarm};
use crate::{
    api::records::{NodeKind, NodeView},
    crypto::sign::VerifyingKey,
    model::{Id, Permission},
    records::{HeadLeaf, NodeState},
    sharing::{grant_allows, is_current, GrantTerms, GrantTime},
};

/// How much earlier than the owner's newest head a doctor's pending change
/// may be signed: the two browsers' clocks differ. Generous, because a
/// refusal here hides the whole record from its owner; a doctor's change
/// replayed within this window is not detected (docs/SECURITY.md).
pub const PENDING_CLOCK_SKEW_SECS: i64 = 60 * 60;

/// Where a served node stands against the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Standing {
    /// Its leaf is the head's leaf of that node.
    Confirmed,
    /// A doctor's change the owner has not yet taken into a head.
    Pending,
    /// A doctor's change not yet in a head, under a write grant that allowed
    /// it in every way but has ended since (removed, or past its signed end):
    /// the owner's browser moves it to the Trash instead of taking it in.
    Late {
        /// The doctor who signed it.
        doctor_id: Id,
        /// The ended grant.
        grant_id: Id,
    },
}

/// A doctor's write against its grant.
enum Write {
    /// Allowed now.
    Live,
    /// Allowed by a grant that has ended since.
    Ended { grant_id: Id },
    /// Never allowed.
    Refused,
}

/// What the checks of one record need, borrowed from the caller.
pub(super) struct Judge<'a> {
    pub owner: &'a OwnerKeys,
    pub authors: &'a dyn Fn(&Id) -> Option<VerifyingKey>,
    pub grants: &'a GrantKnowledge,
    /// The head's leaves by node id (owner-signed through the state hash).
    pub head: HashMap<Id, &'a HeadLeaf>,
    /// The served nodes by id.
    pub served: HashMap<Id, &'a NodeView>,
    /// When the owner signed the head (owner's clock).
    pub head_made_at: i64,
}

impl Judge<'_> {
    /// A node's parent: as the head says, else as the node's (checked) state
    /// says.
    fn parent_of(&self, id: &Id) -> Option<Id> {
        match self.head.get(id) {
            Some(l) => l.parent_id,
            None => self.served.get(id).and_then(|n| n.parent_id),
        }
    }

    /// Whether `folder` is a proper ancestor of a node whose parent is
    /// `parent`. Bounded, so a cycle of parent links ends.
    fn strictly_inside(&self, folder: &Id, parent: Option<Id>) -> bool {
        let mut at = parent;
        for _ in 0..=(self.head.len() + self.served.len()) {
            match at {
                None => return false,
                Some(id) if id == *folder => return true,
                Some(id) => at = self.parent_of(&id),
            }
        }
        false
    }

    /// Whether `id` is a file by its served node: a grant on a file covers
    /// that file alone, never anything under it.
    fn is_file(&self, id: &Id) -> bool {
        self.served
            .get(id)
            .is_some_and(|n| n.kind == NodeKind::File)
    }

    /// Rules 5 and 6 for one served node; its leaf as served (computed once:
    /// the next head covers it).
    pub fn node(&self, node: &NodeView) -> Result<(Standing, HeadLeaf), RecordAlarm> {
        let not_signed = RecordAlarm::NotSigned { node: node.node_id };
        let signed = node.state.as_ref().ok_or(not_signed.clone())?;
        let state = &signed.value;
        if state.owner_id != self.owner.user_id || !state.matches(&self.owner.user_id, node) {
            return Err(not_signed);
        }
        let leaf = HeadLeaf::of(signed);
        self.standing(node, signed, &leaf).map(|s| (s, leaf))
    }

    fn standing(
        &self,
        node: &NodeView,
        signed: &crate::crypto::sign::Signed<NodeState>,
        leaf: &HeadLeaf,
    ) -> Result<Standing, RecordAlarm> {
        let not_signed = RecordAlarm::NotSigned { node: node.node_id };
        let state = &signed.value;
        let in_head = self.head.get(&node.node_id);
        if in_head.is_some_and(|l| l.leaf == leaf.leaf) {
            // The owner's signature on the head covers this leaf, and so this
            // state and its signature: the owner (or the owner's browser when
            // it took a doctor's change in) already checked its author.
            return Ok(Standing::Confirmed);
        }
        if state.author_id == self.owner.user_id {
            // Every change by the owner comes with its head, so an owner's
            // state that is not the head's is an old one served again.
            signed
                .verify(&self.owner.identity_key)
                .map_err(|_| not_signed.clone())?;
            return Err(RecordAlarm::Replayed { node: node.node_id });
        }
        let author = (self.authors)(&state.author_id).ok_or(not_signed.clone())?;
        signed.verify(&author).map_err(|_| not_signed)?;
        // Every owner's head covers every node stored when it was made, the
        // doctors' changes included (the server takes no head that leaves
        // one out), so a pending change was signed after the head, give or
        // take the two browsers' clocks. An older one is a doctor's state the
        // owner already took in and changed since (or deleted), served again.
        if state.signed_at < self.head_made_at.saturating_sub(PENDING_CLOCK_SKEW_SECS) {
            return Err(RecordAlarm::Replayed { node: node.node_id });
        }
        match self.doctor_may_write(node, state, in_head.map(|l| l.parent_id)) {
            Write::Live => Ok(Standing::Pending),
            Write::Ended { grant_id } => Ok(Standing::Late {
                doctor_id: state.author_id,
                grant_id,
            }),
            Write::Refused => Err(RecordAlarm::NotAllowed { node: node.node_id }),
        }
    }

    /// Rule 5, a doctor's case: a read-and-write grant signed by the owner,
    /// naming this doctor, of a folder strictly above the node (or of the
    /// file itself, where it was, for a share of one file); live when it
    /// is not removed, not past its end now and not changed to read only
    /// since (by the newest revision this browser saw), ended otherwise. A doctor
    /// adds files, entries and folders there and renames and moves what is
    /// there: a node the head has (`head_parent`: its parent in the head)
    /// must have been strictly inside the grant's folder before the change
    /// too, so nothing is taken in from outside it.
    fn doctor_may_write(
        &self,
        node: &NodeView,
        state: &NodeState,
        head_parent: Option<Option<Id>>,
    ) -> Write {
        let Some(grant) = node
            .write_grant
            .as_ref()
            .and_then(|g| g.verify(&self.owner.identity_key).ok())
        else {
            return Write::Refused;
        };
        let inside = |top: &Id| {
            if self.is_file(top) {
                // A share of one file: that file itself, where the head has
                // it and not trashed (a new version, or its details).
                return *top == node.node_id
                    && state.kind == NodeKind::File
                    && !state.trashed
                    && head_parent == Some(state.parent_id);
            }
            self.strictly_inside(top, state.parent_id)
                && head_parent.is_none_or(|was| self.strictly_inside(top, was))
        };
        // Everything but the time: the grant's end is judged below.
        let allowed = grant.patient_id == self.owner.user_id
            && grant.doctor_id == state.author_id
            && grant_allows(
                grant,
                None,
                Permission::ReadWrite,
                GrantTime::Now(i64::MIN),
                inside,
            )
            .is_ok();
        // Judged by the newest terms this browser has seen of the grant: a
        // replayed earlier revision brings no write access or end back.
        let newest = GrantTerms::newest(self.grants.terms.get(&grant.grant_id), grant);
        if !allowed {
            Write::Refused
        } else if self.grants.removed.contains(&grant.grant_id)
            || newest.permission != Permission::ReadWrite
            || !is_current(&newest, self.grants.now)
        {
            Write::Ended {
                grant_id: grant.grant_id,
            }
        } else {
            Write::Live
        }
    }
}

/// Whether `id` is `folder` or lies under it by the head's parent links.
/// Bounded, so a cycle ends.
pub(super) fn within_by_head(head: &HashMap<Id, &HeadLeaf>, folder: &Id, id: &Id) -> bool {
    let mut at = Some(*id);
    for _ in 0..=head.len() {
        match at {
            None => return false,
            Some(a) if a == *folder => return true,
            Some(a) => at = head.get(&a).and_then(|l| l.parent_id),
        }
    }
    false
}
