//! Sharing in-process, with real accounts and the browser's own crypto: a
//! patient shares a folder, the doctor opens and reads it through the grant
//! and nothing else; revocation and expiry end access at once; requests are
//! approved or denied once; every bad grant is refused and changes nothing;
//! a doctor probing ids of a patient who shared nothing gets `not_found`.
//!
//! This file holds the helpers; the tests are in one file per topic.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod cached_reads;
mod change;
#[path = "../common/mod.rs"]
mod common;
mod delete_account;
mod emergency;
mod events;
mod grant_key;
mod grants;
mod legacy;
mod migrate;
mod notices;
mod organise;
mod profile;
mod rekey;
mod requests;
mod role;
mod rotation;
mod single_file;
mod writing;

use axum::http::StatusCode;
use common::{
    files::{content, open_file},
    patient::{expect_err, find, patient, raw_err, snapshot, Patient, CHUNK},
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
        sign::{self},
    },
    model::{Id, KeyEntry, Permission, Role},
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
        terms: &Default::default(),
        now: s.now(),
        signing_key: p.keyring.identity(),
    };
    let raw = p.raw_tree().await;
    let tree = OpenTree::open(raw.clone(), p.keyring.encryption()).unwrap();
    let mut parts = shared::sharing::plan_rotation(&tree, &owner, scope, &ticket).unwrap();
    let head = p.sign_rotation(&raw, &mut parts, s.now());
    tamper(&mut parts);
    for part in &parts {
        // Every part fits even a small JSON body limit (the e2e server's 64 KiB).
        assert!(serde_json::to_vec(part).unwrap().len() < 64 * 1024);
        p.c.post::<_, ()>("/api/sharing/rotation/part", &json!({ "request": part }))
            .await?;
    }
    p.c.post(
        "/api/sharing/rotation/commit",
        &json!({"request": {"rotation_id": b64::encode(&ticket.rotation_id), "parts": parts.len(), "head": head}}),
    )
    .await
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

/// Writes a grant row and its two index entries behind the server's back, as
/// a lying server (or one row written into its store) would.
async fn inject_grant(s: &Server, stored: &server::backend::sharing::layout::StoredGrant) {
    use server::{
        backend::sharing::layout::{doctor_grant_key, grant_key, patient_grant_key},
        store::{codec, Batch, Space},
    };
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
async fn remove_grant_rows(s: &Server, g: &shared::model::Grant) {
    use server::{
        backend::sharing::layout::{doctor_grant_key, grant_key, patient_grant_key},
        store::{Batch, Space},
    };
    let mut batch = Batch::new();
    batch
        .delete(Space::Grants, grant_key(&g.grant_id))
        .delete(Space::Grants, patient_grant_key(&g.patient_id, &g.grant_id))
        .delete(Space::Grants, doctor_grant_key(&g.doctor_id, &g.grant_id));
    s.store.apply(batch).await.unwrap();
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

async fn decline(c: &Client, grant: &Id) -> Result<GrantView, common::Failure> {
    c.post(
        "/api/sharing/grant/decline",
        &json!({ "request": { "grant_id": b64::encode(grant) } }),
    )
    .await
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
    let (mut node, node_key) = shared::records::new_file_node(
        parent,
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
        base: common::patient::new_file_base(&node),
        owner: common::patient::owner_of(&parent.view, &w.id),
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
