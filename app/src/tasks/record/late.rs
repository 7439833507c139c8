//! Doctors' late changes (docs/PROTOCOL.md, section 4.5): a change a doctor
//! signed under a write grant that has ended since (removed, or past its end)
//! before the owner took it into a head. The check lists them instead of
//! refusing the record; the owner's browser moves each to the Trash with the
//! record's next head, before it folds anything, so the patient decides
//! whether to keep it.

use shared::{
    api::{
        directory::NamesRequest,
        records::{self, NodeRevision, RecordTree},
    },
    crypto::sign::Signed,
    model::Id,
    records::{
        change,
        verify::{leaves_after, next_head, LateChange},
        HeadLeaf, RecordHead, Signer,
    },
};

use crate::{
    api::directory::user_names,
    session::{now_unix, Session, Unlocked},
};

/// The record's head and leaves after the late changes went to the Trash.
pub(super) struct Trashed {
    pub head: Signed<RecordHead>,
    pub leaves: Vec<HeadLeaf>,
    /// What the Records page says about it.
    pub notice: String,
}

/// Moves every late change of `late` to the Trash, one at a time, each with
/// the next head after `head` over `leaves` (the checked leaves, the live
/// pending changes included: each head takes those in too). `tree` gets the
/// nodes as the server now keeps them.
pub(super) async fn trash_late(
    session: Session,
    unlocked: &Unlocked,
    tree: &mut RecordTree,
    late: &[LateChange],
    mut head: Signed<RecordHead>,
    mut leaves: Vec<HeadLeaf>,
) -> Result<Trashed, String> {
    let me = unlocked.key_entry.value.user_id;
    let key = unlocked.keyring.identity();
    for change in late {
        let Some(at) = tree.nodes.iter().position(|n| n.node_id == change.node_id) else {
            continue;
        };
        let view = &tree.nodes[at];
        let now = now_unix();
        let signer = Signer {
            owner_id: me,
            author_id: me,
            key,
            now,
        };
        // Trashed, or signed again as trashed when it already is.
        let state = signer.state(&change::trashed(view, now));
        let next_leaves = leaves_after(&leaves, std::slice::from_ref(&state), &[]);
        let next = next_head(&head, &next_leaves, now).sign(key);
        let answer = records::trash_node(NodeRevision {
            node_id: view.node_id,
            revision: view.revision,
            state: Some(state),
            head: Some(next.clone()),
        })
        .await
        .map_err(|e| {
            format!(
                "A file a doctor wrote after their access ended could not be moved to the Trash: {} Reload the page to try again.",
                session.explain(&e)
            )
        })?;
        tree.nodes[at] = answer;
        head = next;
        leaves = next_leaves;
    }
    Ok(Trashed {
        head,
        leaves,
        notice: notice(&doctor_names(late).await),
    })
}

/// The doctors' usernames, as the directory gives them (none when it does
/// not answer: the notice then says "a doctor").
async fn doctor_names(late: &[LateChange]) -> Vec<String> {
    let mut ids: Vec<Id> = late.iter().map(|l| l.doctor_id).collect();
    shared::sort::sort(&mut ids);
    ids.dedup();
    user_names(NamesRequest { ids })
        .await
        .map(|names| names.into_iter().map(|n| n.username).collect())
        .unwrap_or_default()
}

/// What the owner reads after late changes went to the Trash.
pub fn notice(doctors: &[String]) -> String {
    let who = if doctors.is_empty() {
        "a doctor".to_owned()
    } else {
        doctors.join(", ")
    };
    format!(
        "A file {who} wrote after their access ended (or that was not taken into your record before it ended) was moved to the Trash unopened. Look at it there, and delete it or restore it."
    )
}
