//! A patient deletes their account (PROTOCOL 15.12): refused without the
//! password, without the username typed again, and for other roles, each
//! changing nothing; once done, every node, version, chunk file, grant,
//! request, notification and session of theirs is gone from the store and
//! the data directory, their doctors lose access, and the audit log keeps
//! its events.

use shared::{
    api::account::{AccountDeleted, DeleteAccountStarted},
    crypto::opaque,
};

use super::*;
use crate::common::PASSWORD;

/// Runs both steps as the browser does, with `password` and `typed`.
async fn delete(
    c: &Client,
    password: &str,
    typed: &str,
) -> Result<AccountDeleted, common::Failure> {
    let (login, ke1) = opaque::client_login_start(password.as_bytes()).unwrap();
    let started: DeleteAccountStarted = c
        .post(
            "/api/account/delete/start",
            &json!({ "request": { "ke1": b64::encode(&ke1) } }),
        )
        .await?;
    // A wrong password gives a KE3 the server refuses; send it anyway, as a
    // hostile client would.
    let ke3 = match login.finish(password.as_bytes(), &started.ke2) {
        Ok(done) => done.finalization,
        Err(_) => vec![0u8; opaque::CREDENTIAL_FINALIZATION_LEN],
    };
    c.post(
        "/api/account/delete/finish",
        &json!({ "request": {
            "delete_id": b64::encode(&started.delete_id),
            "ke3": b64::encode(&ke3),
            "username": typed,
        } }),
    )
    .await
}

/// Every key of every keyspace but the audit log's.
async fn stored_keys(s: &Server) -> Vec<(server::store::Space, Vec<u8>)> {
    let mut out = Vec::new();
    for space in server::store::Space::ALL {
        if space == server::store::Space::Audit {
            continue;
        }
        for (k, _) in s
            .store
            .scan_prefix(space, b"", None, usize::MAX)
            .await
            .unwrap()
        {
            out.push((space, k));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_patient_deletes_their_account_and_nothing_of_it_is_left() {
    let mut s = Server::new();
    let mut p = patient(&s, "willow").await;
    let mut other = patient(&s, "aspen").await;
    let mut d = doctor(&s, "dr.willow").await;
    let mut asking = doctor(&s, "dr.asking").await;
    p.create_record(s.now()).await;
    other.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let bytes = content("willow-private", 3 * CHUNK as usize + 100);
    let file = p.upload_new(&notes, "scan.bin", &bytes, s.now()).await;
    // An upload left unfinished, with one chunk stored.
    let open = p
        .start_new(&notes, "half.bin", &bytes, s.now())
        .await
        .unwrap();
    p.put_all(&open).await;
    let grant = share(&s, &p, "dr.willow", &notes, None, None)
        .await
        .unwrap();
    let grant_id = grant.grant.value.grant_id;
    let _: serde_json::Value = asking
        .c
        .post(
            "/api/sharing/request/create",
            &json!({ "request": { "patient_username": "willow", "reason": "referral" } }),
        )
        .await
        .unwrap();
    // Another patient named this one their emergency contact.
    let their_root = other.tree().await.root().unwrap().clone();
    let contact = name_contact(&s, &other, "willow", &their_root, Permission::Read, 3600)
        .await
        .unwrap();
    let contact_id = contact.grant.value.grant_id;
    // On sled, chunks are files of their own; on PostgreSQL they are rows
    // (or objects), which the scans of the Blobs keyspace below cover.
    let on_sled = s.store_url.is_none();
    let files_before = files_under(&s.data.path().join("blob-files")).len();
    if on_sled {
        assert!(files_before >= 2, "chunk files are stored: {files_before}");
    }
    let version = versions(&d.c, &file).await.unwrap().remove(0);

    // Refused, changing nothing: a wrong password (logged), a wrong
    // username, and anyone but a patient.
    let e = expect_err(
        delete(&p.c, "not the password at all", "willow").await,
        StatusCode::UNAUTHORIZED,
    );
    assert!(e.message.contains("Nothing was deleted"), "{}", e.message);
    assert!(p.history().await.contains(&EventKind::AccountDeleteFailed));
    let e = expect_err(
        delete(&p.c, PASSWORD, "aspen").await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("username exactly"), "{}", e.message);
    let e = expect_err(
        delete(&d.c, PASSWORD, "dr.willow").await,
        StatusCode::FORBIDDEN,
    );
    assert!(e.message.contains("administrator"), "{}", e.message);
    assert_eq!(p.tree().await.nodes().count(), tree.nodes().count() + 1);
    let parts = version.manifest.value.part_hashes.len();
    assert_eq!(read_all(&d.c, &version).await.len(), parts);

    // Done: what it removed, and the session is over.
    let done = delete(&p.c, PASSWORD, "Willow").await.unwrap();
    assert_eq!(done.grants, 1);
    assert_eq!(done.nodes, tree.nodes().count() as u64 + 1);
    assert_eq!(done.chunks, parts as u64);
    expect_err(
        p.c.get::<serde_json::Value>("/api/records/tree").await,
        StatusCode::UNAUTHORIZED,
    );
    assert!(p.c.login("willow", PASSWORD).await.is_err());

    // The doctor's access ended with it.
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    assert_not_found(chunk_status(&d.c, &version.node_id, version.version, 0).await);
    assert!(grants(&d.c).await.is_empty());

    // Nothing under the patient's id is left in any keyspace but the
    // audit log, except the username's index entry that keeps the name
    // taken; no chunk file of theirs is left on disk.
    let left: Vec<_> = stored_keys(&s)
        .await
        .into_iter()
        .filter(|(_, k)| contains(k, &p.id))
        .collect();
    assert!(
        left.is_empty(),
        "keys naming the patient are left: {left:?}"
    );
    for node in tree.nodes() {
        let id = node.view.node_id;
        let named: Vec<_> = stored_keys(&s)
            .await
            .into_iter()
            .filter(|(_, k)| contains(k, &id))
            .collect();
        assert!(named.is_empty(), "keys naming a node are left: {named:?}");
    }
    // Only this patient stored content: no chunk file is left at all.
    let files_after = files_under(&s.data.path().join("blob-files"));
    assert!(
        files_after.is_empty(),
        "chunk files are left: {files_after:?}"
    );
    let chunks_left = s
        .store
        .scan_prefix(server::store::Space::Blobs, b"", None, usize::MAX)
        .await
        .unwrap();
    assert!(
        chunks_left.is_empty(),
        "{} chunks are left",
        chunks_left.len()
    );
    assert!(!contains(&s.stored_bytes().await, b"willow-private"));

    // The share naming them was declined, so the other patient's browser
    // replaces those keys.
    let theirs = grants(&other.c).await;
    let named = theirs
        .iter()
        .find(|g| g.grant.value.grant_id == contact_id)
        .unwrap();
    assert_eq!(named.status, GrantStatus::Declined);
    let owed: serde_json::Value = other.c.get("/api/sharing/rotation/pending").await.unwrap();
    assert_eq!(owed["folders"].as_array().unwrap().len(), 1, "{owed}");
    // sled keeps deleted values in its log until it rewrites a segment;
    // `medvault-server compact` (the server stopped) leaves none: no wrapped
    // key and no sealed metadata of theirs is in the data directory.
    let secrets: Vec<String> = tree
        .nodes()
        .flat_map(|n| {
            [
                b64::encode(&n.view.wrapped_key),
                b64::encode(&n.view.metadata),
            ]
        })
        .collect();
    // (sled only: PostgreSQL drops deleted rows with VACUUM.)
    if on_sled {
        let on_disk = s.stored_bytes().await;
        let before = secrets
            .iter()
            .filter(|x| contains(&on_disk, x.as_bytes()))
            .count();
        for c in [&mut p.c, &mut other.c, &mut d.c, &mut asking.c] {
            c.detach();
        }
        let compacted = s.compact_store();
        assert!(compacted.entries > 0);
        let on_disk = s.stored_bytes().await;
        let left: Vec<_> = secrets
            .iter()
            .filter(|x| contains(&on_disk, x.as_bytes()))
            .collect();
        assert!(
            left.is_empty(),
            "of {before} found before compaction, left: {left:?}"
        );
        for c in [&mut p.c, &mut other.c, &mut d.c, &mut asking.c] {
            c.attach(&s);
        }
    }

    // The other patient's record is untouched; the audit log keeps the
    // deletion, and the name stays taken.
    assert!(other.tree().await.root().is_some());
    let audit = s
        .store
        .scan_prefix(server::store::Space::Audit, b"", None, usize::MAX)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|(k, _)| contains(k, &p.id)),
        "the log keeps their events"
    );
    let again = s.client().signup("willow", None, s.now()).await;
    assert!(
        again.is_err(),
        "the username of a deleted account stays taken"
    );
}

#[tokio::test]
async fn an_admin_deletes_a_doctor_and_their_shares_end() {
    let s = Server::new();
    let p = patient(&s, "juniper").await;
    let d = doctor(&s, "dr.leaving").await;
    let admin = s.client();
    let (admin_info, _) = admin
        .signup("admin.one", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let grant = share(&s, &p, "dr.leaving", &notes, None, None)
        .await
        .unwrap();
    let remove = |c: &Client, id: &Id, name: &str| {
        let body = json!({ "user_id": b64::encode(id), "username": name });
        let c = c.clone();
        async move {
            c.post::<_, AccountDeleted>("/api/admin/delete-user", &body)
                .await
        }
    };

    // Refused, changing nothing: not an admin (answered as if the call did
    // not exist, like every admin call), the wrong name, oneself.
    expect_err(
        remove(&p.c, &d.id, "dr.leaving").await,
        StatusCode::NOT_FOUND,
    );
    let e = expect_err(
        remove(&admin, &d.id, "dr.other").await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("Nothing was deleted"), "{}", e.message);
    expect_err(
        remove(&admin, &admin_info.user_id, "admin.one").await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(grants(&d.c).await.len(), 1);

    let done = remove(&admin, &d.id, "dr.leaving").await.unwrap();
    assert_eq!((done.nodes, done.grants), (0, 0));
    // Their session is over, the share is declined (the patient's browser
    // owes the folder new keys), and the name stays taken.
    expect_err(
        d.c.get::<Vec<GrantView>>("/api/sharing/grants").await,
        StatusCode::UNAUTHORIZED,
    );
    let mine = grants(&p.c).await;
    assert_eq!(mine[0].grant.value.grant_id, grant.grant.value.grant_id);
    assert_eq!(mine[0].status, GrantStatus::Declined);
    let owed: serde_json::Value = p.c.get("/api/sharing/rotation/pending").await.unwrap();
    assert_eq!(owed["folders"].as_array().unwrap().len(), 1, "{owed}");
    let left: Vec<_> = stored_keys(&s)
        .await
        .into_iter()
        .filter(|(_, k)| contains(k, &d.id))
        .collect();
    assert!(left.is_empty(), "keys naming the doctor are left: {left:?}");
    assert!(s
        .client()
        .signup("dr.leaving", None, s.now())
        .await
        .is_err());
    // The patient's record is theirs as before.
    assert_eq!(p.tree().await.nodes().count(), tree.nodes().count());
}
