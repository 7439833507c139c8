//! Makes a big record for `end2end/bench/biglist.bench.ts` (issue 19: "open a
//! record of 10,000 items"): signs a patient up (OPAQUE, the record made at
//! sign-up as the app makes it) and adds files through the real API, each
//! the way the app adds one: `records/upload/start`, the chunk PUT, and
//! `records/upload/finish` with the file's signed state and the record's
//! next owner-signed head. The browser then checks every item as real.
//!
//! Not a benchmark of its own: `cargo test -p server --bench biglist_seed`
//! (a debug build is enough: the server does the work) with the variables
//! below; `scripts/bench.sh biglist` runs it through the Playwright script,
//! and `end2end/tests/records-biglist.spec.ts` for a few hundred items. Without
//! `BIGLIST_URL` it does nothing. Knobs:
//!
//! - `BIGLIST_URL` (required): the running server, `http://127.0.0.1:PORT`.
//! - `BIGLIST_USER`, `BIGLIST_PASSWORD` (required): the account to make.
//! - `BIGLIST_ITEMS` (10000): how many files.
//! - `BIGLIST_ROOT` (300): how many of them go at the top of the record; the
//!   rest go into the starter folder "Imaging" (one folder of thousands, as
//!   when a patient imports a whole CD). `BIGLIST_ROOT=10000` puts every file
//!   at the top.
//! - `BIGLIST_CONNS` (8): connections that start uploads and send chunks;
//!   finishes go one at a time, since each carries the next head.
//!
//! The chunk bytes are random bytes of the sealed size (the server never
//! decrypts): the list, its checks and its names are real, but opening one
//! of these files' content would be refused as not decrypting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod loadgen;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{mpsc, Arc, Mutex},
    time::Instant,
};

use loadgen::{env_or, json, unix_now, Conn};
use shared::{
    api::{
        account::SignupStarted,
        records::{chunk_path, NodeKind, NodeView, RecordTree, UploadTicket, VersionView},
    },
    client::{NewAccount, Signup},
    crypto::{
        aead::Key256,
        b64, rng,
        sign::{part_hash, sign, Signed},
        stream::{ciphertext_len, TAG_LEN},
    },
    model::{FileManifest, Id},
    records::{
        seal_metadata, wrap_child_key, wrap_content_key, HeadLeaf, NodeMetadata, NodeState,
        OpenTree, RecordHead, RecordType,
    },
};

/// Plaintext bytes of each file (the padding floor: one chunk).
const FILE_LEN: u64 = 4096;
const CHUNK_SIZE: u32 = 1 << 20;

/// Where a new file goes: its parent's id and key, and its record type.
#[derive(Clone)]
struct Parent {
    id: Id,
    key: Key256,
    record_type: RecordType,
}

/// A file whose chunk is stored, waiting for its finish.
struct Started {
    node_id: Id,
    parent_id: Id,
    wrapped_key: Vec<u8>,
    sealed: Vec<u8>,
    wrapped_content_key: Vec<u8>,
    version: u32,
    manifest: Signed<FileManifest>,
}

fn sign_up(conn: &mut Conn, username: &str, password: &str) -> (String, NewAccount) {
    let (signup, start) = Signup::start(username, password, None).expect("signup start");
    let body = serde_json::json!({ "request": start }).to_string();
    let reply = conn
        .post("/api/account/signup/start", &body, None)
        .expect("post");
    let started: SignupStarted = json(&reply);
    // The record comes with the sign-up, as in the app.
    let account = signup.finish(&started, unix_now()).expect("signup finish");
    let body = serde_json::json!({ "request": account.request }).to_string();
    let reply = conn
        .post("/api/account/signup/finish", &body, None)
        .expect("post");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    (reply.cookie.expect("session cookie"), account)
}

fn metadata(i: usize, record_type: RecordType) -> NodeMetadata {
    let now = unix_now();
    NodeMetadata {
        name: format!("scan-{i:05}.dcm"),
        record_type,
        description: String::new(),
        record_date: None,
        created_at: now,
        modified_at: now,
        mime: Some("application/dicom".into()),
        size: Some(FILE_LEN - (i as u64 % 1000)),
        vital: None,
        health: None,
    }
}

/// `records/upload/start` and the one chunk of file `i` under `parent`.
fn start_file(
    conn: &mut Conn,
    cookie: &str,
    owner: &NewAccount,
    i: usize,
    parent: &Parent,
) -> Started {
    let owner_id = owner.request.key_entry.value.user_id;
    let node_id: Id = rng::bytes().expect("rng");
    let node_key = Key256::generate().expect("key");
    let meta = metadata(i, parent.record_type);
    let wrapped_key = wrap_child_key(&parent.key, &node_id, &parent.id, &node_key).expect("wrap");
    let sealed = seal_metadata(&node_key, &node_id, &meta).expect("seal");
    let sealed_len = ciphertext_len(FILE_LEN, CHUNK_SIZE).expect("len");
    let body = serde_json::json!({ "request": {
        "node_id": b64::encode(&node_id),
        "new_node": {
            "node_id": b64::encode(&node_id),
            "parent_id": b64::encode(&parent.id),
            "kind": "file",
            "wrapped_key": b64::encode(&wrapped_key),
            "metadata": b64::encode(&sealed),
        },
        "chunk_size": CHUNK_SIZE,
        "ciphertext_len": sealed_len,
    }})
    .to_string();
    let reply = conn
        .post("/api/records/upload/start", &body, Some(cookie))
        .expect("post");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let ticket: UploadTicket = json(&reply);
    let mut chunk = vec![0u8; FILE_LEN as usize + TAG_LEN];
    rng::fill(&mut chunk).expect("rng");
    let reply = conn
        .put_bytes(
            &chunk_path(&node_id, ticket.version, 0),
            &chunk,
            Some(cookie),
        )
        .expect("put");
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let manifest = sign(
        owner.keyring.identity(),
        FileManifest {
            node_id,
            parent_id: parent.id,
            version: ticket.version,
            size: FILE_LEN,
            part_hashes: vec![part_hash(&chunk)],
            author_id: owner_id,
            created_at: unix_now(),
        },
    );
    let content_key = Key256::generate().expect("key");
    let wrapped_content_key =
        wrap_content_key(&node_key, &node_id, ticket.version, &content_key).expect("wrap");
    Started {
        node_id,
        parent_id: parent.id,
        wrapped_key,
        sealed,
        wrapped_content_key,
        version: ticket.version,
        manifest,
    }
}

/// The node a finish leaves, for its signed state.
fn view_after(file: &Started, owner_id: Id) -> NodeView {
    NodeView {
        node_id: file.node_id,
        parent_id: Some(file.parent_id),
        kind: NodeKind::File,
        wrapped_key: file.wrapped_key.clone(),
        metadata: file.sealed.clone(),
        revision: 1,
        trashed_at: None,
        current: Some(VersionView {
            node_id: file.node_id,
            version: file.version,
            chunk_size: CHUNK_SIZE,
            ciphertext_len: ciphertext_len(FILE_LEN, CHUNK_SIZE).expect("len"),
            wrapped_content_key: file.wrapped_content_key.clone(),
            manifest: file.manifest.clone(),
            author_id: owner_id,
            author_name: String::new(),
            stored_at: 0,
            write_grant: None,
        }),
        version_count: 1,
        state: None,
        write_grant: None,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let Ok(url) = std::env::var("BIGLIST_URL") else {
        println!("biglist_seed: set BIGLIST_URL, BIGLIST_USER and BIGLIST_PASSWORD (see the file's header)");
        return;
    };
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("BIGLIST_URL is http://IP:PORT");
    let username = std::env::var("BIGLIST_USER").expect("BIGLIST_USER");
    let password = std::env::var("BIGLIST_PASSWORD").expect("BIGLIST_PASSWORD");
    let items = env_or("BIGLIST_ITEMS", 10_000);
    let at_top = env_or("BIGLIST_ROOT", 300).min(items);
    let conns = env_or("BIGLIST_CONNS", 8).max(1);
    let began = Instant::now();

    let mut conn = Conn::open(addr).expect("connect");
    let (cookie, account) = sign_up(&mut conn, &username, &password);
    let owner_id = account.request.key_entry.value.user_id;
    let reply = conn.get("/api/records/tree", Some(&cookie)).expect("get");
    let tree: Option<RecordTree> = json(&reply);
    let tree = tree.expect("the record made at sign-up");
    let mut leaves: BTreeMap<Id, HeadLeaf> = tree
        .nodes
        .iter()
        .filter_map(|n| n.state.as_ref().map(|s| (n.node_id, HeadLeaf::of(s))))
        .collect();
    let mut head = tree.head.clone().expect("a signed record");
    let open = OpenTree::open(tree, account.keyring.encryption()).expect("open");
    let root = open.root().expect("root");
    let top = Parent {
        id: *root.id(),
        key: root.key.clone(),
        record_type: RecordType::Other,
    };
    let imaging = open
        .children(root.id())
        .into_iter()
        .find(|n| n.is_folder() && n.metadata.name == "Imaging")
        .map(|n| Parent {
            id: *n.id(),
            key: n.key.clone(),
            record_type: n.metadata.record_type,
        })
        .unwrap_or_else(|| top.clone());
    let parents: Vec<Parent> = (0..items)
        .map(|i| {
            if i < at_top {
                top.clone()
            } else {
                imaging.clone()
            }
        })
        .collect();

    // Uploads start and send their chunk on `conns` connections; this thread
    // finishes them in the order they come, each with the next head.
    let account = Arc::new(account);
    let next = Arc::new(Mutex::new(0usize));
    let parents = Arc::new(parents);
    let (tx, rx) = mpsc::sync_channel::<(usize, Started)>(conns * 4);
    let workers: Vec<_> = (0..conns)
        .map(|_| {
            let (account, next, parents, tx, cookie) = (
                account.clone(),
                next.clone(),
                parents.clone(),
                tx.clone(),
                cookie.clone(),
            );
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr).expect("connect");
                loop {
                    let i = {
                        let mut n = next.lock().expect("lock");
                        let i = *n;
                        *n += 1;
                        i
                    };
                    if i >= parents.len() {
                        return;
                    }
                    let file = start_file(&mut conn, &cookie, &account, i, &parents[i]);
                    if tx.send((i, file)).is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let identity = account.keyring.identity();
    let mut done = 0usize;
    for (_, file) in rx {
        let state =
            NodeState::describe(owner_id, &view_after(&file, owner_id), owner_id, unix_now())
                .sign(identity);
        leaves.insert(file.node_id, HeadLeaf::of(&state));
        let all: Vec<HeadLeaf> = leaves.values().copied().collect();
        let next_head = RecordHead::next(&head, &all, unix_now()).sign(identity);
        let body = serde_json::json!({ "request": {
            "node_id": b64::encode(&file.node_id),
            "version": file.version,
            "wrapped_content_key": b64::encode(&file.wrapped_content_key),
            "manifest": file.manifest,
            "metadata": b64::encode(&file.sealed),
            "state": state,
            "head": next_head,
        }})
        .to_string();
        let reply = conn
            .post("/api/records/upload/finish", &body, Some(&cookie))
            .expect("post");
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        head = next_head;
        done += 1;
        if done.is_multiple_of(1000) {
            eprintln!(
                "biglist_seed: {done} of {items} files in {:.1} s",
                began.elapsed().as_secs_f64()
            );
        }
    }
    for w in workers {
        w.join().expect("worker");
    }
    println!(
        "biglist_seed: {items} files ({at_top} at the top, {} in Imaging) for {username} in {:.1} s",
        items - at_top,
        began.elapsed().as_secs_f64()
    );
}
