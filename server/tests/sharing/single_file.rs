//! A share of one file (issue 21): the doctor opens that file and every
//! version of it and nothing beside it; a doctor with write access adds
//! versions of exactly that file and nothing else; ending the share owes the
//! file new keys until a rotation of it (or of a folder above it) commits.

use super::*;

#[tokio::test]
async fn a_shared_file_opens_alone_and_its_keys_are_replaced_when_the_share_ends() {
    let s = Server::new();
    let p = patient(&s, "lark").await;
    let d = doctor(&s, "dr.file").await;
    let w = writer(&s, "dr.pen").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let shared_id = p
        .upload_new(&labs, "blood.txt", b"haemoglobin 14", s.now())
        .await;
    let other_id = p
        .upload_new(&labs, "other.txt", b"not shared", s.now())
        .await;
    let tree = p.tree().await;
    let blood = tree.node(&shared_id).unwrap().clone();
    let other = tree.node(&other_id).unwrap().clone();

    let g = share(&s, &p, "dr.file", &blood, None, None).await.unwrap();
    let gid = g.grant.value.grant_id;
    let seen = open_scope(&d, "lark", &gid).await;
    assert_eq!(seen.nodes().count(), 1, "the file alone");
    let top = seen.root().unwrap();
    assert_eq!(top.id(), blood.id());
    assert_eq!(top.metadata.name, "blood.txt");
    let version = top.view.current.clone().unwrap();
    let chunks = read_all(&d.c, &version).await;
    let patient_key = entry(&d.c, "lark").await.identity_key;
    assert_eq!(
        open_file(&version, &patient_key, &top.key, &chunks),
        b"haemoglobin 14"
    );
    // Nothing beside it: not the other file, not the folder.
    let beside = other.view.current.clone().unwrap();
    let (status, _) = chunk_status(&d.c, other.id(), beside.version, 0).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    expect_err(versions(&d.c, other.id()).await, StatusCode::NOT_FOUND);
    expect_err(versions(&d.c, labs.id()).await, StatusCode::NOT_FOUND);
    assert_eq!(versions(&d.c, blood.id()).await.unwrap().len(), 1);

    // Write access to a file: new versions of it, nothing new beside or under it.
    let rw = share_as(&s, &p, "dr.pen", &blood, Permission::ReadWrite, None, None)
        .await
        .unwrap();
    let theirs = open_scope_as(&w.c, &w.id, &w.keyring, "lark", &rw.grant.value.grant_id).await;
    let file = theirs.root().unwrap().clone();
    let up = w.start_version(&file, b"haemoglobin 15").await.unwrap();
    w.put_all(&up).await;
    w.finish(&up, s.now()).await.unwrap();
    let written_by = |t: &OpenTree| {
        let node = t.node(&shared_id).unwrap();
        (node.key.clone(), node.view.current.clone().unwrap())
    };
    let (key, v2) = written_by(&p.tree().await);
    assert_eq!((v2.version, v2.author_id), (2, w.id));
    let w_key = entry(&p.c, "dr.pen").await.identity_key;
    let chunks = p.chunks_of(&v2).await;
    assert_eq!(open_file(&v2, &w_key, &key, &chunks), b"haemoglobin 15");
    assert!(w
        .start_new(&file, "under.txt", b"x", s.now())
        .await
        .is_err());
    let labs_seen_by_w = OpenNode { ..labs.clone() };
    assert!(w
        .start_new(&labs_seen_by_w, "beside.txt", b"x", s.now())
        .await
        .is_err());
    assert!(w.start_version(&other, b"y").await.is_err());

    // Nor may the doctor rename, move or delete the file the share is of.
    let now_seen = open_scope_as(&w.c, &w.id, &w.keyring, "lark", &rw.grant.value.grant_id).await;
    let revision = now_seen.root().unwrap().view.revision;
    assert!(w.trash(&shared_id, revision).await.is_err());

    // Ending the share owes the file new keys; a rotation of the file clears it.
    p.c.post::<_, GrantView>(
        "/api/sharing/grant/revoke",
        &json!({"request": {"grant_id": b64::encode(&gid)}}),
    )
    .await
    .unwrap();
    let owed: shared::api::sharing::OwedRotations =
        p.c.get("/api/sharing/rotation/pending").await.unwrap();
    assert_eq!(owed.folders.len(), 1);
    assert_eq!(owed.folders[0].node_id, *blood.id());
    rotate(&s, &p, blood.id(), |_| {}).await.unwrap();
    let owed: shared::api::sharing::OwedRotations =
        p.c.get("/api/sharing/rotation/pending").await.unwrap();
    assert!(owed.folders.is_empty());
    // The file opens under its new key.
    let (key, v2) = written_by(&p.tree().await);
    let chunks = p.chunks_of(&v2).await;
    assert_eq!(open_file(&v2, &w_key, &key, &chunks), b"haemoglobin 15");
    expect_err(scope(&d, &gid).await, StatusCode::NOT_FOUND);
    // The writer's share holds, over the new key.
    let again = open_scope_as(&w.c, &w.id, &w.keyring, "lark", &rw.grant.value.grant_id).await;
    assert_eq!(again.root().unwrap().id(), blood.id());
}

#[tokio::test]
async fn a_file_in_the_trash_is_not_shared() {
    let s = Server::new();
    let p = patient(&s, "finch").await;
    let _d = doctor(&s, "dr.no").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let id = p.upload_new(&notes, "old.txt", b"old", s.now()).await;
    let node = p.tree().await.node(&id).unwrap().clone();
    p.trash(&id, node.view.revision).await.unwrap();
    let trashed = p.tree().await.node(&id).unwrap().clone();
    let e = expect_err(
        share(&s, &p, "dr.no", &trashed, None, None).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("Trash"), "{}", e.message);
    assert!(grants(&p.c).await.is_empty());
}
