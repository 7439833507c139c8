//! Attacks on signed records, played against a real server: the patient (and
//! a doctor) make real changes through the API with the app's own signing
//! code, then the test alters what the server answers, as a malicious server
//! would (an older answer served again, a node left out, a node put back, a
//! node injected), and checks that the browser's checks
//! (`shared::records::verify`) refuse it with the right alarm, or accept the
//! honest answer.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::{
    patient::{find, patient, Patient},
    Server,
};
use serde_json::json;
use shared::{
    api::{
        directory::DirectoryEntry,
        records::{NodeKind, NodeView, RecordTree},
        sharing::{GrantView, SharedScope},
    },
    crypto::{
        b64,
        sign::{Signed, VerifyingKey},
    },
    model::{Id, KeyEntry, Permission, Role},
    records::{
        verify::{
            check_record, check_shared, next_head, CheckedRecord, GrantKnowledge, LateChange,
            OwnerKeys, RecordAlarm, Seen, SharedView,
        },
        NodeState, OpenTree, RecordHead,
    },
    sharing::{make_grant, open_grant, GrantChoice},
};

/// A user's key entry as the directory serves it, self-signature checked
/// (the pinned directory of the app).
async fn entry(p: &Patient, username: &str) -> KeyEntry {
    let served: DirectoryEntry =
        p.c.post("/api/directory/lookup", &json!({ "username": username }))
            .await
            .unwrap();
    served.entry.verify_self().unwrap().clone()
}

/// What a browser knows: the owner's keys and the doctors' keys.
struct Browser {
    owner: OwnerKeys,
    authors: HashMap<Id, VerifyingKey>,
    now: i64,
}

impl Browser {
    fn of(owner: &Patient, doctors: &[&Patient], now: i64) -> Browser {
        Browser {
            owner: OwnerKeys {
                user_id: owner.id,
                identity_key: owner.keyring.identity().verifying_key(),
            },
            authors: doctors
                .iter()
                .map(|d| (d.id, d.keyring.identity().verifying_key()))
                .collect(),
            now,
        }
    }

    fn grants(&self) -> GrantKnowledge {
        GrantKnowledge::at(self.now)
    }

    /// The owner's browser checks `tree`, fetching the chain after `seen`
    /// as the app does.
    async fn check(
        &self,
        p: &Patient,
        tree: &RecordTree,
        seen: Option<Seen>,
    ) -> Result<CheckedRecord, RecordAlarm> {
        self.check_knowing(p, tree, seen, &self.grants()).await
    }

    async fn check_knowing(
        &self,
        p: &Patient,
        tree: &RecordTree,
        seen: Option<Seen>,
        grants: &GrantKnowledge,
    ) -> Result<CheckedRecord, RecordAlarm> {
        let chain = match (seen, &tree.head) {
            (Some(seen), Some(head)) if head.value.counter > seen.counter => {
                p.c.get::<Vec<Signed<RecordHead>>>(&format!(
                    "/api/records/heads?after={}",
                    seen.counter
                ))
                .await
                .unwrap()
            }
            _ => Vec::new(),
        };
        let authors = |id: &Id| self.authors.get(id).copied();
        check_record(tree, &self.owner, &authors, grants, seen, &chain)
    }

    /// A doctor's browser checks its view of a shared folder.
    fn check_shared(
        &self,
        scope: &SharedScope,
        seen: Option<Seen>,
    ) -> Result<CheckedRecord, RecordAlarm> {
        let view = SharedView {
            nodes: &scope.nodes,
            head: scope.head.as_ref(),
            head_leaves: &scope.head_leaves,
            folder: scope.grant.grant.value.node_id,
        };
        let authors = |id: &Id| self.authors.get(id).copied();
        check_shared(&view, &self.owner, &authors, &self.grants(), seen, &[])
    }
}

/// The served tree with node `id` as `old` had it (put back if gone).
fn with_old(tree: &RecordTree, old: &RecordTree, id: &Id) -> RecordTree {
    let mut tree = tree.clone();
    let was = old.nodes.iter().find(|n| n.node_id == *id).unwrap().clone();
    match tree.nodes.iter_mut().find(|n| n.node_id == *id) {
        Some(n) => *n = was,
        None => tree.nodes.push(was),
    }
    tree
}

fn without(tree: &RecordTree, ids: &[Id]) -> RecordTree {
    let mut tree = tree.clone();
    tree.nodes.retain(|n| !ids.contains(&n.node_id));
    tree
}

async fn doctor(s: &Server, name: &str) -> Patient {
    let c = s.client();
    let (info, account) = c
        .signup(name, Some(s.cli_invite(Role::Doctor)), s.now())
        .await
        .unwrap();
    Patient {
        c,
        id: info.user_id,
        name: info.username,
        keyring: account.keyring,
    }
}

/// The patient shares `node` with `to` as the app does.
async fn share(
    s: &Server,
    p: &Patient,
    to: &str,
    node: &shared::records::OpenNode,
    permission: Permission,
) -> GrantView {
    share_until(s, p, to, node, permission, None).await
}

/// [`share`], ending at `expires_at`.
async fn share_until(
    s: &Server,
    p: &Patient,
    to: &str,
    node: &shared::records::OpenNode,
    permission: Permission,
    expires_at: Option<i64>,
) -> GrantView {
    let doctor = entry(p, to).await;
    let me = entry(p, &p.name).await;
    let picked = GrantChoice {
        doctor,
        node_id: *node.id(),
        node_key: node.key.clone(),
        permission,
        expires_at,
        emergency: false,
    };
    let (grant, wrapped) = make_grant(&me, p.keyring.identity(), &picked, s.now()).unwrap();
    p.c.post(
        "/api/sharing/grant/create",
        &json!({ "request": { "grant": grant, "wrapped_key": b64::encode(&wrapped), "request_id": null } }),
    )
    .await
    .unwrap()
}

async fn scope(d: &Patient, grant: &Id) -> SharedScope {
    d.c.get(&format!(
        "/api/sharing/shared?grant_id={}",
        b64::encode(grant)
    ))
    .await
    .unwrap()
}

/// The doctor's opened view of a grant (as the doctor's browser opens it).
async fn open_scope(d: &Patient, patient_name: &str, grant: &Id) -> OpenTree {
    let shared = scope(d, grant).await;
    let patient = entry(d, patient_name).await;
    let opened = open_grant(&shared.grant, &patient, &d.id, d.keyring.encryption()).unwrap();
    OpenTree::open_from(
        patient.user_id,
        opened.grant.node_id,
        opened.node_key,
        shared.nodes,
        shared.usage,
    )
    .unwrap()
}

#[tokio::test]
async fn a_rename_then_the_older_record_served_again_is_refused() {
    let s = Server::new();
    let p = patient(&s, "rena").await;
    p.create_record(s.now()).await;
    let b = Browser::of(&p, &[], s.now());
    let before = p.raw_tree().await;
    let seen = b.check(&p, &before, None).await.unwrap().seen;
    assert!(seen.is_some());

    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    p.update(notes, "Private", notes.view.revision)
        .await
        .unwrap();
    let after = p.raw_tree().await;
    // The honest answer passes through the chain the server lists.
    let seen = b.check(&p, &after, seen).await.unwrap().seen;
    let counter = seen.unwrap().counter;
    assert_eq!(counter, 2);

    // The whole older record, head and all.
    assert_eq!(
        b.check(&p, &before, seen).await,
        Err(RecordAlarm::Rollback { seen: 2, served: 1 })
    );
    // The new head, with the folder's older name: refused even by a browser
    // that never saw a head.
    let id = *notes.id();
    let replayed = with_old(&after, &before, &id);
    for remembered in [seen, None] {
        assert_eq!(
            b.check(&p, &replayed, remembered).await,
            Err(RecordAlarm::Replayed { node: id })
        );
    }
    let sentence = RecordAlarm::Rollback { seen: 2, served: 1 }.sentence();
    assert!(sentence.contains("older copy of this record"), "{sentence}");
}

#[tokio::test]
async fn a_hidden_file_or_subtree_is_refused() {
    let s = Server::new();
    let p = patient(&s, "hidi").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let file = p
        .upload_new(labs, "blood.txt", b"ferritin 12", s.now())
        .await;
    let labs = *labs.id();
    let b = Browser::of(&p, &[], s.now());
    let served = p.raw_tree().await;
    assert!(b.check(&p, &served, None).await.is_ok());
    assert_eq!(
        b.check(&p, &without(&served, &[file]), None).await,
        Err(RecordAlarm::Hidden { count: 1 })
    );
    assert_eq!(
        b.check(&p, &without(&served, &[file, labs]), None).await,
        Err(RecordAlarm::Hidden { count: 2 })
    );
}

#[tokio::test]
async fn a_deleted_file_brought_back_or_an_older_version_made_current_is_refused() {
    let s = Server::new();
    let p = patient(&s, "lazarus").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let file = p
        .upload_new(labs, "x-ray.txt", b"first reading", s.now())
        .await;
    let v1 = p.raw_tree().await;
    let tree = p.tree().await;
    let node = tree.node(&file).unwrap();
    p.upload_version(node, b"second reading", s.now()).await;
    let v2 = p.raw_tree().await;
    let b = Browser::of(&p, &[], s.now());
    assert!(b.check(&p, &v2, None).await.is_ok());
    assert_eq!(
        b.check(&p, &with_old(&v2, &v1, &file), None).await,
        Err(RecordAlarm::Replayed { node: file })
    );

    let revision = v2
        .nodes
        .iter()
        .find(|n| n.node_id == file)
        .unwrap()
        .revision;
    p.trash(&file, revision).await.unwrap();
    p.empty_trash().await.unwrap();
    let emptied = p.raw_tree().await;
    assert!(emptied.nodes.iter().all(|n| n.node_id != file));
    assert!(b.check(&p, &emptied, None).await.is_ok());
    assert_eq!(
        b.check(&p, &with_old(&emptied, &v2, &file), None).await,
        Err(RecordAlarm::Replayed { node: file })
    );
}

#[tokio::test]
async fn an_entry_injected_by_a_read_only_doctor_is_refused() {
    let s = Server::new();
    let p = patient(&s, "vera").await;
    let d = doctor(&s, "dr.reader").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let vitals = find(&tree, "Vital signs");
    let grant = share(&s, &p, "dr.reader", vitals, Permission::Read).await;
    // The doctor holds the folder's key, seals an entry under it and signs
    // its state; the server serves it in the patient's record.
    let mut served = p.raw_tree().await;
    let injected = NodeView {
        node_id: [0x77; 16],
        parent_id: Some(*vitals.id()),
        kind: NodeKind::Entry,
        wrapped_key: vec![1; 72],
        metadata: vec![2; 256],
        revision: 1,
        trashed_at: None,
        current: None,
        version_count: 0,
        state: None,
        write_grant: Some(grant.grant.clone()),
    };
    let mut node = injected.clone();
    node.state =
        Some(NodeState::describe(p.id, &injected, d.id, s.now()).sign(d.keyring.identity()));
    served.nodes.push(node.clone());
    let b = Browser::of(&p, &[&d], s.now());
    assert_eq!(
        b.check(&p, &served, None).await,
        Err(RecordAlarm::NotAllowed { node: [0x77; 16] })
    );
    // Signed by nobody the browser knows.
    let mut unsigned = p.raw_tree().await;
    node.state = None;
    unsigned.nodes.push(node);
    assert_eq!(
        b.check(&p, &unsigned, None).await,
        Err(RecordAlarm::NotSigned { node: [0x77; 16] })
    );
}

#[tokio::test]
async fn a_doctors_move_that_reaches_outside_the_grant_is_refused() {
    let s = Server::new();
    let p = patient(&s, "ines").await;
    let d = doctor(&s, "dr.mover").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    let labs = find(&tree, "Lab results");
    let grant = share(&s, &p, "dr.mover", notes, Permission::ReadWrite).await;
    // The server (colluding with the doctor, who signs it) serves a Labs
    // folder moved into Notes, and then Notes' own folder moved out to Labs.
    let b = Browser::of(&p, &[&d], s.now());
    for (moved, into) in [(labs.id(), notes.id()), (notes.id(), labs.id())] {
        let mut served = p.raw_tree().await;
        let node = served
            .nodes
            .iter_mut()
            .find(|n| n.node_id == *moved)
            .unwrap();
        node.parent_id = Some(*into);
        node.revision += 1;
        node.write_grant = Some(grant.grant.clone());
        let described = node.clone();
        node.state =
            Some(NodeState::describe(p.id, &described, d.id, s.now()).sign(d.keyring.identity()));
        assert_eq!(
            b.check(&p, &served, None).await,
            Err(RecordAlarm::NotAllowed { node: *moved })
        );
    }
}

#[tokio::test]
async fn a_doctors_upload_waits_until_the_owner_takes_it_in_and_a_removed_doctors_does_not_count() {
    let s = Server::new();
    let p = patient(&s, "wanda").await;
    let d = doctor(&s, "dr.writer").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let grant = share(&s, &p, "dr.writer", labs, Permission::ReadWrite).await;
    let grant_id = grant.grant.value.grant_id;
    let shared = open_scope(&d, "wanda", &grant_id).await;
    let folder = shared.node(&grant.grant.value.node_id).unwrap();
    let up = d
        .start_new(folder, "ecg.txt", b"sinus rhythm", s.now())
        .await
        .unwrap();
    d.put_all(&up).await;
    d.finish(&up, s.now()).await.unwrap();

    let b = Browser::of(&p, &[&d], s.now());
    let served = p.raw_tree().await;
    let checked = b.check(&p, &served, None).await.unwrap();
    assert_eq!(checked.pending, vec![up.node_id]);
    // The doctor's browser sees it pending too.
    let view = scope(&d, &grant_id).await;
    assert_eq!(
        b.check_shared(&view, None).unwrap().pending,
        vec![up.node_id]
    );

    // A browser that knows the grant was removed does not take it in: it is
    // late (and moved to the Trash, below in `..._is_late_...`).
    let mut removed = b.grants();
    removed.removed.insert(grant_id);
    let late = b.check_knowing(&p, &served, None, &removed).await.unwrap();
    assert!(late.pending.is_empty());
    assert_eq!(late.late.len(), 1);

    // The owner's browser takes it in: a head over the checked leaves.
    let head = next_head(served.head.as_ref().unwrap(), &checked.leaves, s.now())
        .sign(p.keyring.identity());
    let _: () =
        p.c.post("/api/records/head", &json!({ "head": head }))
            .await
            .unwrap();
    let folded = p.raw_tree().await;
    let again = b.check(&p, &folded, checked.seen).await.unwrap();
    assert!(again.pending.is_empty());
    // Once in a head, a later removal does not undo it.
    assert!(b
        .check_knowing(&p, &folded, again.seen, &removed)
        .await
        .is_ok());
}

#[tokio::test]
async fn the_doctors_view_with_a_file_hidden_or_rolled_back_is_refused() {
    let s = Server::new();
    let p = patient(&s, "olga").await;
    let d = doctor(&s, "dr.view").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let file = p.upload_new(labs, "mri.txt", b"no findings", s.now()).await;
    let grant = share(&s, &p, "dr.view", labs, Permission::Read).await;
    let grant_id = grant.grant.value.grant_id;
    let b = Browser::of(&p, &[&d], s.now());
    let before = scope(&d, &grant_id).await;
    let seen = b.check_shared(&before, None).unwrap().seen;

    let mut hidden = before.clone();
    hidden.nodes.retain(|n| n.node_id != file);
    assert_eq!(
        b.check_shared(&hidden, seen),
        Err(RecordAlarm::Hidden { count: 1 })
    );

    // The patient renames the file; the doctor has seen the new head; the
    // server then serves the doctor the older view.
    let tree = p.tree().await;
    let node = tree.node(&file).unwrap();
    p.update(node, "mri-2024.txt", node.view.revision)
        .await
        .unwrap();
    let after = scope(&d, &grant_id).await;
    let seen = b.check_shared(&after, None).unwrap().seen;
    let counter = seen.unwrap().counter;
    assert_eq!(
        b.check_shared(&before, seen),
        Err(RecordAlarm::Rollback {
            seen: counter,
            served: counter - 1
        })
    );
}

#[tokio::test]
async fn a_file_trashed_in_the_shared_folder_is_not_taken_for_a_hidden_one() {
    // The head lists trashed nodes too, so the doctor's view must carry them
    // (the app leaves them out of what it shows).
    let s = Server::new();
    let p = patient(&s, "tess").await;
    let d = doctor(&s, "dr.trash").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let file = p.upload_new(labs, "old.txt", b"outdated", s.now()).await;
    let grant = share(&s, &p, "dr.trash", labs, Permission::Read).await;
    let revision = p
        .raw_tree()
        .await
        .nodes
        .iter()
        .find(|n| n.node_id == file)
        .unwrap()
        .revision;
    p.trash(&file, revision).await.unwrap();
    let b = Browser::of(&p, &[&d], s.now());
    let view = scope(&d, &grant.grant.value.grant_id).await;
    assert!(b.check_shared(&view, None).is_ok());
}

/// How a doctor's write grant ends before the patient's browser takes the
/// doctor's change in.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Its signed end passes (test clock).
    Expires,
    /// The patient removes it (this browser knows).
    Removed,
}

/// A real doctor's upload (and trash of a file the owner had taken in) under
/// a write grant that then ends: the owner's browser lists both as late, not
/// as an alarm; it moves the new file to the Trash and signs the trashed one
/// again, each with its next head, which the server takes; the next check is
/// clean and both are in the Trash.
async fn late_changes_go_to_the_trash(ending: Ending) {
    let s = Server::new();
    let p = patient(&s, "xena").await;
    let d = doctor(&s, "dr.late").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let old = p.upload_new(labs, "old.txt", b"taken in", s.now()).await;
    let end = s.now() + 60;
    let grant = share_until(&s, &p, "dr.late", labs, Permission::ReadWrite, Some(end)).await;
    let grant_id = grant.grant.value.grant_id;
    let shared = open_scope(&d, "xena", &grant_id).await;
    let folder = shared.node(&grant.grant.value.node_id).unwrap();
    let up = d
        .start_new(folder, "late.txt", b"after the end", s.now())
        .await
        .unwrap();
    d.put_all(&up).await;
    d.finish(&up, s.now()).await.unwrap();
    // The doctor's trash, signed now (the helper's `trash` signs at 0).
    let rev = shared.node(&old).unwrap().view.revision;
    let mut body = json!({ "request": { "node_id": b64::encode(&old), "revision": rev } });
    d.sign_request(&mut body, &old, s.now(), |v| {
        v.trashed_at = Some(0);
        v.revision = rev + 1;
    })
    .await;
    let _: NodeView = d.c.post("/api/records/node/trash", &body).await.unwrap();

    let mut known = GrantKnowledge::at(s.now());
    match ending {
        Ending::Expires => s.advance(120),
        Ending::Removed => {
            let _: GrantView =
                p.c.post(
                    "/api/sharing/grant/revoke",
                    &json!({ "request": { "grant_id": b64::encode(&grant_id) } }),
                )
                .await
                .unwrap();
            known.removed.insert(grant_id);
        }
    }
    known.now = s.now();
    let b = Browser::of(&p, &[&d], s.now());
    let served = p.raw_tree().await;
    let checked = b.check_knowing(&p, &served, None, &known).await.unwrap();
    assert!(checked.pending.is_empty(), "{ending:?}");
    let mut late: Vec<Id> = checked.late.iter().map(|l| l.node_id).collect();
    late.sort_unstable();
    let mut expected = vec![up.node_id, old];
    expected.sort_unstable();
    assert_eq!(late, expected, "{ending:?}");
    assert!(checked.late.iter().all(|l| *l
        == LateChange {
            node_id: l.node_id,
            doctor_id: d.id,
            grant_id,
        }));

    // The owner's browser: each to the Trash (or signed again as trashed)
    // with the next head, through `records/node/trash`.
    for id in [up.node_id, old] {
        let now = p.raw_tree().await;
        let node = now.nodes.iter().find(|n| n.node_id == id).unwrap();
        let trashed = p.trash(&id, node.revision).await.unwrap();
        assert!(trashed.trashed_at.is_some(), "{ending:?}");
    }
    let after = p.raw_tree().await;
    let again = b
        .check_knowing(&p, &after, checked.seen, &known)
        .await
        .unwrap();
    assert!(
        again.late.is_empty() && again.pending.is_empty(),
        "{ending:?}"
    );
    let trashed = Patient::trashed_ids(&after);
    assert!(trashed.contains(&up.node_id) && trashed.contains(&old));
}

#[tokio::test]
async fn a_doctors_change_after_the_grant_expired_is_late_and_goes_to_the_trash() {
    late_changes_go_to_the_trash(Ending::Expires).await;
}

#[tokio::test]
async fn a_doctors_change_after_the_grant_was_removed_is_late_and_goes_to_the_trash() {
    late_changes_go_to_the_trash(Ending::Removed).await;
}

#[tokio::test]
async fn only_the_owner_signs_an_item_already_in_the_trash_again() {
    let s = Server::new();
    let p = patient(&s, "yara").await;
    let d = doctor(&s, "dr.again").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let file = p.upload_new(labs, "x.txt", b"x", s.now()).await;
    let grant = share(&s, &p, "dr.again", labs, Permission::ReadWrite).await;
    let grant_id = grant.grant.value.grant_id;
    let shared = open_scope(&d, "yara", &grant_id).await;
    let rev = shared.node(&file).unwrap().view.revision;
    let trashed = d.trash(&file, rev).await.unwrap();
    let before = p.raw_tree().await;
    // Out of the doctor's sight once trashed: refused, nothing changed.
    assert!(d.trash(&file, trashed.revision).await.is_err());
    assert_eq!(p.raw_tree().await, before);
    // Nor may the owner without a signed state (a record not yet signed).
    let mut bare =
        json!({ "request": { "node_id": b64::encode(&file), "revision": trashed.revision } });
    bare["request"]["state"] = serde_json::Value::Null;
    let refused: Result<NodeView, _> = p.c.post("/api/records/node/trash", &bare).await;
    assert!(refused.is_err());
    assert_eq!(p.raw_tree().await, before);
}
