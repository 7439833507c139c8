//! The directory's trust anchor against a lying server: a doctor counts as
//! verified only through an admin certified by the installation's org key. Each
//! attack takes a genuine directory answer from the real server, alters it as a
//! malicious server would (or stores what the server cannot refuse), and hands
//! it to the browser's own check (`shared::client::verify_directory_entry`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{
    anchor::{certify_admin, fingerprint, org_key},
    Client, Server,
};
use serde_json::json;
use shared::{
    api::{admin::Invite, admin::UserSummary, directory::DirectoryEntry},
    client::{self, key_entry, DirectoryError, NewAccount},
    crypto::{keyring::Keyring, sign::SigningKey},
    model::{AdminCertificate, Role},
};

type Signed<T> = shared::crypto::sign::Signed<T>;

struct World {
    s: Server,
    admin: Client,
    admin_account: NewAccount,
    patient: Client,
    org: SigningKey,
}

/// An admin certified by `org` (unless `certify` is false) who verified dr.who,
/// and a patient.
async fn world(certify: bool) -> World {
    let s = Server::new();
    let admin = s.client();
    let (admin_info, admin_account) = admin
        .signup("root.admin", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    let org = org_key();
    if certify {
        certify_admin(&admin, &admin_account, &org, s.now()).await;
    }
    let invite: Invite = admin
        .post("/api/admin/invites", &json!({"role": "doctor"}))
        .await
        .unwrap();
    s.client()
        .signup("dr.who", Some(invite.code), s.now())
        .await
        .unwrap();
    let served = lookup(&admin, "dr.who").await;
    let doctor = client::verify_directory_entry("dr.who", &served, None).unwrap();
    let cert = client::certify_doctor(
        &admin_account.keyring,
        admin_info.user_id,
        &doctor.entry,
        "GMC-1234567",
        s.now(),
    );
    let _: UserSummary = admin
        .post("/api/admin/verify-doctor", &json!({"certificate": cert}))
        .await
        .unwrap();
    let patient = s.client();
    patient.signup("patient.pat", None, s.now()).await.unwrap();
    World {
        s,
        admin,
        admin_account,
        patient,
        org,
    }
}

async fn lookup(c: &Client, name: &str) -> DirectoryEntry {
    c.post("/api/directory/lookup", &json!({ "username": name }))
        .await
        .unwrap()
}

#[tokio::test]
async fn doctor_verified_through_a_certified_admin() {
    let w = world(true).await;
    let served = lookup(&w.patient, "dr.who").await;
    let checked =
        client::verify_directory_entry("dr.who", &served, Some(&fingerprint(&w.org))).unwrap();
    assert_eq!(
        checked.verified_doctor,
        Some(("GMC-1234567".to_owned(), "root.admin".to_owned()))
    );
    // An app built without a fingerprint verifies no one.
    let unset = client::verify_directory_entry("dr.who", &served, None).unwrap();
    assert_eq!(unset.verified_doctor, None);
}

#[tokio::test]
async fn fail_admin_never_certified_by_the_installation() {
    // The store holds an admin the operator never certified (one the server
    // could have made itself): their doctors are refused, not "verified".
    let w = world(false).await;
    let served = lookup(&w.patient, "dr.who").await;
    assert!(served.certifier_certificate.is_none());
    assert_eq!(
        client::verify_directory_entry("dr.who", &served, Some(&fingerprint(&w.org))),
        Err(DirectoryError::NotThisInstallation)
    );
}

#[tokio::test]
async fn fail_server_minted_admin_certifies_substituted_doctor_keys() {
    // The server answers with keys it made for dr.who, certified by a
    // self-signed "admin" of its own, and drops the org certificate.
    let w = world(true).await;
    let mut served = lookup(&w.patient, "dr.who").await;
    let fake_admin = Keyring::generate().unwrap();
    let fake_doctor = Keyring::generate().unwrap();
    let doctor_id = served.entry.value.user_id;
    let admin_entry = key_entry(&fake_admin, [9; 16], "root.admin", Role::Admin, w.s.now());
    served.entry = key_entry(&fake_doctor, doctor_id, "dr.who", Role::Doctor, w.s.now());
    served.certificate = Some(client::certify_doctor(
        &fake_admin,
        [9; 16],
        &served.entry.value,
        "GMC-1234567",
        w.s.now(),
    ));
    served.certifier = Some(admin_entry.clone());
    served.certifier_certificate = None;
    let org = fingerprint(&w.org);
    assert_eq!(
        client::verify_directory_entry("dr.who", &served, Some(&org)),
        Err(DirectoryError::NotThisInstallation)
    );
    // Keeping the genuine admin's org certificate does not help: it covers
    // other keys than the ones that signed.
    served.certifier_certificate = lookup(&w.patient, "dr.who").await.certifier_certificate;
    assert!(served.certifier_certificate.is_some());
    assert_eq!(
        client::verify_directory_entry("dr.who", &served, Some(&org)),
        Err(DirectoryError::NotThisInstallation)
    );
    // Nor does a certificate by an org key the server made.
    let server_org = org_key();
    served.certifier_certificate = Some(client::certify_admin(
        &server_org,
        &admin_entry.value,
        w.s.now(),
    ));
    assert_eq!(
        client::verify_directory_entry("dr.who", &served, Some(&org)),
        Err(DirectoryError::NotThisInstallation)
    );
}

#[tokio::test]
async fn fail_admin_certificate_by_another_org_key_is_stored_but_refused() {
    // The server has no anchor, so it stores a certificate by any org key;
    // the browsers built with the installation's fingerprint refuse it.
    let w = world(false).await;
    let other = org_key();
    certify_admin(&w.admin, &w.admin_account, &other, w.s.now()).await;
    let served = lookup(&w.patient, "dr.who").await;
    assert!(served.certifier_certificate.is_some());
    assert_eq!(
        client::verify_directory_entry("dr.who", &served, Some(&fingerprint(&w.org))),
        Err(DirectoryError::NotThisInstallation)
    );
}

#[tokio::test]
async fn fail_storing_an_org_certificate_that_does_not_fit() {
    let w = world(false).await;
    let mine = || async {
        w.admin
            .get::<Option<Signed<AdminCertificate>>>("/api/admin/org-certificate/mine")
            .await
            .unwrap()
    };
    let entry = &w.admin_account.request.key_entry.value;
    // Over other keys than the caller's.
    let mut other_keys = entry.clone();
    other_keys.identity_key = Keyring::generate().unwrap().public_keys().identity;
    let wrong = client::certify_admin(&w.org, &other_keys, w.s.now());
    // A changed field under the org key's signature.
    let mut forged = client::certify_admin(&w.org, entry, w.s.now());
    forged.value.issued_at += 1;
    for bad in [wrong, forged] {
        let (status, error) = w
            .admin
            .post::<_, ()>("/api/admin/org-certificate", &json!({ "certificate": bad }))
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error:?}");
        assert!(!error.message.is_empty());
    }
    // Not JSON of a certificate at all.
    let (status, _) = w
        .admin
        .post_raw("/api/admin/org-certificate", "{\"certificate\": 7}")
        .await;
    assert!(status.is_client_error(), "{status}");
    // Nothing was stored.
    assert_eq!(mine().await, None);
    // Not an admin: as if the call did not exist.
    let good = client::certify_admin(&w.org, entry, w.s.now());
    let (status, _) = w
        .patient
        .post::<_, ()>(
            "/api/admin/org-certificate",
            &json!({ "certificate": good }),
        )
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w
        .patient
        .get::<Option<Signed<AdminCertificate>>>("/api/admin/org-certificate/mine")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(mine().await, None);
    // The right one is stored and served back.
    let _: () = w
        .admin
        .post(
            "/api/admin/org-certificate",
            &json!({ "certificate": good }),
        )
        .await
        .unwrap();
    assert_eq!(mine().await, Some(good));
}
