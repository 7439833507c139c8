//! A doctor with read-and-write access writes inside the shared folder only;
//! new file ids stay one record's.

use super::*;

#[tokio::test]
async fn a_doctor_with_write_access_writes_inside_the_scope_only() {
    let s = Server::new();
    let p = patient(&s, "wren").await;
    let w = writer(&s, "dr.write").await;
    let r = writer(&s, "dr.read").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let labs = find(&tree, "Lab results").clone();
    let rw = share_as(
        &s,
        &p,
        "dr.write",
        &notes,
        Permission::ReadWrite,
        None,
        None,
    )
    .await
    .unwrap();
    let ro = share(&s, &p, "dr.read", &notes, None, None).await.unwrap();
    let rw_id = rw.grant.value.grant_id;
    let seen = open_scope_as(&w.c, &w.id, &w.keyring, "wren", &rw_id).await;
    let top = seen.root().unwrap().clone();

    // The doctor adds a file to the shared folder; it lands in the patient's record.
    let bytes = content("written by the doctor", 9000);
    let up = w
        .start_new(&top, "letter.txt", &bytes, s.now())
        .await
        .unwrap();
    w.put_all(&up).await;
    w.finish(&up, s.now()).await.unwrap();
    let own = p.tree().await;
    let added = own.node(&up.node_id).unwrap().clone();
    let version = added.view.current.clone().unwrap();
    assert_eq!(version.author_id, w.id);
    assert_eq!(version.author_name, "dr.write");
    assert_eq!(
        version.write_grant.as_ref().map(|g| g.value.grant_id),
        Some(rw_id)
    );
    // The patient's browser accepts it only with the doctor's patient-signed grant.
    let patient_entry = entry(&p.c, "wren").await;
    let w_entry = entry(&p.c, "dr.write").await;
    let r_entry = entry(&p.c, "dr.read").await;
    let covers = |f: &Id, i: &Id| own.covers(f, i);
    assert!(check_version(&version, &patient_entry, Some(&w_entry), covers).is_ok());
    assert!(check_version(&version, &patient_entry, None, covers).is_err());
    let mut read_only = version.clone();
    read_only.write_grant = Some(ro.grant.clone());
    assert!(check_version(&read_only, &patient_entry, Some(&w_entry), covers).is_err());
    assert!(check_version(&version, &patient_entry, Some(&r_entry), covers).is_err());
    let chunks = p.chunks_of(&version).await;
    assert_eq!(
        open_file(&version, &w_entry.identity_key, &added.key, &chunks),
        bytes
    );
    // The patient's history names the doctor's write.
    assert!(p.history().await.contains(&EventKind::FileWritten));

    // A new version of it, too.
    let seen = open_scope_as(&w.c, &w.id, &w.keyring, "wren", &rw_id).await;
    let letter = seen.node(&up.node_id).unwrap().clone();
    let v2 = w.start_version(&letter, b"second draft").await.unwrap();
    assert_eq!(v2.ticket.version, 2);
    w.put_all(&v2).await;
    w.finish(&v2, s.now()).await.unwrap();

    // The read-only doctor may not write: forbidden, as they know the folder.
    let r_seen = open_scope_as(&r.c, &r.id, &r.keyring, "wren", &ro.grant.value.grant_id).await;
    let r_top = r_seen.root().unwrap().clone();
    let e = expect_err(
        r.start_new(&r_top, "x.txt", b"no", s.now())
            .await
            .map(|_| ()),
        StatusCode::FORBIDDEN,
    );
    assert_eq!(e.code, ErrorCode::Forbidden);
    expect_err(
        r.start_version(&letter, b"no").await.map(|_| ()),
        StatusCode::FORBIDDEN,
    );
    expect_err(
        r.trash(&up.node_id, letter.view.revision + 1).await,
        StatusCode::FORBIDDEN,
    );

    // Outside the scope the writer gets not_found, as for anything unshared.
    expect_err(
        w.start_new(&labs, "x.txt", b"no", s.now())
            .await
            .map(|_| ()),
        StatusCode::NOT_FOUND,
    );
    let root = tree.root().unwrap();
    expect_err(w.create_folder(root, "mine").await, StatusCode::NOT_FOUND);

    // The patient cannot send chunks into the doctor's upload (they may
    // cancel it: `rekey::the_owner_cancels_a_doctors_upload_and_nobody_else_can`).
    let pending = w
        .start_new(&top, "pending.txt", b"half", s.now())
        .await
        .unwrap();
    let stolen = p
        .put(&pending.node_id, 1, 0, pending.file.chunks[0].clone())
        .await;
    expect_err(stolen, StatusCode::NOT_FOUND);
    w.put_all(&pending).await;

    // The shared folder itself cannot be deleted by the doctor; what is in it can.
    let e = expect_err(
        w.trash(notes.id(), top.view.revision).await,
        StatusCode::FORBIDDEN,
    );
    assert!(e.message.contains("cannot be changed"), "{}", e.message);
    let letter_now = p.tree().await.node(&up.node_id).unwrap().view.revision;
    w.trash(&up.node_id, letter_now).await.unwrap();
    let own = p.tree().await;
    assert!(own.node(&up.node_id).unwrap().view.trashed_at.is_some());
    assert!(p.history().await.contains(&EventKind::NodeTrashed));

    // After removal, nothing more is written, not even an upload begun before.
    let _: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&rw_id) } }),
        )
        .await
        .unwrap();
    expect_err(w.finish(&pending, s.now()).await, StatusCode::NOT_FOUND);
    expect_err(
        w.start_new(&top, "late.txt", b"late", s.now())
            .await
            .map(|_| ()),
        StatusCode::NOT_FOUND,
    );
    assert!(p.tree().await.node(&pending.node_id).is_none());
}

#[tokio::test]
async fn one_new_file_id_cannot_be_started_in_two_records() {
    let s = Server::new();
    let (p, _sock, w, p_top, sock_top) = doctor_in_two_records(&s).await;
    let bytes = content("the patient's letter", 3 * CHUNK as usize);
    let up = w
        .start_new(&p_top, "letter.txt", &bytes, s.now())
        .await
        .unwrap();
    let id = up.node_id;

    // The same id in the sock puppet's record is taken from the start on.
    let e = expect_err(
        start_new_with_id(&w, &sock_top, id, b"attack", s.now())
            .await
            .map(|_| ()),
        StatusCode::CONFLICT,
    );
    assert_eq!(e.code, ErrorCode::Conflict);
    // And by a patient's own new folder or file, too.
    let e = expect_err(
        start_new_with_id(
            &p,
            &p.tree().await.root().unwrap().clone(),
            id,
            b"x",
            s.now(),
        )
        .await
        .map(|_| ()),
        StatusCode::CONFLICT,
    );
    assert_eq!(e.code, ErrorCode::Conflict);

    w.put_all(&up).await;
    w.finish(&up, s.now()).await.unwrap();

    // Nothing routes the doctor's later calls for that id to another record:
    // the complete version's chunks cannot be overwritten or deleted.
    let r = w.put(&id, 1, 0, up.file.chunks[1].clone()).await;
    assert!(r.is_err(), "{r:?}");
    assert!(w.cancel(&id, 1).await.is_err());
    let letter = find(&p.tree().await, "file").clone();
    assert_eq!(letter.view.node_id, id);
    let version = letter.view.current.clone().unwrap();
    let chunks = p.chunks_of(&version).await;
    let author = w.keyring.identity().verifying_key();
    assert_eq!(open_file(&version, &author, &letter.key, &chunks), bytes);
}

#[tokio::test]
async fn a_cancelled_new_file_gives_its_id_back() {
    let s = Server::new();
    let (_p, _sock, w, p_top, sock_top) = doctor_in_two_records(&s).await;
    let up = w
        .start_new(&p_top, "a.txt", b"first try", s.now())
        .await
        .unwrap();
    w.cancel(&up.node_id, 1).await.unwrap();
    // The id is free again once nothing of the upload is left.
    let again = start_new_with_id(&w, &sock_top, up.node_id, b"second", s.now())
        .await
        .unwrap();
    w.put_all(&again).await;
    w.finish(&again, s.now()).await.unwrap();
}

#[tokio::test]
async fn an_upload_from_before_reservations_cannot_touch_a_complete_version() {
    use server::store::{keys::Key, Space};
    let s = Server::new();
    let (p, _sock, w, _, sock_top) = doctor_in_two_records(&s).await;
    // Uploads started before ids were reserved at the start: the patient's
    // own and the doctor's in the sock puppet's record have the same new id,
    // and no reservation names it.
    let forget = |id: Id| {
        let store = s.store.clone();
        async move {
            store
                .delete(Space::Records, Key::new().u8(2).fixed(&id).finish())
                .await
                .unwrap()
        }
    };
    let bytes = content("kept intact", 2 * CHUNK as usize);
    let notes = find(&p.tree().await, "Notes").clone();
    let up = p.start_new(&notes, "a.txt", &bytes, s.now()).await.unwrap();
    forget(up.node_id).await;
    let other = start_new_with_id(&w, &sock_top, up.node_id, &bytes, s.now())
        .await
        .unwrap();
    forget(up.node_id).await;
    p.put_all(&up).await;
    p.finish(&up, s.now()).await.unwrap();

    // The doctor's next chunk goes to the other record's upload: refused,
    // as that node and version are complete; its cancel deletes nothing of them.
    let e = expect_err(
        w.put(&up.node_id, 1, 0, other.file.chunks[0].clone()).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already complete"), "{}", e.message);
    let _ = w.cancel(&up.node_id, 1).await;
    let letter = find(&p.tree().await, "file").clone();
    let version = letter.view.current.clone().unwrap();
    assert_eq!(p.download(&letter, &version).await, bytes);
}
