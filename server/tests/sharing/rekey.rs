//! Revocation that holds: every ended grant (removed, declined, expired)
//! leaves its folder on the list of key replacements still owed until a
//! rotation of that folder (or one above it) commits; the owner can cancel
//! any upload in their record, and ending a doctor's access drops that
//! doctor's unfinished uploads, so nothing holds the rotation up.

use super::*;
use shared::api::sharing::OwedRotations;

async fn owed(p: &Patient) -> OwedRotations {
    p.c.get("/api/sharing/rotation/pending").await.unwrap()
}

fn owed_folders(o: &OwedRotations) -> Vec<Id> {
    let mut out: Vec<Id> = o.folders.iter().map(|f| f.node_id).collect();
    out.sort();
    out
}

/// Sends chunk `index` of an upload as its uploader.
async fn send(
    w: &Patient,
    up: &common::patient::Started,
    index: u32,
) -> Result<shared::api::records::ChunkReceipt, common::Failure> {
    w.put(
        &up.node_id,
        1,
        index,
        up.file.chunks[index as usize].clone(),
    )
    .await
}

async fn top_of(w: &Patient, g: &GrantView) -> OpenNode {
    open_scope_as(&w.c, &w.id, &w.keyring, "kit", &g.grant.value.grant_id)
        .await
        .root()
        .unwrap()
        .clone()
}

async fn revoke(p: &Patient, grant: &Id) -> Result<GrantView, common::Failure> {
    p.c.post(
        "/api/sharing/grant/revoke",
        &json!({"request": {"grant_id": b64::encode(grant)}}),
    )
    .await
}

#[tokio::test]
async fn an_ended_grant_leaves_its_folder_owed_until_a_rotation_commits() {
    let s = Server::new();
    let p = patient(&s, "ida").await;
    let d = doctor(&s, "dr.ida").await;
    let e = doctor(&s, "dr.eve").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let notes = find(&tree, "Notes").clone();
    p.upload_new(&labs, "a.txt", b"aaa", s.now()).await;
    assert_eq!(owed(&p).await, OwedRotations::default());

    // A grant that ends tomorrow, by its signed end date.
    let expiring = share(&s, &p, "dr.ida", &labs, Some(s.now() + 3600), None)
        .await
        .unwrap();
    let declined = share(&s, &p, "dr.eve", &notes, None, None).await.unwrap();
    assert!(owed(&p).await.folders.is_empty());
    pass(&s, &[&p.c, &d.c, &e.c], 3700).await;

    // Nobody listed the grants: the owed list notices the expiry itself.
    let o = owed(&p).await;
    assert_eq!(owed_folders(&o), vec![*labs.id()]);
    assert_eq!(o.folders[0].grant_ids, vec![expiring.grant.value.grant_id]);
    assert!(o.folders[0].since > expiring.grant.value.created_at);
    assert_eq!(o.under_way, None);
    // Logged once, however often it is asked.
    owed(&p).await;
    let expired = p
        .history()
        .await
        .into_iter()
        .filter(|k| *k == EventKind::GrantExpired)
        .count();
    assert_eq!(expired, 1);

    // The doctor declines the other: its folder is owed too.
    decline(&e.c, &declined.grant.value.grant_id).await.unwrap();
    let mut want = vec![*labs.id(), *notes.id()];
    want.sort();
    assert_eq!(owed_folders(&owed(&p).await), want);

    // A rotation started and not committed is reported; nothing is cleared.
    start_rotation(&p, labs.id()).await;
    let o = owed(&p).await;
    assert_eq!(o.under_way, Some(*labs.id()));
    assert_eq!(owed_folders(&o), want);

    // Committing the rotation of Lab results clears that folder only.
    rotate(&s, &p, labs.id(), |_| {}).await.unwrap();
    let o = owed(&p).await;
    assert_eq!(owed_folders(&o), vec![*notes.id()]);
    assert_eq!(o.under_way, None);

    // A rotation of the whole record clears every folder under it.
    let root = tree.root().unwrap().clone();
    rotate(&s, &p, root.id(), |_| {}).await.unwrap();
    assert!(owed(&p).await.folders.is_empty());
    assert_eq!(p.download_current("a.txt").await, b"aaa");

    // Removing access notes the folder in the same call.
    let again = share(&s, &p, "dr.ida", &notes, None, None).await.unwrap();
    revoke(&p, &again.grant.value.grant_id).await.unwrap();
    let o = owed(&p).await;
    assert_eq!(owed_folders(&o), vec![*notes.id()]);
    assert_eq!(o.folders[0].grant_ids, vec![again.grant.value.grant_id]);

    // Doctors have nothing owed, and see nothing of the patient's list.
    let theirs: OwedRotations = d.c.get("/api/sharing/rotation/pending").await.unwrap();
    assert_eq!(theirs, OwedRotations::default());
}

#[tokio::test]
async fn the_owner_cancels_a_doctors_upload_and_nobody_else_can() {
    let s = Server::new();
    let p = patient(&s, "joan").await;
    let w = writer(&s, "dr.joan").await;
    let other_doctor = writer(&s, "dr.other").await;
    let stranger = patient(&s, "stranger").await;
    stranger.create_record(s.now()).await;
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    let g = share_as(&s, &p, "dr.joan", &notes, Permission::ReadWrite, None, None)
        .await
        .unwrap();
    share_as(
        &s,
        &p,
        "dr.other",
        &notes,
        Permission::ReadWrite,
        None,
        None,
    )
    .await
    .unwrap();
    let seen = open_scope_as(&w.c, &w.id, &w.keyring, "joan", &g.grant.value.grant_id).await;
    let top = seen.root().unwrap().clone();
    let before = p.usage().await;
    let bytes = content("half-sent", 3 * CHUNK as usize);
    let up = w
        .start_new(&top, "scan.txt", &bytes, s.now())
        .await
        .unwrap();
    send(&w, &up, 0).await.unwrap();

    // The patient sees it, with whose it is.
    let o = owed(&p).await;
    assert_eq!(o.uploads.len(), 1);
    assert_eq!(o.uploads[0].node_id, up.node_id);
    assert_eq!(o.uploads[0].target_id, *notes.id());
    assert_eq!(o.uploads[0].uploader_id, w.id);
    assert_eq!(o.uploads[0].uploader_name, "dr.joan");

    // Neither another patient nor another doctor of the same folder may cancel it.
    assert_eq!(
        expect_err(stranger.cancel(&up.node_id, 1).await, StatusCode::NOT_FOUND).code,
        ErrorCode::NotFound
    );
    assert_eq!(
        expect_err(
            other_doctor.cancel(&up.node_id, 1).await,
            StatusCode::NOT_FOUND
        )
        .code,
        ErrorCode::NotFound
    );
    assert_eq!(owed(&p).await.uploads.len(), 1);

    // The owner may: its space is given back and the doctor's next chunk is refused.
    p.cancel(&up.node_id, 1).await.unwrap();
    assert!(owed(&p).await.uploads.is_empty());
    assert_eq!(p.usage().await.used_bytes, before.used_bytes);
    expect_err(send(&w, &up, 1).await, StatusCode::NOT_FOUND);
    // Cancelling twice is not found.
    expect_err(p.cancel(&up.node_id, 1).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn removing_a_doctor_drops_their_uploads_and_the_rotation_commits() {
    let s = Server::new();
    let p = patient(&s, "kit").await;
    let gone = writer(&s, "dr.gone").await;
    let stays = writer(&s, "dr.stays").await;
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    let g_gone = share_as(&s, &p, "dr.gone", &notes, Permission::ReadWrite, None, None)
        .await
        .unwrap();
    let g_stays = share_as(
        &s,
        &p,
        "dr.stays",
        &notes,
        Permission::ReadWrite,
        None,
        None,
    )
    .await
    .unwrap();
    let top_gone = top_of(&gone, &g_gone).await;
    let top_stays = top_of(&stays, &g_stays).await;
    let bytes = content("unfinished", 2 * CHUNK as usize);
    let up_gone = gone
        .start_new(&top_gone, "gone.txt", &bytes, s.now())
        .await
        .unwrap();
    send(&gone, &up_gone, 0).await.unwrap();
    let up_stays = stays
        .start_new(&top_stays, "stays.txt", &bytes, s.now())
        .await
        .unwrap();
    let before_stays = p.usage().await;

    // Removing dr.gone drops their upload in the same call; dr.stays' remains.
    revoke(&p, &g_gone.grant.value.grant_id).await.unwrap();
    let o = owed(&p).await;
    assert_eq!(o.uploads.len(), 1);
    assert_eq!(o.uploads[0].uploader_name, "dr.stays");
    assert!(p.usage().await.used_bytes < before_stays.used_bytes);
    expect_err(send(&gone, &up_gone, 1).await, StatusCode::NOT_FOUND);

    // The commit is refused while dr.stays' upload runs, naming it.
    let e = expect_err(
        rotate(&s, &p, notes.id(), |_| {}).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("dr.stays's upload"), "{}", e.message);
    assert!(e.message.contains("Cancel that upload"), "{}", e.message);
    assert_eq!(owed_folders(&owed(&p).await), vec![*notes.id()]);

    // The patient cancels it, and the rotation commits.
    p.cancel(&up_stays.node_id, 1).await.unwrap();
    rotate(&s, &p, notes.id(), |_| {}).await.unwrap();
    assert!(owed(&p).await.folders.is_empty());
    assert!(owed(&p).await.uploads.is_empty());
    // dr.stays keeps access with the new keys.
    top_of(&stays, &g_stays).await;
}

#[tokio::test]
async fn an_expired_doctors_upload_never_blocks_the_rotation() {
    let s = Server::new();
    let p = patient(&s, "lea").await;
    let w = writer(&s, "dr.lea").await;
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    let g = share_as(
        &s,
        &p,
        "dr.lea",
        &notes,
        Permission::ReadWrite,
        Some(s.now() + 600),
        None,
    )
    .await
    .unwrap();
    let top = open_scope_as(&w.c, &w.id, &w.keyring, "lea", &g.grant.value.grant_id)
        .await
        .root()
        .unwrap()
        .clone();
    let up = w
        .start_new(
            &top,
            "late.txt",
            &content("late", 2 * CHUNK as usize),
            s.now(),
        )
        .await
        .unwrap();
    send(&w, &up, 0).await.unwrap();
    pass(&s, &[&p.c, &w.c], 900).await;
    // Listing the grants noticed the expiry and dropped the upload at once,
    // long before its own 24 hours.
    let o = owed(&p).await;
    assert_eq!(owed_folders(&o), vec![*notes.id()]);
    assert!(o.uploads.is_empty());
    rotate(&s, &p, notes.id(), |_| {}).await.unwrap();
    assert!(owed(&p).await.folders.is_empty());
}

#[tokio::test]
async fn the_patients_own_unfinished_upload_is_named_when_it_holds_up_a_rotation() {
    let s = Server::new();
    let p = patient(&s, "mia").await;
    p.create_record(s.now()).await;
    let labs = find(&p.tree().await, "Lab results").clone();
    let up = p
        .start_new(
            &labs,
            "own.txt",
            &content("own", 2 * CHUNK as usize),
            s.now(),
        )
        .await
        .unwrap();
    let e = expect_err(
        rotate(&s, &p, labs.id(), |_| {}).await,
        StatusCode::CONFLICT,
    );
    assert!(
        e.message
            .starts_with("Your own upload (in another tab or device)"),
        "{}",
        e.message
    );
    let o = owed(&p).await;
    assert_eq!(o.uploads.len(), 1);
    assert_eq!(o.uploads[0].uploader_id, p.id);
    assert_eq!(o.uploads[0].target_id, *labs.id());
    p.cancel(&up.node_id, 1).await.unwrap();
    rotate(&s, &p, labs.id(), |_| {}).await.unwrap();
}
