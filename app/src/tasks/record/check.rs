//! The checks of a signed record on every load (`shared::records::verify`,
//! docs/PROTOCOL.md section 4.5): the head is the owner's, not older than the
//! one this browser remembers and linked to it, the tree matches it, and every
//! item is signed by someone allowed to write it. Doctors' keys come from the
//! directory's checked look-up (`tasks::directory::look_up`); the server's
//! word on who wrote what counts for nothing. The record is shown only when these pass.

use std::collections::{HashMap, HashSet};

use shared::{
    api::{
        directory::NamesRequest,
        records::{self, AdoptRequest, NodeView, RecordTree},
        sharing::{self, SharedScope},
        ApiError,
    },
    crypto::{b64, sign::Signed, sign::VerifyingKey},
    model::{Grant, Id, KeyEntry},
    records::{
        verify::{
            check_record, check_shared, CheckedRecord, GrantKnowledge, OwnerKeys, Seen, SharedView,
        },
        HeadLeaf, RecordHead, Signer,
    },
};

use crate::{
    api::directory::user_names,
    platform::{
        browser::removed_grants,
        seen_grants::seen_terms,
        seen_heads::{remember_head, seen_head},
        timing,
    },
    session::{now_unix, Session, Unlocked},
    tasks::directory::look_up,
};

/// The identity keys of the doctors who signed states among `nodes`, each
/// looked up in the directory and checked (an author whose entry does not
/// check out is left out: their items are then refused as not signed).
async fn author_keys(
    session: Session,
    nodes: &[NodeView],
    owner: &Id,
) -> Result<HashMap<Id, VerifyingKey>, String> {
    let ids: HashSet<Id> = nodes
        .iter()
        .filter_map(|n| n.state.as_ref())
        .map(|s| s.value.author_id)
        .filter(|a| a != owner)
        .collect();
    Ok(checked_authors(session, ids)
        .await?
        .into_iter()
        .map(|(id, (_, key))| (id, key))
        .collect())
}

/// The username and identity key of each of `ids`, from the directory's
/// checked look-up (`tasks::directory::look_up`) and kept only when the entry
/// found by that name has that id: what a page shows as a reading's or an
/// item's author is then the name the author's signature was checked under,
/// not the server's word.
pub async fn checked_authors(
    session: Session,
    ids: HashSet<Id>,
) -> Result<HashMap<Id, (String, VerifyingKey)>, String> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let names = user_names(NamesRequest {
        ids: ids.into_iter().collect(),
    })
    .await
    .map_err(|e| session.explain(&e))?;
    for name in names {
        // The directory's look-up with every check the app makes of an entry.
        let Ok(checked) = look_up(&name.username, crate::api::explain).await else {
            continue;
        };
        if checked.entry.user_id == name.user_id {
            out.insert(
                checked.entry.user_id,
                (name.username, checked.entry.identity_key),
            );
        }
    }
    Ok(out)
}

/// The owner's heads after `after` up to `until`, in order, page by page.
async fn chain<F, Fut>(
    session: Session,
    after: u64,
    until: u64,
    fetch: F,
) -> Result<Vec<Signed<RecordHead>>, String>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Signed<RecordHead>>, ApiError>>,
{
    let mut out: Vec<Signed<RecordHead>> = Vec::new();
    let mut from = after;
    while from < until {
        let page = fetch(from).await.map_err(|e| session.explain(&e))?;
        let Some(last) = page.last().map(|h| h.value.counter) else {
            break;
        };
        if last <= from {
            break;
        }
        out.extend(page);
        from = last;
    }
    Ok(out)
}

/// What this browser knows of `owner`'s grants: the ones it removed and the
/// newest terms it has seen of each.
fn grant_knowledge(owner: &Id) -> GrantKnowledge {
    GrantKnowledge {
        terms: seen_terms(owner),
        removed: removed_grants(&b64::encode(owner))
            .iter()
            .filter_map(|g| b64::decode(g))
            .filter_map(|g| Id::try_from(g.as_slice()).ok())
            .collect(),
        now: now_unix(),
    }
}

/// Checks the owner's own record as served; the sentence of the alarm when
/// it is refused.
pub async fn check_own(
    session: Session,
    unlocked: &Unlocked,
    tree: &RecordTree,
) -> Result<CheckedRecord, String> {
    let me = unlocked.key_entry.value.user_id;
    let seen = seen_head(&me, &me);
    let served = tree.head.as_ref().map_or(0, |h| h.value.counter);
    let heads = match seen {
        Some(seen) if served > seen.counter => {
            chain(session, seen.counter, served, records::record_heads).await?
        }
        _ => Vec::new(),
    };
    let owner = OwnerKeys {
        user_id: me,
        identity_key: unlocked.keyring.public_keys().identity,
    };
    let authors = author_keys(session, &tree.nodes, &me).await?;
    let checking = timing::span("check the record");
    let checked = check_record(
        tree,
        &owner,
        &|id| authors.get(id).copied(),
        &grant_knowledge(&me),
        seen,
        &heads,
    )
    .map_err(|alarm| alarm.sentence());
    checking.end();
    checked
}

/// Remembers the head a check accepted.
pub fn remember(unlocked: &Unlocked, owner: &Id, seen: &Seen) {
    remember_head(&unlocked.key_entry.value.user_id, owner, seen);
}

/// Signs a record made before signed records (every node as stored, and the
/// first head over them) and sends it (`records/adopt`); the record as now
/// stored.
pub async fn adopt(
    session: Session,
    unlocked: &Unlocked,
    tree: &RecordTree,
) -> Result<RecordTree, String> {
    let me = unlocked.key_entry.value.user_id;
    let key = unlocked.keyring.identity();
    let signer = Signer {
        owner_id: me,
        author_id: me,
        key,
        now: now_unix(),
    };
    let states: Vec<_> = tree.nodes.iter().map(|n| signer.state(n)).collect();
    let leaves: Vec<HeadLeaf> = states.iter().map(HeadLeaf::of).collect();
    let head = RecordHead::genesis(me, tree.root_id, &leaves, signer.now).sign(key);
    records::adopt_record(AdoptRequest { states, head })
        .await
        .map_err(|e| session.explain(&e))
}

/// Checks a doctor's view of one shared folder (the patient's head, the
/// record's leaves, the doctor's folder), with the patient's checked entry
/// and the checked grant; remembers the head per patient.
pub async fn check_doctor_view(
    session: Session,
    unlocked: &Unlocked,
    patient: &KeyEntry,
    grant: &Grant,
    scope: &SharedScope,
) -> Result<CheckedRecord, String> {
    let me = unlocked.key_entry.value.user_id;
    let seen = seen_head(&me, &patient.user_id);
    let served = scope.head.as_ref().map_or(0, |h| h.value.counter);
    let grant_id = b64::encode(&grant.grant_id);
    let heads = match seen {
        Some(seen) if served > seen.counter => {
            chain(session, seen.counter, served, |after| {
                sharing::shared_heads(grant_id.clone(), after)
            })
            .await?
        }
        _ => Vec::new(),
    };
    let owner = OwnerKeys {
        user_id: patient.user_id,
        identity_key: patient.identity_key,
    };
    let mut authors = author_keys(session, &scope.nodes, &patient.user_id).await?;
    authors.insert(me, unlocked.keyring.public_keys().identity);
    let view = SharedView {
        nodes: &scope.nodes,
        head: scope.head.as_ref(),
        head_leaves: &scope.head_leaves,
        folder: grant.node_id,
    };
    let checked = check_shared(
        &view,
        &owner,
        &|id| authors.get(id).copied(),
        &GrantKnowledge::at(now_unix()),
        seen,
        &heads,
    )
    .map_err(|alarm| alarm.sentence())?;
    if let Some(seen) = &checked.seen {
        remember(unlocked, &patient.user_id, seen);
    }
    Ok(checked)
}
