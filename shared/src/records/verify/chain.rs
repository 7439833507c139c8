//! Rules 2 and 3: the head is the owner's, and it is not older than, nor a
//! fork of, the head this browser remembers.

use std::collections::HashSet;

use super::{OwnerKeys, RecordAlarm, Seen};
use crate::{
    crypto::sign::Signed,
    model::Id,
    records::{head_link, state_hash, HeadLeaf, RecordHead},
};

/// Rule 2: signed by the owner, naming the owner and `root_id` (`None`: the
/// caller cannot know the root id and checks it from the leaves).
pub(super) fn owner_head<'h>(
    head: &'h Signed<RecordHead>,
    owner: &OwnerKeys,
    root_id: Option<&Id>,
) -> Result<&'h RecordHead, RecordAlarm> {
    let value = head
        .verify(&owner.identity_key)
        .map_err(|_| RecordAlarm::HeadNotSigned)?;
    if value.owner_id != owner.user_id || root_id.is_some_and(|r| *r != value.root_id) {
        return Err(RecordAlarm::HeadNotSigned);
    }
    Ok(value)
}

/// Rule 3: the served head against the remembered one, through `chain` (the
/// owner's heads after the remembered one, in order, as `records/heads` or
/// `sharing/heads` serve them). Heads in `chain` at or below the remembered
/// counter, and after the served head, are ignored.
pub(super) fn fresh(
    head: &Signed<RecordHead>,
    owner: &OwnerKeys,
    seen: Option<Seen>,
    chain: &[Signed<RecordHead>],
) -> Result<(), RecordAlarm> {
    let Some(seen) = seen else {
        // A browser that has never seen a head takes the newest it is shown.
        return Ok(());
    };
    let served = head.value.counter;
    let fork = RecordAlarm::Fork {
        seen: seen.counter,
        served,
    };
    if served < seen.counter {
        return Err(RecordAlarm::Rollback {
            seen: seen.counter,
            served,
        });
    }
    if served == seen.counter {
        return if head_link(head) == seen.link {
            Ok(())
        } else {
            Err(fork)
        };
    }
    // Walk from the remembered head to the served one, link by link.
    let mut counter = seen.counter;
    let mut link = seen.link;
    for next in chain.iter().filter(|h| h.value.counter > seen.counter) {
        let value = owner_head(next, owner, Some(&head.value.root_id)).map_err(|_| fork.clone())?;
        if value.counter != counter.saturating_add(1) || value.previous != link {
            return Err(fork);
        }
        counter = value.counter;
        link = head_link(next);
        if counter == served {
            break;
        }
    }
    if counter == served && link == head_link(head) {
        Ok(())
    } else {
        Err(fork)
    }
}

/// Rule 4: the leaves are exactly what the head's state hash covers, no node
/// twice.
pub(super) fn leaves_match(head: &RecordHead, leaves: &[HeadLeaf]) -> Result<(), RecordAlarm> {
    let mut ids = HashSet::with_capacity(leaves.len());
    if !leaves.iter().all(|l| ids.insert(l.node_id))
        || u32::try_from(leaves.len()).ok() != Some(head.node_count)
        || state_hash(leaves) != head.state_hash
    {
        return Err(RecordAlarm::TreeMismatch);
    }
    Ok(())
}
