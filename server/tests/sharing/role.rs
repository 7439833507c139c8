//! An admin changes a non-patient's role (PROTOCOL 15.8, 15.13): refused for
//! non-admins, for oneself, for patients and to "patient", each changing
//! nothing; once done the doctor's certificate is withdrawn, their sessions
//! end and their shares are declined, and at the next sign-in the account
//! signs its directory entry again with the new role, over the same keys.

use shared::{api::account::SessionInfo, api::admin::UserSummary, client};

use super::*;
use crate::common::PASSWORD;

async fn set_role(c: &Client, id: &Id, role: Role) -> Result<UserSummary, common::Failure> {
    c.post(
        "/api/admin/set-role",
        &json!({ "user_id": b64::encode(id), "role": role }),
    )
    .await
}

async fn summary(admin: &Client, name: &str) -> UserSummary {
    let users: Vec<UserSummary> = admin
        .get(&format!("/api/admin/users?prefix={name}"))
        .await
        .unwrap();
    users.into_iter().find(|u| u.username == name).unwrap()
}

async fn renew(
    c: &Client,
    entry: &shared::crypto::sign::Signed<KeyEntry>,
) -> Result<SessionInfo, common::Failure> {
    c.post("/api/account/key-entry", &json!({ "entry": entry }))
        .await
}

async fn ask_access(c: &Client, patient: &str) -> Result<AccessRequestView, common::Failure> {
    c.post(
        "/api/sharing/request/create",
        &json!({ "request": { "patient_username": patient, "reason": "follow-up" } }),
    )
    .await
}

#[tokio::test]
async fn an_admin_makes_a_doctor_an_auditor_who_then_signs_the_new_role() {
    let s = Server::new();
    let p = patient(&s, "rowan").await;
    let d = doctor(&s, "dr.moving").await;
    let admin = s.client();
    let (admin_info, admin_account) = admin
        .signup("admin.one", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    // The admin certifies the doctor, as the admin page does.
    let d_entry = entry(&admin, "dr.moving").await;
    let cert = client::certify_doctor(
        &admin_account.keyring,
        admin_info.user_id,
        &d_entry,
        "GMC 7",
        s.now(),
    );
    let _: UserSummary = admin
        .post("/api/admin/verify-doctor", &json!({ "certificate": cert }))
        .await
        .unwrap();
    assert!(summary(&admin, "dr.moving").await.verified);
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    share(&s, &p, "dr.moving", &notes, None, None)
        .await
        .unwrap();

    // Refused, changing nothing: not an admin (as if the call did not
    // exist), oneself, a patient, to "patient", the same role.
    expect_err(
        set_role(&d.c, &d.id, Role::Auditor).await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        set_role(&p.c, &d.id, Role::Auditor).await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        set_role(&admin, &admin_info.user_id, Role::Auditor).await,
        StatusCode::BAD_REQUEST,
    );
    let e = expect_err(
        set_role(&admin, &p.id, Role::Doctor).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("patient"), "{}", e.message);
    expect_err(
        set_role(&admin, &d.id, Role::Patient).await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(
        set_role(&admin, &d.id, Role::Doctor).await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(
        set_role(&admin, &[9; 16], Role::Auditor).await,
        StatusCode::NOT_FOUND,
    );
    let unchanged = summary(&admin, "dr.moving").await;
    assert_eq!((unchanged.role, unchanged.verified), (Role::Doctor, true));
    assert_eq!(grants(&d.c).await.len(), 1);

    let changed = set_role(&admin, &d.id, Role::Auditor).await.unwrap();
    assert_eq!((changed.role, changed.verified), (Role::Auditor, false));
    // Their session is over and the share is declined: the patient's
    // browser owes the folder new keys.
    expect_err(
        d.c.get::<Vec<GrantView>>("/api/sharing/grants").await,
        StatusCode::UNAUTHORIZED,
    );
    let mine = grants(&p.c).await;
    assert_eq!(mine[0].status, GrantStatus::Declined);
    let owed: serde_json::Value = p.c.get("/api/sharing/rotation/pending").await.unwrap();
    assert_eq!(owed["folders"].as_array().unwrap().len(), 1, "{owed}");
    // Until the account signs again, the directory serves the old entry
    // without a certificate: no browser takes them for a verified doctor.
    let served: DirectoryEntry =
        p.c.post("/api/directory/lookup", &json!({ "username": "dr.moving" }))
            .await
            .unwrap();
    assert_eq!(served.entry.value.role, Role::Doctor);
    assert!(served.certificate.is_none());

    // The next sign-in: the session says auditor, the entry still doctor.
    let (signed_in, keyring) = d.c.sign_in("dr.moving", PASSWORD).await;
    assert_eq!(signed_in.session.role, Role::Auditor);
    let old = signed_in.key_entry.value.clone();
    assert_eq!(old.role, Role::Doctor);
    // Refused: a role the server does not record, other keys, a bad
    // signature, another created_at.
    let wrong_role = client::renewed_key_entry(&keyring, &old, Role::Admin).unwrap();
    expect_err(renew(&d.c, &wrong_role).await, StatusCode::BAD_REQUEST);
    let stranger = Keyring::generate().unwrap();
    let other_keys = client::key_entry(&stranger, d.id, "dr.moving", Role::Auditor, old.created_at);
    expect_err(renew(&d.c, &other_keys).await, StatusCode::BAD_REQUEST);
    let mut forged = client::renewed_key_entry(&keyring, &old, Role::Auditor).unwrap();
    forged.value.created_at += 1;
    expect_err(renew(&d.c, &forged).await, StatusCode::BAD_REQUEST);
    let before: DirectoryEntry =
        p.c.post("/api/directory/lookup", &json!({ "username": "dr.moving" }))
            .await
            .unwrap();
    assert_eq!(before.entry.value.role, Role::Doctor);

    let renewed = client::renewed_key_entry(&keyring, &old, Role::Auditor).unwrap();
    let info = renew(&d.c, &renewed).await.unwrap();
    assert_eq!(info.role, Role::Auditor);
    // Sending it again is fine and changes nothing.
    renew(&d.c, &renewed).await.unwrap();
    let now_served = entry(&p.c, "dr.moving").await;
    assert_eq!(now_served.role, Role::Auditor);
    assert_eq!(now_served.identity_key, old.identity_key);
    assert_eq!(now_served.encryption_key, old.encryption_key);

    // An auditor reads the audit log and no longer anything of a doctor's.
    let _: serde_json::Value = d.c.get("/api/audit/log?from=1&limit=3").await.unwrap();
    assert!(grants(&d.c).await.is_empty());
    expect_err(ask_access(&d.c, "rowan").await, StatusCode::FORBIDDEN);
    let page: serde_json::Value = d.c.get("/api/audit/mine?after=0&limit=100").await.unwrap();
    let kinds: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"role_changed"), "{kinds:?}");
    assert!(kinds.contains(&"key_entry_renewed"), "{kinds:?}");
}

/// An auditor made a doctor is a doctor on the server at once, but only an
/// admin's new certificate over the renewed entry makes them a verified one.
#[tokio::test]
async fn an_auditor_made_a_doctor_needs_a_new_certificate() {
    let s = Server::new();
    let admin = s.client();
    let (admin_info, admin_account) = admin
        .signup("admin.two", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    let a = s.client();
    let (a_info, _) = a
        .signup("audit.ann", Some(s.cli_invite(Role::Auditor)), s.now())
        .await
        .unwrap();
    expect_err(ask_access(&a, "nobody").await, StatusCode::FORBIDDEN);
    set_role(&admin, &a_info.user_id, Role::Doctor)
        .await
        .unwrap();
    // Browsers take a certificate only beside an entry that says doctor, so
    // the admin certifies once the account signed its new role.
    let (signed_in, keyring) = a.sign_in("audit.ann", PASSWORD).await;
    assert_eq!(signed_in.session.role, Role::Doctor);
    let renewed =
        client::renewed_key_entry(&keyring, &signed_in.key_entry.value, Role::Doctor).unwrap();
    renew(&a, &renewed).await.unwrap();
    let now_doctor = entry(&admin, "audit.ann").await;
    assert_eq!(now_doctor.role, Role::Doctor);
    let cert = client::certify_doctor(
        &admin_account.keyring,
        admin_info.user_id,
        &now_doctor,
        "GMC 8",
        s.now(),
    );
    let verified: UserSummary = admin
        .post("/api/admin/verify-doctor", &json!({ "certificate": cert }))
        .await
        .unwrap();
    assert!(verified.verified);
    // A doctor's calls are theirs now (no such patient, but asked).
    expect_err(ask_access(&a, "nobody").await, StatusCode::NOT_FOUND);
}
