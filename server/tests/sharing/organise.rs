//! A doctor with read-and-write access organises inside the shared folder:
//! new folders and entries (vital readings), renames and moves, each signed
//! by the doctor under the grant; nothing outside the folder, nothing with a
//! read-only grant, and the patient's browser takes every change in.

use shared::{
    api::records::NodeView,
    records::{
        new_child,
        verify::{check_record, GrantKnowledge, OwnerKeys},
        Signer,
    },
};

use super::*;
use crate::common::{files::metadata, Failure};

/// The doctor's signed request for a new `kind` named `name` in `parent` of
/// `owner`'s record, as the doctor's browser makes it (no head: only the
/// owner signs heads).
async fn add(
    d: &Patient,
    owner: &Id,
    parent: &OpenNode,
    kind: NodeKind,
    name: &str,
    now: i64,
) -> Result<NodeView, Failure> {
    let signer = Signer {
        owner_id: *owner,
        author_id: d.id,
        key: d.keyring.identity(),
        now,
    };
    let (node, _) = new_child(parent, kind, &metadata(name, 0, None), &signer).unwrap();
    d.c.post(
        "/api/records/node/create",
        &json!({ "node": node, "head": null }),
    )
    .await
}

/// The patient's browser's check of their own record, knowing the doctor.
async fn patient_checks(p: &Patient, doctor: &Patient) -> Vec<Id> {
    let owner = OwnerKeys {
        user_id: p.id,
        identity_key: p.keyring.identity().verifying_key(),
    };
    let key = doctor.keyring.identity().verifying_key();
    let authors = |id: &Id| (*id == doctor.id).then_some(key);
    let grants = GrantKnowledge::at(i64::MAX / 2);
    let checked = check_record(&p.raw_tree().await, &owner, &authors, &grants, None, &[]);
    // The grant has no end, so the far future is still inside it.
    checked
        .expect("the patient's browser takes the doctor's changes in")
        .pending
}

#[tokio::test]
async fn a_doctor_organises_inside_the_shared_folder_only() {
    let s = Server::new();
    let p = patient(&s, "maple").await;
    let w = writer(&s, "dr.organise").await;
    let r = writer(&s, "dr.reader").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let labs = find(&tree, "Lab results").clone();
    let letter = p
        .start_new(&notes, "letter.txt", b"dear", s.now())
        .await
        .unwrap();
    p.put_all(&letter).await;
    p.finish(&letter, s.now()).await.unwrap();
    let rw = share_as(
        &s,
        &p,
        "dr.organise",
        &notes,
        Permission::ReadWrite,
        None,
        None,
    )
    .await
    .unwrap();
    let rw_id = rw.grant.value.grant_id;
    share(&s, &p, "dr.reader", &notes, None, None)
        .await
        .unwrap();
    let seen = open_scope_as(&w.c, &w.id, &w.keyring, "maple", &rw_id).await;
    let top = seen.root().unwrap().clone();
    let mut before = p.history().await.len();

    // A folder and an entry (a reading), signed by the doctor under the grant.
    let folder = add(&w, &p.id, &top, NodeKind::Folder, "Referrals", s.now())
        .await
        .unwrap();
    let reading = add(&w, &p.id, &top, NodeKind::Entry, "Pulse 72", s.now())
        .await
        .unwrap();
    for made in [&folder, &reading] {
        let state = made.state.as_ref().unwrap();
        assert_eq!(state.value.author_id, w.id);
        assert_eq!(state.value.owner_id, p.id);
        let grant = made.write_grant.as_ref().map(|g| g.value.grant_id);
        assert_eq!(grant, Some(rw_id));
    }
    let own = p.tree().await;
    assert_eq!(
        own.node(&folder.node_id).unwrap().metadata.name,
        "Referrals"
    );
    assert_eq!(
        own.node(&reading.node_id).unwrap().metadata.name,
        "Pulse 72"
    );
    // The patient's browser takes both in (the test helpers below sign
    // renames and moves at time 0, which the browser would call replayed).
    assert_eq!(patient_checks(&p, &w).await.len(), 2);
    let seen = open_scope_as(&w.c, &w.id, &w.keyring, "maple", &rw_id).await;
    let referrals = seen.node(&folder.node_id).unwrap().clone();

    // Renamed, then moved into the doctor's new folder.
    let file = seen.node(&letter.node_id).unwrap().clone();
    let renamed = w
        .update(&file, "referral letter.txt", file.view.revision)
        .await
        .unwrap();
    assert_eq!(renamed.state.unwrap().value.author_id, w.id);
    let seen = open_scope_as(&w.c, &w.id, &w.keyring, "maple", &rw_id).await;
    let file = seen.node(&letter.node_id).unwrap().clone();
    let moved = w
        .move_to(&file, &referrals, file.view.revision)
        .await
        .unwrap();
    assert_eq!(moved.parent_id, Some(folder.node_id));
    let own = p.tree().await;
    let now_there = own.node(&letter.node_id).unwrap();
    assert_eq!(now_there.metadata.name, "referral letter.txt");
    assert_eq!(now_there.view.parent_id, Some(folder.node_id));
    // The file still opens for the patient under its new folder's key.
    let version = now_there.view.current.clone().unwrap();
    assert_eq!(p.download(now_there, &version).await, b"dear");
    let events = fresh(&p, &mut before).await;
    for kind in [
        EventKind::NodeCreated,
        EventKind::NodeUpdated,
        EventKind::NodeMoved,
    ] {
        assert!(events.contains(&kind), "{kind:?} in {events:?}");
    }

    // Nothing outside: a folder beside the shared one, a move out of it, the
    // shared folder itself renamed or moved.
    let root = tree.root().unwrap();
    let outside = add(&w, &p.id, root, NodeKind::Folder, "mine", s.now()).await;
    expect_err(outside.map(|_| ()), StatusCode::NOT_FOUND);
    let seen = open_scope_as(&w.c, &w.id, &w.keyring, "maple", &rw_id).await;
    let file = seen.node(&letter.node_id).unwrap().clone();
    expect_err(
        w.move_to(&file, &labs, file.view.revision).await,
        StatusCode::NOT_FOUND,
    );
    let top = seen.root().unwrap().clone();
    let e = expect_err(
        w.update(&top, "Mine now", top.view.revision).await,
        StatusCode::FORBIDDEN,
    );
    assert!(e.message.contains("cannot be changed"), "{}", e.message);
    expect_err(
        w.move_to(&top, &referrals, top.view.revision).await,
        StatusCode::FORBIDDEN,
    );

    // Write access to a second folder does not join the two: a move from
    // one grant's folder into another's is refused.
    share_as(
        &s,
        &p,
        "dr.organise",
        &labs,
        Permission::ReadWrite,
        None,
        None,
    )
    .await
    .unwrap();
    let e = expect_err(
        w.move_to(&file, &labs, file.view.revision).await,
        StatusCode::FORBIDDEN,
    );
    assert!(
        e.message.contains("only within the folder"),
        "{}",
        e.message
    );

    // A read-only doctor changes nothing, and a refusal leaves no trace.
    let shot = snapshot(&p).await;
    let ro = grants(&r.c).await;
    let ro_id = ro[0].grant.value.grant_id;
    let r_seen = open_scope_as(&r.c, &r.id, &r.keyring, "maple", &ro_id).await;
    let r_top = r_seen.root().unwrap().clone();
    let r_file = r_seen.node(&letter.node_id).unwrap().clone();
    for refused in [
        add(&r, &p.id, &r_top, NodeKind::Folder, "no", s.now()).await,
        add(&r, &p.id, &r_top, NodeKind::Entry, "no", s.now()).await,
        r.update(&r_file, "no", r_file.view.revision).await,
        r.move_to(&r_file, &r_top, r_file.view.revision).await,
    ] {
        expect_err(refused.map(|_| ()), StatusCode::FORBIDDEN);
    }
    assert_eq!(snapshot(&p).await, shot);

    // After the patient removes the grant, nothing more is written.
    let _: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&rw_id) } }),
        )
        .await
        .unwrap();
    let late = add(&w, &p.id, &top, NodeKind::Entry, "late", s.now()).await;
    expect_err(late.map(|_| ()), StatusCode::NOT_FOUND);
}
