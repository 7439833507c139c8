//! Patient records end to end in-process, with real sign-up (OPAQUE) and the
//! real crypto of the app: a whole journey (upload in chunks, download and
//! decrypt, versions, rename, move, trash, empty trash); every bad input gets
//! its 4xx JSON and changes nothing; another patient gets `not_found` on every
//! route; retries; expiry; the audit events of each change.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{header, Request, StatusCode};
use common::{
    files::{content, manifest, metadata},
    patient::{expect_err, find, patient, raw_err, snapshot, CHUNK},
    Failure, Server,
};
use serde_json::json;
use shared::{
    api::{
        audit::EventsPage,
        records::{
            chunk_path, NewNode, NodeKind, NodeView, RecordTree, UploadTicket, MAX_CHUNK_SIZE,
            UPLOAD_TTL_SECS,
        },
        ApiError, ErrorCode,
    },
    audit::EventKind,
    crypto::{b64, keyring::Keyring},
    model::{FileManifest, Id, Role},
    records::{new_child, new_file_node, new_record, MAX_SEALED_METADATA},
};

#[tokio::test]
async fn a_whole_journey_upload_download_versions_move_trash() {
    let s = Server::new();
    let p = patient(&s, "journey").await;
    assert_eq!(
        p.c.get::<Option<RecordTree>>("/api/records/tree")
            .await
            .unwrap(),
        None
    );
    let created = p.create_record(s.now()).await;
    assert_eq!(created.owner_id, p.id);
    assert_eq!(created.nodes.len(), 6);
    let empty_usage = created.usage;
    assert!(empty_usage.used_bytes > 0);
    assert_eq!(empty_usage.quota_bytes, 10 << 30);
    assert_eq!(empty_usage.max_file_bytes, 2 << 30);
    assert_eq!(p.raw_tree().await, created);

    // Upload a file of several chunks into "Lab results".
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results");
    let original = content("MARKER-journey-v1", 3 * CHUNK as usize + 123);
    let file_id = p.upload_new(labs, "blood.pdf", &original, s.now()).await;
    let tree = p.tree().await;
    let file = find(&tree, "blood.pdf");
    assert_eq!(file.id(), &file_id);
    assert_eq!(file.view.parent_id, Some(*labs.id()));
    assert_eq!(file.view.version_count, 1);
    let v1 = file.view.current.clone().unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.author_name, p.name);
    assert!(v1.ciphertext_len > original.len() as u64);
    assert_eq!(p.download(file, &v1).await, original);
    let with_one = p.usage().await.used_bytes;
    assert!(with_one >= empty_usage.used_bytes + v1.ciphertext_len);

    // A second version, then the list, newest first, and a restore.
    let second = content("MARKER-journey-v2", 2 * CHUNK as usize);
    let view = p.upload_version(file, &second, s.now()).await;
    assert_eq!(view.current.as_ref().unwrap().version, 2);
    assert_eq!(view.version_count, 2);
    assert_eq!(p.download_current("file").await, second);
    let versions = p.versions(&file_id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert!(versions.iter().all(|v| v.author_name == p.name));
    let restored = p.restore_version(&file_id, 1).await.unwrap();
    assert_eq!(restored.current.as_ref().unwrap().version, 1);
    assert_eq!(restored.version_count, 2);
    // Again: already current, nothing changes.
    let again = p.restore_version(&file_id, 1).await.unwrap();
    assert_eq!(again, restored);
    assert_eq!(p.download_current("file").await, original);

    // Rename, move to "Imaging", trash and restore.
    let tree = p.tree().await;
    let file = find(&tree, "file");
    let renamed = p
        .update(file, "renamed.pdf", file.view.revision)
        .await
        .unwrap();
    assert_eq!(renamed.revision, file.view.revision + 1);
    let tree = p.tree().await;
    let file = find(&tree, "renamed.pdf");
    let imaging = find(&tree, "Imaging");
    let moved = p.move_to(file, imaging, file.view.revision).await.unwrap();
    assert_eq!(moved.parent_id, Some(*imaging.id()));
    let tree = p.tree().await;
    assert_eq!(tree.children(imaging.id()).len(), 1);
    assert_eq!(p.download_current("renamed.pdf").await, original);

    let file = find(&tree, "renamed.pdf");
    let trashed = p.trash(file.id(), file.view.revision).await.unwrap();
    assert!(trashed.trashed_at.is_some());
    let tree = p.tree().await;
    assert!(tree.in_trash(&file_id));
    assert_eq!(tree.trash().len(), 1);
    let back = p.restore(&file_id).await.unwrap();
    assert_eq!(back.trashed_at, None);
    assert!(!p.tree().await.in_trash(&file_id));

    // A folder with a file in it goes to the trash; emptying it deletes both,
    // their versions and their chunks, and frees the space.
    let tree = p.tree().await;
    let imaging = find(&tree, "Imaging");
    p.upload_new(imaging, "scan.png", &content("MARKER-scan", 5000), s.now())
        .await;
    let tree = p.tree().await;
    let imaging = find(&tree, "Imaging");
    assert!(p.usage().await.used_bytes > with_one);
    p.trash(imaging.id(), imaging.view.revision).await.unwrap();
    let tree = p.tree().await;
    assert!(tree.in_trash(&file_id));
    let usage = p.empty_trash().await.unwrap();
    let tree = p.raw_tree().await;
    assert_eq!(tree.nodes.len(), 5);
    assert_eq!(usage, tree.usage);
    // Back to the empty record, less the deleted folder's details.
    assert_eq!(
        usage.used_bytes,
        empty_usage.used_bytes - imaging.view.metadata.len() as u64
    );
    let (status, _, _) = p.c.get_bytes(&chunk_path(&file_id, 1, 0)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    expect_err(p.versions(&file_id).await, StatusCode::NOT_FOUND);
    // Nothing of the deleted content is left in the store.
    for space in [server::store::Space::Blobs] {
        let rows = s
            .store
            .scan_prefix(space, &[], None, usize::MAX)
            .await
            .unwrap();
        assert!(rows.is_empty(), "{} left in {space}", rows.len());
    }
    // Emptying an empty trash is fine.
    assert_eq!(p.empty_trash().await.unwrap(), usage);

    // Every change left its event, in order; reads of content too. Each look
    // at the tree or a version list is logged as well (counted in
    // `sharing.rs`); they are left out of the order here.
    use EventKind::*;
    let history = p.history().await;
    assert!(history.contains(&RecordViewed) && history.contains(&VersionsViewed));
    let kinds: Vec<EventKind> = history
        .into_iter()
        .filter(|k| k.code() >= 200 && !matches!(k, RecordViewed | VersionsViewed))
        .collect();
    assert_eq!(
        kinds,
        [
            RecordCreated,
            FileWritten,
            NodeUpdated,
            FileRead,
            FileWritten,
            FileRead,
            VersionRestored,
            FileRead,
            NodeUpdated,
            NodeMoved,
            FileRead,
            NodeTrashed,
            NodeRestored,
            FileWritten,
            NodeUpdated,
            NodeTrashed,
            TrashEmptied,
        ]
    );
}

#[tokio::test]
async fn events_name_the_actor_the_owner_and_the_item() {
    let s = Server::new();
    let p = patient(&s, "events").await;
    let created = p.create_record(s.now()).await;
    let page: EventsPage = p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let e = page.events.last().unwrap();
    assert_eq!(e.kind, EventKind::RecordCreated);
    assert_eq!(
        (e.actor, e.subject, e.item),
        (Some(p.id), Some(p.id), Some(created.root_id))
    );
    assert!(e.session.is_some());
    assert!(!e.kind.is_system());

    // A folder and an entry: one node_created each, naming the new node; a
    // refused change appends nothing.
    let tree = p.tree().await;
    let folder = p.create_folder(tree.root().unwrap(), "f").await.unwrap();
    let (entry, _) = new_child(
        find(&tree, "Vital signs"),
        NodeKind::Entry,
        &metadata("pulse", 0, None),
        &p.signer(0),
    )
    .unwrap();
    let head = p.next_head(&[entry.state.clone().unwrap()], &[], 0).await;
    let _: NodeView =
        p.c.post(
            "/api/records/node/create",
            &json!({ "node": entry, "head": head }),
        )
        .await
        .unwrap();
    expect_err(
        p.trash(&folder.node_id, folder.revision + 5).await,
        StatusCode::CONFLICT,
    );
    let page: EventsPage = p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    // (The test's helpers read the tree before each change, as a browser
    // does to sign it: those views are left out.)
    let last: Vec<_> = page
        .events
        .iter()
        .rev()
        .filter(|e| e.kind != EventKind::RecordViewed)
        .take(2)
        .map(|e| (e.kind, e.item))
        .collect();
    assert_eq!(
        last,
        [
            (EventKind::NodeCreated, Some(entry.node_id)),
            (EventKind::NodeCreated, Some(folder.node_id)),
        ]
    );
}

/// The change counter the browser asks on each page instead of fetching the
/// tree: it matches the tree's, moves on with every change (refused changes
/// leave it), and asking it is logged as a view of the list, as the tree is.
#[tokio::test]
async fn the_change_counter_moves_with_every_change_and_asking_it_is_a_view() {
    let s = Server::new();
    let p = patient(&s, "counter").await;
    let seq = || async { p.c.get::<Option<u64>>("/api/records/seq").await.unwrap() };
    assert_eq!(seq().await, None);
    p.create_record(s.now()).await;
    let first = p.raw_tree().await.seq;
    assert_eq!(seq().await, Some(first));
    let page: EventsPage = p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    assert_eq!(page.events.last().unwrap().kind, EventKind::RecordViewed);

    let tree = p.tree().await;
    let folder = p.create_folder(tree.root().unwrap(), "f").await.unwrap();
    let after_create = seq().await.unwrap();
    assert!(after_create > first);
    expect_err(
        p.trash(&folder.node_id, folder.revision + 5).await,
        StatusCode::CONFLICT,
    );
    assert_eq!(seq().await, Some(after_create));
    p.trash(&folder.node_id, folder.revision).await.unwrap();
    let after_trash = seq().await.unwrap();
    assert!(after_trash > after_create);
    assert_eq!(p.raw_tree().await.seq, after_trash);

    // Without a session there is nothing to count.
    let anonymous = s.client();
    let refused = anonymous.get::<Option<u64>>("/api/records/seq").await;
    assert_eq!(
        expect_err(refused, StatusCode::UNAUTHORIZED).code,
        ErrorCode::Unauthorized
    );
}

#[tokio::test]
async fn a_chunk_sent_again_with_the_same_bytes_succeeds_other_bytes_do_not() {
    let s = Server::new();
    let p = patient(&s, "retry").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let up = p
        .start_new(find(&tree, "Notes"), "n", &content("r", 9000), s.now())
        .await
        .unwrap();
    let (node, v) = (up.node_id, up.ticket.version);
    let first = p.put(&node, v, 0, up.file.chunks[0].clone()).await.unwrap();
    assert_eq!((first.index, first.next), (0, 1));
    // The answer was lost: the same chunk again is fine and changes nothing.
    let again = p.put(&node, v, 0, up.file.chunks[0].clone()).await.unwrap();
    assert_eq!((again.index, again.next), (0, 1));
    p.put(&node, v, 1, up.file.chunks[1].clone()).await.unwrap();
    let again = p.put(&node, v, 0, up.file.chunks[0].clone()).await.unwrap();
    assert_eq!((again.index, again.next), (0, 1));
    let mut other = up.file.chunks[0].clone();
    other[5] ^= 1;
    let e = expect_err(p.put(&node, v, 0, other).await, StatusCode::CONFLICT);
    assert!(e.message.contains("different bytes"), "{}", e.message);
    p.put(&node, v, 2, up.file.chunks[2].clone()).await.unwrap();
    let done = p.finish(&up, s.now()).await.unwrap();
    // A finish sent again after a lost answer gets the same answer.
    let repeated = p.finish(&up, s.now()).await.unwrap();
    assert_eq!(repeated, done);
    let tree = p.tree().await;
    let node = tree.node(&up.node_id).unwrap();
    assert_eq!(
        p.download(node, node.view.current.as_ref().unwrap()).await,
        up.bytes
    );
}

#[tokio::test]
async fn chunks_arrive_in_any_order_and_together() {
    let s = Server::new();
    let p = patient(&s, "any.order").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let up = p
        .start_new(
            find(&tree, "Notes"),
            "n",
            &content("o", 5 * CHUNK as usize - 10),
            s.now(),
        )
        .await
        .unwrap();
    let (node, v) = (up.node_id, up.ticket.version);
    assert_eq!(up.file.chunks.len(), 5);
    // Three at once, last first; each is answered with its own index.
    let (a, b, c) = tokio::join!(
        p.put(&node, v, 4, up.file.chunks[4].clone()),
        p.put(&node, v, 2, up.file.chunks[2].clone()),
        p.put(&node, v, 0, up.file.chunks[0].clone()),
    );
    assert_eq!(
        (a.unwrap().index, b.unwrap().index, c.unwrap().index),
        (4, 2, 0)
    );
    let e = expect_err(p.finish(&up, s.now()).await, StatusCode::CONFLICT);
    assert!(e.message.contains("Only 3 of 5"), "{}", e.message);
    // The uploader can ask which chunks are in, to go on after a reload.
    let status = p.upload_status(&node, v).await.unwrap();
    assert_eq!(status.held, vec![0, 2, 4]);
    assert_eq!((status.chunk_count, status.version), (5, v));
    assert_eq!(
        status.new_node.as_ref().map(|n| n.node_id),
        Some(up.node_id)
    );
    // Nobody else can.
    let q = patient(&s, "any.order.other").await;
    expect_err(q.upload_status(&node, v).await, StatusCode::NOT_FOUND);
    // The same chunk twice at once: both answers say it is stored, once.
    let (a, b) = tokio::join!(
        p.put(&node, v, 3, up.file.chunks[3].clone()),
        p.put(&node, v, 3, up.file.chunks[3].clone()),
    );
    assert_eq!((a.unwrap().index, b.unwrap().index), (3, 3));
    p.put(&node, v, 1, up.file.chunks[1].clone()).await.unwrap();
    p.finish(&up, s.now()).await.unwrap();
    // A complete version is no unfinished upload.
    let e = expect_err(p.upload_status(&node, v).await, StatusCode::CONFLICT);
    assert!(e.message.contains("already complete"), "{}", e.message);
    let tree = p.tree().await;
    let node = tree.node(&up.node_id).unwrap();
    assert_eq!(
        p.download(node, node.view.current.as_ref().unwrap()).await,
        up.bytes
    );
}

#[tokio::test]
async fn fail_every_bad_upload_with_its_4xx_and_change_nothing() {
    let s = Server::new();
    let p = patient(&s, "bad.uploads").await;
    let q = patient(&s, "someone.else").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    let done_id = p
        .upload_new(notes, "done", &content("d", 6000), s.now())
        .await;
    let up = p
        .start_new(notes, "open", &content("o", 3 * CHUNK as usize), s.now())
        .await
        .unwrap();
    let (node, v) = (up.node_id, up.ticket.version);
    let before = snapshot(&p).await;

    // Wrong sizes: short, long, and a final-chunk size for a middle chunk.
    for len in [0, 100, CHUNK as usize + 15, CHUNK as usize + 17] {
        let e = expect_err(
            p.put(&node, v, 0, vec![7; len]).await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains("exactly"), "{}", e.message);
    }
    // An index past the end.
    expect_err(
        p.put(&node, v, 99, vec![1; 10]).await,
        StatusCode::BAD_REQUEST,
    );
    // A chunk for a finished version.
    let e = expect_err(
        p.put(&done_id, 1, 0, vec![1; 20]).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already complete"), "{}", e.message);
    // Finishing before all chunks are in.
    p.put(&node, v, 0, up.file.chunks[0].clone()).await.unwrap();
    let before = {
        let now = snapshot(&p).await;
        assert_eq!(now, before, "a stored chunk shows nowhere in the tree");
        now
    };
    let e = expect_err(p.finish(&up, s.now()).await, StatusCode::CONFLICT);
    assert!(e.message.contains("1 of"), "{}", e.message);
    for i in 1..up.file.chunks.len() {
        p.put(&node, v, i as u32, up.file.chunks[i].clone())
            .await
            .unwrap();
    }

    // A manifest whose hashes do not match the stored chunks.
    let mut wrong = manifest(
        p.keyring.identity(),
        &p.id,
        &node,
        &up.parent_id,
        v,
        &up.file,
        s.now(),
    );
    wrong.value.part_hashes[1][0] ^= 1;
    let resigned = shared::crypto::sign::sign(p.keyring.identity(), wrong.value.clone());
    let e = expect_err(
        p.c.post::<_, NodeView>(
            "/api/records/upload/finish",
            &p.finish_with(&up, resigned, s.now()).await,
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("chunk 1"), "{}", e.message);
    // Signed by someone else (with the right content).
    let good = manifest(
        p.keyring.identity(),
        &p.id,
        &node,
        &up.parent_id,
        v,
        &up.file,
        s.now(),
    );
    let by_other = shared::crypto::sign::sign(q.keyring.identity(), good.value.clone());
    let e = expect_err(
        p.c.post::<_, NodeView>(
            "/api/records/upload/finish",
            &p.finish_with(&up, by_other, s.now()).await,
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("signature"), "{}", e.message);
    // A signature that does not cover what is sent.
    let mut tampered = good.clone();
    tampered.value.created_at += 1;
    expect_err(
        p.c.post::<_, NodeView>(
            "/api/records/upload/finish",
            &p.finish_with(&up, tampered, s.now()).await,
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    // Right signature, wrong facts: version, size, parent, author, node, parts.
    let facts: [fn(&mut FileManifest); 6] = [
        |m| m.version += 1,
        |m| m.size += 1,
        |m| m.parent_id = [9; 16],
        |m| m.author_id = [9; 16],
        |m| m.node_id = [9; 16],
        |m| {
            m.part_hashes.pop();
        },
    ];
    for change in facts {
        let mut value = good.value.clone();
        change(&mut value);
        let signed = shared::crypto::sign::sign(p.keyring.identity(), value);
        let e = expect_err(
            p.c.post::<_, NodeView>(
                "/api/records/upload/finish",
                &p.finish_with(&up, signed, s.now()).await,
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains("manifest"), "{}", e.message);
    }
    // A wrapped content key or metadata of the wrong size.
    let mut req = p.finish_request(&up, s.now()).await;
    req["request"]["wrapped_content_key"] = json!(b64::encode(&[1u8; 10]));
    expect_err(
        p.c.post::<_, NodeView>("/api/records/upload/finish", &req)
            .await,
        StatusCode::BAD_REQUEST,
    );
    let mut req = p.finish_request(&up, s.now()).await;
    req["request"]["metadata"] = json!(b64::encode(&vec![1u8; MAX_SEALED_METADATA + 1]));
    let e = expect_err(
        p.c.post::<_, NodeView>("/api/records/upload/finish", &req)
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("too large"), "{}", e.message);
    assert_eq!(
        snapshot(&p).await,
        before,
        "refused finishes changed nothing"
    );

    // Bad starts: chunk size, a length no stream has, a folder, a foreign id.
    let start = |node_id: Id, new_node: Option<NewNode>, chunk_size: u32, len: u64| json!({"request": {"node_id": b64::encode(&node_id), "new_node": new_node, "chunk_size": chunk_size, "ciphertext_len": len}});
    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    let (fresh, _) = new_file_node(notes, &metadata("x", 0, None)).unwrap();
    for (body, status) in [
        (
            start(fresh.node_id, Some(fresh.clone()), 100, 1000),
            StatusCode::BAD_REQUEST,
        ),
        (
            start(fresh.node_id, Some(fresh.clone()), MAX_CHUNK_SIZE + 1, 1000),
            StatusCode::BAD_REQUEST,
        ),
        (
            start(fresh.node_id, Some(fresh.clone()), CHUNK, 10),
            StatusCode::BAD_REQUEST,
        ),
        (
            start(
                fresh.node_id,
                Some(fresh.clone()),
                CHUNK,
                CHUNK as u64 + 16 + 16,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            start([3; 16], Some(fresh.clone()), CHUNK, 1000),
            StatusCode::BAD_REQUEST,
        ),
        (
            start(*notes.id(), None, CHUNK, 1000),
            StatusCode::BAD_REQUEST,
        ),
        (start([3; 16], None, CHUNK, 1000), StatusCode::NOT_FOUND),
        (
            start(
                fresh.node_id,
                Some(NewNode {
                    kind: NodeKind::Folder,
                    ..fresh.clone()
                }),
                CHUNK,
                1000,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            start(
                fresh.node_id,
                Some(NewNode {
                    wrapped_key: vec![1; 5],
                    ..fresh.clone()
                }),
                CHUNK,
                1000,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            start(
                fresh.node_id,
                Some(NewNode {
                    parent_id: Some([4; 16]),
                    ..fresh.clone()
                }),
                CHUNK,
                1000,
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            start(
                fresh.node_id,
                Some(NewNode {
                    parent_id: Some(done_id),
                    ..fresh.clone()
                }),
                CHUNK,
                1000,
            ),
            StatusCode::BAD_REQUEST,
        ),
        // A new file whose id is taken.
        (
            start(
                done_id,
                Some(NewNode {
                    node_id: done_id,
                    ..fresh.clone()
                }),
                CHUNK,
                1000,
            ),
            StatusCode::CONFLICT,
        ),
    ] {
        expect_err(
            p.c.post::<_, UploadTicket>("/api/records/upload/start", &body)
                .await,
            status,
        );
    }
    assert_eq!(snapshot(&p).await, before, "refused starts changed nothing");

    // The good finish still works after all that.
    p.finish(&up, s.now()).await.unwrap();
    let e = expect_err(p.cancel(&node, v).await, StatusCode::CONFLICT);
    assert!(e.message.contains("already complete"), "{}", e.message);
}

#[tokio::test]
async fn fail_uploads_over_the_quota_or_the_file_limit_with_413() {
    let s = Server::with_records(
        Default::default(),
        server::backend::RecordsConfig {
            quota_bytes: 100_000,
            max_file_bytes: 50_000,
        },
    );
    let p = patient(&s, "quota").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    assert_eq!(p.usage().await.quota_bytes, 100_000);
    assert_eq!(p.usage().await.max_file_bytes, 50_000);
    let before = snapshot(&p).await;

    // Bigger than the largest file (its padded size, that is).
    let e = expect_err(
        p.start_new(notes, "big", &vec![0; 60_000], s.now())
            .await
            .map(|_| ()),
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert!(e.message.contains("too big"), "{}", e.message);
    // Exactly the largest file is fine.
    let up = p
        .start_new(notes, "max", &vec![1; 50_000], s.now())
        .await
        .unwrap();
    // But then the next one does not fit the quota any more; the message says
    // how much is left.
    let e = expect_err(
        p.start_new(notes, "more", &vec![0; 40_000], s.now())
            .await
            .map(|_| ()),
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert!(e.message.contains("free"), "{}", e.message);
    // Cancelling frees the reservation at once.
    p.cancel(&up.node_id, 1).await.unwrap();
    assert_eq!(snapshot(&p).await, before);
    expect_err(p.cancel(&up.node_id, 1).await, StatusCode::NOT_FOUND);
    let e = expect_err(
        p.put(&up.node_id, 1, 0, up.file.chunks[0].clone()).await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(e, ApiError::not_found());
    let up = p
        .start_new(notes, "more", &vec![0; 40_000], s.now())
        .await
        .unwrap();
    p.put_all(&up).await;
    p.finish(&up, s.now()).await.unwrap();
    let e = expect_err(
        p.start_new(notes, "again", &vec![0; 40_000], s.now())
            .await
            .map(|_| ()),
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert!(e.message.contains("free"), "{}", e.message);
    // Metadata counts too: with a quota just above an empty record, a folder
    // whose details do not fit is refused as well.
    let s = Server::with_records(
        Default::default(),
        server::backend::RecordsConfig {
            quota_bytes: 2500,
            max_file_bytes: 50_000,
        },
    );
    let p = patient(&s, "tiny").await;
    let created = p.create_record(s.now()).await;
    let left = 2500 - created.usage.used_bytes;
    let tree = p.tree().await;
    let (mut node, _) = new_child(
        find(&tree, "Notes"),
        NodeKind::Folder,
        &metadata("f", 0, None),
        &p.signer(0),
    )
    .unwrap();
    node.metadata = vec![1; left as usize + 1];
    let e = expect_err(
        p.c.post::<_, NodeView>("/api/records/node/create", &json!({ "node": node }))
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    assert!(
        e.message.contains(&format!("{left} bytes of your")),
        "{}",
        e.message
    );
    node.metadata = vec![1; left as usize];
    node.state = Some(p.signer(0).new_node(&node));
    let head = p.next_head(&[node.state.clone().unwrap()], &[], 0).await;
    let _: NodeView =
        p.c.post(
            "/api/records/node/create",
            &json!({ "node": node, "head": head }),
        )
        .await
        .unwrap();
    assert_eq!(p.usage().await.used_bytes, 2500);
}

#[tokio::test]
async fn unfinished_uploads_expire_and_free_their_space() {
    // Sessions that outlive an upload's lifetime, so the clock can move on.
    let s = Server::with_records(
        server::backend::AccountSettings {
            idle_timeout_secs: 3 * UPLOAD_TTL_SECS as u64,
            absolute_lifetime_secs: 3 * UPLOAD_TTL_SECS as u64,
            ..Default::default()
        },
        Default::default(),
    );
    let p = patient(&s, "expiry").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    let before = p.usage().await;
    let up = p
        .start_new(notes, "slow", &content("s", 9000), s.now())
        .await
        .unwrap();
    assert_eq!(up.ticket.expires_at, s.now() + UPLOAD_TTL_SECS);
    p.put(&up.node_id, 1, 0, up.file.chunks[0].clone())
        .await
        .unwrap();
    assert!(p.usage().await.used_bytes > before.used_bytes);
    // New versions of an existing file get the next number, unfinished or not.
    let done = p
        .upload_new(notes, "done", &content("d", 100), s.now())
        .await;
    let tree = p.tree().await;
    let v2 = p
        .start_version(tree.node(&done).unwrap(), b"two")
        .await
        .unwrap();
    assert_eq!(v2.ticket.version, 2);
    p.cancel(&done, 2).await.unwrap();
    let v3 = p
        .start_version(tree.node(&done).unwrap(), b"three")
        .await
        .unwrap();
    assert_eq!(v3.ticket.version, 3);
    let with_done = {
        p.cancel(&done, 3).await.unwrap();
        p.usage().await
    };
    // A cancelled upload has no status to go on from.
    expect_err(p.upload_status(&done, 3).await, StatusCode::NOT_FOUND);
    assert_eq!(p.upload_status(&up.node_id, 1).await.unwrap().held, vec![0]);

    s.advance(UPLOAD_TTL_SECS);
    let e = expect_err(
        p.put(&up.node_id, 1, 1, up.file.chunks[1].clone()).await,
        StatusCode::NOT_FOUND,
    );
    assert!(e.message.contains("expired"), "{}", e.message);
    let e = expect_err(p.upload_status(&up.node_id, 1).await, StatusCode::NOT_FOUND);
    assert!(e.message.contains("expired"), "{}", e.message);
    // The next tree read drops it and its chunk.
    let usage = p.usage().await;
    assert!(usage.used_bytes < with_done.used_bytes);
    let rows = s
        .store
        .scan_prefix(server::store::Space::Blobs, &[], None, usize::MAX)
        .await
        .unwrap();
    let done_chunks = rows.len();
    assert_eq!(done_chunks, 1, "only the finished file's chunk is left");
    expect_err(p.finish(&up, s.now()).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fail_bad_node_changes_and_change_nothing() {
    let s = Server::new();
    let p = patient(&s, "bad.nodes").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    let labs = find(&tree, "Lab results");
    let sub = p.create_folder(notes, "sub").await.unwrap();
    let tree = p.tree().await;
    let sub = tree.node(&sub.node_id).unwrap();
    let subsub = p.create_folder(sub, "subsub").await.unwrap();
    let file = p.upload_new(labs, "f", b"hello", s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes");
    let sub = find(&tree, "sub");
    let subsub = tree.node(&subsub.node_id).unwrap();
    let file = tree.node(&file).unwrap();
    let root = tree.root().unwrap();
    let before = snapshot(&p).await;

    // Stale revisions.
    for r in [
        p.update(notes, "x", notes.view.revision + 1).await,
        p.move_to(sub, find(&tree, "Imaging"), sub.view.revision - 1)
            .await,
        p.trash(notes.id(), 0).await,
    ] {
        let e = expect_err(r, StatusCode::CONFLICT);
        assert!(e.message.contains("changed since"), "{}", e.message);
    }
    // Moves: into itself, into its own subtree, into a file, the root.
    let e = expect_err(
        p.move_to(notes, notes, notes.view.revision).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("into itself"), "{}", e.message);
    let e = expect_err(
        p.move_to(notes, subsub, notes.view.revision).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("own folders"), "{}", e.message);
    expect_err(
        p.move_to(sub, file, sub.view.revision).await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(
        p.move_to(root, notes, root.view.revision).await,
        StatusCode::BAD_REQUEST,
    );
    // A key of the wrong size.
    let body = json!({"request": {"node_id": b64::encode(sub.id()), "revision": sub.view.revision, "new_parent_id": b64::encode(labs.id()), "wrapped_key": b64::encode(&[0u8; 12])}});
    expect_err(
        p.c.post::<_, NodeView>("/api/records/node/move", &body)
            .await,
        StatusCode::BAD_REQUEST,
    );
    // The root cannot be trashed; what is not trashed cannot be restored.
    expect_err(
        p.trash(root.id(), root.view.revision).await,
        StatusCode::BAD_REQUEST,
    );
    let e = expect_err(p.restore(notes.id()).await, StatusCode::CONFLICT);
    assert!(e.message.contains("not in the Trash"), "{}", e.message);
    // Oversized and empty metadata.
    for meta in [vec![0u8; MAX_SEALED_METADATA + 1], vec![]] {
        let body = json!({"request": {"node_id": b64::encode(notes.id()), "revision": notes.view.revision, "metadata": b64::encode(&meta)}});
        expect_err(
            p.c.post::<_, NodeView>("/api/records/node/update", &body)
                .await,
            StatusCode::BAD_REQUEST,
        );
    }
    // New nodes: a file, no parent, a file as parent, an unknown parent,
    // a taken id, an oversized metadata.
    let (mut n, _) = new_child(
        notes,
        NodeKind::Folder,
        &metadata("n", 0, None),
        &p.signer(0),
    )
    .unwrap();
    let create = |node: &NewNode| json!({ "node": node });
    for (node, status) in [
        (
            NewNode {
                kind: NodeKind::File,
                ..n.clone()
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            NewNode {
                parent_id: None,
                ..n.clone()
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            NewNode {
                parent_id: Some(*file.id()),
                ..n.clone()
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            NewNode {
                parent_id: Some([5; 16]),
                ..n.clone()
            },
            StatusCode::NOT_FOUND,
        ),
        (
            NewNode {
                node_id: *sub.id(),
                ..n.clone()
            },
            StatusCode::CONFLICT,
        ),
        (
            NewNode {
                metadata: vec![1; MAX_SEALED_METADATA + 1],
                ..n.clone()
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            NewNode {
                wrapped_key: vec![1; 3],
                ..n.clone()
            },
            StatusCode::BAD_REQUEST,
        ),
    ] {
        expect_err(
            p.c.post::<_, NodeView>("/api/records/node/create", &create(&node))
                .await,
            status,
        );
    }
    // Versions of a folder.
    assert_eq!(p.versions(notes.id()).await.unwrap(), vec![]);
    expect_err(
        p.restore_version(notes.id(), 1).await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(p.restore_version(file.id(), 7).await, StatusCode::NOT_FOUND);
    // A second record.
    let e = expect_err(
        p.c.post::<_, RecordTree>("/api/records/create", &{
            let made = new_record(
                &p.id,
                &p.keyring.encryption().public_key(),
                p.keyring.identity(),
                shared::crypto::rng::id().unwrap(),
                0,
            )
            .unwrap();
            json!({"root": made.root, "children": made.children, "head": made.head})
        })
        .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already have a record"), "{}", e.message);
    assert_eq!(snapshot(&p).await, before, "nothing changed");

    // In the trash: nothing new goes into a trashed folder, nothing moves
    // there, and a child cannot come back while its folder is trashed.
    let notes_now = p.trash(sub.id(), sub.view.revision).await.unwrap();
    assert!(notes_now.trashed_at.is_some());
    let tree = p.tree().await;
    let sub = tree.node(sub.id()).unwrap();
    let subsub = tree.node(subsub.id()).unwrap();
    n.parent_id = Some(*subsub.id());
    let e = expect_err(
        p.c.post::<_, NodeView>("/api/records/node/create", &create(&n))
            .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("Trash"), "{}", e.message);
    let e = expect_err(
        p.move_to(file, sub, file.view.revision).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("Trash"), "{}", e.message);
    // Trashing it again is its owner signing it again as trashed (how a
    // doctor's late change is taken in, PROTOCOL 16.4): its trash time stays.
    let again = p.trash(sub.id(), sub.view.revision).await.unwrap();
    assert_eq!(again.trashed_at, notes_now.trashed_at);
    assert_eq!(again.revision, sub.view.revision + 1);
    p.trash(subsub.id(), subsub.view.revision).await.unwrap();
    let e = expect_err(p.restore(subsub.id()).await, StatusCode::CONFLICT);
    assert!(
        e.message.contains("Restore that folder first"),
        "{}",
        e.message
    );
    p.restore(sub.id()).await.unwrap();
    p.restore(subsub.id()).await.unwrap();
}

#[tokio::test]
async fn fail_bad_chunk_requests_with_json_errors() {
    let s = Server::new();
    let p = patient(&s, "chunk.routes").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let up = p
        .start_new(find(&tree, "Notes"), "n", &content("c", 5000), s.now())
        .await
        .unwrap();
    let good = chunk_path(&up.node_id, 1, 0);
    let id = b64::encode(&up.node_id);
    let not_found = ApiError::not_found();
    // Not chunk addresses at all: no such API call.
    for path in [
        format!("/api/records/chunk/{id}/1"),
        format!("/api/records/chunk/{id}/1/0/9"),
        format!("/api/records/chunk/{id}//0"),
    ] {
        let e = raw_err(
            p.c.put_bytes(&path, "application/octet-stream", up.file.chunks[0].clone())
                .await,
            StatusCode::NOT_FOUND,
        );
        assert_eq!(e.code, ErrorCode::NotFound, "PUT {path}");
    }
    // Malformed or unknown ids, versions and indexes: the one `not_found`.
    for path in [
        format!("/api/records/chunk/{id}/x/0"),
        format!("/api/records/chunk/{id}/1/-1"),
        format!("/api/records/chunk/{id}/1/+0"),
        format!("/api/records/chunk/{id}/1/99999999999"),
        format!("/api/records/chunk/{id}/0/0"),
        format!("/api/records/chunk/{id}/2/0"),
        "/api/records/chunk/not*base64/1/0".to_owned(),
        format!("/api/records/chunk/{id}=/1/0"),
        format!("/api/records/chunk/{}/1/0", b64::encode(&[1u8; 15])),
        format!("/api/records/chunk/{}/1/0", b64::encode(&[1u8; 17])),
        format!("/api/records/chunk/{}/1/0", b64::encode(&[1u8; 16])),
    ] {
        let e = raw_err(
            p.c.put_bytes(&path, "application/octet-stream", up.file.chunks[0].clone())
                .await,
            StatusCode::NOT_FOUND,
        );
        assert_eq!(e, not_found, "PUT {path}");
        let (status, _, body) = p.c.get_bytes(&path).await;
        let e = raw_err((status, body), StatusCode::NOT_FOUND);
        assert_eq!(e, not_found, "GET {path}");
    }
    // Not octet-stream: 415; no CSRF header or a foreign origin: 403.
    for kind in ["application/json", "text/plain", ""] {
        raw_err(
            p.c.put_bytes(&good, kind, up.file.chunks[0].clone()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        );
    }
    let bare = Request::put(&good)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost");
    raw_err(
        p.c.send_request(bare, up.file.chunks[0].clone()).await,
        StatusCode::FORBIDDEN,
    );
    let foreign = Request::put(&good)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://evil.example")
        .header(shared::api::CSRF_HEADER, "1");
    raw_err(
        p.c.send_request(foreign, up.file.chunks[0].clone()).await,
        StatusCode::FORBIDDEN,
    );
    // A body beyond the chunk limit: 413 (the JSON limit does not apply).
    raw_err(
        p.c.put_bytes(
            &good,
            "application/octet-stream",
            vec![0; MAX_CHUNK_SIZE as usize + 17],
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    // Other methods: 405.
    let post = Request::post(&good)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(shared::api::CSRF_HEADER, "1");
    raw_err(
        p.c.send_request(post, vec![]).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    // Without a session: 401.
    let anon = s.client();
    raw_err(
        anon.put_bytes(&good, "application/octet-stream", up.file.chunks[0].clone())
            .await,
        StatusCode::UNAUTHORIZED,
    );
    let (status, _, body) = anon.get_bytes(&good).await;
    raw_err((status, body), StatusCode::UNAUTHORIZED);
    expect_err(
        anon.get::<Option<RecordTree>>("/api/records/tree").await,
        StatusCode::UNAUTHORIZED,
    );
    // An unfinished version cannot be read.
    p.put(&up.node_id, 1, 0, up.file.chunks[0].clone())
        .await
        .unwrap();
    let (status, _, body) = p.c.get_bytes(&good).await;
    assert_eq!(raw_err((status, body), StatusCode::NOT_FOUND), not_found);
    // And the upload went on unharmed.
    for (i, chunk) in up.file.chunks.iter().enumerate().skip(1) {
        p.put(&up.node_id, 1, i as u32, chunk.clone())
            .await
            .unwrap();
    }
    p.finish(&up, s.now()).await.unwrap();
}

#[tokio::test]
async fn only_patients_create_records() {
    let s = Server::new();
    let doctor = s.client();
    doctor
        .signup("dr.who", Some(s.cli_invite(Role::Doctor)), s.now())
        .await
        .unwrap();
    let info = doctor.session().await.unwrap();
    let keyring = Keyring::generate().unwrap();
    let made = new_record(
        &info.user_id,
        &keyring.encryption().public_key(),
        keyring.identity(),
        shared::crypto::rng::id().unwrap(),
        s.now(),
    )
    .unwrap();
    let (root, children) = (made.root, made.children);
    let e = expect_err(
        doctor
            .post::<_, RecordTree>(
                "/api/records/create",
                &json!({"root": root, "children": children, "head": made.head}),
            )
            .await,
        StatusCode::FORBIDDEN,
    );
    assert!(e.message.contains("Only patients"), "{}", e.message);
    assert_eq!(
        doctor
            .get::<Option<RecordTree>>("/api/records/tree")
            .await
            .unwrap(),
        None
    );
    // And a malformed record is refused before anything is stored.
    let p = patient(&s, "malformed").await;
    let made = new_record(
        &p.id,
        &p.keyring.encryption().public_key(),
        p.keyring.identity(),
        shared::crypto::rng::id().unwrap(),
        s.now(),
    )
    .unwrap();
    let (root, children) = (made.root, made.children);
    for (root, children) in [
        (
            NewNode {
                wrapped_key: vec![0; 61],
                ..root.clone()
            },
            children.clone(),
        ),
        (
            NewNode {
                parent_id: Some([1; 16]),
                ..root.clone()
            },
            children.clone(),
        ),
        (
            root.clone(),
            vec![NewNode {
                parent_id: Some([1; 16]),
                ..children[0].clone()
            }],
        ),
        (root.clone(), vec![children[0].clone(), children[0].clone()]),
        (
            root.clone(),
            vec![NewNode {
                kind: NodeKind::File,
                ..children[0].clone()
            }],
        ),
    ] {
        expect_err(
            p.c.post::<_, RecordTree>(
                "/api/records/create",
                &json!({"root": root, "children": children}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
    }
    assert_eq!(
        p.c.get::<Option<RecordTree>>("/api/records/tree")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn another_patient_gets_not_found_on_every_route() {
    let s = Server::new();
    let a = patient(&s, "alice").await;
    let b = patient(&s, "bob").await;
    a.create_record(s.now()).await;
    b.create_record(s.now()).await;
    let ta = a.tree().await;
    let notes = find(&ta, "Notes");
    let folder = *notes.id();
    let file = a
        .upload_new(notes, "secret.pdf", &content("MARKER-alice", 9000), s.now())
        .await;
    let ta = a.tree().await;
    let open = a
        .start_version(ta.node(&file).unwrap(), &content("v2", 5000))
        .await
        .unwrap();
    a.put(&file, 2, 0, open.file.chunks[0].clone())
        .await
        .unwrap();
    let a_before = snapshot(&a).await;
    let tb = b.tree().await;
    let b_notes = find(&tb, "Notes");
    let b_before = snapshot(&b).await;

    let nf = ApiError::not_found();
    let check = |r: Result<serde_json::Value, Failure>, what: &str| {
        let e = expect_err(r, StatusCode::NOT_FOUND);
        assert_eq!(e, ApiError::not_found(), "{what}");
    };
    let ida = |id: &Id| b64::encode(id);
    let meta = b64::encode(&[7u8; 300]);
    let key = b64::encode(&[7u8; 61]);
    let (new_file, _) = new_file_node(b_notes, &metadata("x", 0, None)).unwrap();
    let under_a = NewNode {
        parent_id: Some(folder),
        ..new_file.clone()
    };
    let (new_folder, _) = new_child(
        b_notes,
        NodeKind::Folder,
        &metadata("x", 0, None),
        &b.signer(0),
    )
    .unwrap();
    let calls: Vec<(&str, serde_json::Value)> = vec![
        (
            "/api/records/node/create",
            json!({"node": NewNode { parent_id: Some(folder), ..new_folder.clone() }}),
        ),
        (
            "/api/records/node/update",
            json!({"request": {"node_id": ida(&file), "revision": 2, "metadata": meta}}),
        ),
        (
            "/api/records/node/update",
            json!({"request": {"node_id": ida(&folder), "revision": 1, "metadata": meta}}),
        ),
        (
            "/api/records/node/move",
            json!({"request": {"node_id": ida(&file), "revision": 2, "new_parent_id": ida(b_notes.id()), "wrapped_key": key}}),
        ),
        (
            "/api/records/node/move",
            json!({"request": {"node_id": ida(b_notes.id()), "revision": b_notes.view.revision, "new_parent_id": ida(&folder), "wrapped_key": key}}),
        ),
        (
            "/api/records/node/trash",
            json!({"request": {"node_id": ida(&file), "revision": 2}}),
        ),
        (
            "/api/records/node/restore",
            json!({"request": {"node_id": ida(&file)}}),
        ),
        (
            "/api/records/version/restore",
            json!({"request": {"node_id": ida(&file), "version": 1}}),
        ),
        (
            "/api/records/upload/start",
            json!({"request": {"node_id": ida(&file), "new_node": null, "chunk_size": CHUNK, "ciphertext_len": 1000}}),
        ),
        (
            "/api/records/upload/start",
            json!({"request": {"node_id": ida(&under_a.node_id), "new_node": under_a, "chunk_size": CHUNK, "ciphertext_len": 1000}}),
        ),
        (
            "/api/records/upload/finish",
            a.finish_request(&open, s.now()).await,
        ),
        (
            "/api/records/upload/cancel",
            json!({"request": {"node_id": ida(&file), "version": 2}}),
        ),
        (
            "/api/records/upload/cancel",
            json!({"request": {"node_id": ida(&file), "version": 1}}),
        ),
    ];
    for (path, body) in calls {
        check(b.c.post(path, &body).await, path);
        // An id nobody has gets exactly the same answer.
    }
    check(b.versions(&file).await.map(|v| json!(v)), "versions");
    for (version, index) in [(1, 0), (1, 1), (2, 0), (2, 1)] {
        let e = raw_err(
            b.c.put_bytes(
                &chunk_path(&file, version, index),
                "application/octet-stream",
                open.file.chunks[index as usize].clone(),
            )
            .await,
            StatusCode::NOT_FOUND,
        );
        assert_eq!(e, nf);
        let (status, _, body) = b.c.get_bytes(&chunk_path(&file, version, index)).await;
        assert_eq!(raw_err((status, body), StatusCode::NOT_FOUND), nf);
    }
    // An unknown id answers exactly alike.
    let unknown = [0x42; 16];
    check(
        b.versions(&unknown).await.map(|v| json!(v)),
        "unknown versions",
    );
    let (status, _, body) = b.c.get_bytes(&chunk_path(&unknown, 1, 0)).await;
    assert_eq!(raw_err((status, body), StatusCode::NOT_FOUND), nf);
    // B's own calls show nothing of A's.
    assert_eq!(b.empty_trash().await.unwrap(), b_before.usage);
    assert_eq!(snapshot(&b).await, b_before);
    assert_eq!(snapshot(&a).await, a_before, "nothing of A's changed");
    // And A's upload goes on.
    for (i, chunk) in open.file.chunks.iter().enumerate().skip(1) {
        a.put(&file, 2, i as u32, chunk.clone()).await.unwrap();
    }
    a.finish(&open, s.now()).await.unwrap();
    assert_eq!(a.download_current("file").await, open.bytes);
}

#[tokio::test]
async fn emptying_a_deep_trash_deletes_every_level() {
    let s = Server::new();
    let p = patient(&s, "deep").await;
    p.create_record(s.now()).await;
    let before = p.usage().await;
    let tree = p.tree().await;
    let mut parent = find(&tree, "Notes").view.node_id;
    let top_name = "level-0";
    // A chain of folders, each with a file, deeper than one delete batch is wide.
    for depth in 0..70 {
        let tree = p.tree().await;
        let at = tree.node(&parent).unwrap();
        let f = p
            .create_folder(at, &format!("level-{depth}"))
            .await
            .unwrap();
        if depth % 10 == 0 {
            let tree = p.tree().await;
            p.upload_new(
                tree.node(&f.node_id).unwrap(),
                &format!("file-{depth}"),
                &content("deep", 5000),
                s.now(),
            )
            .await;
        }
        parent = f.node_id;
    }
    let tree = p.tree().await;
    let top = find(&tree, top_name);
    p.trash(top.id(), top.view.revision).await.unwrap();
    let usage = p.empty_trash().await.unwrap();
    assert_eq!(usage.used_bytes, before.used_bytes);
    assert_eq!(p.raw_tree().await.nodes.len(), 6);
    let blobs = s
        .store
        .scan_prefix(server::store::Space::Blobs, &[], None, usize::MAX)
        .await
        .unwrap();
    assert!(blobs.is_empty());
    let records = s
        .store
        .scan_prefix(server::store::Space::Records, &[], None, usize::MAX)
        .await
        .unwrap();
    // The head, six nodes, their six index entries and six leaves, and the
    // chain of signed heads: nothing else.
    let heads = p.raw_tree().await.head.unwrap().value.counter as usize;
    assert_eq!(records.len(), 19 + heads);
}
