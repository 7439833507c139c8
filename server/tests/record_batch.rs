//! `records/batch` (docs/PROTOCOL.md, section 16.11): many new folders and
//! small files under one owner's head, all or nothing. Every item gets the
//! checks of its one-by-one call and its own audit event; one bad item, an
//! over-limit batch, a stale head, a caller without a session, another
//! patient and a doctor under a read-only grant are refused and change
//! nothing; a server that drops an item of a batch from what it serves is
//! caught by the owner's browser, whose head covers every item.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{
    files::{content, metadata, seal_file},
    patient::{expect_err, find, patient, snapshot, Patient},
    Server,
};
use serde_json::{json, Value};
use shared::{
    api::{
        directory::DirectoryEntry,
        records::{NewFile, NewNode, NodeKind, RecordTree, Usage, MAX_BATCH_ITEMS},
        ErrorCode,
    },
    audit::EventKind,
    crypto::{b64, sign::Signed, stream::CHUNK_SIZE},
    model::{Id, Permission, Role},
    records::{
        bulk::{opened_folder, small_file, SealedContent},
        new_child, new_file_node,
        verify::{check_record, GrantKnowledge, OwnerKeys, RecordAlarm, Seen},
        NodeState, OpenNode, RecordHead,
    },
    sharing::{make_grant, GrantChoice},
};

/// A batch being made: its folders and files, and what each file holds.
#[derive(Default)]
struct Made {
    folders: Vec<NewNode>,
    files: Vec<NewFile>,
    bytes: Vec<(String, Vec<u8>)>,
}

impl Made {
    /// A new folder `name` in `parent`, opened as a parent for later items.
    fn folder(&mut self, p: &Patient, parent: &OpenNode, name: &str) -> OpenNode {
        let meta = metadata(name, 0, None);
        let (node, key) = new_child(parent, NodeKind::Folder, &meta, &p.signer(0)).unwrap();
        let opened = opened_folder(&node, key, meta);
        self.folders.push(node);
        opened
    }

    /// A new small file `name` of `len` bytes in `parent`.
    fn file(&mut self, p: &Patient, parent: &OpenNode, name: &str, len: usize) {
        let bytes = content(name, len);
        let (node, key) = new_file_node(parent, &metadata(name, 0, Some(len as u64))).unwrap();
        let sealed = seal_file(&node.node_id, 1, CHUNK_SIZE, &bytes);
        let file = small_file(
            node,
            &key,
            SealedContent {
                content: sealed.chunks.concat(),
                padded_len: sealed.padded_len,
                chunk_size: CHUNK_SIZE,
                content_key: sealed.content_key,
            },
            &p.signer(0),
        )
        .unwrap();
        self.files.push(file);
        self.bytes.push((name.to_owned(), bytes));
    }

    fn states(&self) -> Vec<Signed<NodeState>> {
        self.folders
            .iter()
            .map(|n| n.state.clone().unwrap())
            .chain(self.files.iter().map(|f| f.node.state.clone().unwrap()))
            .collect()
    }

    /// The request with the owner's next head over the record as `tree`.
    fn body(&self, p: &Patient, tree: &RecordTree) -> Value {
        let head = p.next_head_over(tree, &self.states(), &[], 0);
        self.body_with(&head)
    }

    fn body_with(&self, head: &Signed<RecordHead>) -> Value {
        json!({"request": {"folders": self.folders, "files": self.files, "head": head}})
    }
}

async fn send(p: &Patient, body: &Value) -> Result<Usage, common::Failure> {
    p.c.post("/api/records/batch", body).await
}

async fn with_record(s: &Server, name: &str) -> Patient {
    let p = patient(s, name).await;
    p.create_record(s.now()).await;
    p
}

fn owner_keys(p: &Patient) -> OwnerKeys {
    OwnerKeys {
        user_id: p.id,
        identity_key: p.keyring.identity().verifying_key(),
    }
}

/// The owner's browser checks `tree` remembering `seen`.
fn check(p: &Patient, tree: &RecordTree, seen: Seen) -> Result<(), RecordAlarm> {
    let none = |_: &Id| None;
    check_record(
        tree,
        &owner_keys(p),
        &none,
        &GrantKnowledge::at(0),
        Some(seen),
        &[],
    )
    .map(drop)
}

#[tokio::test]
async fn a_batch_stores_folders_and_files_under_one_head_with_an_event_each() {
    let s = Server::new();
    let p = with_record(&s, "bulk").await;
    let before = p.raw_tree().await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let mut made = Made::default();
    let scans = made.folder(&p, &notes, "Scans");
    let year = made.folder(&p, &scans, "2024");
    made.file(&p, &notes, "a.txt", 0);
    made.file(&p, &scans, "b.txt", 10 * 1024);
    made.file(&p, &year, "c.txt", 30_000);
    let usage = send(&p, &made.body(&p, &before)).await.unwrap();

    let after = p.raw_tree().await;
    let head = after.head.clone().unwrap();
    assert_eq!(
        head.value.counter,
        before.head.as_ref().unwrap().value.counter + 1,
        "one head for the whole batch"
    );
    assert_eq!(after.nodes.len(), before.nodes.len() + 5);
    assert_eq!(usage, after.usage);
    check(&p, &after, Seen::of(&head)).unwrap();
    let opened = p.tree().await;
    let year = find(&opened, "2024");
    assert_eq!(
        year.view.parent_id,
        Some(*find(&opened, "Scans").id()),
        "the tree keeps its shape"
    );
    for (name, bytes) in &made.bytes {
        assert_eq!(&p.download_current(name).await, bytes, "{name}");
    }
    let history = p.history().await;
    let count = |k: EventKind| history.iter().filter(|e| **e == k).count();
    assert_eq!(count(EventKind::NodeCreated), 2);
    assert_eq!(count(EventKind::FileWritten), 3);
}

#[tokio::test]
async fn a_server_that_drops_an_item_of_a_batch_is_caught() {
    let s = Server::new();
    let p = with_record(&s, "dropped").await;
    let before = p.raw_tree().await;
    let notes = find(&p.tree().await, "Notes").clone();
    let mut made = Made::default();
    for i in 0..4 {
        made.file(&p, &notes, &format!("f{i}"), 100);
    }
    send(&p, &made.body(&p, &before)).await.unwrap();
    let after = p.raw_tree().await;
    let seen = Seen::of(after.head.as_ref().unwrap());
    let dropped = made.files[2].node.node_id;
    let mut served = after.clone();
    served.nodes.retain(|n| n.node_id != dropped);
    assert!(
        check(&p, &served, seen).is_err(),
        "a file of the batch hidden"
    );
    // Served in another order: the same record (the head sorts its leaves).
    let mut reordered = after.clone();
    reordered.nodes.reverse();
    check(&p, &reordered, seen).unwrap();
    // The record as it was before the batch, with the batch's head kept:
    // every item hidden at once.
    let mut rolled = before.clone();
    rolled.head = after.head.clone();
    rolled.head_leaves = after.head_leaves.clone();
    assert!(check(&p, &rolled, seen).is_err());
}

#[tokio::test]
async fn one_bad_item_refuses_the_whole_batch_and_names_it() {
    let s = Server::new();
    let p = with_record(&s, "one-bad").await;
    let before = snapshot(&p).await;
    let raw = p.raw_tree().await;
    let notes = find(&p.tree().await, "Notes").clone();

    // A content that is not what the manifest signed.
    let mut made = Made::default();
    made.folder(&p, &notes, "Ok folder");
    made.file(&p, &notes, "ok", 10);
    made.file(&p, &notes, "bad", 10);
    made.files[1].content[0] ^= 1;
    let e = expect_err(
        send(&p, &made.body(&p, &raw)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e.message.starts_with("Item 3 of the batch (a file)"),
        "{}",
        e.message
    );
    assert!(e.message.contains("hash of chunk 0"), "{}", e.message);

    // A state that does not describe the file as stored.
    let mut made = Made::default();
    made.file(&p, &notes, "ok", 10);
    made.file(&p, &notes, "state", 10);
    let mut view = made.files[1].stored_view();
    view.revision = 7;
    made.files[1].node.state = Some(p.state_in(&p.id, &view, 0));
    let e = expect_err(
        send(&p, &made.body(&p, &raw)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e.message.starts_with("Item 2 of the batch"),
        "{}",
        e.message
    );

    // A folder listed after a file that goes into it is fine; one whose
    // parent is neither stored nor made before it is not.
    let mut made = Made::default();
    let mut other = Made::default();
    let orphan_parent = other.folder(&p, &notes, "never sent");
    made.folder(&p, &orphan_parent, "orphan");
    let e = expect_err(send(&p, &made.body(&p, &raw)).await, StatusCode::NOT_FOUND);
    assert_eq!(e.code, ErrorCode::NotFound);

    // A head that leaves an item out.
    let mut made = Made::default();
    made.file(&p, &notes, "x", 10);
    made.file(&p, &notes, "y", 10);
    let partial = p.next_head_over(&raw, &made.states()[..1], &[], 0);
    let e = expect_err(
        send(&p, &made.body_with(&partial)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e.message.contains("new head does not match"),
        "{}",
        e.message
    );

    // The same id twice.
    let mut made = Made::default();
    made.file(&p, &notes, "twice", 10);
    made.files.push(made.files[0].clone());
    let e = expect_err(
        send(&p, &made.body(&p, &raw)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("listed twice"), "{}", e.message);

    assert_eq!(snapshot(&p).await, before, "nothing was stored");
}

#[tokio::test]
async fn batches_over_the_limits_are_refused_with_413() {
    let s = Server::with_records(
        Default::default(),
        server::backend::RecordsConfig {
            quota_bytes: 200_000,
            max_file_bytes: 2 << 30,
        },
    );
    let p = with_record(&s, "limits").await;
    let before = snapshot(&p).await;
    let raw = p.raw_tree().await;
    let notes = find(&p.tree().await, "Notes").clone();

    let mut made = Made::default();
    for i in 0..=MAX_BATCH_ITEMS {
        made.folder(&p, &notes, &format!("f{i}"));
    }
    let e = expect_err(
        send(&p, &made.body(&p, &raw)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert!(e.message.contains("at most 100"), "{}", e.message);

    // A file whose content is more than one small chunk.
    let mut made = Made::default();
    made.file(&p, &notes, "big", 70_000);
    let e = expect_err(
        send(&p, &made.body(&p, &raw)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert!(
        e.message.starts_with("Item 1 of the batch"),
        "{}",
        e.message
    );

    // Over the quota: 5 files of 50 KB do not fit 200 KB.
    let mut made = Made::default();
    for i in 0..5 {
        made.file(&p, &notes, &format!("q{i}"), 50_000);
    }
    let e = expect_err(
        send(&p, &made.body(&p, &raw)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert!(e.message.contains("not enough space"), "{}", e.message);

    let empty = json!({"request": {"folders": [], "files": [], "head": raw.head}});
    expect_err(send(&p, &empty).await, StatusCode::BAD_REQUEST);
    assert_eq!(snapshot(&p).await, before, "nothing was stored");
}

#[tokio::test]
async fn a_stale_head_is_refused_and_stores_nothing() {
    let s = Server::new();
    let p = with_record(&s, "stale").await;
    let raw = p.raw_tree().await;
    let notes = find(&p.tree().await, "Notes").clone();
    let mut made = Made::default();
    made.file(&p, &notes, "late", 10);
    let body = made.body(&p, &raw);
    p.create_folder(&notes, "meanwhile").await.unwrap();
    let before = snapshot(&p).await;
    // Its counter and link are stale (and so is its state hash): a conflict,
    // so the browser reloads the record and tries again.
    match send(&p, &body).await {
        Err((status, _)) => assert_eq!(status, StatusCode::CONFLICT),
        Ok(u) => panic!("a stale head was taken: {u:?}"),
    }
    assert_eq!(snapshot(&p).await, before);
}

#[tokio::test]
async fn no_session_another_patient_and_a_read_only_doctor_are_refused() {
    let s = Server::new();
    let p = with_record(&s, "owner-b").await;
    let raw = p.raw_tree().await;
    let notes = find(&p.tree().await, "Notes").clone();
    let mut made = Made::default();
    made.file(&p, &notes, "mine", 10);
    let body = made.body(&p, &raw);

    let anonymous = s.client();
    let r: Result<Usage, _> = anonymous.post("/api/records/batch", &body).await;
    expect_err(r, StatusCode::UNAUTHORIZED);

    // Another patient, with a record of their own, aiming at this folder.
    let q = with_record(&s, "intruder").await;
    let q_raw = q.raw_tree().await;
    let q_before = snapshot(&q).await;
    let mut theirs = Made::default();
    theirs.file(&q, &notes, "into-yours", 10);
    expect_err(
        send(&q, &theirs.body(&q, &q_raw)).await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(snapshot(&q).await, q_before);

    // A doctor with a read-only grant on the folder.
    let c = s.client();
    let (info, account) = c
        .signup("dr.ro", Some(s.cli_invite(Role::Doctor)), s.now())
        .await
        .unwrap();
    let d = Patient {
        c,
        id: info.user_id,
        name: info.username,
        keyring: account.keyring,
    };
    let lookup = |c: &common::Client, name: &str| {
        let c = c.clone();
        let name = name.to_owned();
        async move {
            let served: DirectoryEntry = c
                .post("/api/directory/lookup", &json!({ "username": name }))
                .await
                .unwrap();
            served.entry.verify_self().unwrap().clone()
        }
    };
    let choice = GrantChoice {
        doctor: lookup(&p.c, "dr.ro").await,
        node_id: *notes.id(),
        node_key: notes.key.clone(),
        permission: Permission::Read,
        expires_at: None,
        emergency: false,
    };
    let me = lookup(&p.c, &p.name).await;
    let (grant, wrapped) = make_grant(&me, p.keyring.identity(), &choice, s.now()).unwrap();
    let _: Value = p
        .c
        .post(
            "/api/sharing/grant/create",
            &json!({"request": {"grant": grant, "wrapped_key": b64::encode(&wrapped), "request_id": null}}),
        )
        .await
        .unwrap();
    let before = snapshot(&p).await;
    let mut doctors = Made::default();
    doctors.file(&d, &notes, "from-doctor", 10);
    let head = raw.head.clone().unwrap();
    let e = expect_err(
        send(&d, &doctors.body_with(&head)).await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(snapshot(&p).await, before, "nothing changed in the record");
}

#[tokio::test]
async fn a_batchs_events_chain_with_events_written_at_the_same_time() {
    use shared::api::audit::{AuditPublicKey, LogPage};
    let s = Server::new();
    let au = s.client();
    au.signup("the.auditor", Some(s.cli_invite(Role::Auditor)), s.now())
        .await
        .unwrap();
    let p = with_record(&s, "chained").await;
    let q = with_record(&s, "alongside").await;
    let raw = p.raw_tree().await;
    let notes = find(&p.tree().await, "Notes").clone();
    let q_notes = find(&q.tree().await, "Notes").clone();
    let mut made = Made::default();
    for i in 0..30 {
        made.file(&p, &notes, &format!("c{i}"), 200);
    }
    let body = made.body(&p, &raw);
    // The batch's 30 events and other changes share group commits.
    let others = async {
        for i in 0..5 {
            q.create_folder(&q_notes, &format!("q{i}")).await.unwrap();
        }
    };
    let (sent, ()) = tokio::join!(send(&p, &body), others);
    sent.unwrap();
    let mut all = Vec::new();
    loop {
        let page: LogPage = au
            .get(&format!("/api/audit/log?from={}&limit=1000", all.len() + 1))
            .await
            .unwrap();
        if page.entries.is_empty() {
            break;
        }
        all.extend(page.entries);
    }
    let key: AuditPublicKey = au.get("/api/audit/key").await.unwrap();
    let signed = s.audit.sign_head().await.unwrap().unwrap();
    let v = shared::audit::verify_log(&key.key, &[signed], &all).unwrap();
    assert_eq!(v.events, all.len() as u64);
    let files: Vec<_> = all
        .iter()
        .map(|e| shared::audit::AuditEvent::decode(&e.event).unwrap())
        .filter(|e| e.kind == EventKind::FileWritten)
        .collect();
    let first = files[0].seq;
    for (i, e) in files.iter().enumerate() {
        assert_eq!(
            e.seq,
            first + i as u64,
            "the batch's events are consecutive"
        );
    }
    let written: Vec<Id> = files.iter().filter_map(|e| e.item).collect();
    let sent: Vec<Id> = made.files.iter().map(|f| f.node.node_id).collect();
    assert_eq!(written, sent, "one event per file, in the batch's order");
}
