//! What a grant opens to its doctor, and when it stops: the shared folder only,
//! at once after revocation or expiry; a doctor probing ids of a patient who
//! shared nothing gets `not_found`; a lying server is caught by the browser.

use super::*;

#[tokio::test]
async fn a_doctor_reads_the_shared_folder_and_nothing_else() {
    let s = Server::new();
    let p = patient(&s, "ada").await;
    let d = doctor(&s, "dr.lee").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let scripts = find(&tree, "Prescriptions").clone();
    let lab_bytes = content("MARKER-shared-lab", 2 * CHUNK as usize + 77);
    p.upload_new(&labs, "blood.pdf", &lab_bytes, s.now()).await;
    p.upload_new(&scripts, "private.txt", b"not for the doctor", s.now())
        .await;
    let tree = p.tree().await;
    let private = find(&tree, "private.txt").clone();

    // Before any grant: nothing, the same as for ids that do not exist.
    let private_version = private.view.current.clone().unwrap();
    assert_not_found(chunk_status(&d.c, private.id(), private_version.version, 0).await);
    expect_err(versions(&d.c, private.id()).await, StatusCode::NOT_FOUND);
    assert_not_found(chunk_status(&d.c, &[7; 16], 1, 0).await);
    assert!(grants(&d.c).await.is_empty());

    let view = share(&s, &p, "dr.lee", &labs, None, None).await.unwrap();
    assert_eq!(view.status, GrantStatus::Active);
    assert_eq!(view.doctor_name, "dr.lee");
    assert_eq!(view.patient_name, "ada");

    // The doctor sees the grant, checks it and opens the folder.
    let received = grants(&d.c).await;
    assert_eq!(received.len(), 1);
    let grant_id = received[0].grant.value.grant_id;
    let shared = open_scope(&d, "ada", &grant_id).await;
    assert_eq!(shared.root().unwrap().metadata.name, "Lab results");
    let blood = find(&shared, "blood.pdf");
    assert!(shared.nodes().all(|n| n.metadata.name != "private.txt"));
    let version = blood.view.current.clone().unwrap();
    let listed = versions(&d.c, blood.id()).await.unwrap();
    assert_eq!(listed.len(), 1);
    let chunks = read_all(&d.c, &version).await;
    let patient_key = entry(&d.c, "ada").await.identity_key;
    assert_eq!(
        open_file(&version, &patient_key, &blood.key, &chunks),
        lab_bytes
    );

    // Outside the grant: not_found on every route.
    assert_not_found(chunk_status(&d.c, private.id(), private_version.version, 0).await);
    expect_err(versions(&d.c, private.id()).await, StatusCode::NOT_FOUND);
    // Not a chunk past the end, nor a version that does not exist.
    assert_not_found(chunk_status(&d.c, blood.id(), version.version, 99).await);
    assert_not_found(chunk_status(&d.c, blood.id(), version.version + 1, 0).await);
    // Nor the patient's own calls: a doctor has no record of their own.
    assert_eq!(
        d.c.get::<Option<shared::api::records::RecordTree>>("/api/records/tree")
            .await
            .unwrap(),
        None
    );
    // A read grant does not let the doctor change anything: forbidden (they
    // know the file exists), and the file stays as it was.
    let e = expect_err(
        d.c.post::<_, serde_json::Value>(
            "/api/records/node/trash",
            &json!({"request": {"node_id": b64::encode(blood.id()), "revision": blood.view.revision}}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(p
        .tree()
        .await
        .node(blood.id())
        .unwrap()
        .view
        .trashed_at
        .is_none());
    // Nor rename it (that needs a read-and-write grant: `organise.rs`).
    let e = expect_err(
        d.c.post::<_, serde_json::Value>(
            "/api/records/node/update",
            &json!({"request": {"node_id": b64::encode(blood.id()), "revision": blood.view.revision, "metadata": b64::encode(&[0u8; 64])}}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(e.code, ErrorCode::Forbidden);

    // The patient's history shows the doctor opening the folder and the file.
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let by_doctor: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.actor == Some(d.id))
        .map(|e| (e.kind, e.item))
        .collect();
    assert!(by_doctor.contains(&(EventKind::SharedViewed, Some(*labs.id()))));
    assert!(by_doctor.contains(&(EventKind::FileRead, Some(*blood.id()))));
    assert!(page
        .events
        .iter()
        .any(|e| e.kind == EventKind::GrantCreated && e.item == Some(*labs.id())));
}

#[tokio::test]
async fn new_files_in_a_shared_folder_appear_and_trashed_ones_vanish() {
    let s = Server::new();
    let p = patient(&s, "ben").await;
    let d = doctor(&s, "dr.kim").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let root = tree.root().unwrap().clone();
    let view = share(&s, &p, "dr.kim", &root, None, None).await.unwrap();
    let grant_id = view.grant.value.grant_id;
    let before = open_scope(&d, "ben", &grant_id).await;
    assert_eq!(before.nodes().count(), tree.nodes().count());

    let notes = find(&tree, "Notes").clone();
    p.upload_new(&notes, "later.txt", b"added after sharing", s.now())
        .await;
    let shared = open_scope(&d, "ben", &grant_id).await;
    let later = find(&shared, "later.txt").clone();
    let version = later.view.current.clone().unwrap();
    assert_eq!(read_all(&d.c, &version).await.len(), 1);

    // The patient moves it to the trash: the doctor no longer sees it among
    // the folder's items nor reads it; it is served marked as trashed, as the
    // record's head still covers it (PROTOCOL 4.5).
    let own = p.tree().await;
    let mine = find(&own, "later.txt");
    p.trash(mine.id(), mine.view.revision).await.unwrap();
    let shared = open_scope(&d, "ben", &grant_id).await;
    let top = shared.root().unwrap().id();
    assert!(shared
        .children(top)
        .iter()
        .all(|n| n.metadata.name != "later.txt"));
    assert!(shared
        .nodes()
        .filter(|n| n.metadata.name == "later.txt")
        .all(|n| n.view.trashed_at.is_some()));
    assert_not_found(chunk_status(&d.c, later.id(), version.version, 0).await);
}

#[tokio::test]
async fn revocation_and_expiry_end_access_at_once() {
    let s = Server::new();
    let p = patient(&s, "cleo").await;
    let d = doctor(&s, "dr.roe").await;
    let other = doctor(&s, "dr.poe").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    p.upload_new(&labs, "x.txt", b"lab values", s.now()).await;
    let to_revoke = share(&s, &p, "dr.roe", &labs, None, None).await.unwrap();
    let expiring = share(&s, &p, "dr.poe", &labs, Some(s.now() + 1200), None)
        .await
        .unwrap();
    let shared = open_scope(&d, "cleo", &to_revoke.grant.value.grant_id).await;
    let file = find(&shared, "x.txt").clone();
    let version = file.view.current.clone().unwrap();
    assert_eq!(read_all(&d.c, &version).await.len(), 1);
    assert_eq!(read_all(&other.c, &version).await.len(), 1);

    // Only the patient who made it can revoke it; anyone else: not_found.
    let revoke = |id: Id| json!({"request": {"grant_id": b64::encode(&id)}});
    let stranger = patient(&s, "dan").await;
    expect_err(
        stranger
            .c
            .post::<_, GrantView>(
                "/api/sharing/grant/revoke",
                &revoke(to_revoke.grant.value.grant_id),
            )
            .await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        d.c.post::<_, GrantView>(
            "/api/sharing/grant/revoke",
            &revoke(to_revoke.grant.value.grant_id),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    let revoked: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &revoke(to_revoke.grant.value.grant_id),
        )
        .await
        .unwrap();
    assert_eq!(revoked.status, GrantStatus::Revoked);
    assert!(revoked.wrapped_key.is_empty());
    let again = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/revoke",
            &revoke(to_revoke.grant.value.grant_id),
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert!(again.message.contains("already removed"));

    // From now on the revoked doctor gets nothing, even holding the old key.
    expect_err(
        scope(&d, &to_revoke.grant.value.grant_id).await,
        StatusCode::NOT_FOUND,
    );
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 0).await);
    expect_err(versions(&d.c, file.id()).await, StatusCode::NOT_FOUND);
    let listed = grants(&d.c).await;
    assert_eq!(listed[0].status, GrantStatus::Revoked);
    assert!(listed[0].wrapped_key.is_empty());
    // The other doctor keeps access.
    assert_eq!(read_all(&other.c, &version).await.len(), 1);

    // At the end date the server stops serving the scope.
    s.advance(1201);
    expect_err(
        scope(&other, &expiring.grant.value.grant_id).await,
        StatusCode::NOT_FOUND,
    );
    assert_not_found(chunk_status(&other.c, file.id(), version.version, 0).await);
    let statuses: Vec<_> = grants(&p.c).await.iter().map(|g| g.status).collect();
    assert!(statuses.contains(&GrantStatus::Expired));
    assert!(statuses.contains(&GrantStatus::Revoked));
    assert_eq!(grants(&other.c).await[0].status, GrantStatus::Expired);
    let kinds = p.history().await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::GrantRevoked)
            .count(),
        1
    );
}

#[tokio::test]
async fn a_doctor_probing_a_patient_who_shared_nothing_gets_not_found() {
    let s = Server::new();
    let p = patient(&s, "ivy").await;
    let d = doctor(&s, "dr.nosy").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    p.upload_new(&labs, "secret.txt", b"secret", s.now()).await;
    let tree = p.tree().await;
    let file = find(&tree, "secret.txt").clone();
    let v = file.view.current.clone().unwrap();
    for node in tree.nodes() {
        expect_err(versions(&d.c, node.id()).await, StatusCode::NOT_FOUND);
        assert_not_found(chunk_status(&d.c, node.id(), 1, 0).await);
    }
    assert_not_found(chunk_status(&d.c, file.id(), v.version, 0).await);
    // And the changing calls answer as for a missing id.
    for (path, body) in [
        (
            "/api/records/node/update",
            json!({"request": {"node_id": b64::encode(file.id()), "revision": 1, "metadata": b64::encode(&[0u8; 64])}}),
        ),
        (
            "/api/records/node/restore",
            json!({"request": {"node_id": b64::encode(file.id())}}),
        ),
        (
            "/api/records/version/restore",
            json!({"request": {"node_id": b64::encode(file.id()), "version": 1}}),
        ),
    ] {
        expect_err(
            d.c.post::<_, serde_json::Value>(path, &body).await,
            StatusCode::NOT_FOUND,
        );
    }
    assert!(!p
        .history()
        .await
        .iter()
        .any(|k| *k == EventKind::FileRead || *k == EventKind::SharedViewed));
}

#[tokio::test]
async fn a_lying_server_is_caught_by_the_doctors_browser() {
    let s = Server::new();
    let p = patient(&s, "nia").await;
    let d = doctor(&s, "dr.true").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let notes = find(&tree, "Notes").clone();
    p.upload_new(&labs, "labs.txt", b"lab values", s.now())
        .await;
    let a = share(&s, &p, "dr.true", &labs, None, None).await.unwrap();
    let b = share(&s, &p, "dr.true", &notes, Some(s.now() + 600), None)
        .await
        .unwrap();
    let (a_id, b_id) = (a.grant.value.grant_id, b.grant.value.grant_id);
    let patient_entry = entry(&d.c, "nia").await;
    let opens = |view: &GrantView| {
        open_grant(view, &patient_entry, &d.id, d.keyring.encryption()).map(|_| ())
    };
    let served = |id: Id| {
        let c = d.c.clone();
        async move {
            let all: Vec<GrantView> = c.get("/api/sharing/grants").await.unwrap();
            all.into_iter()
                .find(|g| g.grant.value.grant_id == id)
                .unwrap()
        }
    };
    assert!(opens(&served(a_id).await).is_ok());
    assert!(opens(&served(b_id).await).is_ok());

    // 1. The two grants' wrapped keys swapped in the store: neither opens.
    edit_grant(&s, &a_id, |g| g.wrapped_key = b.wrapped_key.clone()).await;
    edit_grant(&s, &b_id, |g| g.wrapped_key = a.wrapped_key.clone()).await;
    // Each grant signs the hash of its own key: refused before unwrapping.
    assert_eq!(
        opens(&served(a_id).await).err(),
        Some(shared::sharing::GrantOpenError::KeyNotGiven)
    );
    assert!(opens(&served(b_id).await).is_err());
    edit_grant(&s, &a_id, |g| g.wrapped_key = a.wrapped_key.clone()).await;

    // 2. A grant the patient did not sign: its scope widened to the whole
    // record, or its end date dropped, with the old signature; or re-signed by
    // someone else.
    let root = *tree.root().unwrap().id();
    edit_grant(&s, &a_id, |g| g.grant.value.node_id = root).await;
    assert_eq!(
        opens(&served(a_id).await).err(),
        Some(shared::sharing::GrantOpenError::NotSigned)
    );
    edit_grant(&s, &a_id, |g| g.grant = a.grant.clone()).await;
    edit_grant(&s, &b_id, |g| g.grant.value.expires_at = None).await;
    assert!(opens(&served(b_id).await).is_err());
    let mallory = patient(&s, "mallory").await;
    edit_grant(&s, &b_id, |g| {
        g.grant = sign::sign(mallory.keyring.identity(), b.grant.value.clone())
    })
    .await;
    assert_eq!(
        opens(&served(b_id).await).err(),
        Some(shared::sharing::GrantOpenError::NotSigned)
    );

    // 3. A manifest signed by someone who may not write here (the doctor, who
    // holds only a read grant): the reader refuses it whatever key it tries.
    let shared = open_scope(&d, "nia", &a_id).await;
    let file = find(&shared, "labs.txt").clone();
    let mut version = file.view.current.clone().unwrap();
    let mut forged = version.manifest.value.clone();
    forged.author_id = d.id;
    version.manifest = sign::sign(d.keyring.identity(), forged);
    version.author_id = d.id;
    assert!(shared::records::verify_version(&version, &patient_entry.identity_key).is_err());
    // Signed by the doctor, it verifies only under the doctor's key, and the
    // doctor is not the patient: not an author this record accepts.
    let by_doctor =
        shared::records::verify_version(&version, &d.keyring.identity().verifying_key()).unwrap();
    assert_ne!(by_doctor.author_id, patient_entry.user_id);
}
