//! The browser's checks of a signed record (docs/SECURITY.md; the design of
//! docs/PROTOCOL.md section 4.5): what the owner's browser checks of its
//! record tree, and a doctor's browser of a shared folder, before showing or
//! changing anything.
//!
//! The server is not trusted: it may serve any bytes, an older copy, or leave
//! nodes out. So, given what the server sent, the owner's identity key, the
//! keys of doctors who authored states (resolved by the caller through its
//! pinned directory), what the browser knows of grants, and the head it
//! remembers with the chain of heads after it:
//!
//! 1. no head: the owner adopts the record, a doctor shows it as not yet
//!    signed; unless this browser has seen a head before;
//! 2. the head is signed by the owner and names this owner and record;
//! 3. it is not older than the remembered head, and links to it head by head;
//! 4. its leaves hash to its state hash, each node once;
//! 5. every node has a state signed by its author, describing it as served:
//!    the owner, or a doctor under a live read-and-write grant covering it
//!    (a doctor's change under such a grant that has ended since is *late*:
//!    listed in [`CheckedRecord::late`], not an alarm);
//! 6. each node's leaf is the head's, or the node is a doctor's pending
//!    change signed after the head was made (within
//!    [`PENDING_CLOCK_SKEW_SECS`]: every owner's head covers the doctors'
//!    changes stored before it); and every leaf the head lists
//!    (a doctor: under the shared folder) has a node.
//!
//! Everything is pure: the app calls it on every load, the server's tests call
//! it to play attacks. The helpers at the end make the owner's next head.

mod alarm;
mod chain;
mod nodes;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use alarm::RecordAlarm;
pub use nodes::PENDING_CLOCK_SKEW_SECS;

use crate::{
    api::records::{NodeView, RecordTree},
    crypto::{
        b64,
        sign::{Signed, VerifyingKey},
    },
    model::Id,
    records::{head_link, HeadLeaf, NodeState, RecordHead},
    sharing::GrantTerms,
};

/// The head a browser verified last, remembered between visits (the app keeps
/// it in localStorage, `medvault.record-head.<user>.<owner>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Its counter.
    pub counter: u64,
    /// Its [`head_link`].
    #[serde(with = "b64::array")]
    pub link: [u8; 32],
}

impl Seen {
    /// What to remember of a verified head.
    pub fn of(head: &Signed<RecordHead>) -> Seen {
        Seen {
            counter: head.value.counter,
            link: head_link(head),
        }
    }
}

/// The record's owner, as the checking browser knows them: its own keyring
/// (the owner), or the pinned directory (a doctor).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerKeys {
    /// The owner's user id.
    pub user_id: Id,
    /// The owner's identity key: it signs heads and grants.
    pub identity_key: VerifyingKey,
}

/// What the checking browser knows of grants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantKnowledge {
    /// Grants this browser knows were removed (the owner's own removals).
    pub removed: HashSet<Id>,
    /// The newest terms this browser has seen of each grant (by id): a
    /// doctor's change carrying an earlier revision is judged by these, so
    /// write access or an end taken back since cannot be replayed.
    pub terms: HashMap<Id, GrantTerms>,
    /// The browser's clock, Unix seconds.
    pub now: i64,
}

impl GrantKnowledge {
    /// Knowing of no removal and no change, at `now`.
    pub fn at(now: i64) -> GrantKnowledge {
        GrantKnowledge {
            removed: HashSet::new(),
            terms: HashMap::new(),
            now,
        }
    }
}

/// A doctor's view of one shared folder of a record: `sharing/shared`'s nodes,
/// the patient's head and the record's head leaves, and the grant's folder
/// (from the grant the doctor already checked).
#[derive(Clone, Copy, Debug)]
pub struct SharedView<'a> {
    /// The served nodes: the folder and everything under it, trashed ones too.
    pub nodes: &'a [NodeView],
    /// The patient's newest head (`None`: a record not yet signed).
    pub head: Option<&'a Signed<RecordHead>>,
    /// The leaves of the whole record at that head.
    pub head_leaves: &'a [HeadLeaf],
    /// The shared folder.
    pub folder: Id,
}

/// A record that passed the checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckedRecord {
    /// The head to remember now (`None`: the record has no head yet).
    pub seen: Option<Seen>,
    /// Nodes whose state is a doctor's change not yet in a head. The owner's
    /// browser takes them in with `records/head`, a head over [`Self::leaves`].
    pub pending: Vec<Id>,
    /// The leaves of every served node as checked (pending changes included):
    /// what the owner's next head covers when nothing else changes.
    pub leaves: Vec<HeadLeaf>,
    /// The record has no head: the owner's browser adopts it
    /// (`records/adopt`), a doctor's shows it as not yet signed by the patient.
    pub needs_adoption: bool,
    /// Doctors' changes not yet in a head whose write grant allowed them in
    /// every way but has ended since (removed, or past its signed end): not
    /// an alarm, and not folded. The owner's browser moves each to the Trash
    /// with its next head before folding [`Self::pending`]; a doctor's
    /// browser does not show them.
    pub late: Vec<LateChange>,
}

/// A doctor's change that came after the doctor's write grant ended (or that
/// the owner did not take in before it ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LateChange {
    /// The node changed.
    pub node_id: Id,
    /// The doctor who signed the change.
    pub doctor_id: Id,
    /// Their ended grant.
    pub grant_id: Id,
}

/// Checks the owner's record tree (the owner's browser).
///
/// `authors` resolves a doctor's identity key from the pinned directory;
/// `seen` is the head this browser remembers, and `chain` the owner's heads
/// after it (`records/heads?after=<seen.counter>`; empty when the served head
/// is not newer). The record is shown only on `Ok`.
pub fn check_record(
    tree: &RecordTree,
    owner: &OwnerKeys,
    authors: &dyn Fn(&Id) -> Option<VerifyingKey>,
    grants: &GrantKnowledge,
    seen: Option<Seen>,
    chain: &[Signed<RecordHead>],
) -> Result<CheckedRecord, RecordAlarm> {
    if tree.owner_id != owner.user_id {
        return Err(RecordAlarm::HeadNotSigned);
    }
    let Some(head) = &tree.head else {
        return unsigned(seen);
    };
    let value = chain::owner_head(head, owner, Some(&tree.root_id))?;
    chain::fresh(head, owner, seen, chain)?;
    chain::leaves_match(value, &tree.head_leaves)?;
    let judge = judge(
        &tree.nodes,
        value,
        &tree.head_leaves,
        owner,
        authors,
        grants,
    )?;
    let judged = judge_all(&judge, &tree.nodes)?;
    let hidden = tree
        .head_leaves
        .iter()
        .filter(|l| !judge.served.contains_key(&l.node_id))
        .count();
    finish(head, judged, hidden)
}

/// Checks a doctor's view of a shared folder (the doctor's browser, or the
/// owner's looking at what a doctor is served).
///
/// As [`check_record`], with `chain` from `sharing/heads`. Only the leaves
/// under the shared folder (by the head's parent links) must have a node.
pub fn check_shared(
    view: &SharedView<'_>,
    owner: &OwnerKeys,
    authors: &dyn Fn(&Id) -> Option<VerifyingKey>,
    grants: &GrantKnowledge,
    seen: Option<Seen>,
    chain: &[Signed<RecordHead>],
) -> Result<CheckedRecord, RecordAlarm> {
    let Some(head) = view.head else {
        return unsigned(seen);
    };
    let value = chain::owner_head(head, owner, None)?;
    chain::fresh(head, owner, seen, chain)?;
    chain::leaves_match(value, view.head_leaves)?;
    let judge = judge(view.nodes, value, view.head_leaves, owner, authors, grants)?;
    // The folder is in the head and lies under the head's root.
    if !judge.head.contains_key(&view.folder)
        || !nodes::within_by_head(&judge.head, &value.root_id, &view.folder)
    {
        return Err(RecordAlarm::TreeMismatch);
    }
    let judged = judge_all(&judge, view.nodes)?;
    let hidden = view
        .head_leaves
        .iter()
        .filter(|l| nodes::within_by_head(&judge.head, &view.folder, &l.node_id))
        .filter(|l| !judge.served.contains_key(&l.node_id))
        .count();
    finish(head, judged, hidden)
}

/// Rule 1: a record with no head.
fn unsigned(seen: Option<Seen>) -> Result<CheckedRecord, RecordAlarm> {
    match seen {
        Some(seen) => Err(RecordAlarm::HeadMissing { seen: seen.counter }),
        None => Ok(CheckedRecord {
            needs_adoption: true,
            ..CheckedRecord::default()
        }),
    }
}

fn judge<'a>(
    served: &'a [NodeView],
    head: &RecordHead,
    head_leaves: &'a [HeadLeaf],
    owner: &'a OwnerKeys,
    authors: &'a dyn Fn(&Id) -> Option<VerifyingKey>,
    grants: &'a GrantKnowledge,
) -> Result<nodes::Judge<'a>, RecordAlarm> {
    let mut by_id = HashMap::with_capacity(served.len());
    for n in served {
        if by_id.insert(n.node_id, n).is_some() {
            return Err(RecordAlarm::TreeMismatch);
        }
    }
    Ok(nodes::Judge {
        owner,
        authors,
        grants,
        head: head_leaves.iter().map(|l| (l.node_id, l)).collect(),
        served: by_id,
        head_made_at: head.made_at,
    })
}

/// The pending changes, the late ones and every served node's leaf.
type Judged = (Vec<Id>, Vec<LateChange>, Vec<HeadLeaf>);

/// Rules 5 and 6 for every served node: the pending ones and the late ones,
/// and the leaves of all (each computed once).
fn judge_all(judge: &nodes::Judge<'_>, served: &[NodeView]) -> Result<Judged, RecordAlarm> {
    let mut pending = Vec::new();
    let mut late = Vec::new();
    let mut leaves = Vec::with_capacity(served.len());
    for n in served {
        let (standing, leaf) = judge.node(n)?;
        leaves.push(leaf);
        match standing {
            nodes::Standing::Confirmed => {}
            nodes::Standing::Pending => pending.push(n.node_id),
            nodes::Standing::Late {
                doctor_id,
                grant_id,
            } => late.push(LateChange {
                node_id: n.node_id,
                doctor_id,
                grant_id,
            }),
        }
    }
    Ok((pending, late, leaves))
}

/// Every served node has a state (or [`judge_all`] refused it), so `leaves`
/// are [`tree_leaves`] of the served nodes.
fn finish(
    head: &Signed<RecordHead>,
    (pending, late, leaves): Judged,
    hidden: usize,
) -> Result<CheckedRecord, RecordAlarm> {
    if hidden > 0 {
        return Err(RecordAlarm::Hidden { count: hidden });
    }
    Ok(CheckedRecord {
        seen: Some(Seen::of(head)),
        pending,
        leaves,
        needs_adoption: false,
        late,
    })
}

/// The leaves of the nodes that have a state (what a head over them covers).
pub fn tree_leaves(nodes: &[NodeView]) -> Vec<HeadLeaf> {
    nodes
        .iter()
        .filter_map(|n| n.state.as_ref())
        .map(HeadLeaf::of)
        .collect()
}

/// The leaves after a change: `leaves` with each state of `put` replacing its
/// node's leaf (or added, for a new node) and the nodes of `removed` gone
/// (emptying the trash).
pub fn leaves_after(
    leaves: &[HeadLeaf],
    put: &[Signed<NodeState>],
    removed: &[Id],
) -> Vec<HeadLeaf> {
    let gone: HashSet<&Id> = removed
        .iter()
        .chain(put.iter().map(|s| &s.value.node_id))
        .collect();
    leaves
        .iter()
        .filter(|l| !gone.contains(&l.node_id))
        .copied()
        .chain(put.iter().map(HeadLeaf::of))
        .collect()
}

/// The owner's next head after `current`, over `leaves` (from
/// [`leaves_after`], or [`CheckedRecord::leaves`] to take pending doctor
/// changes in), made at `now`; the caller signs it with the owner's identity
/// key.
pub fn next_head(current: &Signed<RecordHead>, leaves: &[HeadLeaf], now: i64) -> RecordHead {
    RecordHead::next(current, leaves, now)
}

#[cfg(test)]
#[path = "verify/tests/mod.rs"]
mod tests;
