//! The patient's profile copies (PROTOCOL 17.10): stored as given for the
//! root and the shared folders, served to a doctor with the shared record
//! for their grant's folder only, replaced as a whole, and refused (with
//! nothing changed) for files, other people's folders, repeats and sizes out
//! of bounds.

use shared::{
    api::records::{ProfileCopies, ProfileCopy},
    crypto::sign::sign,
    records::profile::{open_profile, seal_profile, Profile, ProfileRefusal},
};

use super::*;

fn signed(p: &Patient, seq: u64, name: &str) -> shared::crypto::sign::Signed<Profile> {
    sign(
        p.keyring.identity(),
        Profile {
            patient_id: p.id,
            seq,
            display_name: name.into(),
            date_of_birth: Some("1980-04-02".into()),
            updated_at: 1_770_000_000,
        },
    )
}

fn copy(node: &OpenNode, profile: &shared::crypto::sign::Signed<Profile>) -> ProfileCopy {
    ProfileCopy {
        node_id: node.view.node_id,
        sealed: seal_profile(&node.key, &node.view.node_id, profile).unwrap(),
    }
}

async fn put(p: &Patient, copies: Vec<ProfileCopy>) -> Result<(), common::Failure> {
    put_seq(p, copies, 1).await
}

async fn put_seq(p: &Patient, copies: Vec<ProfileCopy>, seq: u64) -> Result<(), common::Failure> {
    p.c.post(
        "/api/records/profile/put",
        &json!({ "copies": ProfileCopies { copies, seq } }),
    )
    .await
}

async fn stored(p: &Patient) -> ProfileCopies {
    p.c.get("/api/records/profile").await.unwrap()
}

#[tokio::test]
async fn a_doctor_reads_the_profile_sealed_for_their_shared_folder_only() {
    let s = Server::new();
    let p = patient(&s, "rowan").await;
    let d = doctor(&s, "dr.rowan").await;
    let other = doctor(&s, "dr.labs").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let labs = find(&tree, "Lab results").clone();
    let root = tree.root().unwrap().clone();
    let notes_grant = share(&s, &p, "dr.rowan", &notes, None, None).await.unwrap();
    let labs_grant = share(&s, &p, "dr.labs", &labs, None, None).await.unwrap();

    let profile = signed(&p, 1, "Rowan Example");
    put(&p, vec![copy(&root, &profile), copy(&notes, &profile)])
        .await
        .unwrap();
    assert_eq!(stored(&p).await.copies.len(), 2);
    assert!(p.history().await.contains(&EventKind::ProfileChanged));

    // The doctor of Notes opens the copy with the folder key the grant gave
    // them, and checks the patient's signature.
    let served = scope(&d, &notes_grant.grant.value.grant_id)
        .await
        .unwrap()
        .profile
        .expect("the copy for the shared folder comes with it");
    let seen = open_scope(&d, "rowan", &notes_grant.grant.value.grant_id).await;
    let key = &seen.root().unwrap().key;
    let identity = p.keyring.identity().verifying_key();
    let opened = open_profile(
        key,
        &p.id,
        &notes.view.node_id,
        &served.sealed,
        &identity,
        None,
    )
    .unwrap();
    assert_eq!(opened.value.display_name, "Rowan Example");
    // The root's copy does not open with the folder's key.
    let own_root = stored(&p)
        .await
        .copies
        .into_iter()
        .find(|c| c.node_id == root.view.node_id)
        .unwrap();
    assert_eq!(
        open_profile(
            key,
            &p.id,
            &notes.view.node_id,
            &own_root.sealed,
            &identity,
            None
        ),
        Err(ProfileRefusal::Unreadable)
    );
    // The doctor of Lab results gets none: the patient sealed none there.
    let labs_scope = scope(&other, &labs_grant.grant.value.grant_id)
        .await
        .unwrap();
    assert_eq!(labs_scope.profile, None);

    // Replacing keeps only what is listed: the Notes doctor's copy is gone.
    put_seq(&p, vec![copy(&root, &signed(&p, 2, "Rowan E."))], 2)
        .await
        .unwrap();
    assert_eq!(stored(&p).await.copies.len(), 1);
    assert_eq!(stored(&p).await.seq, 2);
    // Copies of an older profile (a tab sealing it again late) are refused
    // and change nothing; the same one again is fine.
    let e = expect_err(
        put_seq(&p, vec![copy(&root, &profile), copy(&notes, &profile)], 1).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("changed meanwhile"), "{}", e.message);
    assert_eq!(stored(&p).await.copies.len(), 1);
    put_seq(&p, vec![copy(&root, &signed(&p, 2, "Rowan E."))], 2)
        .await
        .unwrap();
    let after = scope(&d, &notes_grant.grant.value.grant_id).await.unwrap();
    assert_eq!(after.profile, None);
}

#[tokio::test]
async fn bad_profile_copies_are_refused_and_change_nothing() {
    let s = Server::new();
    let p = patient(&s, "hazel").await;
    let q = patient(&s, "quince").await;
    let d = doctor(&s, "dr.hazel").await;
    p.create_record(s.now()).await;
    q.create_record(s.now()).await;
    let tree = p.tree().await;
    let root = tree.root().unwrap().clone();
    let notes = find(&tree, "Notes").clone();
    let letter = p.upload_new(&notes, "letter.txt", b"dear", s.now()).await;
    let letter = p.tree().await.node(&letter).unwrap().clone();
    let profile = signed(&p, 1, "Hazel Example");
    put(&p, vec![copy(&root, &profile)]).await.unwrap();
    let before = stored(&p).await;

    // Someone else's folder: as if it did not exist.
    let theirs = q.tree().await.root().unwrap().clone();
    expect_err(
        put(&p, vec![copy(&theirs, &profile)]).await,
        StatusCode::NOT_FOUND,
    );
    // The same folder twice.
    let e = expect_err(
        put(&p, vec![copy(&root, &profile), copy(&root, &profile)]).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("one copy"), "{}", e.message);
    // Too small and too big.
    for len in [10, shared::records::profile::MAX_SEALED_PROFILE + 1] {
        let e = expect_err(
            put(
                &p,
                vec![ProfileCopy {
                    node_id: root.view.node_id,
                    sealed: vec![7; len],
                }],
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains("bytes"), "{}", e.message);
    }
    assert_eq!(stored(&p).await, before);
    // A doctor has no record to keep a profile in.
    expect_err(put_as(&d.c, vec![]).await, StatusCode::NOT_FOUND);
    // Without a session: nothing.
    let anon = s.client();
    expect_err(put_as(&anon, vec![]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&p).await, before);
    // A file takes a copy too, for a share of that file alone.
    put(&p, vec![copy(&root, &profile), copy(&letter, &profile)])
        .await
        .unwrap();
    assert_eq!(stored(&p).await.copies.len(), 2);
}

async fn put_as(c: &Client, copies: Vec<ProfileCopy>) -> Result<(), common::Failure> {
    c.post(
        "/api/records/profile/put",
        &json!({ "copies": ProfileCopies { copies, seq: 0 } }),
    )
    .await
}
