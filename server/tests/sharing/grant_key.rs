//! A grant binds the key it delivers: the patient signs SHA-256 of the exact
//! wrapped key, the server refuses a grant sent with another key, the
//! doctor's browser refuses a key the patient did not give (even a genuine
//! HPKE wrap to the doctor's real key of a key the server chose), and a key
//! rotation re-signs each kept grant over its new key and nothing else.

use shared::{
    api::sharing::RotationPart,
    crypto::{aead::Key256, hpke},
    sharing::{wrapped_key_hash, GrantOpenError},
};

use super::*;

/// A patient with a record, a doctor, and the Lab results folder shared with
/// the doctor to read.
async fn shared_labs(s: &Server) -> (Patient, Doctor, OpenNode, GrantView) {
    let p = patient(s, "gia").await;
    let d = doctor(s, "dr.key").await;
    p.create_record(s.now()).await;
    let labs = find(&p.tree().await, "Lab results").clone();
    p.upload_new(&labs, "labs.txt", b"ferritin 40", s.now())
        .await;
    let grant = share(s, &p, "dr.key", &labs, None, None).await.unwrap();
    (p, d, labs, grant)
}

/// Opens the grant `id` exactly as the doctor's browser does, up to the key.
async fn open_as_doctor(d: &Doctor, patient_name: &str, id: &Id) -> Result<Key256, GrantOpenError> {
    let shared: SharedScope = scope(d, id).await.unwrap();
    let patient = entry(&d.c, patient_name).await;
    open_grant(&shared.grant, &patient, &d.id, d.keyring.encryption()).map(|o| o.node_key)
}

#[tokio::test]
async fn a_key_the_server_chose_is_refused_by_the_doctors_browser() {
    let s = Server::new();
    let (_p, d, labs, grant) = shared_labs(&s).await;
    let id = grant.grant.value.grant_id;
    assert_eq!(
        grant.grant.value.key_hash,
        wrapped_key_hash(&grant.wrapped_key)
    );
    let honest = open_as_doctor(&d, "gia", &id).await.unwrap();
    assert_eq!(honest.as_bytes(), labs.key.as_bytes());

    // The attack: a key the server knows, wrapped with HPKE to the doctor's
    // real encryption key for the right node. It would open and the doctor
    // would write under it; the grant's signed hash refuses it first.
    let chosen = Key256::generate().unwrap();
    let doctor_public = d.keyring.encryption().public_key();
    let fresh = hpke::wrap_node_key(&doctor_public, &d.id, labs.id(), &chosen).unwrap();
    hpke::unwrap_node_key(d.keyring.encryption(), &d.id, labs.id(), &fresh).unwrap();
    edit_grant(&s, &id, |g| g.wrapped_key = fresh.clone()).await;
    let refused = open_as_doctor(&d, "gia", &id).await.unwrap_err();
    assert_eq!(refused, GrantOpenError::KeyNotGiven);
    assert!(refused
        .sentence()
        .starts_with("The key for this shared folder was not the one the patient gave you"));

    // Changing the signed hash to match breaks the patient's signature.
    let hash = wrapped_key_hash(&fresh);
    edit_grant(&s, &id, |g| g.grant.value.key_hash = hash).await;
    assert_eq!(
        open_as_doctor(&d, "gia", &id).await.unwrap_err(),
        GrantOpenError::NotSigned
    );

    // The store made honest again, the share opens as before.
    edit_grant(&s, &id, |g| {
        g.grant = grant.grant.clone();
        g.wrapped_key = grant.wrapped_key.clone();
    })
    .await;
    assert!(open_as_doctor(&d, "gia", &id).await.is_ok());
}

#[tokio::test]
async fn the_server_refuses_a_grant_whose_hash_is_not_its_keys() {
    let s = Server::new();
    let p = patient(&s, "hal").await;
    doctor(&s, "dr.hash").await;
    p.create_record(s.now()).await;
    let labs = find(&p.tree().await, "Lab results").clone();
    let doctor_entry = entry(&p.c, "dr.hash").await;
    let me = entry(&p.c, "hal").await;
    let (grant, wrapped) = make_grant(
        &me,
        p.keyring.identity(),
        &choice(&doctor_entry, &labs, None),
        s.now(),
    )
    .unwrap();
    // Another wrap of the same key: the right size, but not the key signed.
    let other = hpke::wrap_node_key(
        &hpke::EncryptionPublicKey::from_bytes(doctor_entry.encryption_key).unwrap(),
        &doctor_entry.user_id,
        labs.id(),
        &labs.key,
    )
    .unwrap();
    assert_ne!(other, wrapped);
    let before = snapshot(&p).await;
    let send = |key: &[u8]| {
        let body = json!({ "request": { "grant": grant, "wrapped_key": b64::encode(key),
            "request_id": null } });
        let c = p.c.clone();
        async move {
            c.post::<_, GrantView>("/api/sharing/grant/create", &body)
                .await
        }
    };
    let e = expect_err(send(&other).await, StatusCode::BAD_REQUEST);
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.contains("key hash"), "{}", e.message);
    // Nothing was stored: no grant, no event, the record as it was.
    assert!(grants(&p.c).await.is_empty());
    assert_eq!(snapshot(&p).await, before);
    assert!(!p.history().await.contains(&EventKind::GrantCreated));
    // A new grant at a later revision (as if changed before it existed).
    let mut ahead = grant.value.clone();
    ahead.revision = 1;
    let body = json!({ "request": { "grant": sign::sign(p.keyring.identity(), ahead),
        "wrapped_key": b64::encode(&wrapped), "request_id": null } });
    let e = expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &body)
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("revision 0"), "{}", e.message);
    assert!(grants(&p.c).await.is_empty());
    // The key it was signed over goes through.
    send(&wrapped).await.unwrap();
}

/// Revokes `removed` and starts a rotation of `folder`, planned as the
/// patient's browser does; the parts, not yet sent, and the ticket's id.
/// The rotation's parts (with every re-keyed node's signed state), its id and
/// the owner's next head over the result.
async fn planned(
    s: &Server,
    p: &Patient,
    folder: &Id,
    removed: &Id,
) -> (
    Vec<RotationPart>,
    Id,
    shared::crypto::sign::Signed<shared::records::RecordHead>,
) {
    p.c.post::<_, GrantView>(
        "/api/sharing/grant/revoke",
        &json!({"request": {"grant_id": b64::encode(removed)}}),
    )
    .await
    .unwrap();
    let ticket: shared::api::sharing::RotationTicket =
        p.c.post(
            "/api/sharing/rotation/start",
            &json!({"request": {"node_id": b64::encode(folder)}}),
        )
        .await
        .unwrap();
    let me = entry(&p.c, &p.name).await;
    let gone = std::collections::HashSet::from([*removed]);
    let owner = RotationOwner {
        entry: &me,
        removed: &gone,
        terms: &Default::default(),
        now: s.now(),
        signing_key: p.keyring.identity(),
    };
    let raw = p.raw_tree().await;
    let tree = shared::records::OpenTree::open(raw.clone(), p.keyring.encryption()).unwrap();
    let mut parts = shared::sharing::plan_rotation(&tree, &owner, folder, &ticket).unwrap();
    let head = p.sign_rotation(&raw, &mut parts, s.now());
    (parts, ticket.rotation_id, head)
}

async fn send_parts(p: &Patient, parts: &[RotationPart]) -> Result<(), common::Failure> {
    for part in parts {
        p.c.post::<_, ()>("/api/sharing/rotation/part", &json!({ "request": part }))
            .await?;
    }
    Ok(())
}

async fn commit(
    p: &Patient,
    rotation_id: &Id,
    parts: usize,
    head: &shared::crypto::sign::Signed<shared::records::RecordHead>,
) -> Result<(), common::Failure> {
    p.c.post(
        "/api/sharing/rotation/commit",
        &json!({"request": {"rotation_id": b64::encode(rotation_id), "parts": parts, "head": head}}),
    )
    .await
}

#[tokio::test]
async fn after_a_rotation_the_doctor_opens_the_re_signed_grant() {
    let s = Server::new();
    let (p, d, labs, kept) = shared_labs(&s).await;
    doctor(&s, "dr.gone").await;
    let gone = share(&s, &p, "dr.gone", &labs, None, None).await.unwrap();
    let id = kept.grant.value.grant_id;
    let (parts, rotation_id, head) = planned(&s, &p, labs.id(), &gone.grant.value.grant_id).await;
    let rekeyed = parts.iter().flat_map(|p| &p.grants).next().unwrap().clone();
    // The same grant, signed again over the new key; nothing else changed.
    assert_eq!(
        rekeyed.grant.value.key_hash,
        wrapped_key_hash(&rekeyed.wrapped_key)
    );
    let mut unchanged = rekeyed.grant.value.clone();
    unchanged.key_hash = kept.grant.value.key_hash;
    assert_eq!(unchanged, kept.grant.value);
    send_parts(&p, &parts).await.unwrap();
    commit(&p, &rotation_id, parts.len(), &head).await.unwrap();

    let served = scope(&d, &id).await.unwrap().grant;
    assert_eq!(served.grant, rekeyed.grant);
    assert_eq!(served.wrapped_key, rekeyed.wrapped_key);
    let new_key = open_as_doctor(&d, "gia", &id).await.unwrap();
    assert_ne!(new_key.as_bytes(), labs.key.as_bytes());
    let tree = open_scope(&d, "gia", &id).await;
    assert_eq!(tree.root().unwrap().key.as_bytes(), new_key.as_bytes());

    // Mixing the two is refused: the old grant served with the new key, or
    // the re-signed grant with the old key.
    edit_grant(&s, &id, |g| g.grant = kept.grant.clone()).await;
    assert_eq!(
        open_as_doctor(&d, "gia", &id).await.unwrap_err(),
        GrantOpenError::KeyNotGiven
    );
    edit_grant(&s, &id, |g| {
        g.grant = rekeyed.grant.clone();
        g.wrapped_key = kept.wrapped_key.clone();
    })
    .await;
    assert_eq!(
        open_as_doctor(&d, "gia", &id).await.unwrap_err(),
        GrantOpenError::KeyNotGiven
    );
}

#[tokio::test]
async fn a_re_signed_grant_that_changes_more_than_its_key_is_refused() {
    let s = Server::new();
    let (p, d, labs, kept) = shared_labs(&s).await;
    doctor(&s, "dr.gone").await;
    let gone = share(&s, &p, "dr.gone", &labs, None, None).await.unwrap();
    let id = kept.grant.value.grant_id;
    let (parts, rotation_id, head) = planned(&s, &p, labs.id(), &gone.grant.value.grant_id).await;
    let before = snapshot(&p).await;
    let at = parts.iter().position(|p| !p.grants.is_empty()).unwrap();

    // Changes the kept grant's re-signed value, signs it again as the patient
    // (or as `signer`), and offers the parts.
    let offer = |edit: fn(&mut shared::model::Grant), signer: Option<&Keyring>| {
        let mut parts = parts.clone();
        let g = &mut parts[at].grants[0];
        let mut value = g.grant.value.clone();
        edit(&mut value);
        g.grant = sign::sign(signer.unwrap_or(&p.keyring).identity(), value);
        parts
    };
    // Refused when the part is stored: the hash is not the new key's, the
    // grant is another one's, or the patient did not sign it.
    let mallory = patient(&s, "mallory").await;
    for (parts, why) in [
        (offer(|g| g.key_hash[0] ^= 1, None), "key hash"),
        (offer(|g| g.grant_id[0] ^= 1, None), "another grant"),
        (
            offer(|_| {}, Some(&mallory.keyring)),
            "not signed with your key",
        ),
    ] {
        let e = expect_err(send_parts(&p, &parts).await, StatusCode::BAD_REQUEST);
        assert!(e.message.contains(why), "{}", e.message);
    }
    // Refused at commit, nothing changed: a wider permission, no end date, a
    // wider folder, or another doctor's key, each signed by the patient.
    for edit in [
        (|g: &mut shared::model::Grant| g.permission = Permission::ReadWrite)
            as fn(&mut shared::model::Grant),
        |g| g.expires_at = Some(1),
        |g| g.created_at += 1,
        |g| g.doctor_key[0] ^= 1,
        |g| g.node_id[0] ^= 1,
    ] {
        let parts = offer(edit, None);
        send_parts(&p, &parts).await.unwrap();
        let e = expect_err(
            commit(&p, &rotation_id, parts.len(), &head).await,
            StatusCode::BAD_REQUEST,
        );
        assert!(
            e.message.contains("more than its key hash"),
            "{}",
            e.message
        );
        assert_eq!(snapshot(&p).await.nodes, before.nodes);
        let served = scope(&d, &id).await.unwrap().grant;
        assert_eq!(served.grant, kept.grant);
        assert_eq!(served.wrapped_key, kept.wrapped_key);
    }
    // The honest parts go through.
    send_parts(&p, &parts).await.unwrap();
    commit(&p, &rotation_id, parts.len(), &head).await.unwrap();
    assert!(open_as_doctor(&d, "gia", &id).await.is_ok());
}

#[tokio::test]
async fn a_grant_stored_before_key_hash_still_lists_and_is_refused_to_open() {
    use server::store::{keys::Key, Space};
    let s = Server::new();
    let (p, d, _, grant) = shared_labs(&s).await;
    let id = grant.grant.value.grant_id;
    // The stored row without key_hash, its signature left as it was: it
    // verifies under neither encoding. (A row as the old release really
    // stored it, signed over the legacy encoding, is renewed by the
    // patient's browser: legacy.rs.)
    let key = Key::new().u8(1).fixed(&id).finish();
    let raw = s.store.get(Space::Grants, &key).await.unwrap().unwrap();
    let mut row: serde_json::Value = serde_json::from_slice(&raw[1..]).unwrap();
    row["grant"]["value"]
        .as_object_mut()
        .unwrap()
        .remove("key_hash")
        .unwrap();
    let mut old = vec![raw[0]];
    old.extend(serde_json::to_vec(&row).unwrap());
    s.store.put(Space::Grants, key, old).await.unwrap();
    // Both sides still list it (the store loads) ...
    let listed = grants(&p.c).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].grant.value.key_hash, [0; 32]);
    assert_eq!(grants(&d.c).await.len(), 1);
    // ... and the doctor's browser refuses it: not what the patient signed.
    assert_eq!(
        open_as_doctor(&d, "gia", &id).await.unwrap_err(),
        GrantOpenError::NotSigned
    );
}
