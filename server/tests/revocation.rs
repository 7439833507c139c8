//! Taking secrets back: an admin lists and revokes open invites (review L14),
//! and a user replaces their recovery code so the old one stops working (L13).
//! Driven by the browser's own protocol steps (`shared::client`).
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{Server, PASSWORD};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::{
    api::{
        account::{
            InviteDetails, Recovered, RecoveryCodeStarted, RecoveryFinishRequest,
            RecoveryStartRequest, RecoveryStarted, SessionInfo, SignupStarted,
        },
        admin::{Invite, OpenInvite},
        audit::EventsPage,
        ApiError,
    },
    audit::EventKind,
    client::{Recovery, RecoveryCodeReplace, Signup},
    crypto::{b64, keyring::Keyring, opaque, recovery::RecoverySecret},
    model::{Id, Role},
};

fn expect_err<T>(r: Result<T, common::Failure>, status: StatusCode) -> ApiError {
    let Err((got, e)) = r else {
        panic!("expected {status}, got a success");
    };
    assert_eq!(got, status, "{e:?}");
    e
}

/// An admin made from the command-line invite, signed in on the returned client.
async fn admin(s: &Server) -> (common::Client, SessionInfo) {
    let c = s.client();
    let invite = s.cli_invite(Role::Admin);
    let (info, _) = c.signup("root.admin", Some(invite), s.now()).await.unwrap();
    (c, info)
}

async fn invite(c: &common::Client, role: Role) -> Invite {
    c.post("/api/admin/invites", &json!({ "role": role }))
        .await
        .unwrap()
}

async fn open_invites(c: &common::Client) -> Vec<OpenInvite> {
    c.get("/api/admin/invites/list").await.unwrap()
}

async fn revoke(c: &common::Client, id: &Id) -> Result<(), common::Failure> {
    c.post(
        "/api/admin/invites/revoke",
        &json!({ "id": b64::encode(id) }),
    )
    .await
}

/// The invite's handle as the server derives it: the first half of the code's hash.
fn handle(code: &str) -> Id {
    let hash = Sha256::digest(b64::decode(code).unwrap());
    hash[..16].try_into().unwrap()
}

async fn system_events(c: &common::Client) -> Vec<shared::audit::AuditEvent> {
    let page: EventsPage = c.get("/api/audit/system?after=0&limit=1000").await.unwrap();
    page.events
}

// ------------------------------------------------------------------ invites

#[tokio::test]
async fn admin_lists_an_invite_revokes_it_and_sign_up_with_it_fails() {
    let s = Server::new();
    let (a, me) = admin(&s).await;
    assert!(open_invites(&a).await.is_empty());

    let made = invite(&a, Role::Doctor).await;
    let raw = a.get_bytes("/api/admin/invites/list").await.2;
    assert!(
        !String::from_utf8_lossy(&raw).contains(&made.code),
        "the list must not hold the code"
    );
    let listed = open_invites(&a).await;
    assert_eq!(listed.len(), 1);
    let open = &listed[0];
    assert_eq!(open.id, handle(&made.code));
    assert_eq!(open.role, Role::Doctor);
    assert_eq!(open.created_at, s.now());
    assert_eq!(open.expires_at, made.expires_at);
    assert_eq!(open.created_by, me.user_id);
    assert_eq!(open.created_by_username.as_deref(), Some("root.admin"));

    // A sign-up begun before the revocation cannot finish after it.
    let early = s.client();
    let (signup, start) = Signup::start("dr.early", PASSWORD, Some(made.code.clone())).unwrap();
    let started: SignupStarted = early
        .post("/api/account/signup/start", &json!({ "request": start }))
        .await
        .unwrap();
    let pending = signup.finish(&started, s.now()).unwrap();

    revoke(&a, &open.id).await.unwrap();
    assert!(open_invites(&a).await.is_empty());

    let e = expect_err(
        s.client()
            .post::<_, InviteDetails>("/api/account/invite-info", &json!({ "code": made.code }))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e.message.contains("revoked or has expired"),
        "{}",
        e.message
    );
    let e = expect_err(
        s.client()
            .signup("dr.late", Some(made.code.clone()), s.now())
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e.message.contains("revoked or has expired"),
        "{}",
        e.message
    );
    let e = expect_err(
        early
            .post::<_, SessionInfo>(
                "/api/account/signup/finish",
                &json!({ "request": pending.request }),
            )
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e.message.contains("revoked or has expired"),
        "{}",
        e.message
    );
    // No account was made for either: KE2 opens with no password (a fake
    // record), so the client stops there, as the app does.
    for name in ["dr.early", "dr.late"] {
        assert!(matches!(
            s.client().login(name, PASSWORD).await,
            Err(common::LoginFailed::InClient)
        ));
    }

    // Revoking again, an unknown id and a malformed id are refused.
    let e = expect_err(revoke(&a, &open.id).await, StatusCode::CONFLICT);
    assert!(e.message.contains("already revoked"));
    expect_err(revoke(&a, &[9u8; 16]).await, StatusCode::NOT_FOUND);
    expect_err(
        a.post::<_, ()>("/api/admin/invites/revoke", &json!({ "id": "not an id" }))
            .await,
        StatusCode::BAD_REQUEST,
    );

    // One event for the revocation, naming the admin and the invite.
    let revoked: Vec<_> = system_events(&a)
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::InviteRevoked)
        .collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].actor, Some(me.user_id));
    assert_eq!(revoked[0].item, Some(open.id));
}

#[tokio::test]
async fn used_and_expired_invites_are_not_listed_and_a_used_one_cannot_be_revoked() {
    let s = Server::new();
    let (a, _) = admin(&s).await;
    let used = invite(&a, Role::Patient).await;
    let kept = invite(&a, Role::Auditor).await;
    s.client()
        .signup("pat", Some(used.code.clone()), s.now())
        .await
        .unwrap();
    let listed = open_invites(&a).await;
    assert_eq!(
        listed.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![handle(&kept.code)]
    );
    let e = expect_err(revoke(&a, &handle(&used.code)).await, StatusCode::CONFLICT);
    assert!(e.message.contains("already used"));
    // The used invite still says so (not "revoked").
    let e = expect_err(
        s.client().signup("pat2", Some(used.code), s.now()).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already used"));

    s.advance(7 * 24 * 3600);
    a.sign_in("root.admin", PASSWORD).await;
    assert!(open_invites(&a).await.is_empty());
}

#[tokio::test]
async fn fail_invite_list_and_revoke_for_anyone_but_an_admin() {
    let s = Server::new();
    let (a, _) = admin(&s).await;
    let made = invite(&a, Role::Doctor).await;
    let id = handle(&made.code);
    let patient = s.client();
    patient
        .signup("plain.patient", None, s.now())
        .await
        .unwrap();
    let doctor = s.client();
    doctor
        .signup("dr.who", Some(invite(&a, Role::Doctor).await.code), s.now())
        .await
        .unwrap();
    let anonymous = s.client();
    for c in [&patient, &doctor, &anonymous] {
        let e = expect_err(
            c.get::<Vec<OpenInvite>>("/api/admin/invites/list").await,
            StatusCode::NOT_FOUND,
        );
        assert_eq!(e.code, shared::api::ErrorCode::NotFound);
        expect_err(revoke(c, &id).await, StatusCode::NOT_FOUND);
    }
    // Nothing changed: the invite is open and works.
    assert_eq!(open_invites(&a).await.len(), 1);
    s.client()
        .signup("dr.two", Some(made.code), s.now())
        .await
        .unwrap();
}

// ------------------------------------------------------------------ recovery code

/// Runs the replacement with `password`; returns the new secret.
async fn replace_code(
    c: &common::Client,
    password: &str,
    keyring: &Keyring,
    user_id: &Id,
) -> Result<RecoverySecret, common::Failure> {
    let (replace, start) = RecoveryCodeReplace::start(password).unwrap();
    let started: RecoveryCodeStarted = c
        .post(
            "/api/account/recovery-code/start",
            &json!({ "request": start }),
        )
        .await?;
    let new = replace.finish(&started, keyring, user_id).unwrap();
    let () = c
        .post(
            "/api/account/recovery-code/finish",
            &json!({ "request": new.request }),
        )
        .await?;
    Ok(new.recovery)
}

const NEW_PASSWORD: &str = "a brand new passphrase here";

/// A recovery with `code` to [`NEW_PASSWORD`], as a client that sends its
/// proof whatever happens: the browser cannot open the recovery keyring with a
/// stale code, but a hostile client proves with it anyway, and that is what
/// the server must judge.
async fn recover(s: &Server, username: &str, code: &str) -> Result<Recovered, common::Failure> {
    let c = s.client();
    let (registration, registration_request) =
        opaque::client_registration_start(NEW_PASSWORD.as_bytes()).unwrap();
    let started: RecoveryStarted = c
        .post(
            "/api/account/recovery/start",
            &json!({ "request": RecoveryStartRequest {
                username: username.to_owned(),
                registration_request,
            } }),
        )
        .await?;
    let secret = RecoverySecret::from_code(code).unwrap();
    let registered = registration
        .finish(NEW_PASSWORD.as_bytes(), &started.registration_response)
        .unwrap();
    let sealed_keyring =
        match Keyring::open_with_recovery(&secret, &started.user_id, &started.recovery_keyring) {
            Ok(keyring) => keyring
                .seal_with_password(registered.export_key.as_bytes(), &started.user_id)
                .unwrap(),
            Err(_) => vec![0u8; shared::crypto::keyring::SEALED_LEN],
        };
    let finish = RecoveryFinishRequest {
        recovery_id: started.recovery_id,
        proof: secret.prove(&started.user_id, &started.challenge).unwrap(),
        registration_upload: registered.upload,
        sealed_keyring,
    };
    c.post(
        "/api/account/recovery/finish",
        &json!({ "request": finish }),
    )
    .await
}

#[tokio::test]
async fn a_new_recovery_code_works_and_the_old_one_no_longer_does() {
    let s = Server::new();
    let c = s.client();
    let (info, account) = c.signup("rosa", None, s.now()).await.unwrap();
    let old = account.recovery.to_code().to_string();

    let new = replace_code(&c, PASSWORD, &account.keyring, &info.user_id)
        .await
        .unwrap();
    let new = new.to_code().to_string();
    assert_ne!(new, old);
    // The session stays.
    assert!(c.session().await.is_some());

    // The old code no longer opens the recovery keyring in the browser ...
    let probe = s.client();
    let (recovery, start) = Recovery::start("rosa", NEW_PASSWORD).unwrap();
    let started: RecoveryStarted = probe
        .post("/api/account/recovery/start", &json!({ "request": start }))
        .await
        .unwrap();
    assert!(recovery.finish(&started, &old).is_err());
    // ... and a proof made with it is refused by the server.
    let e = expect_err(recover(&s, "rosa", &old).await, StatusCode::UNAUTHORIZED);
    assert!(e.message.contains("recovery code is not right"));

    // The new one works and opens the same keys.
    let recovered = recover(&s, "rosa", &new).await.unwrap();
    assert_eq!(recovered.session.user_id, info.user_id);
    let (_, keyring) = s.client().sign_in("rosa", NEW_PASSWORD).await;
    assert_eq!(
        keyring.public_keys().identity,
        account.keyring.public_keys().identity
    );

    let me = s.client();
    me.sign_in("rosa", NEW_PASSWORD).await;
    let page: EventsPage = me.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let replaced: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.kind == EventKind::RecoveryCodeReplaced)
        .collect();
    assert_eq!(replaced.len(), 1);
    assert_eq!(replaced[0].actor, Some(info.user_id));
    assert_eq!(replaced[0].subject, Some(info.user_id));
}

#[tokio::test]
async fn fail_replacing_the_recovery_code_without_session_proof_or_the_right_session() {
    let s = Server::new();
    let c = s.client();
    let (info, account) = c.signup("sara", None, s.now()).await.unwrap();
    let old = account.recovery.to_code().to_string();

    // No session.
    let anonymous = s.client();
    let (_, start) = RecoveryCodeReplace::start(PASSWORD).unwrap();
    expect_err(
        anonymous
            .post::<_, RecoveryCodeStarted>(
                "/api/account/recovery-code/start",
                &json!({ "request": start }),
            )
            .await,
        StatusCode::UNAUTHORIZED,
    );

    // A wrong password: the browser stops by itself; a hostile client sends a
    // made-up KE3 with a verifier and keyring of its own.
    let (replace, start) = RecoveryCodeReplace::start("not the password at all").unwrap();
    let started: RecoveryCodeStarted = c
        .post(
            "/api/account/recovery-code/start",
            &json!({ "request": start }),
        )
        .await
        .unwrap();
    assert!(replace
        .finish(&started, &account.keyring, &info.user_id)
        .is_err());
    let attacker = RecoverySecret::generate().unwrap();
    let forged = json!({ "request": {
        "replace_id": b64::encode(&started.replace_id),
        "ke3": b64::encode(&[7u8; 64]),
        "recovery_keyring": b64::encode(&account.keyring.seal_with_recovery(&attacker, &info.user_id).unwrap()),
        "recovery_verifier": attacker.verifier(&info.user_id).unwrap(),
    }});
    let (status, body) = c
        .post_raw("/api/account/recovery-code/finish", forged.to_string())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let e: ApiError = serde_json::from_slice(&body).unwrap();
    assert!(e.message.contains("password is not right"));
    // Replayed: the pending state is gone.
    let (status, _) = c
        .post_raw("/api/account/recovery-code/finish", forged.to_string())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Started by one session, finished by another of the same account.
    let other = s.client();
    other.sign_in("sara", PASSWORD).await;
    let (replace, start) = RecoveryCodeReplace::start(PASSWORD).unwrap();
    let started: RecoveryCodeStarted = c
        .post(
            "/api/account/recovery-code/start",
            &json!({ "request": start }),
        )
        .await
        .unwrap();
    let new = replace
        .finish(&started, &account.keyring, &info.user_id)
        .unwrap();
    expect_err(
        other
            .post::<_, ()>(
                "/api/account/recovery-code/finish",
                &json!({ "request": new.request }),
            )
            .await,
        StatusCode::BAD_REQUEST,
    );
    // A keyring of the wrong length.
    let (replace, start) = RecoveryCodeReplace::start(PASSWORD).unwrap();
    let started: RecoveryCodeStarted = c
        .post(
            "/api/account/recovery-code/start",
            &json!({ "request": start }),
        )
        .await
        .unwrap();
    let mut new = replace
        .finish(&started, &account.keyring, &info.user_id)
        .unwrap();
    new.request.recovery_keyring.pop();
    expect_err(
        c.post::<_, ()>(
            "/api/account/recovery-code/finish",
            &json!({ "request": new.request }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );

    // Nothing was replaced: the attacker's code is refused, the old one works.
    let e = expect_err(
        recover(&s, "sara", &attacker.to_code()).await,
        StatusCode::UNAUTHORIZED,
    );
    assert!(e.message.contains("recovery code is not right"));
    recover(&s, "sara", &old).await.unwrap();

    let me = s.client();
    me.sign_in("sara", NEW_PASSWORD).await;
    let page: EventsPage = me.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let kinds: Vec<_> = page.events.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::RecoveryCodeReplaceFailed));
    assert!(!kinds.contains(&EventKind::RecoveryCodeReplaced));
}
