//! Grants made before grants signed `key_hash`: the patient's browser signs
//! each of its own again over a freshly wrapped key (`sharing/grant/renew`),
//! and the server swaps it in only for a grant that is provably the
//! patient's old signature, differing in nothing but `key_hash`.

use server::store::{keys::Key, Space};
use shared::{
    crypto::{aead::Key256, hpke},
    model::Grant,
    sharing::{is_legacy_only, reissue_legacy, verify_legacy, wrapped_key_hash, GrantOpenError},
};

use super::*;

/// The grant's stored row, raw.
async fn raw_row(s: &Server, id: &Id) -> Vec<u8> {
    let key = Key::new().u8(1).fixed(id).finish();
    s.store.get(Space::Grants, &key).await.unwrap().unwrap()
}

/// Rewrites a stored grant as the release before `key_hash` stored it: no
/// `key_hash` field, and the patient's signature over the old encoding.
async fn make_legacy(s: &Server, p: &Patient, id: &Id) {
    let key = Key::new().u8(1).fixed(id).finish();
    let raw = raw_row(s, id).await;
    let mut row: serde_json::Value = serde_json::from_slice(&raw[1..]).unwrap();
    let mut value: Grant = serde_json::from_value(row["grant"]["value"].clone()).unwrap();
    value.key_hash = [0; 32];
    let signature = p
        .keyring
        .identity()
        .sign_bytes(&value.legacy_signed_bytes());
    row["grant"]["signature"] = serde_json::to_value(signature).unwrap();
    row["grant"]["value"]
        .as_object_mut()
        .unwrap()
        .remove("key_hash")
        .unwrap();
    let mut old = vec![raw[0]];
    old.extend(serde_json::to_vec(&row).unwrap());
    s.store.put(Space::Grants, key, old).await.unwrap();
}

/// A patient with a record, a doctor, and the Lab results folder shared
/// with the doctor before `key_hash` existed.
async fn legacy_share(s: &Server) -> (Patient, Doctor, OpenNode, Id) {
    let p = patient(s, "lee").await;
    let d = doctor(s, "dr.old").await;
    p.create_record(s.now()).await;
    let labs = find(&p.tree().await, "Lab results").clone();
    p.upload_new(&labs, "labs.txt", b"ferritin 40", s.now())
        .await;
    let grant = share(s, &p, "dr.old", &labs, None, None).await.unwrap();
    let id = grant.grant.value.grant_id;
    make_legacy(s, &p, &id).await;
    (p, d, labs, id)
}

async fn open_as_doctor(d: &Doctor, id: &Id) -> Result<Key256, GrantOpenError> {
    let shared: SharedScope = scope(d, id).await.unwrap();
    let patient = entry(&d.c, "lee").await;
    open_grant(&shared.grant, &patient, &d.id, d.keyring.encryption()).map(|o| o.node_key)
}

async fn renew(
    c: &Client,
    grant: &sign::Signed<Grant>,
    wrapped: &[u8],
) -> Result<GrantView, common::Failure> {
    c.post(
        "/api/sharing/grant/renew",
        &json!({ "request": { "grant": grant, "wrapped_key": b64::encode(wrapped) } }),
    )
    .await
}

/// What the patient's browser does: its own grant, legacy-signed only, signed
/// again over its folder's key from the patient's own record.
async fn reissued(p: &Patient, labs: &OpenNode, id: &Id) -> (sign::Signed<Grant>, Vec<u8>) {
    let listed = grants(&p.c).await;
    let view = mine(&listed, id);
    let me = entry(&p.c, &p.name).await;
    assert!(is_legacy_only(&view.grant, &me.identity_key));
    reissue_legacy(&view.grant.value, &labs.key, p.keyring.identity()).unwrap()
}

#[tokio::test]
async fn a_renewed_legacy_share_opens_for_its_doctor() {
    let s = Server::new();
    let (p, d, labs, id) = legacy_share(&s).await;
    // Before: the doctor's browser refuses the old signature, and says the
    // patient has to confirm it.
    let refused = open_as_doctor(&d, &id).await.unwrap_err();
    assert_eq!(refused, GrantOpenError::NotRenewed);
    assert!(refused
        .sentence()
        .contains("Ask the patient to open the Sharing page"));
    let (grant, wrapped) = reissued(&p, &labs, &id).await;
    let view = renew(&p.c, &grant, &wrapped).await.unwrap();
    assert_eq!(view.grant, grant);
    assert_eq!(view.status, GrantStatus::Active);
    // The patient's list now holds the grant signed under the current
    // encoding, and the doctor opens the folder with the patient's key.
    let me = entry(&p.c, "lee").await;
    let listed = grants(&p.c).await;
    let now_signed = mine(&listed, &id);
    assert!(now_signed.grant.verify(&me.identity_key).is_ok());
    assert!(!is_legacy_only(&now_signed.grant, &me.identity_key));
    assert_eq!(now_signed.wrapped_key, wrapped);
    let key = open_as_doctor(&d, &id).await.unwrap();
    assert_eq!(key.as_bytes(), labs.key.as_bytes());
    let tree = open_scope(&d, "lee", &id).await;
    find(&tree, "labs.txt");
    assert!(p.history().await.contains(&EventKind::GrantRenewed));
    // Once renewed it is no longer legacy: a second renewal is refused.
    let e = expect_err(renew(&p.c, &grant, &wrapped).await, StatusCode::CONFLICT);
    assert!(
        e.message.contains("not one you signed before"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn renewals_that_change_anything_else_are_refused_and_change_nothing() {
    let s = Server::new();
    let (p, d, labs, id) = legacy_share(&s).await;
    let (grant, wrapped) = reissued(&p, &labs, &id).await;
    let before_row = raw_row(&s, &id).await;
    let before_tree = snapshot(&p).await;
    let check = |e: shared::api::ApiError, why: &str| {
        assert!(e.message.contains(why), "{} / {why}", e.message);
    };

    // The doctor, or another patient, cannot renew it: not theirs.
    let e = expect_err(renew(&d.c, &grant, &wrapped).await, StatusCode::FORBIDDEN);
    check(e, "Only the patient");
    let other = patient(&s, "mallory").await;
    let e = expect_err(
        renew(&other.c, &grant, &wrapped).await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(e.code, ErrorCode::NotFound);
    // Another patient signing it with their own key changes nothing either.
    let theirs = sign::sign(other.keyring.identity(), grant.value.clone());
    expect_err(
        renew(&other.c, &theirs, &wrapped).await,
        StatusCode::NOT_FOUND,
    );
    // Signed by someone else but sent by the patient.
    let e = expect_err(
        renew(&p.c, &theirs, &wrapped).await,
        StatusCode::BAD_REQUEST,
    );
    check(e, "not signed with your key");

    // A changed field, signed by the patient: wider permission, no end
    // date changes, other doctor key, other folder.
    for edit in [
        (|g: &mut Grant| g.permission = Permission::ReadWrite) as fn(&mut Grant),
        |g| g.expires_at = Some(i64::MAX),
        |g| g.created_at += 1,
        |g| g.doctor_key[0] ^= 1,
        |g| g.node_id[0] ^= 1,
        |g| g.doctor_id[0] ^= 1,
    ] {
        let mut value = grant.value.clone();
        edit(&mut value);
        let changed = sign::sign(p.keyring.identity(), value);
        let e = expect_err(
            renew(&p.c, &changed, &wrapped).await,
            StatusCode::BAD_REQUEST,
        );
        check(e, "more than its key hash");
    }
    // Another grant id is no grant of theirs.
    let mut value = grant.value.clone();
    value.grant_id[0] ^= 1;
    let other_id = sign::sign(p.keyring.identity(), value);
    expect_err(
        renew(&p.c, &other_id, &wrapped).await,
        StatusCode::NOT_FOUND,
    );
    // A wrong hash: another wrap of the same key, or a key of the wrong size.
    let doctor_key = hpke::EncryptionPublicKey::from_bytes(grant.value.doctor_key).unwrap();
    let other_wrap = hpke::wrap_node_key(&doctor_key, &d.id, labs.id(), &labs.key).unwrap();
    let e = expect_err(
        renew(&p.c, &grant, &other_wrap).await,
        StatusCode::BAD_REQUEST,
    );
    check(e, "key hash");
    let mut short = wrapped.clone();
    short.pop();
    let e = expect_err(renew(&p.c, &grant, &short).await, StatusCode::BAD_REQUEST);
    check(e, "bytes");
    // The hash made to match a server-chosen key breaks nothing open: the
    // patient never signed that hash; the signature check refuses it.
    let mut forged = grant.clone();
    forged.value.key_hash = wrapped_key_hash(&other_wrap);
    let e = expect_err(
        renew(&p.c, &forged, &other_wrap).await,
        StatusCode::BAD_REQUEST,
    );
    check(e, "not signed with your key");

    // Nothing changed: the row, the record, no event; the doctor is still
    // refused (the old signature), and the honest renewal still goes through.
    assert_eq!(raw_row(&s, &id).await, before_row);
    assert_eq!(snapshot(&p).await, before_tree);
    assert!(!p.history().await.contains(&EventKind::GrantRenewed));
    assert_eq!(
        open_as_doctor(&d, &id).await.unwrap_err(),
        GrantOpenError::NotRenewed
    );
    renew(&p.c, &grant, &wrapped).await.unwrap();
    assert!(open_as_doctor(&d, &id).await.is_ok());
}

#[tokio::test]
async fn only_a_live_grant_the_patient_signed_before_key_hash_is_renewed() {
    let s = Server::new();
    let p = patient(&s, "lee").await;
    let d = doctor(&s, "dr.old").await;
    p.create_record(s.now()).await;
    let labs = find(&p.tree().await, "Lab results").clone();
    let current = share(&s, &p, "dr.old", &labs, None, None).await.unwrap();
    let id = current.grant.value.grant_id;
    let me = entry(&p.c, "lee").await;

    // A grant that was never legacy-signed (signed with key_hash already).
    let (again, wrapped) =
        reissue_legacy(&current.grant.value, &labs.key, p.keyring.identity()).unwrap();
    let before = raw_row(&s, &id).await;
    let e = expect_err(renew(&p.c, &again, &wrapped).await, StatusCode::CONFLICT);
    assert!(
        e.message.contains("not one you signed before"),
        "{}",
        e.message
    );
    // A row that verifies under neither encoding (the server's own): the
    // value without key_hash but the signature left as it was.
    edit_grant(&s, &id, |g| g.grant.value.key_hash = [0; 32]).await;
    let listed = grants(&p.c).await;
    let neither = &mine(&listed, &id).grant;
    assert!(neither.verify(&me.identity_key).is_err());
    assert!(verify_legacy(neither, &me.identity_key).is_err());
    let tampered = raw_row(&s, &id).await;
    let e = expect_err(renew(&p.c, &again, &wrapped).await, StatusCode::CONFLICT);
    assert!(
        e.message.contains("not one you signed before"),
        "{}",
        e.message
    );
    assert_eq!(raw_row(&s, &id).await, tampered);
    edit_grant(&s, &id, |g| g.grant = current.grant.clone()).await;
    assert_eq!(raw_row(&s, &id).await, before);

    // A legacy grant the patient removed stays removed: no key comes back.
    make_legacy(&s, &p, &id).await;
    let (grant, wrapped) = reissued(&p, &labs, &id).await;
    p.c.post::<_, GrantView>(
        "/api/sharing/grant/revoke",
        &json!({"request": {"grant_id": b64::encode(&id)}}),
    )
    .await
    .unwrap();
    let ended = raw_row(&s, &id).await;
    let e = expect_err(renew(&p.c, &grant, &wrapped).await, StatusCode::CONFLICT);
    assert!(e.message.contains("already ended"), "{}", e.message);
    assert_eq!(raw_row(&s, &id).await, ended);
    assert!(!p.history().await.contains(&EventKind::GrantRenewed));
    assert!(grants(&d.c).await.iter().all(|g| g.wrapped_key.is_empty()));
}
