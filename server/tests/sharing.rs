//! Sharing in-process, with real accounts and the browser's own crypto: a
//! patient shares a folder, the doctor opens and reads it through the grant
//! and nothing else; revocation and expiry end access at once; requests are
//! approved or denied once; every bad grant is refused and changes nothing;
//! a doctor probing ids of a patient who shared nothing gets `not_found`.

mod common;

use axum::http::StatusCode;
use common::{
    files::{content, open_file},
    patient::{expect_err, find, patient, raw_err, Patient, CHUNK},
    Client, Server,
};
use serde_json::json;
use shared::{
    api::{
        directory::DirectoryEntry,
        records::{chunk_path, NodeKind, VersionView},
        sharing::{AccessRequestView, GrantStatus, GrantView, RequestStatus, SharedScope},
        ErrorCode,
    },
    audit::EventKind,
    crypto::{
        b64,
        keyring::Keyring,
        sign::{self, KeyEntry, Permission, Role},
        Id,
    },
    records::{OpenNode, OpenTree},
    sharing::{check_version, make_grant, open_grant, GrantChoice, RotationOwner},
};

struct Doctor {
    c: Client,
    id: Id,
    keyring: Keyring,
}

async fn doctor(s: &Server, name: &str) -> Doctor {
    let c = s.client();
    let (info, account) = c
        .signup(name, Some(s.cli_invite(Role::Doctor)), s.now())
        .await
        .unwrap();
    Doctor {
        c,
        id: info.user_id,
        keyring: account.keyring,
    }
}

/// A user's key entry as the directory serves it, self-signature checked.
async fn entry(c: &Client, username: &str) -> KeyEntry {
    let served: DirectoryEntry = c
        .post("/api/directory/lookup", &json!({ "username": username }))
        .await
        .unwrap();
    served.entry.verify_self().unwrap().clone()
}

fn choice(to: &KeyEntry, node: &OpenNode, expires_at: Option<i64>) -> GrantChoice {
    GrantChoice {
        doctor: to.clone(),
        node_id: *node.id(),
        node_key: node.key.clone(),
        permission: Permission::Read,
        expires_at,
        emergency: false,
    }
}

/// The patient shares `node` with `to` to read, as the app does.
async fn share(
    s: &Server,
    p: &Patient,
    to: &str,
    node: &OpenNode,
    expires_at: Option<i64>,
    request_id: Option<Id>,
) -> Result<GrantView, common::Failure> {
    share_as(s, p, to, node, Permission::Read, expires_at, request_id).await
}

/// The patient shares `node` with `to` with the given permission.
async fn share_as(
    s: &Server,
    p: &Patient,
    to: &str,
    node: &OpenNode,
    permission: Permission,
    expires_at: Option<i64>,
    request_id: Option<Id>,
) -> Result<GrantView, common::Failure> {
    let doctor_entry = entry(&p.c, to).await;
    let me = entry(&p.c, &p.name).await;
    let mut picked = choice(&doctor_entry, node, expires_at);
    picked.permission = permission;
    let (grant, wrapped) = make_grant(&me, p.keyring.identity(), &picked, s.now()).unwrap();
    p.c.post(
        "/api/sharing/grant/create",
        &json!({ "request": { "grant": grant, "wrapped_key": b64::encode(&wrapped),
            "request_id": request_id.map(|r| b64::encode(&r)) } }),
    )
    .await
}

async fn grants(c: &Client) -> Vec<GrantView> {
    c.get("/api/sharing/grants").await.unwrap()
}

async fn scope(d: &Doctor, grant: &Id) -> Result<SharedScope, common::Failure> {
    d.c.get(&format!(
        "/api/sharing/shared?grant_id={}",
        b64::encode(grant)
    ))
    .await
}

/// Opens what a grant shares exactly as the doctor's browser does.
async fn open_scope(d: &Doctor, patient_name: &str, grant: &Id) -> OpenTree {
    open_scope_as(&d.c, &d.id, &d.keyring, patient_name, grant).await
}

async fn open_scope_as(
    c: &Client,
    id: &Id,
    keyring: &Keyring,
    patient_name: &str,
    grant: &Id,
) -> OpenTree {
    let shared: SharedScope = c
        .get(&format!(
            "/api/sharing/shared?grant_id={}",
            b64::encode(grant)
        ))
        .await
        .unwrap();
    let patient = entry(c, patient_name).await;
    let opened = open_grant(&shared.grant, &patient, id, keyring.encryption()).unwrap();
    let tree = OpenTree::open_from(
        patient.user_id,
        opened.grant.node_id,
        opened.node_key,
        shared.nodes,
        shared.usage,
    )
    .unwrap();
    assert!(tree.unreadable.is_empty());
    tree
}

async fn chunk_status(c: &Client, node: &Id, version: u32, index: u32) -> (StatusCode, Vec<u8>) {
    let (status, _, body) = c.get_bytes(&chunk_path(node, version, index)).await;
    (status, body)
}

async fn versions(c: &Client, node: &Id) -> Result<Vec<VersionView>, common::Failure> {
    c.get(&format!(
        "/api/records/versions?node_id={}",
        b64::encode(node)
    ))
    .await
}

/// Reads every chunk of a version as `c`.
async fn read_all(c: &Client, version: &VersionView) -> Vec<Vec<u8>> {
    let count = version.manifest.value.part_hashes.len() as u32;
    let mut out = Vec::new();
    for i in 0..count {
        let (status, body) = chunk_status(c, &version.node_id, version.version, i).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        out.push(body);
    }
    out
}

fn assert_not_found((status, body): (StatusCode, Vec<u8>)) {
    let e = raw_err((status, body), StatusCode::NOT_FOUND);
    assert_eq!(e.code, ErrorCode::NotFound);
}

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
    // Other changes stay the owner's alone, whatever the grant.
    let e = expect_err(
        d.c.post::<_, serde_json::Value>(
            "/api/records/node/update",
            &json!({"request": {"node_id": b64::encode(blood.id()), "revision": blood.view.revision, "metadata": b64::encode(&[0u8; 64])}}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(e.code, ErrorCode::NotFound);

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

    // The patient moves it to the trash: the doctor no longer sees or reads it.
    let own = p.tree().await;
    let mine = find(&own, "later.txt");
    p.trash(mine.id(), mine.view.revision).await.unwrap();
    let shared = open_scope(&d, "ben", &grant_id).await;
    assert!(shared.nodes().all(|n| n.metadata.name != "later.txt"));
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
async fn bad_grants_are_refused_and_change_nothing() {
    let s = Server::new();
    let p = patient(&s, "eve").await;
    let d = doctor(&s, "dr.ash").await;
    let q = patient(&s, "fay").await;
    p.create_record(s.now()).await;
    q.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let me = entry(&p.c, "eve").await;
    let doc = entry(&p.c, "dr.ash").await;
    let post = |grant: &sign::Signed<sign::Grant>, wrapped: &[u8]| json!({"request": {"grant": grant, "wrapped_key": b64::encode(wrapped), "request_id": null}});
    let good = || {
        make_grant(
            &me,
            p.keyring.identity(),
            &choice(&doc, &labs, None),
            s.now(),
        )
        .unwrap()
    };

    // To oneself, or to a patient (the client refuses too; the server decides).
    for (to, words) in [
        (&me, "yourself"),
        (&entry(&p.c, "fay").await, "not a doctor"),
    ] {
        let (mut grant, wrapped) = good();
        grant.value.doctor_id = to.user_id;
        let grant = sign::sign(p.keyring.identity(), grant.value);
        let e = expect_err(
            p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
                .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains(words), "{}", e.message);
    }
    // An end date in the past.
    let (grant, wrapped) = good();
    let mut past = grant.value.clone();
    past.expires_at = Some(s.now() - 1);
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), past), &wrapped),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("passed"), "{}", e.message);
    // A creation time far from the server's, up to the ends of i64 (where
    // `created_at - now` used to overflow).
    for at in [s.now() - 2 * 86_400, i64::MIN, i64::MIN + s.now(), i64::MAX] {
        let mut skewed = grant.value.clone();
        skewed.created_at = at;
        let e = expect_err(
            p.c.post::<_, GrantView>(
                "/api/sharing/grant/create",
                &post(&sign::sign(p.keyring.identity(), skewed), &wrapped),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains("clock"), "{at}: {}", e.message);
    }
    // A folder of another patient's record: not_found.
    let theirs = find(&q.tree().await, "Lab results").clone();
    let mut foreign = grant.value.clone();
    foreign.node_id = *theirs.id();
    expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), foreign), &wrapped),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    // A grant not signed by the caller.
    let forged = sign::sign(q.keyring.identity(), grant.value.clone());
    let e = expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&forged, &wrapped))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("signed"), "{}", e.message);
    // A grant naming another patient as the one who shares.
    let mut as_other = grant.value.clone();
    as_other.patient_id = q.id;
    expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), as_other), &wrapped),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    // A grant naming another key than the doctor's: the re-wraps of a later
    // key rotation would go to it.
    let mut other_key = grant.value.clone();
    other_key.doctor_key = me.encryption_key;
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), other_key), &wrapped),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("other keys"), "{}", e.message);
    // A wrapped key of the wrong size.
    expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped[1..]))
            .await,
        StatusCode::BAD_REQUEST,
    );
    // A file is not a scope.
    p.upload_new(&labs, "one.txt", b"1", s.now()).await;
    let file = find(&p.tree().await, "one.txt").clone();
    assert_eq!(file.view.kind, NodeKind::File);
    let mut on_file = grant.value.clone();
    on_file.node_id = *file.id();
    expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), on_file), &wrapped),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    // A doctor cannot make grants.
    let e = expect_err(
        d.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
            .await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(grants(&p.c).await.is_empty());
    assert!(grants(&d.c).await.is_empty());
    assert!(!p.history().await.contains(&EventKind::GrantCreated));

    // The good one goes through once; the same doctor and folder again: 409.
    p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
        .await
        .unwrap();
    let (twice, wrapped2) = good();
    expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&twice, &wrapped2))
            .await,
        StatusCode::CONFLICT,
    );
    // The same grant id again: 409, nothing changed.
    expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
            .await,
        StatusCode::CONFLICT,
    );
    assert_eq!(grants(&p.c).await.len(), 1);
    // An unknown grant id for the doctor's scope call: not_found.
    expect_err(scope(&d, &[3; 16]).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn requests_are_approved_or_denied_once() {
    let s = Server::new();
    let p = patient(&s, "gil").await;
    let d = doctor(&s, "dr.fox").await;
    p.create_record(s.now()).await;
    let ask = |reason: &str| json!({"request": {"patient_username": "gil", "reason": reason}});

    // Bad requests first: nothing is stored.
    let e = expect_err(
        d.c.post::<_, AccessRequestView>("/api/sharing/request/create", &ask("  "))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("why"), "{}", e.message);
    expect_err(
        d.c.post::<_, AccessRequestView>(
            "/api/sharing/request/create",
            &json!({"request": {"patient_username": "nobody", "reason": "x"}}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    // Asking a doctor is asking no patient.
    let other = doctor(&s, "dr.owl").await;
    expect_err(
        d.c.post::<_, AccessRequestView>(
            "/api/sharing/request/create",
            &json!({"request": {"patient_username": "dr.owl", "reason": "x"}}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        p.c.post::<_, AccessRequestView>("/api/sharing/request/create", &ask("me"))
            .await,
        StatusCode::FORBIDDEN,
    );
    let requests: Vec<AccessRequestView> = p.c.get("/api/sharing/requests").await.unwrap();
    assert!(requests.is_empty());

    let first: AccessRequestView =
        d.c.post(
            "/api/sharing/request/create",
            &ask("Follow-up of your blood tests"),
        )
        .await
        .unwrap();
    assert_eq!(first.status, RequestStatus::Pending);
    let e = expect_err(
        d.c.post::<_, AccessRequestView>("/api/sharing/request/create", &ask("again"))
            .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already asked"), "{}", e.message);
    let incoming: Vec<AccessRequestView> = p.c.get("/api/sharing/requests").await.unwrap();
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0].doctor_name, "dr.fox");
    assert_eq!(incoming[0].reason, "Follow-up of your blood tests");
    // Nobody else sees or answers it.
    let deny = |id: &Id| json!({"request": {"request_id": b64::encode(id)}});
    expect_err(
        other
            .c
            .post::<_, AccessRequestView>("/api/sharing/request/deny", &deny(&first.request_id))
            .await,
        StatusCode::NOT_FOUND,
    );
    let stranger = patient(&s, "hal").await;
    expect_err(
        stranger
            .c
            .post::<_, AccessRequestView>("/api/sharing/request/deny", &deny(&first.request_id))
            .await,
        StatusCode::NOT_FOUND,
    );
    // A grant approving it for another doctor is refused.
    let tree = p.tree().await;
    let root = tree.root().unwrap().clone();
    let e = expect_err(
        share(&s, &p, "dr.owl", &root, None, Some(first.request_id)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("another doctor"), "{}", e.message);

    // Approve: the grant and the answer together.
    let view = share(&s, &p, "dr.fox", &root, None, Some(first.request_id))
        .await
        .unwrap();
    let mine: Vec<AccessRequestView> = d.c.get("/api/sharing/requests").await.unwrap();
    assert_eq!(mine[0].status, RequestStatus::Approved);
    assert_eq!(mine[0].grant_id, Some(view.grant.value.grant_id));
    // Approving twice: 409 and no second grant.
    let notes = find(&tree, "Notes").clone();
    let e = expect_err(
        share(&s, &p, "dr.fox", &notes, None, Some(first.request_id)).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already answered"), "{}", e.message);
    assert_eq!(grants(&p.c).await.len(), 1);
    expect_err(
        p.c.post::<_, AccessRequestView>("/api/sharing/request/deny", &deny(&first.request_id))
            .await,
        StatusCode::CONFLICT,
    );

    // A second request, denied: no grant, the doctor sees the answer.
    let second: AccessRequestView =
        d.c.post("/api/sharing/request/create", &ask("Second opinion"))
            .await
            .unwrap();
    let denied: AccessRequestView =
        p.c.post("/api/sharing/request/deny", &deny(&second.request_id))
            .await
            .unwrap();
    assert_eq!(denied.status, RequestStatus::Denied);
    let mine: Vec<AccessRequestView> = d.c.get("/api/sharing/requests").await.unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine
        .iter()
        .any(|r| r.request_id == second.request_id && r.status == RequestStatus::Denied));
    assert_eq!(grants(&d.c).await.len(), 1);
    let kinds = p.history().await;
    for kind in [
        EventKind::AccessRequested,
        EventKind::AccessApproved,
        EventKind::AccessDenied,
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
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

/// Replaces the keys under `scope` as the patient's browser does; `tamper`
/// may edit the parts before they are sent.
async fn rotate(
    s: &Server,
    p: &Patient,
    scope: &Id,
    tamper: impl FnOnce(&mut Vec<shared::api::sharing::RotationPart>),
) -> Result<(), common::Failure> {
    let ticket: shared::api::sharing::RotationTicket =
        p.c.post(
            "/api/sharing/rotation/start",
            &json!({"request": {"node_id": b64::encode(scope)}}),
        )
        .await?;
    let me = entry(&p.c, &p.name).await;
    let removed = std::collections::HashSet::new();
    let owner = RotationOwner {
        entry: &me,
        removed: &removed,
        now: s.now(),
    };
    let tree = p.tree().await;
    let mut parts = shared::sharing::plan_rotation(&tree, &owner, scope, &ticket).unwrap();
    tamper(&mut parts);
    for part in &parts {
        // Every part fits even a small JSON body limit (the e2e server's 64 KiB).
        assert!(serde_json::to_vec(part).unwrap().len() < 64 * 1024);
        p.c.post::<_, ()>("/api/sharing/rotation/part", &json!({ "request": part }))
            .await?;
    }
    p.c.post(
        "/api/sharing/rotation/commit",
        &json!({"request": {"rotation_id": b64::encode(&ticket.rotation_id), "parts": parts.len()}}),
    )
    .await
}

#[tokio::test]
async fn removing_a_doctor_replaces_every_key_under_the_folder() {
    let s = Server::new();
    let p = patient(&s, "kay").await;
    let gone = doctor(&s, "dr.gone").await;
    let stays = doctor(&s, "dr.stays").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let v1 = content("MARKER-rotate-v1", 3 * CHUNK as usize);
    p.upload_new(&labs, "cbc.txt", &v1, s.now()).await;
    let cbc = find(&p.tree().await, "cbc.txt").clone();
    let v2 = content("MARKER-rotate-v2", CHUNK as usize + 5);
    p.upload_version(&cbc, &v2, s.now()).await;
    p.create_folder(&labs, "2024").await.unwrap();
    let y2024 = find(&p.tree().await, "2024").clone();
    p.upload_new(&y2024, "old.txt", b"from last year", s.now())
        .await;
    p.upload_new(&labs, "binned.txt", b"in the trash", s.now())
        .await;
    let binned = find(&p.tree().await, "binned.txt").clone();
    p.trash(binned.id(), binned.view.revision).await.unwrap();
    let outside = find(&tree, "Notes").clone();
    p.upload_new(&outside, "untouched.txt", b"outside the folder", s.now())
        .await;

    let to_remove = share(&s, &p, "dr.gone", &labs, None, None).await.unwrap();
    share(&s, &p, "dr.stays", &y2024, None, None).await.unwrap();
    // What the removed doctor kept: the folder's key and everything opened with it.
    let kept = open_scope(&gone, "kay", &to_remove.grant.value.grant_id).await;
    let kept_folder_key = kept.root().unwrap().key.clone();
    let before = p.raw_tree().await;

    p.c.post::<_, GrantView>(
        "/api/sharing/grant/revoke",
        &json!({"request": {"grant_id": b64::encode(&to_remove.grant.value.grant_id)}}),
    )
    .await
    .unwrap();
    rotate(&s, &p, labs.id(), |_| {}).await.unwrap();

    // The patient's record opens whole; every version of every file reads.
    let after = p.tree().await;
    assert_eq!(after.nodes().count(), tree.nodes().count() + 5);
    // (The test helper names a file "file" when it stores a new version.)
    let cbc_now = after.node(cbc.id()).unwrap().clone();
    let versions = p.versions(cbc_now.id()).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(p.download(&cbc_now, &versions[0]).await, v2);
    assert_eq!(p.download(&cbc_now, &versions[1]).await, v1);
    assert_eq!(p.download_current("old.txt").await, b"from last year");
    assert_eq!(
        p.download_current("untouched.txt").await,
        b"outside the folder"
    );
    // Every node under the folder has a new wrapped key; nothing outside changed.
    let raw = p.raw_tree().await;
    for node in &raw.nodes {
        let old = before
            .nodes
            .iter()
            .find(|n| n.node_id == node.node_id)
            .unwrap();
        let inside = after.is_within(&node.node_id, labs.id());
        assert_eq!(
            old.wrapped_key != node.wrapped_key,
            inside,
            "{:?}",
            node.node_id
        );
    }
    // The key the removed doctor kept opens none of the new child keys.
    for node in raw.nodes.iter().filter(|n| n.parent_id == Some(*labs.id())) {
        assert!(shared::records::unwrap_child_key(
            &kept_folder_key,
            &node.node_id,
            labs.id(),
            &node.wrapped_key
        )
        .is_err());
    }
    // The doctor who stays opens the sub-folder with the re-wrapped key.
    let grant = grants(&stays.c).await[0].grant.value.grant_id;
    let shared = open_scope(&stays, "kay", &grant).await;
    let old = find(&shared, "old.txt").clone();
    let version = old.view.current.clone().unwrap();
    let chunks = read_all(&stays.c, &version).await;
    let key = entry(&stays.c, "kay").await.identity_key;
    assert_eq!(
        open_file(&version, &key, &old.key, &chunks),
        b"from last year"
    );
    assert!(p.history().await.contains(&EventKind::KeysRotated));
}

#[tokio::test]
async fn a_rotation_that_is_incomplete_or_stale_changes_nothing() {
    let s = Server::new();
    let p = patient(&s, "lou").await;
    let d = doctor(&s, "dr.lou").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    p.upload_new(&labs, "a.txt", b"aaa", s.now()).await;
    let before = p.raw_tree().await;

    // A part without one node's new key.
    let e = expect_err(
        rotate(&s, &p, labs.id(), |parts| {
            parts[0].nodes.pop();
        })
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("do not cover"), "{}", e.message);
    // A content key that is not the right size.
    let e = expect_err(
        rotate(&s, &p, labs.id(), |parts| {
            parts[0].versions[0].wrapped_content_key.pop();
        })
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("wrong size"), "{}", e.message);
    assert_eq!(p.raw_tree().await, before);

    // The record changes between the start and the commit: start again.
    let ticket: shared::api::sharing::RotationTicket =
        p.c.post(
            "/api/sharing/rotation/start",
            &json!({"request": {"node_id": b64::encode(labs.id())}}),
        )
        .await
        .unwrap();
    p.create_folder(&labs, "meanwhile").await.unwrap();
    let commit = json!({"request": {"rotation_id": b64::encode(&ticket.rotation_id), "parts": 0}});
    let e = expect_err(
        p.c.post::<_, ()>("/api/sharing/rotation/commit", &commit)
            .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("Start again"), "{}", e.message);
    expect_err(
        p.c.post::<_, ()>("/api/sharing/rotation/commit", &commit)
            .await,
        StatusCode::NOT_FOUND,
    );
    // Nobody else starts or finishes one.
    expect_err(
        d.c.post::<_, shared::api::sharing::RotationTicket>(
            "/api/sharing/rotation/start",
            &json!({"request": {"node_id": b64::encode(labs.id())}}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    let q = patient(&s, "max").await;
    q.create_record(s.now()).await;
    expect_err(
        q.c.post::<_, shared::api::sharing::RotationTicket>(
            "/api/sharing/rotation/start",
            &json!({"request": {"node_id": b64::encode(labs.id())}}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    // After all that, a complete rotation goes through and the record reads.
    rotate(&s, &p, labs.id(), |_| {}).await.unwrap();
    assert_eq!(p.download_current("a.txt").await, b"aaa");
    assert!(!p.history().await.is_empty());
}

/// Reads a stored grant, lets `edit` change it, and writes it back behind the
/// server's back, as an operator (or an attacker on the disk) could.
async fn edit_grant(
    s: &Server,
    grant_id: &Id,
    edit: impl FnOnce(&mut server::backend::sharing::layout::StoredGrant),
) {
    use server::store::{codec, keys::Key, Space};
    let key = Key::new().u8(1).fixed(grant_id).finish();
    let raw = s.store.get(Space::Grants, &key).await.unwrap().unwrap();
    let mut grant: server::backend::sharing::layout::StoredGrant = codec::decode(&raw).unwrap();
    edit(&mut grant);
    s.store
        .put(Space::Grants, key, codec::encode(&grant).unwrap())
        .await
        .unwrap();
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
    assert!(opens(&served(a_id).await).is_err());
    assert!(opens(&served(b_id).await).is_err());
    edit_grant(&s, &a_id, |g| g.wrapped_key = a.wrapped_key.clone()).await;

    // 2. A grant the patient did not sign: its scope widened to the whole
    // record, or its end date dropped, with the old signature; or re-signed by
    // someone else.
    let root = *tree.root().unwrap().id();
    edit_grant(&s, &a_id, |g| g.grant.value.node_id = root).await;
    assert_eq!(
        opens(&served(a_id).await).err(),
        Some(shared::crypto::CryptoError::BadSignature)
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
        Some(shared::crypto::CryptoError::BadSignature)
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

/// Writes a grant row and its two index entries behind the server's back, as
/// a lying server (or one row written into its store) would.
async fn inject_grant(s: &Server, stored: &server::backend::sharing::layout::StoredGrant) {
    use server::backend::sharing::layout::{doctor_grant_key, grant_key, patient_grant_key};
    use server::store::{codec, Batch, Space};
    let g = &stored.grant.value;
    let mut batch = Batch::new();
    batch
        .put(
            Space::Grants,
            grant_key(&g.grant_id),
            codec::encode(stored).unwrap(),
        )
        .put(
            Space::Grants,
            patient_grant_key(&g.patient_id, &g.grant_id),
            Vec::new(),
        )
        .put(
            Space::Grants,
            doctor_grant_key(&g.doctor_id, &g.grant_id),
            Vec::new(),
        );
    s.store.apply(batch).await.unwrap();
}

/// Deletes what [`inject_grant`] wrote.
async fn remove_grant_rows(s: &Server, g: &shared::crypto::sign::Grant) {
    use server::backend::sharing::layout::{doctor_grant_key, grant_key, patient_grant_key};
    use server::store::{Batch, Space};
    let mut batch = Batch::new();
    batch
        .delete(Space::Grants, grant_key(&g.grant_id))
        .delete(Space::Grants, patient_grant_key(&g.patient_id, &g.grant_id))
        .delete(Space::Grants, doctor_grant_key(&g.doctor_id, &g.grant_id));
    s.store.apply(batch).await.unwrap();
}

#[tokio::test]
async fn a_rotation_gives_new_keys_only_to_grants_the_patient_signed_and_kept() {
    use shared::api::sharing::RotationTicket;
    use shared::crypto::{hpke, sign::Grant};
    use shared::sharing::plan_rotation;
    use std::collections::HashSet;

    let s = Server::new();
    let p = patient(&s, "ora").await;
    doctor(&s, "dr.gone").await;
    let stays = doctor(&s, "dr.stays").await;
    let mallory = doctor(&s, "dr.mallory").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let notes = find(&tree, "Notes").clone();
    p.upload_new(&labs, "labs.txt", b"lab values", s.now())
        .await;
    let removed = share(&s, &p, "dr.gone", &labs, None, None).await.unwrap();
    let kept = share(&s, &p, "dr.stays", &labs, Some(s.now() + 3600), None)
        .await
        .unwrap();
    let elsewhere = share(&s, &p, "dr.stays", &notes, None, None).await.unwrap();
    let removed_id = removed.grant.value.grant_id;
    let kept_id = kept.grant.value.grant_id;
    p.c.post::<_, GrantView>(
        "/api/sharing/grant/revoke",
        &json!({"request": {"grant_id": b64::encode(&removed_id)}}),
    )
    .await
    .unwrap();

    let me = entry(&p.c, "ora").await;
    let mallory_entry = entry(&p.c, "dr.mallory").await;
    let tree = p.tree().await;
    let just_removed: HashSet<Id> = [removed_id].into();
    let ticket = || async {
        p.c.post::<_, RotationTicket>(
            "/api/sharing/rotation/start",
            &json!({"request": {"node_id": b64::encode(labs.id())}}),
        )
        .await
        .unwrap()
    };
    let plan = |ticket: &RotationTicket, now: i64| {
        let owner = RotationOwner {
            entry: &me,
            removed: &just_removed,
            now,
        };
        plan_rotation(&tree, &owner, labs.id(), ticket)
    };
    let refused = |result: Result<Vec<shared::api::sharing::RotationPart>, String>, why: &str| {
        let message = result.expect_err("the rotation must be refused");
        assert!(message.contains("cannot be trusted"), "{message}");
        assert!(message.contains(why), "{message}");
        assert!(message.contains("No keys were replaced"), "{message}");
    };

    // The honest answer: only the kept grant, re-wrapped to the key the
    // patient signed into it, which the remaining doctor opens.
    let honest = ticket().await;
    assert_eq!(honest.grants.len(), 1);
    let parts = plan(&honest, s.now()).unwrap();
    let rekeyed: Vec<_> = parts.iter().flat_map(|p| &p.grants).collect();
    assert_eq!(rekeyed.len(), 1);
    assert_eq!(rekeyed[0].grant_id, kept_id);
    hpke::unwrap_node_key(
        stays.keyring.encryption(),
        &stays.id,
        labs.id(),
        &rekeyed[0].wrapped_key,
    )
    .unwrap();

    // 1. The store brings the removed grant back to life (a genuine patient
    // signature): the browser that removed it refuses.
    edit_grant(&s, &removed_id, |g| {
        g.revoked_at = None;
        g.wrapped_key = removed.wrapped_key.clone();
    })
    .await;
    let replayed = ticket().await;
    assert!(replayed
        .grants
        .iter()
        .any(|g| g.grant.value.grant_id == removed_id));
    refused(plan(&replayed, s.now()), "a share that you removed");
    edit_grant(&s, &removed_id, |g| {
        g.revoked_at = Some(s.now());
        g.wrapped_key = Vec::new();
    })
    .await;

    // 2. A grant to the attacker's account signed by the attacker.
    let forged = Grant {
        grant_id: [0xA1; 16],
        patient_id: me.user_id,
        doctor_id: mallory.id,
        doctor_key: mallory_entry.encryption_key,
        node_id: *labs.id(),
        permission: Permission::Read,
        created_at: s.now(),
        expires_at: None,
    };
    let mut row = server::backend::sharing::layout::StoredGrant {
        grant: sign::sign(mallory.keyring.identity(), forged.clone()),
        wrapped_key: kept.wrapped_key.clone(),
        revoked_at: None,
        request_id: None,
        emergency: None,
        expiry_logged: false,
        declined_at: None,
    };
    inject_grant(&s, &row).await;
    refused(
        plan(&ticket().await, s.now()),
        "a share that you did not sign",
    );

    // 3. The kept grant's genuine signature on a copy that names the
    // attacker and their key: not what the patient signed.
    let mut copied = kept.grant.clone();
    copied.value.doctor_id = mallory.id;
    copied.value.doctor_key = mallory_entry.encryption_key;
    copied.value.grant_id = forged.grant_id;
    row.grant = copied;
    inject_grant(&s, &row).await;
    refused(
        plan(&ticket().await, s.now()),
        "a share that you did not sign",
    );
    remove_grant_rows(&s, &forged).await;

    // 4. A grant whose signed end date has passed by this browser's clock,
    // which the server still lists as active.
    refused(plan(&ticket().await, s.now() + 7200), "end date has passed");

    // 5. Lies in the list itself: a grant shown as ended, one of a folder
    // outside the rotated one, one listed twice.
    let mut ended = honest.clone();
    ended.grants[0].status = GrantStatus::Revoked;
    refused(plan(&ended, s.now()), "a share that has ended");
    let mut outside = honest.clone();
    outside.grants.push(elsewhere.clone());
    refused(plan(&outside, s.now()), "a folder outside this one");
    let mut twice = honest.clone();
    twice.grants.push(twice.grants[0].clone());
    refused(plan(&twice, s.now()), "the same share twice");

    // With the store honest again the rotation goes through, and only the
    // remaining doctor can open the folder's new key.
    rotate(&s, &p, labs.id(), |parts| {
        let ids: Vec<Id> = parts
            .iter()
            .flat_map(|p| &p.grants)
            .map(|g| g.grant_id)
            .collect();
        assert_eq!(ids, vec![kept_id]);
    })
    .await
    .unwrap();
    assert!(grants(&mallory.c).await.is_empty());
}

#[tokio::test]
async fn a_large_folder_is_re_keyed_in_several_parts() {
    let s = Server::new();
    let p = patient(&s, "olga").await;
    let d = doctor(&s, "dr.many").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    for i in 0..120 {
        p.upload_new(
            &labs,
            &format!("r{i}.txt"),
            format!("value {i}").as_bytes(),
            s.now(),
        )
        .await;
    }
    share(&s, &p, "dr.many", &labs, None, None).await.unwrap();
    let mut count = 0;
    rotate(&s, &p, labs.id(), |parts| count = parts.len())
        .await
        .unwrap();
    assert!(count > 1, "{count} part(s)");
    let after = p.tree().await;
    for i in [0, 59, 119] {
        assert_eq!(
            p.download_current(&format!("r{i}.txt")).await,
            format!("value {i}").as_bytes()
        );
    }
    assert_eq!(after.nodes().count(), tree.nodes().count() + 120);
    // The doctor who keeps access opens the folder with the re-wrapped key.
    let grant = grants(&d.c).await[0].grant.value.grant_id;
    assert_eq!(open_scope(&d, "olga", &grant).await.nodes().count(), 121);
}

/// A doctor shaped like a patient, so that the upload helpers drive their
/// uploads into a patient's record.
async fn writer(s: &Server, name: &str) -> Patient {
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

    // The patient cannot send chunks into the doctor's upload, nor finish it.
    let pending = w
        .start_new(&top, "pending.txt", b"half", s.now())
        .await
        .unwrap();
    let stolen = p
        .put(&pending.node_id, 1, 0, pending.file.chunks[0].clone())
        .await;
    expect_err(stolen, StatusCode::NOT_FOUND);
    expect_err(p.cancel(&pending.node_id, 1).await, StatusCode::NOT_FOUND);
    w.put_all(&pending).await;

    // The shared folder itself cannot be deleted by the doctor; what is in it can.
    let e = expect_err(
        w.trash(notes.id(), top.view.revision).await,
        StatusCode::FORBIDDEN,
    );
    assert!(e.message.contains("cannot be deleted"), "{}", e.message);
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

/// The patient names `to` as emergency contact with the given wait, as the
/// Sharing page does.
async fn name_contact(
    s: &Server,
    p: &Patient,
    to: &str,
    node: &OpenNode,
    permission: Permission,
    wait: i64,
) -> Result<GrantView, common::Failure> {
    let contact = entry(&p.c, to).await;
    let me = entry(&p.c, &p.name).await;
    let mut picked = choice(&contact, node, None);
    picked.permission = permission;
    picked.emergency = true;
    let (grant, wrapped) = make_grant(&me, p.keyring.identity(), &picked, s.now()).unwrap();
    p.c.post(
        "/api/sharing/grant/create",
        &json!({ "request": { "grant": grant, "wrapped_key": b64::encode(&wrapped),
            "request_id": null, "emergency_wait_secs": wait } }),
    )
    .await
}

async fn ask_emergency(c: &Client, grant: &Id, reason: &str) -> Result<GrantView, common::Failure> {
    c.post(
        "/api/sharing/emergency/request",
        &json!({ "request": { "grant_id": b64::encode(grant), "reason": reason } }),
    )
    .await
}

async fn refuse_emergency(c: &Client, grant: &Id) -> Result<GrantView, common::Failure> {
    c.post(
        "/api/sharing/emergency/refuse",
        &json!({ "request": { "grant_id": b64::encode(grant) } }),
    )
    .await
}

/// Moves the clock on by `secs` in steps short of the idle timeout, with a
/// request from each client in between so that their sessions stay open.
async fn pass(s: &Server, clients: &[&Client], secs: i64) {
    let mut left = secs;
    while left > 0 {
        let step = left.min(300);
        s.advance(step);
        left -= step;
        for c in clients {
            let _: Vec<GrantView> = c.get("/api/sharing/grants").await.unwrap();
        }
    }
}

fn mine<'a>(list: &'a [GrantView], grant: &Id) -> &'a GrantView {
    list.iter()
        .find(|g| g.grant.value.grant_id == *grant)
        .expect("the grant is listed")
}

#[tokio::test]
async fn an_emergency_contact_reads_only_after_asking_and_the_wait_unless_refused() {
    let s = Server::new();
    let p = patient(&s, "ivy").await;
    let d = doctor(&s, "dr.em").await;
    let kin = patient(&s, "kin").await;
    let other = doctor(&s, "dr.other").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let root = tree.root().unwrap().clone();
    let notes = find(&tree, "Notes").clone();
    p.upload_new(&notes, "allergies.txt", b"penicillin", s.now())
        .await;

    // Bad choices: the wait out of range, a folder, write access, an admin.
    let hour = 3600;
    for wait in [59 * 60, 31 * 24 * hour] {
        let e = expect_err(
            name_contact(&s, &p, "dr.em", &root, Permission::Read, wait).await,
            StatusCode::BAD_REQUEST,
        );
        assert!(
            e.message.contains("between 1 hour and 30 days"),
            "{}",
            e.message
        );
    }
    expect_err(
        name_contact(&s, &p, "dr.em", &notes, Permission::Read, hour).await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(
        name_contact(&s, &p, "dr.em", &root, Permission::ReadWrite, hour).await,
        StatusCode::BAD_REQUEST,
    );
    let admin = s.client();
    admin
        .signup("root.admin", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    let admin_entry = entry(&p.c, "root.admin").await;
    let mut to_admin = choice(&admin_entry, &root, None);
    to_admin.emergency = true;
    assert!(make_grant(
        &entry(&p.c, "ivy").await,
        p.keyring.identity(),
        &to_admin,
        s.now()
    )
    .is_err());
    // A patient is refused as a doctor (the server checks too, whatever the
    // browser signed), but may be an emergency contact.
    let kin_entry = entry(&p.c, "kin").await;
    let mut to_kin = choice(&kin_entry, &root, None);
    to_kin.emergency = true;
    let (signed, wrapped) = make_grant(
        &entry(&p.c, "ivy").await,
        p.keyring.identity(),
        &to_kin,
        s.now(),
    )
    .unwrap();
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &json!({ "request": { "grant": signed, "wrapped_key": b64::encode(&wrapped), "request_id": null } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("not a doctor"), "{}", e.message);
    assert!(grants(&p.c).await.is_empty());

    let named = name_contact(&s, &p, "dr.em", &root, Permission::Read, hour)
        .await
        .unwrap();
    let grant_id = named.grant.value.grant_id;
    assert_eq!(named.status, GrantStatus::Standby);
    let kin_grant = name_contact(&s, &p, "kin", &root, Permission::Read, 2 * hour)
        .await
        .unwrap()
        .grant
        .value
        .grant_id;
    // On standby nothing is served: no key, no record, no chunk.
    let held = grants(&d.c).await;
    assert_eq!(mine(&held, &grant_id).status, GrantStatus::Standby);
    assert!(mine(&held, &grant_id).wrapped_key.is_empty());
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    let own = p.tree().await;
    let allergies = find(&own, "allergies.txt").clone();
    let version = allergies.view.current.clone().unwrap();
    assert_not_found(chunk_status(&d.c, allergies.id(), 1, 0).await);

    // Refusing needs a request; asking needs a reason and the right person.
    expect_err(
        refuse_emergency(&p.c, &grant_id).await,
        StatusCode::CONFLICT,
    );
    expect_err(
        ask_emergency(&d.c, &grant_id, "  ").await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(
        ask_emergency(&other.c, &grant_id, "let me in").await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        refuse_emergency(&d.c, &grant_id).await,
        StatusCode::NOT_FOUND,
    );

    // The contact asks; the patient sees it at once and refuses.
    let asked = ask_emergency(&d.c, &grant_id, "Unconscious in A&E")
        .await
        .unwrap();
    assert_eq!(asked.status, GrantStatus::Waiting);
    assert!(asked.wrapped_key.is_empty());
    expect_err(
        ask_emergency(&d.c, &grant_id, "again").await,
        StatusCode::CONFLICT,
    );
    let seen = grants(&p.c).await;
    let waiting = mine(&seen, &grant_id);
    assert_eq!(waiting.status, GrantStatus::Waiting);
    let e = waiting.emergency.clone().unwrap();
    assert_eq!(e.reason.as_deref(), Some("Unconscious in A&E"));
    assert_eq!(e.opens_at(), Some(e.requested_at.unwrap() + hour));
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    let refused = refuse_emergency(&p.c, &grant_id).await.unwrap();
    assert_eq!(refused.status, GrantStatus::Standby);
    // Past the wait, a refused request opens nothing.
    pass(&s, &[&p.c, &d.c, &kin.c], hour + 60).await;
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    let after = grants(&d.c).await;
    assert!(mine(&after, &grant_id)
        .emergency
        .as_ref()
        .unwrap()
        .refused_at
        .is_some());

    // Asked again and not refused: the record opens when the wait is over.
    ask_emergency(&d.c, &grant_id, "Still unconscious")
        .await
        .unwrap();
    ask_emergency(&kin.c, &kin_grant, "Her sister, at the hospital")
        .await
        .unwrap();
    pass(&s, &[&p.c, &d.c, &kin.c], hour - 120).await;
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    pass(&s, &[&p.c, &d.c, &kin.c], 180).await;
    let open = grants(&d.c).await;
    assert_eq!(mine(&open, &grant_id).status, GrantStatus::Active);
    assert!(!mine(&open, &grant_id).wrapped_key.is_empty());
    let shared = open_scope(&d, "ivy", &grant_id).await;
    let theirs = find(&shared, "allergies.txt");
    let chunks = read_all(&d.c, &theirs.view.current.clone().unwrap()).await;
    let ivy_key = entry(&d.c, "ivy").await.identity_key;
    assert_eq!(
        open_file(&version, &ivy_key, &theirs.key, &chunks),
        b"penicillin"
    );
    // Too late to refuse; removing the contact is the way to close it.
    expect_err(
        refuse_emergency(&p.c, &grant_id).await,
        StatusCode::CONFLICT,
    );
    // The relative's wait is two hours: still closed, then open.
    expect_err(
        kin.c
            .get::<SharedScope>(&format!(
                "/api/sharing/shared?grant_id={}",
                b64::encode(&kin_grant)
            ))
            .await,
        StatusCode::NOT_FOUND,
    );
    pass(&s, &[&p.c, &d.c, &kin.c], hour).await;
    let kin_view = open_scope_as(&kin.c, &kin.id, &kin.keyring, "ivy", &kin_grant).await;
    assert!(kin_view.nodes().any(|n| n.metadata.name == "allergies.txt"));
    // Read only: the contact cannot write.
    expect_err(
        kin.trash(allergies.id(), allergies.view.revision).await,
        StatusCode::FORBIDDEN,
    );

    // Every step is in the patient's history.
    let history = p.history().await;
    for kind in [
        EventKind::EmergencyContactNamed,
        EventKind::EmergencyRequested,
        EventKind::EmergencyRefused,
        EventKind::EmergencyOpened,
    ] {
        assert!(history.contains(&kind), "{kind:?}");
    }

    // Removing the contact closes it at once.
    let _: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&grant_id) } }),
        )
        .await
        .unwrap();
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    assert_not_found(chunk_status(&d.c, allergies.id(), 1, 0).await);
}

#[tokio::test]
async fn views_of_metadata_grant_expiry_and_session_expiry_are_logged_once() {
    let s = Server::new();
    let p = patient(&s, "una").await;
    let d = doctor(&s, "dr.day").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let file = p
        .upload_new(&notes, "plan.txt", b"care plan", s.now())
        .await;
    let count =
        |events: &[EventKind], kind: EventKind| events.iter().filter(|k| **k == kind).count();

    // Each look at the list of items, or at a file's versions, is one event.
    let before = p.history().await;
    p.raw_tree().await;
    versions(&p.c, &file).await.unwrap();
    let after = p.history().await;
    assert_eq!(
        count(&after, EventKind::RecordViewed),
        count(&before, EventKind::RecordViewed) + 1
    );
    assert_eq!(
        count(&after, EventKind::VersionsViewed),
        count(&before, EventKind::VersionsViewed) + 1
    );
    // A doctor's look at the versions is in the patient's history too.
    let view = share(&s, &p, "dr.day", &notes, Some(s.now() + 600), None)
        .await
        .unwrap();
    versions(&d.c, &file).await.unwrap();
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    assert!(page
        .events
        .iter()
        .any(|e| e.kind == EventKind::VersionsViewed && e.actor == Some(d.id)));

    // The share reaches its end date: logged once, when either side next lists it.
    s.advance(601);
    let listed = grants(&d.c).await;
    assert_eq!(listed[0].status, GrantStatus::Expired);
    grants(&p.c).await;
    grants(&d.c).await;
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let expired: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.kind == EventKind::GrantExpired)
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (expired[0].actor, expired[0].subject, expired[0].item),
        (None, Some(p.id), Some(view.grant.value.node_id))
    );

    // An idle session ends at its next use, with one event.
    s.advance(31 * 60);
    for _ in 0..2 {
        let (status, _, _) = d.c.get_bytes("/api/sharing/grants").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    d.c.sign_in("dr.day", common::PASSWORD).await;
    let mine: shared::api::audit::EventsPage =
        d.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    assert_eq!(
        mine.events
            .iter()
            .filter(|e| e.kind == EventKind::SessionExpired)
            .count(),
        1
    );
}

/// The patient's history from `seen` on, without the views of lists (each
/// tree fetch logs one; counted in the test above).
async fn fresh(p: &Patient, seen: &mut usize) -> Vec<EventKind> {
    let all = p.history().await;
    let out = all[*seen..]
        .iter()
        .copied()
        .filter(|k| !matches!(k, EventKind::RecordViewed | EventKind::VersionsViewed))
        .collect();
    *seen = all.len();
    out
}

#[tokio::test]
async fn every_sharing_step_appends_exactly_one_event_of_its_kind() {
    use EventKind::*;
    let s = Server::new();
    let p = patient(&s, "vera").await;
    let d = doctor(&s, "dr.vale").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let notes = find(&tree, "Notes").clone();
    let root = tree.root().unwrap().clone();
    let mut seen = 0;
    fresh(&p, &mut seen).await;

    let direct = share(&s, &p, "dr.vale", &labs, None, None).await.unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [GrantCreated]);
    let ask = |reason: &str| json!({"request": {"patient_username": "vera", "reason": reason}});
    let first: AccessRequestView =
        d.c.post("/api/sharing/request/create", &ask("Results"))
            .await
            .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [AccessRequested]);
    let _: AccessRequestView =
        p.c.post(
            "/api/sharing/request/deny",
            &json!({"request": {"request_id": b64::encode(&first.request_id)}}),
        )
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [AccessDenied]);
    let second: AccessRequestView =
        d.c.post("/api/sharing/request/create", &ask("Notes, please"))
            .await
            .unwrap();
    share(&s, &p, "dr.vale", &notes, None, Some(second.request_id))
        .await
        .unwrap();
    assert_eq!(
        fresh(&p, &mut seen).await,
        [AccessRequested, AccessApproved]
    );
    scope(&d, &direct.grant.value.grant_id).await.unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [SharedViewed]);
    let _: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&direct.grant.value.grant_id) } }),
        )
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [GrantRevoked]);
    rotate(&s, &p, labs.id(), |_| {}).await.unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [KeysRotated]);

    let named = name_contact(&s, &p, "dr.vale", &root, Permission::Read, 3600)
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [EmergencyContactNamed]);
    ask_emergency(&d.c, &named.grant.value.grant_id, "Emergency")
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [EmergencyRequested]);
    refuse_emergency(&p.c, &named.grant.value.grant_id)
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [EmergencyRefused]);
}

async fn decline(c: &Client, grant: &Id) -> Result<GrantView, common::Failure> {
    c.post(
        "/api/sharing/grant/decline",
        &json!({ "request": { "grant_id": b64::encode(grant) } }),
    )
    .await
}

#[tokio::test]
async fn a_doctor_declines_a_share_and_it_serves_nothing_more() {
    let s = Server::new();
    let p = patient(&s, "nora").await;
    let d = doctor(&s, "dr.nye").await;
    let other = doctor(&s, "dr.oak").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    p.upload_new(&notes, "n.txt", b"a note", s.now()).await;
    let to_decline = share(&s, &p, "dr.nye", &notes, None, None).await.unwrap();
    let kept = share(&s, &p, "dr.oak", &notes, None, None).await.unwrap();
    let id = to_decline.grant.value.grant_id;
    let shared = open_scope(&d, "nora", &id).await;
    let file = find(&shared, "n.txt").clone();
    let version = file.view.current.clone().unwrap();
    assert_eq!(read_all(&d.c, &version).await.len(), 1);

    // Only the grant's own doctor may decline it: the patient, another
    // doctor and an unknown id all get not_found, and nothing changes.
    expect_err(decline(&p.c, &id).await, StatusCode::NOT_FOUND);
    expect_err(decline(&other.c, &id).await, StatusCode::NOT_FOUND);
    expect_err(decline(&d.c, &[7; 16]).await, StatusCode::NOT_FOUND);
    assert_eq!(mine(&grants(&p.c).await, &id).status, GrantStatus::Active);
    let bad =
        d.c.post_raw(
            "/api/sharing/grant/decline",
            r#"{"request":{"grant_id":"x"}}"#,
        )
        .await;
    assert!(bad.0.is_client_error(), "{bad:?}");

    let declined = decline(&d.c, &id).await.unwrap();
    assert_eq!(declined.status, GrantStatus::Declined);
    assert!(declined.wrapped_key.is_empty());
    let again = expect_err(decline(&d.c, &id).await, StatusCode::CONFLICT);
    assert!(
        again.message.contains("already declined"),
        "{}",
        again.message
    );

    // The declined grant serves no key and opens nothing, even to a doctor
    // who kept the old key; it leaves the doctor's list.
    expect_err(scope(&d, &id).await, StatusCode::NOT_FOUND);
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 0).await);
    expect_err(versions(&d.c, file.id()).await, StatusCode::NOT_FOUND);
    assert!(grants(&d.c).await.is_empty());
    // The other doctor keeps access.
    assert_eq!(read_all(&other.c, &version).await.len(), 1);

    // The patient sees it declined, with no key stored, and an event naming
    // the doctor; it cannot be removed any more, and a key rotation leaves it out.
    let listed = grants(&p.c).await;
    let seen = mine(&listed, &id);
    assert_eq!(seen.status, GrantStatus::Declined);
    assert!(seen.wrapped_key.is_empty());
    let (_, raw) = s
        .store
        .scan_prefix(
            server::store::Space::Grants,
            &server::store::keys::Key::new().u8(1).fixed(&id).finish(),
            None,
            1,
        )
        .await
        .unwrap()
        .remove(0);
    let stored: server::backend::sharing::layout::StoredGrant =
        server::store::codec::decode(&raw).unwrap();
    assert!(stored.wrapped_key.is_empty());
    assert!(stored.declined_at.is_some());
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let event = page
        .events
        .iter()
        .find(|e| e.kind == EventKind::GrantDeclined)
        .expect("a grant_declined event");
    assert_eq!(event.actor, Some(d.id));
    assert_eq!(event.subject, Some(p.id));
    assert_eq!(event.item, Some(*notes.id()));
    assert_eq!(EventKind::GrantDeclined.label(), "Declined a share");
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&id) } }),
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("declined"), "{}", e.message);
    let ticket: shared::api::sharing::RotationTicket =
        p.c.post(
            "/api/sharing/rotation/start",
            &json!({ "request": { "node_id": b64::encode(notes.id()) } }),
        )
        .await
        .unwrap();
    let rewrapped: Vec<Id> = ticket
        .grants
        .iter()
        .map(|g| g.grant.value.grant_id)
        .collect();
    assert_eq!(rewrapped, [kept.grant.value.grant_id]);

    // The patient may share with that doctor again.
    let fresh = share(&s, &p, "dr.nye", &notes, None, None).await.unwrap();
    assert_eq!(fresh.status, GrantStatus::Active);
}

#[tokio::test]
async fn a_grant_id_that_exists_is_refused_even_in_a_race() {
    let s = Server::new();
    let p = patient(&s, "ida").await;
    let q = patient(&s, "jon").await;
    let _d = doctor(&s, "dr.lee").await;
    p.create_record(s.now()).await;
    q.create_record(s.now()).await;
    let p_notes = find(&p.tree().await, "Notes").clone();
    let q_notes = find(&q.tree().await, "Notes").clone();
    let first = share(&s, &p, "dr.lee", &p_notes, None, None).await.unwrap();
    let taken = first.grant.value.grant_id;

    // The same id again, from its patient or from anyone else: 409 with a
    // JSON body, and nothing stored.
    let again = grant_body(&s, &q, &q_notes, taken).await;
    let e = expect_err(
        q.c.post::<_, GrantView>("/api/sharing/grant/create", &again)
            .await,
        StatusCode::CONFLICT,
    );
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("already exists"), "{}", e.message);
    assert!(grants(&q.c).await.is_empty());
    assert_eq!(grants(&p.c).await.len(), 1);

    // Two patients racing for one new id: exactly one wins.
    let id = [0x42; 16];
    let (a, b) = (
        grant_body(&s, &p, &find(&p.tree().await, "Lab results").clone(), id).await,
        grant_body(&s, &q, &q_notes, id).await,
    );
    let (ra, rb) = tokio::join!(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &a),
        q.c.post::<_, GrantView>("/api/sharing/grant/create", &b),
    );
    let wins = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{ra:?} {rb:?}");
    let lost = if ra.is_ok() { rb } else { ra };
    expect_err(lost, StatusCode::CONFLICT);
}

/// A grant of `node` to dr.lee signed by `who`, with the id `id` chosen by
/// the client (as any client may).
async fn grant_body(s: &Server, who: &Patient, node: &OpenNode, id: Id) -> serde_json::Value {
    let doctor_entry = entry(&who.c, "dr.lee").await;
    let me = entry(&who.c, &who.name).await;
    let (grant, wrapped) = make_grant(
        &me,
        who.keyring.identity(),
        &choice(&doctor_entry, node, None),
        s.now(),
    )
    .unwrap();
    let mut value = grant.value.clone();
    value.grant_id = id;
    let signed = sign::sign(who.keyring.identity(), value);
    json!({ "request": { "grant": signed, "wrapped_key": b64::encode(&wrapped),
        "request_id": null } })
}

#[tokio::test]
async fn spam_grants_do_not_push_a_doctors_real_grant_out_of_view() {
    use server::{
        backend::sharing::layout::StoredGrant,
        store::{codec, keys::Key, Batch, Space},
    };
    let s = Server::new();
    let p = patient(&s, "real").await;
    let d = doctor(&s, "dr.busy").await;
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    p.upload_new(&notes, "r.txt", b"real content", s.now())
        .await;
    let real = share(&s, &p, "dr.busy", &notes, None, None).await.unwrap();

    // Two open-signup accounts hold more grants to the doctor than the old
    // window of 1001, with ids that sort before any real one. Written straight
    // to the store (signed by their patients, as the API would store them) to
    // keep the test fast.
    let doctor_entry = entry(&p.c, "dr.busy").await;
    let mut batch = Batch::new();
    let mut n: u32 = 0;
    for name in ["spam.one", "spam.two"] {
        let spammer = patient(&s, name).await;
        spammer.create_record(s.now()).await;
        let folder = find(&spammer.tree().await, "Notes").clone();
        let me = entry(&spammer.c, name).await;
        let (grant, wrapped) = make_grant(
            &me,
            spammer.keyring.identity(),
            &choice(&doctor_entry, &folder, None),
            s.now(),
        )
        .unwrap();
        for _ in 0..600 {
            n += 1;
            let mut id = [0u8; 16];
            id[12..].copy_from_slice(&n.to_be_bytes());
            let mut value = grant.value.clone();
            value.grant_id = id;
            let stored = StoredGrant {
                grant: sign::sign(spammer.keyring.identity(), value),
                wrapped_key: wrapped.clone(),
                revoked_at: Some(s.now()),
                request_id: None,
                emergency: None,
                expiry_logged: false,
                declined_at: None,
            };
            batch
                .put(
                    Space::Grants,
                    Key::new().u8(1).fixed(&id).finish(),
                    codec::encode(&stored).unwrap(),
                )
                .put(
                    Space::Grants,
                    Key::new().u8(2).fixed(&spammer.id).fixed(&id).finish(),
                    Vec::new(),
                )
                .put(
                    Space::Grants,
                    Key::new().u8(3).fixed(&d.id).fixed(&id).finish(),
                    Vec::new(),
                );
        }
    }
    s.store.apply(batch).await.unwrap();

    // The doctor's list holds every grant, the real one among them, and the
    // real grant still opens the record.
    let listed = grants(&d.c).await;
    assert_eq!(listed.len(), 1201);
    let id = real.grant.value.grant_id;
    assert_eq!(mine(&listed, &id).status, GrantStatus::Active);
    let shared = open_scope(&d, "real", &id).await;
    let file = find(&shared, "r.txt").clone();
    let version = file.view.current.clone().unwrap();
    assert_eq!(read_all(&d.c, &version).await.len(), 1);
}

/// Starts an upload of a new file with the id `id` (chosen by the client, as
/// any client may) under `parent`.
async fn start_new_with_id(
    w: &Patient,
    parent: &OpenNode,
    id: Id,
    bytes: &[u8],
    now: i64,
) -> Result<common::patient::Started, common::Failure> {
    use common::files::{ciphertext_len, metadata, seal_file};
    let (mut node, node_key) = shared::records::new_child(
        parent,
        NodeKind::File,
        &metadata("same-id.txt", now, Some(bytes.len() as u64)),
    )
    .unwrap();
    node.node_id = id;
    let ticket: shared::api::records::UploadTicket =
        w.c.post(
            "/api/records/upload/start",
            &json!({"request": {
                "node_id": b64::encode(&id),
                "new_node": node,
                "chunk_size": CHUNK,
                "ciphertext_len": ciphertext_len(bytes.len(), CHUNK),
            }}),
        )
        .await?;
    let file = seal_file(&id, 1, CHUNK, bytes);
    Ok(common::patient::Started {
        ticket,
        node_id: id,
        parent_id: parent.view.node_id,
        node_key,
        file,
        bytes: bytes.to_vec(),
    })
}

/// A doctor with read-and-write grants in two records (one a sock puppet's),
/// both shared folders open.
async fn doctor_in_two_records(s: &Server) -> (Patient, Patient, Patient, OpenNode, OpenNode) {
    let p = patient(s, "ann").await;
    let sock = patient(s, "sock").await;
    let w = writer(s, "dr.two").await;
    let mut tops = Vec::new();
    for owner in [&p, &sock] {
        owner.create_record(s.now()).await;
        let notes = find(&owner.tree().await, "Notes").clone();
        let g = share_as(
            s,
            owner,
            "dr.two",
            &notes,
            Permission::ReadWrite,
            None,
            None,
        )
        .await
        .unwrap();
        let seen = open_scope_as(
            &w.c,
            &w.id,
            &w.keyring,
            &owner.name,
            &g.grant.value.grant_id,
        )
        .await;
        tops.push(seen.root().unwrap().clone());
    }
    let sock_top = tops.pop().unwrap();
    let p_top = tops.pop().unwrap();
    (p, sock, w, p_top, sock_top)
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

async fn start_rotation(p: &Patient, scope: &Id) -> shared::api::sharing::RotationTicket {
    p.c.post(
        "/api/sharing/rotation/start",
        &json!({"request": {"node_id": b64::encode(scope)}}),
    )
    .await
    .unwrap()
}

async fn send_part(p: &Patient, body: serde_json::Value) -> Result<(), common::Failure> {
    p.c.post("/api/sharing/rotation/part", &body).await
}

#[tokio::test]
async fn rotation_parts_and_the_commit_count_against_the_quota() {
    use server::{
        backend::{
            records::{layout::RecordHead, rotation::StoredRotation},
            AccountSettings, RecordsConfig,
        },
        store::{codec, keys::Key, Space},
    };
    let records = RecordsConfig {
        quota_bytes: 1_000_000,
        ..RecordsConfig::default()
    };
    let s = Server::with_records(AccountSettings::default(), records);
    let p = patient(&s, "quinn").await;
    p.create_record(s.now()).await;
    let root = *p.tree().await.root().unwrap().id();
    let used0 = p.usage().await.used_bytes;
    // A part of the right shape: 16,000 bytes of "metadata" per node.
    let part = |rotation: &Id, index: u32, nodes: &[Id]| {
        let nodes: Vec<_> = nodes
            .iter()
            .map(|n| {
                let key_len = if *n == root { 81 } else { 61 };
                json!({"node_id": b64::encode(n), "wrapped_key": b64::encode(&vec![1u8; key_len]),
                    "metadata": b64::encode(&vec![2u8; 16_000])})
            })
            .collect();
        json!({"request": {"rotation_id": b64::encode(rotation), "index": index,
            "nodes": nodes, "versions": [], "grants": []}})
    };
    // Stored parts are counted while the rotation is open; one that would
    // pass the quota is refused and changes nothing.
    let ticket = start_rotation(&p, &root).await;
    let junk: Vec<Id> = (0..20u8).map(|i| [i; 16]).collect();
    send_part(&p, part(&ticket.rotation_id, 0, &junk))
        .await
        .unwrap();
    let used1 = p.usage().await.used_bytes;
    assert!(used1 > used0 + 20 * 16_000, "{used0} -> {used1}");
    send_part(&p, part(&ticket.rotation_id, 1, &junk))
        .await
        .unwrap();
    let used2 = p.usage().await.used_bytes;
    assert_eq!(used2 - used1, used1 - used0);
    // Sending an index again replaces its count.
    send_part(&p, part(&ticket.rotation_id, 1, &junk))
        .await
        .unwrap();
    assert_eq!(p.usage().await.used_bytes, used2);
    let e = expect_err(
        send_part(&p, part(&ticket.rotation_id, 2, &junk)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert_eq!(e.code, ErrorCode::PayloadTooLarge);
    assert!(e.message.contains("not enough space"), "{}", e.message);
    assert_eq!(p.usage().await.used_bytes, used2);

    // A new start drops the old parts and gives their space back; a real
    // rotation's commit gives back its parts' space too.
    let ticket = start_rotation(&p, &root).await;
    assert_eq!(p.usage().await.used_bytes, used0);
    let _ = ticket;
    rotate(&s, &p, &root, |_| {}).await.unwrap();
    let used3 = p.usage().await.used_bytes;
    assert!(used3.abs_diff(used0) < 1000, "{used0} -> {used3}");

    // The commit checks the growth of the metadata too: here for parts stored
    // by an earlier server, which counted none, in a record near its quota.
    let ticket = start_rotation(&p, &root).await;
    send_part(&p, part(&ticket.rotation_id, 0, &ticket.nodes))
        .await
        .unwrap();
    let head_key = Key::new().u8(3).fixed(&p.id).finish();
    let rotation_key = Key::new().u8(8).fixed(&p.id).finish();
    let mut head: RecordHead = codec::decode(
        &s.store
            .get(Space::Records, &head_key)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let mut rotation: StoredRotation = codec::decode(
        &s.store
            .get(Space::Records, &rotation_key)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    head.reserved_bytes -= rotation.reserved;
    head.stored_bytes = 1_000_000 - 1000 - head.reserved_bytes;
    rotation.reserved = 0;
    s.store
        .put(Space::Records, head_key, codec::encode(&head).unwrap())
        .await
        .unwrap();
    s.store
        .put(
            Space::Records,
            rotation_key,
            codec::encode(&rotation).unwrap(),
        )
        .await
        .unwrap();
    let before = p.raw_tree().await;
    let e = expect_err(
        p.c.post::<_, ()>(
            "/api/sharing/rotation/commit",
            &json!({"request": {"rotation_id": b64::encode(&ticket.rotation_id), "parts": 1}}),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert_eq!(e.code, ErrorCode::PayloadTooLarge);
    assert_eq!(p.raw_tree().await.nodes, before.nodes);
    p.tree().await;
}
