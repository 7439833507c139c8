//! Opening the patient's own record: fetched (made on first use by an
//! account whose keyring names no record), checked against its signed head,
//! signed for the first time when it was made before signed records, with
//! doctors' late changes moved to the Trash and their pending changes taken
//! into a new head, then decrypted.

use shared::{
    api::{
        records::{self, NewRecordRequest, RecordTree},
        ErrorCode,
    },
    model::{Id, Role},
    records::{
        new_record,
        verify::{next_head, Seen},
        OpenTree,
    },
};

use super::{check, late, Loaded, OpenError};
use crate::{
    platform::timing,
    session::{now_unix, Session, Unlocked},
};

/// What a patient whose keyring names a record reads when the server has
/// none.
pub const MISSING: &str = "Your record is missing on the server: your account made it, but the server now says there is none. Nothing was created or changed. Do not upload anything; tell your administrator.";

/// What a patient reads when a record born signed comes without its head.
pub const UNSIGNED: &str = "The server sent your record without your signature, although your account signed it from the start. Nothing was changed. Do not upload or change anything in this record until this is resolved, and tell your administrator.";

/// The record id the patient's keyring names (made at sign-up), if any.
fn named_record(unlocked: &Unlocked) -> Option<Id> {
    unlocked.keyring.record_id()
}

/// Fetches, checks and decrypts the caller's record, creating it first if
/// this patient has none yet and their keyring names none. Only patients own
/// a record. [`super::RecordStore`] is its only caller, holding its lock.
pub(super) async fn open_record(
    session: Session,
    unlocked: &Unlocked,
) -> Result<Loaded, OpenError> {
    if unlocked.info.role != Role::Patient {
        return Err("Only patients keep a record in medvault.".to_owned());
    }
    let me = unlocked.key_entry.value.user_id;
    let fetching = timing::span("fetch the record");
    let mut tree = fetch_or_create(session, unlocked).await?;
    fetching.end();
    if named_record(unlocked).is_some_and(|id| id != tree.root_id) {
        return Err(MISSING.to_owned());
    }
    let mut checked = check::check_own(session, unlocked, &tree).await?;
    if checked.needs_adoption {
        if named_record(unlocked).is_some() {
            return Err(UNSIGNED.to_owned());
        }
        // Today's checks first: every node's key and metadata open. A record
        // with items that do not is shown as before, unsigned.
        if open_tree(&tree, unlocked)?.unreadable.is_empty() {
            tree = check::adopt(session, unlocked, &tree).await?;
            checked = check::check_own(session, unlocked, &tree).await?;
        }
    }
    let mut head = tree.head.clone();
    let mut leaves = checked.leaves;
    let mut notice = None;
    if let (Some(current), false) = (&head, checked.late.is_empty()) {
        // Doctors' changes under grants ended since: to the Trash first, each
        // with a head that takes the live pending changes in too.
        let trashed = late::trash_late(
            session,
            unlocked,
            &mut tree,
            &checked.late,
            current.clone(),
            leaves,
        )
        .await?;
        head = Some(trashed.head);
        leaves = trashed.leaves;
        notice = Some(trashed.notice);
    } else if let (Some(current), false) = (&head, checked.pending.is_empty()) {
        // Doctors' changes, checked: take them into the record's history.
        let next = next_head(current, &leaves, now_unix()).sign(unlocked.keyring.identity());
        if records::fold_head(next.clone()).await.is_ok() {
            head = Some(next);
        }
    }
    if let Some(head) = &head {
        check::remember(unlocked, &me, &Seen::of(head));
    }
    let seq = tree.seq;
    let decrypting = timing::span("decrypt the record");
    // The served tree is not needed after this: opened without a copy.
    let opened = open_owned(tree, unlocked)?;
    decrypting.end();
    Ok(Loaded {
        tree: opened,
        seq,
        head,
        leaves,
        notice,
    })
}

fn open_tree(tree: &RecordTree, unlocked: &Unlocked) -> Result<OpenTree, OpenError> {
    open_owned(tree.clone(), unlocked)
}

fn open_owned(tree: RecordTree, unlocked: &Unlocked) -> Result<OpenTree, OpenError> {
    OpenTree::open(tree, unlocked.keyring.encryption()).map_err(|_| {
        "Your record could not be unlocked with your keys. If this keeps happening, contact your administrator."
            .to_owned()
    })
}

/// The record as served; made now if there is none and the keyring names
/// none (an account from before signed sign-ups).
async fn fetch_or_create(session: Session, unlocked: &Unlocked) -> Result<RecordTree, OpenError> {
    match records::get_record().await {
        Ok(Some(tree)) => return Ok(tree),
        Ok(None) if named_record(unlocked).is_some() => return Err(MISSING.to_owned()),
        Ok(None) => {}
        Err(e) => return Err(session.explain(&e)),
    }
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
        .map_err(|_| {
            "Your browser could not create the keys for your record. Reload the page and try again."
                .to_owned()
        })?;
    let NewRecordRequest {
        root,
        children,
        head,
    } = made.into();
    match records::create_record(root, children, Some(head)).await {
        Ok(tree) => Ok(tree),
        // Another tab made it meanwhile: use that one.
        Err(e) if e.code == ErrorCode::Conflict => records::get_record()
            .await
            .map_err(|e| session.explain(&e))?
            .ok_or_else(|| "Your record could not be found. Reload the page.".to_owned()),
        Err(e) => Err(session.explain(&e)),
    }
}
