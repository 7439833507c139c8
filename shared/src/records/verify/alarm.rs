//! Why a browser refuses a record: one variant per rule of the browser checks,
//! each with the sentence the person reads.

use crate::model::Id;

/// What every refusal says after what happened: that the browser changed
/// nothing, and what to do next.
const NEXT: &str = "Nothing was changed. Do not upload or change anything in this record until this is resolved, and tell your administrator.";

/// Why a record (or a shared folder of one) was refused. The record is not
/// shown when any of these is the answer; [`RecordAlarm::sentence`] is what
/// the person reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordAlarm {
    /// The head is not signed by the record's owner, or names another owner
    /// or another record (rule 2).
    HeadNotSigned,
    /// This browser has seen a head of this record before, and the server now
    /// sends the record with no head at all.
    HeadMissing {
        /// The counter of the head this browser remembers.
        seen: u64,
    },
    /// The served head is older than the one this browser remembers (rule 3).
    Rollback {
        /// The counter this browser remembers.
        seen: u64,
        /// The counter the server sent.
        served: u64,
    },
    /// The served head does not descend from the one this browser remembers:
    /// same counter with another head, or a chain that does not link (rule 3).
    Fork {
        /// The counter this browser remembers.
        seen: u64,
        /// The counter the server sent.
        served: u64,
    },
    /// The list of leaves does not hash to the head's state hash, names a
    /// node twice or has another count; or the served nodes name one id twice
    /// (rule 4).
    TreeMismatch,
    /// A node has no signed state, or its signature does not verify, or the
    /// state does not describe the node as served, or names another record
    /// (rule 5).
    NotSigned {
        /// The node.
        node: Id,
    },
    /// A node's state is signed by a doctor who was not allowed to write it:
    /// no read-and-write grant signed by the owner naming that doctor, a grant
    /// of another folder, or a doctor who moved a node or added something
    /// other than a file (rule 5). A change under a grant that allowed it but
    /// has ended since (removed, past its end) is not refused: it is late.
    NotAllowed {
        /// The node.
        node: Id,
    },
    /// A node's state is one its owner signed once but that is not the one of
    /// the head: an older name, place, trash state or version, a deleted node
    /// brought back, the tree from before a key rotation (rule 6).
    Replayed {
        /// The node.
        node: Id,
    },
    /// Nodes the head lists are missing from what the server sent (rule 6).
    Hidden {
        /// How many.
        count: usize,
    },
}

impl RecordAlarm {
    /// What happened, that nothing was changed, and what to do next.
    pub fn sentence(&self) -> String {
        let what = match self {
            RecordAlarm::HeadNotSigned => {
                "The server sent a summary of this record that its owner did not sign.".to_owned()
            }
            RecordAlarm::HeadMissing { seen } => format!(
                "The server sent this record without its owner's signature, although this browser has already seen it signed (change {seen})."
            ),
            RecordAlarm::Rollback { seen, served } => format!(
                "The server sent an older copy of this record (change {served}; this browser has already seen change {seen})."
            ),
            RecordAlarm::Fork { seen, served } => format!(
                "The server sent a copy of this record (change {served}) whose history does not match the one this browser has already seen (change {seen})."
            ),
            RecordAlarm::TreeMismatch => {
                "The server's list of items in this record does not match the record's signed summary.".to_owned()
            }
            RecordAlarm::NotSigned { .. } => {
                "The server sent an item in this record that nobody allowed to write it has signed.".to_owned()
            }
            RecordAlarm::NotAllowed { .. } => {
                "The server sent an item in this record written by someone whose access does not allow that change there.".to_owned()
            }
            RecordAlarm::Replayed { .. } => {
                "The server sent an earlier state of an item in this record (an older name, place or version, or an item already deleted) instead of its current one.".to_owned()
            }
            RecordAlarm::Hidden { count: 1 } => {
                "The server left out an item of this record that its signed summary lists.".to_owned()
            }
            RecordAlarm::Hidden { count } => format!(
                "The server left out {count} items of this record that its signed summary lists."
            ),
        };
        format!("{what} {NEXT}")
    }
}

impl std::fmt::Display for RecordAlarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sentence())
    }
}
