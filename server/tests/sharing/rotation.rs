//! Key rotation after a revocation: every key under the folder is replaced,
//! only for grants the patient signed and kept, in parts, atomically and within
//! the quota.

use super::*;

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
    let before = snapshot(&p).await;

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
    assert_eq!(snapshot(&p).await, before);

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

#[tokio::test]
async fn a_rotation_gives_new_keys_only_to_grants_the_patient_signed_and_kept() {
    use shared::{
        api::sharing::RotationTicket, crypto::hpke, model::Grant, sharing::plan_rotation,
    };
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
            terms: &Default::default(),
            now,
            signing_key: p.keyring.identity(),
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
        key_hash: shared::sharing::wrapped_key_hash(&kept.wrapped_key),
        node_id: *labs.id(),
        permission: Permission::Read,
        created_at: s.now(),
        expires_at: None,
        revision: 0,
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

    // 6. The kept grant as it was before a change this browser has seen (a
    // later revision remembered): never signed again.
    let changed: std::collections::HashMap<Id, shared::sharing::GrantTerms> = [(
        kept_id,
        shared::sharing::GrantTerms {
            revision: 1,
            permission: Permission::Read,
            expires_at: None,
        },
    )]
    .into();
    let knowing = RotationOwner {
        entry: &me,
        removed: &just_removed,
        terms: &changed,
        now: s.now(),
        signing_key: p.keyring.identity(),
    };
    refused(
        plan_rotation(&tree, &knowing, labs.id(), &honest),
        "as it was before you changed it",
    );

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
