//! Signed records on the server (docs/PROTOCOL.md, section 4.5): every
//! check of a change's signed state and of the owner's next head, each
//! refusal a 4xx JSON that changes nothing; doctors' changes, folding,
//! the chain, creation at sign-up, and adopting a record stored before
//! signed records.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{
    files::metadata,
    patient::{expect_err, patient, snapshot, Patient},
    Client, Server, PASSWORD,
};
use serde_json::{json, Value};
use shared::{
    api::{
        account::{SessionInfo, SignupStarted},
        records::{NodeView, RecordTree},
        ErrorCode,
    },
    client::Signup,
    crypto::{b64, keyring::Keyring, sign::Signed},
    records::{new_record, seal_metadata, HeadLeaf, NodeState, RecordHead},
};

/// A patient with a record and the view of its "Notes" folder.
async fn with_record(s: &Server, name: &str) -> (Patient, NodeView) {
    let p = patient(s, name).await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = common::patient::find(&tree, "Notes").view.clone();
    (p, notes)
}

/// A rename of `node` to `name`: the request body and the view it leaves.
async fn rename(p: &Patient, node: &NodeView, name: &str) -> (Value, NodeView) {
    let tree = p.tree().await;
    let open = tree.node(&node.node_id).unwrap();
    let meta = seal_metadata(&open.key, &node.node_id, &metadata(name, 0, None)).unwrap();
    let mut after = node.clone();
    after.metadata = meta.clone();
    after.revision += 1;
    let body = json!({"request": {"node_id": b64::encode(&node.node_id), "revision": node.revision, "metadata": b64::encode(&meta)}});
    (body, after)
}

async fn post_update(p: &Patient, body: &Value) -> Result<NodeView, common::Failure> {
    p.c.post("/api/records/node/update", body).await
}

fn with(mut body: Value, state: &Signed<NodeState>, head: Option<&Signed<RecordHead>>) -> Value {
    body["request"]["state"] = json!(state);
    if let Some(head) = head {
        body["request"]["head"] = json!(head);
    }
    body
}

#[tokio::test]
async fn a_change_without_a_valid_signed_state_is_refused_and_changes_nothing() {
    let s = Server::new();
    let (p, notes) = with_record(&s, "sig").await;
    let other = patient(&s, "other").await;
    let before = snapshot(&p).await;
    let (body, after) = rename(&p, &notes, "Renamed").await;
    let good = p.state_in(&p.id, &after, 0);
    let head = p.next_head(std::slice::from_ref(&good), &[], 0).await;

    // Missing.
    let mut missing = body.clone();
    missing["request"]["head"] = json!(head);
    let e = expect_err(post_update(&p, &missing).await, StatusCode::BAD_REQUEST);
    assert!(e.message.contains("signed state"), "{}", e.message);
    // Signed by someone else's key.
    let forged = NodeState::describe(p.id, &after, p.id, 0).sign(other.keyring.identity());
    let e = expect_err(
        post_update(&p, &with(body.clone(), &forged, Some(&head))).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("does not verify"), "{}", e.message);
    // Naming another author.
    let not_me = NodeState::describe(p.id, &after, other.id, 0).sign(p.keyring.identity());
    let e = expect_err(
        post_update(&p, &with(body.clone(), &not_me, Some(&head))).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("someone else"), "{}", e.message);
    // For another record.
    let elsewhere = NodeState::describe(other.id, &after, p.id, 0).sign(p.keyring.identity());
    let e = expect_err(
        post_update(&p, &with(body.clone(), &elsewhere, Some(&head))).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("another record"), "{}", e.message);
    // Not the node as it will be (the old name's metadata).
    let stale_view = notes.clone();
    let wrong = p.state_in(
        &p.id,
        &NodeView {
            revision: notes.revision + 1,
            ..stale_view
        },
        0,
    );
    let e = expect_err(
        post_update(&p, &with(body.clone(), &wrong, Some(&head))).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("does not match"), "{}", e.message);
    assert_eq!(snapshot(&p).await, before);

    // The honest change goes through and is served with its state.
    let view = post_update(&p, &with(body, &good, Some(&head)))
        .await
        .unwrap();
    assert_eq!(view.state.as_ref(), Some(&good));
    let tree = p.raw_tree().await;
    assert_eq!(tree.head.as_ref(), Some(&head));
    assert!(tree.head_leaves.contains(&HeadLeaf::of(&good)));
}

#[tokio::test]
async fn the_owner_s_head_must_follow_the_stored_one_and_cover_the_change() {
    let s = Server::new();
    let (p, notes) = with_record(&s, "heads").await;
    let (body, after) = rename(&p, &notes, "One").await;
    let state = p.state_in(&p.id, &after, 0);
    let tree = p.raw_tree().await;

    // No head from the owner.
    let e = expect_err(
        post_update(&p, &with(body.clone(), &state, None)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("next head"), "{}", e.message);
    // A head over the wrong state (the change left out): 400.
    let wrong = p.next_head_over(&tree, &[], &[], 0);
    let e = expect_err(
        post_update(&p, &with(body.clone(), &state, Some(&wrong))).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("does not match"), "{}", e.message);
    // A head signed by someone else: 400.
    let other = patient(&s, "mallory").await;
    let current = tree.head.clone().unwrap();
    let leaves = common::signing::leaves_with(&tree, std::slice::from_ref(&state), &[]);
    let forged = RecordHead::next(&current, &leaves, 0).sign(other.keyring.identity());
    let e = expect_err(
        post_update(&p, &with(body.clone(), &state, Some(&forged))).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("does not verify"), "{}", e.message);
    // A genesis-like head (counter 1 again, no link): stale, 409.
    let mut replay = RecordHead::next(&current, &leaves, 0);
    replay.counter = current.value.counter;
    let replay = replay.sign(p.keyring.identity());
    let e = expect_err(
        post_update(&p, &with(body.clone(), &state, Some(&replay))).await,
        StatusCode::CONFLICT,
    );
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("changed meanwhile"), "{}", e.message);

    // The honest head, then one made before it (stale): 409.
    let good = p.next_head_over(&tree, std::slice::from_ref(&state), &[], 0);
    post_update(&p, &with(body, &state, Some(&good)))
        .await
        .unwrap();
    let notes = p
        .raw_tree()
        .await
        .nodes
        .into_iter()
        .find(|n| n.node_id == notes.node_id)
        .unwrap();
    let (body, after) = rename(&p, &notes, "Two").await;
    let state = p.state_in(&p.id, &after, 0);
    let old = p.next_head_over(&tree, std::slice::from_ref(&state), &[], 0);
    let before = snapshot(&p).await;
    let e = expect_err(
        post_update(&p, &with(body, &state, Some(&old))).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("reload"), "{}", e.message);
    assert_eq!(snapshot(&p).await, before);

    // The chain lists every head after a counter, in order.
    let chain: Vec<Signed<RecordHead>> = p.c.get("/api/records/heads?after=0").await.unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0].value.counter, 1);
    assert_eq!(chain[1], good);
    assert_eq!(
        chain[1].value.previous,
        shared::records::head_link(&chain[0])
    );
    let later: Vec<Signed<RecordHead>> = p.c.get("/api/records/heads?after=1").await.unwrap();
    assert_eq!(later, vec![good]);
}

#[tokio::test]
async fn emptying_the_trash_carries_the_head_over_what_is_left() {
    let s = Server::new();
    let (p, notes) = with_record(&s, "trash").await;
    p.trash(&notes.node_id, notes.revision).await.unwrap();
    let tree = p.raw_tree().await;
    // A head that still counts the trashed folder: 400, nothing deleted.
    let wrong = p.next_head_over(&tree, &[], &[], 0);
    let e = expect_err(
        p.c.post::<_, shared::api::records::Usage>(
            "/api/records/trash/empty",
            &json!({"head": wrong}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("does not match"), "{}", e.message);
    assert_eq!(p.raw_tree().await.nodes.len(), tree.nodes.len());
    // Without a head while something is in the trash: 400.
    expect_err(
        p.c.post::<_, shared::api::records::Usage>("/api/records/trash/empty", &json!({}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    p.empty_trash().await.unwrap();
    let after = p.raw_tree().await;
    assert_eq!(after.nodes.len(), tree.nodes.len() - 1);
    let head = after.head.unwrap();
    assert_eq!(head.value.counter, tree.head.unwrap().value.counter + 1);
    assert_eq!(after.head_leaves.len(), after.nodes.len());
    assert_eq!(
        shared::records::state_hash(&after.head_leaves),
        head.value.state_hash
    );
}

#[tokio::test]
async fn a_new_record_needs_every_state_and_a_genesis_head_over_them() {
    let s = Server::new();
    let p = patient(&s, "genesis").await;
    let make = || {
        new_record(
            &p.id,
            &p.keyring.encryption().public_key(),
            p.keyring.identity(),
            shared::crypto::rng::id().unwrap(),
            s.now(),
        )
        .unwrap()
    };
    let c = &p.c;
    let create =
        |body: Value| async move { c.post::<_, RecordTree>("/api/records/create", &body).await };
    // No head.
    let made = make();
    expect_err(
        create(json!({"root": made.root, "children": made.children})).await,
        StatusCode::BAD_REQUEST,
    );
    // A head with counter 2.
    let made = make();
    let mut second = made.head.value.clone();
    second.counter = 2;
    let second = second.sign(p.keyring.identity());
    let e = expect_err(
        create(json!({"root": made.root, "children": made.children, "head": second})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("counter 1"), "{}", e.message);
    // A head that leaves a starter folder out.
    let made = make();
    let mut fewer = made.children.clone();
    fewer.pop();
    expect_err(
        create(json!({"root": made.root, "children": fewer, "head": made.head})).await,
        StatusCode::BAD_REQUEST,
    );
    // A folder without its state.
    let made = make();
    let mut unsigned = made.children.clone();
    unsigned[0].state = None;
    expect_err(
        create(json!({"root": made.root, "children": unsigned, "head": made.head})).await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(
        p.c.get::<Option<RecordTree>>("/api/records/tree")
            .await
            .unwrap(),
        None
    );
    // The honest one.
    let made = make();
    let tree = create(json!({"root": made.root, "children": made.children, "head": made.head}))
        .await
        .unwrap();
    assert_eq!(tree.head, Some(made.head));
    assert!(tree.nodes.iter().all(|n| n.state.is_some()));
}

#[tokio::test]
async fn a_doctor_s_finish_stores_its_state_and_grant_and_leaves_the_head_for_the_owner() {
    let s = Server::new();
    let p = patient(&s, "wren").await;
    p.create_record(s.now()).await;
    let d = common::signing::writer(&s, "dr.write").await;
    let tree = p.tree().await;
    let notes = common::patient::find(&tree, "Notes").clone();
    let grant = common::signing::share_rw(&s, &p, &d, &notes).await;
    let top = d.scope_node(&grant, notes.id()).await;
    let before = p.raw_tree().await;

    let up = d
        .start_new(&top, "letter.txt", b"from the doctor", s.now())
        .await
        .unwrap();
    d.put_all(&up).await;
    // A doctor's head is refused.
    let mut body = d.finish_request(&up, s.now()).await;
    body["request"]["head"] = json!(p.next_head_over(&before, &[], &[], 0));
    let e = expect_err(
        d.c.post::<_, NodeView>("/api/records/upload/finish", &body)
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e.message.contains("Only the record's owner"),
        "{}",
        e.message
    );
    let view = d.finish(&up, s.now()).await.unwrap();
    let state = view.state.clone().unwrap();
    assert_eq!(state.value.author_id, d.id);
    assert_eq!(state.value.owner_id, p.id);
    assert_eq!(state.value.revision, 1);
    assert_eq!(
        view.write_grant.as_ref().map(|g| g.value.grant_id),
        Some(grant)
    );

    // The head did not move; the head's leaves do not have the new file.
    let after = p.raw_tree().await;
    assert_eq!(after.head, before.head);
    assert_eq!(after.head_leaves, before.head_leaves);
    assert!(after.nodes.iter().any(|n| n.node_id == up.node_id));
    // The doctor sees the same head and leaves, and the chain.
    let scope: shared::api::sharing::SharedScope =
        d.c.get(&format!(
            "/api/sharing/shared?grant_id={}",
            b64::encode(&grant)
        ))
        .await
        .unwrap();
    assert_eq!(scope.head, before.head);
    assert_eq!(scope.head_leaves, before.head_leaves);
    let chain: Vec<Signed<RecordHead>> =
        d.c.get(&format!(
            "/api/sharing/heads?grant_id={}&after=0",
            b64::encode(&grant)
        ))
        .await
        .unwrap();
    assert_eq!(chain.len(), 1);

    // The owner folds it: a head over the record as it is.
    let fold = p.next_head_over(&after, &[], &[], 0);
    let stale = fold.clone();
    p.c.post::<_, ()>("/api/records/head", &json!({ "head": fold }))
        .await
        .unwrap();
    let folded = p.raw_tree().await;
    assert_eq!(folded.head, Some(fold));
    assert!(folded.head_leaves.contains(&HeadLeaf::of(&state)));
    // Folding the same head again is stale.
    expect_err(
        p.c.post::<_, ()>("/api/records/head", &json!({ "head": stale }))
            .await,
        StatusCode::CONFLICT,
    );
    // A doctor does not fold.
    expect_err(
        d.c.post::<_, ()>("/api/records/head", &json!({ "head": folded.head }))
            .await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn a_patient_s_sign_up_stores_the_record_with_the_account() {
    let s = Server::new();
    let c: Client = s.client();
    let (signup, start) = Signup::start("newbie", PASSWORD, None).unwrap();
    let started: SignupStarted = c
        .post("/api/account/signup/start", &json!({ "request": start }))
        .await
        .unwrap();
    let mut account = signup.finish(&started, s.now()).unwrap();
    let made = new_record(
        &started.user_id,
        &account.keyring.encryption().public_key(),
        account.keyring.identity(),
        shared::crypto::rng::id().unwrap(),
        s.now(),
    )
    .unwrap();
    let root = made.root.node_id;
    account.request.record = Some(made.into());
    let _: SessionInfo = c
        .post(
            "/api/account/signup/finish",
            &json!({ "request": account.request }),
        )
        .await
        .unwrap();
    let tree: RecordTree = c
        .get::<Option<RecordTree>>("/api/records/tree")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tree.root_id, root);
    assert_eq!(tree.head.unwrap().value.counter, 1);

    // A record whose head another key signed: refused, no account made.
    let c2 = s.client();
    let (signup, start) = Signup::start("second", PASSWORD, None).unwrap();
    let started: SignupStarted = c2
        .post("/api/account/signup/start", &json!({ "request": start }))
        .await
        .unwrap();
    let mut account = signup.finish(&started, s.now()).unwrap();
    let stranger = Keyring::generate().unwrap();
    let made = new_record(
        &started.user_id,
        &account.keyring.encryption().public_key(),
        stranger.identity(),
        shared::crypto::rng::id().unwrap(),
        s.now(),
    )
    .unwrap();
    account.request.record = Some(made.into());
    expect_err(
        c2.post::<_, SessionInfo>(
            "/api/account/signup/finish",
            &json!({ "request": account.request }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(c2.session().await.is_none());
}

/// Rewrites `p`'s stored record as a server from before signed records left
/// it: node rows without a state, the record head without a signed head, no
/// leaves and no chain (the JSON rows today's main writes).
async fn make_legacy(s: &Server, p: &Patient) {
    use server::store::{keys::Key, Space};
    let strip = |raw: Vec<u8>, fields: &[&str]| {
        let mut v: Value = serde_json::from_slice(&raw[1..]).unwrap();
        for f in fields {
            v.as_object_mut().unwrap().remove(*f);
        }
        let mut out = vec![raw[0]];
        out.extend(serde_json::to_vec(&v).unwrap());
        out
    };
    let nodes = Key::new().u8(1).fixed(&p.id).finish();
    for (key, raw) in s
        .store
        .scan_prefix(Space::Records, &nodes, None, usize::MAX)
        .await
        .unwrap()
    {
        s.store
            .put(Space::Records, key, strip(raw, &["state", "write_grant"]))
            .await
            .unwrap();
    }
    let head = Key::new().u8(3).fixed(&p.id).finish();
    let raw = s.store.get(Space::Records, &head).await.unwrap().unwrap();
    s.store
        .put(Space::Records, head, strip(raw, &["signed"]))
        .await
        .unwrap();
    for prefix in [10u8, 11, 12] {
        let keys = Key::new().u8(prefix).fixed(&p.id).finish();
        for (key, _) in s
            .store
            .scan_prefix(Space::Records, &keys, None, usize::MAX)
            .await
            .unwrap()
        {
            s.store.delete(Space::Records, key).await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_record_stored_before_signed_records_opens_and_is_adopted_once() {
    let s = Server::new();
    let (p, notes) = with_record(&s, "legacy").await;
    let tree = p.tree().await;
    p.upload_new(
        common::patient::find(&tree, "Notes"),
        "old.txt",
        b"from before",
        s.now(),
    )
    .await;
    make_legacy(&s, &p).await;

    // It opens: no head, no states.
    let old = p.raw_tree().await;
    assert!(old.head.is_none() && old.head_leaves.is_empty());
    assert!(old.nodes.iter().all(|n| n.state.is_none()));
    p.tree().await;
    // Changes wait for adoption.
    let e = expect_err(
        p.update(
            p.tree().await.node(&notes.node_id).unwrap(),
            "x",
            notes.revision,
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("not been signed yet"), "{}", e.message);

    let signer = p.signer(0);
    let states: Vec<Signed<NodeState>> = old.nodes.iter().map(|n| signer.state(n)).collect();
    let leaves: Vec<HeadLeaf> = states.iter().map(HeadLeaf::of).collect();
    let genesis = RecordHead::genesis(p.id, old.root_id, &leaves, 0).sign(p.keyring.identity());
    let adopt = |states: &[Signed<NodeState>], head: &Signed<RecordHead>| json!({"request": {"states": states, "head": head}});
    // A state missing, a state changed, a head over something else: refused.
    expect_err(
        p.c.post::<_, RecordTree>("/api/records/adopt", &adopt(&states[1..], &genesis))
            .await,
        StatusCode::BAD_REQUEST,
    );
    let mut bumped = old.nodes[0].clone();
    bumped.revision += 1;
    let mut changed = states.clone();
    changed[0] = signer.state(&bumped);
    expect_err(
        p.c.post::<_, RecordTree>("/api/records/adopt", &adopt(&changed, &genesis))
            .await,
        StatusCode::BAD_REQUEST,
    );
    let wrong = RecordHead::genesis(p.id, old.root_id, &leaves[1..], 0).sign(p.keyring.identity());
    expect_err(
        p.c.post::<_, RecordTree>("/api/records/adopt", &adopt(&states, &wrong))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(p.raw_tree().await.head, None);

    let adopted: RecordTree =
        p.c.post("/api/records/adopt", &adopt(&states, &genesis))
            .await
            .unwrap();
    assert_eq!(adopted.head.as_ref(), Some(&genesis));
    assert_eq!(adopted.nodes.len(), old.nodes.len());
    assert!(adopted.nodes.iter().all(|n| n.state.is_some()));
    // Twice: refused (the record has a head now).
    let e = expect_err(
        p.c.post::<_, RecordTree>("/api/records/adopt", &adopt(&states, &genesis))
            .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already signed"), "{}", e.message);
    // And changes work again.
    let notes = adopted
        .nodes
        .iter()
        .find(|n| n.node_id == notes.node_id)
        .unwrap();
    p.update(
        p.tree().await.node(&notes.node_id).unwrap(),
        "Renamed",
        notes.revision,
    )
    .await
    .unwrap();
}

/// Runs the tamper tool on a stopped server's data directory.
fn tamper(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_store_tamper"))
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_tamper_tool_saves_hides_and_puts_back_a_record() {
    use server::backend::records::layout::{head_key, node_key, RecordHead};
    use server::store::{codec, SledStore, Space, Store};
    let mut s = Server::new();
    if s.store_url.is_some() {
        // The tool edits a stopped server's sled directory; the sled run
        // covers it.
        return;
    }
    let (p, notes) = with_record(&s, "tampered").await;
    let (id, name) = (p.id, p.name.clone());
    let data = std::mem::replace(&mut s.data, tempfile::tempdir().unwrap());
    drop(p);
    drop(s);
    let dir = data.path();
    let file = dir.join("snapshot.json");
    let file_text = file.to_str().unwrap();
    let notes_id = b64::encode(&notes.node_id);
    tamper(dir, &["record-snapshot", &name, file_text]);
    tamper(dir, &["node-hide", &name, &notes_id]);
    {
        let store = SledStore::open(dir).unwrap();
        assert!(store
            .get(Space::Records, &node_key(&id, &notes.node_id))
            .await
            .unwrap()
            .is_none());
    }
    tamper(dir, &["node-revert", &name, &notes_id, file_text]);
    tamper(dir, &["record-restore", &name, file_text]);
    let store = SledStore::open(dir).unwrap();
    assert!(store
        .get(Space::Records, &node_key(&id, &notes.node_id))
        .await
        .unwrap()
        .is_some());
    let head: RecordHead = codec::decode(
        &store
            .get(Space::Records, &head_key(&id))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert!(head.signed.is_some());
    assert!(head.seq > 1, "the change counter moved on");
}

#[tokio::test]
async fn a_key_rotation_carries_every_new_state_and_the_owner_s_next_head() {
    use shared::api::sharing::{RotationPart, RotationTicket};
    let s = Server::new();
    let (p, notes) = with_record(&s, "rotor").await;
    let rotate = |head: bool, unsign: bool| {
        let p = &p;
        let s = &s;
        async move {
            let ticket: RotationTicket =
                p.c.post(
                    "/api/sharing/rotation/start",
                    &json!({"request": {"node_id": b64::encode(&notes.node_id)}}),
                )
                .await
                .unwrap();
            let me = common::signing::entry(&p.c, &p.name).await;
            let removed = std::collections::HashSet::new();
            let owner = shared::sharing::RotationOwner {
                entry: &me,
                removed: &removed,
                terms: &Default::default(),
                now: s.now(),
                signing_key: p.keyring.identity(),
            };
            let raw = p.raw_tree().await;
            let tree =
                shared::records::OpenTree::open(raw.clone(), p.keyring.encryption()).unwrap();
            let mut parts: Vec<RotationPart> =
                shared::sharing::plan_rotation(&tree, &owner, &notes.node_id, &ticket).unwrap();
            let signed = p.sign_rotation(&raw, &mut parts, s.now());
            if unsign {
                parts[0].nodes[0].state = None;
            }
            for part in &parts {
                p.c.post::<_, ()>("/api/sharing/rotation/part", &json!({ "request": part }))
                    .await
                    .unwrap();
            }
            p.c.post::<_, ()>(
                "/api/sharing/rotation/commit",
                &json!({"request": {"rotation_id": b64::encode(&ticket.rotation_id), "parts": parts.len(), "head": head.then_some(signed)}}),
            )
            .await
        }
    };
    let before = snapshot(&p).await;
    let e = expect_err(rotate(false, false).await, StatusCode::BAD_REQUEST);
    assert!(e.message.contains("next head"), "{}", e.message);
    let e = expect_err(rotate(true, true).await, StatusCode::BAD_REQUEST);
    assert!(e.message.contains("signed state"), "{}", e.message);
    let mut after = snapshot(&p).await;
    after.usage = before.usage;
    assert_eq!(after.nodes, before.nodes);
    assert_eq!(after.head, before.head);
    rotate(true, false).await.unwrap();
    let tree = p.raw_tree().await;
    let head = tree.head.clone().unwrap();
    assert_eq!(head.value.counter, before.head.unwrap().value.counter + 1);
    assert_eq!(
        shared::records::state_hash(&tree.head_leaves),
        head.value.state_hash
    );
    assert!(tree.nodes.iter().all(|n| n
        .state
        .as_ref()
        .is_some_and(|st| st.value.matches(&p.id, n))));
    p.tree().await;
}
