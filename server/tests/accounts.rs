//! Accounts end to end in-process: sign-up, sign-in, sessions, second factor,
//! password change, recovery, throttling, and every refusal, driven by the
//! browser's own protocol steps (`shared::client`).
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{LoginFailed, Server, PASSWORD, T0};
use serde_json::json;
use shared::{
    api::{
        account::{LoginOutcome, SessionInfo, SessionSummary, SessionsEnded, SignupSettings},
        directory::{UserName, MAX_NAMES},
        ErrorCode,
    },
    crypto::b64,
    model::Role,
};

#[tokio::test]
async fn patient_signs_up_signs_out_and_signs_in() {
    let s = Server::new();
    let c = s.client();
    let policy: SignupSettings = c.get("/api/account/signup-policy").await.unwrap();
    assert!(policy.open_signup);
    assert_eq!(c.session().await, None);

    let (info, account) = c.signup("Ann.Patient", None, s.now()).await.unwrap();
    assert_eq!(info.username, "ann.patient");
    assert_eq!(info.role, Role::Patient);
    assert!(!info.totp_enabled);
    assert_eq!(info.expires_at, T0 + 12 * 3600);
    assert_eq!(info.idle_timeout_secs, 30 * 60);
    let cookie = c.set_cookies.lock().unwrap().last().cloned().unwrap();
    assert!(cookie.starts_with("medvault_session="), "{cookie}");
    assert!(
        cookie.contains("; HttpOnly; SameSite=Strict; Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "no Secure without TLS");
    let token = c.token().unwrap();
    assert_eq!(shared::crypto::b64::decode(&token).unwrap().len(), 32);
    assert_eq!(c.session().await.unwrap(), info);

    let () = c.post("/api/account/logout", &json!({})).await.unwrap();
    assert!(c
        .set_cookies
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(c.token(), None);
    // The old token is dead even if presented again.
    *c.cookie.lock().unwrap() = Some(token);
    assert_eq!(c.session().await, None);
    assert_eq!(c.token(), None, "a dead cookie is cleared");

    let (signed_in, keyring) = c.sign_in("ann.patient", PASSWORD).await;
    assert_eq!(signed_in.session.user_id, info.user_id);
    assert_eq!(
        keyring.public_keys().identity,
        account.keyring.public_keys().identity
    );
    assert_eq!(c.session().await.unwrap().user_id, info.user_id);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let s = Server::new();
    let c = s.client();
    c.signup("bob", None, s.now()).await.unwrap();
    let c = s.client();
    // The honest client stops after KE2 in both cases.
    assert!(matches!(
        c.login("bob", "not the password at all").await,
        Err(LoginFailed::InClient)
    ));
    assert!(matches!(
        c.login("nobody-here", PASSWORD).await,
        Err(LoginFailed::InClient)
    ));
    // A client that sends a KE3 anyway gets one answer for both.
    let (status, wrong) = c
        .login_sending_ke3("bob", "not the password at all")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status2, unknown) = c
        .login_sending_ke3("nobody-here", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(status2, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.message, "The username or password is not right.");
    assert_eq!(c.token(), None);
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_and_sign_out_everywhere_ends_them_all() {
    let s = Server::new();
    let a = s.client();
    a.signup("carol", None, s.now()).await.unwrap();
    let b = s.client();
    b.sign_in("carol", PASSWORD).await;
    let c = s.client();
    c.sign_in("carol", PASSWORD).await;

    let list: Vec<SessionSummary> = a.get("/api/account/sessions").await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    assert!(list.iter().all(|s| s.client == "TestBrowser/1.0"));
    for item in &list {
        assert!(
            !a.token().unwrap().contains(&item.id),
            "the id is not the token"
        );
    }

    // Revoke b's session from a.
    let b_list: Vec<SessionSummary> = b.get("/api/account/sessions").await.unwrap();
    let b_id = b_list.iter().find(|s| s.current).unwrap().id.clone();
    let () = a
        .post("/api/account/sessions/revoke", &json!({ "id": b_id }))
        .await
        .unwrap();
    assert_eq!(b.session().await, None);
    let (status, e) = a
        .post::<_, ()>("/api/account/sessions/revoke", &json!({ "id": b_id }))
        .await
        .unwrap_err();
    assert_eq!(
        (status, e.code),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );

    let ended: SessionsEnded = a
        .post("/api/account/logout-everywhere", &json!({}))
        .await
        .unwrap();
    assert_eq!(ended.ended_sessions, 1, "c's; a's own is not counted");
    assert_eq!(a.session().await, None);
    assert_eq!(c.session().await, None);
}

#[tokio::test]
async fn signing_in_again_replaces_the_session_held() {
    let s = Server::new();
    let a = s.client();
    a.signup("dora", None, s.now()).await.unwrap();
    let first = a.token().unwrap();
    a.sign_in("dora", PASSWORD).await;
    assert_ne!(a.token().unwrap(), first);
    let list: Vec<SessionSummary> = a.get("/api/account/sessions").await.unwrap();
    assert_eq!(list.len(), 1);
}

#[tokio::test]
async fn fail_calls_that_need_a_session_without_one() {
    let s = Server::new();
    let c = s.client();
    for (path, body) in [
        ("/api/account/logout-everywhere", json!({})),
        ("/api/account/sessions/revoke", json!({"id": "x"})),
        ("/api/account/totp/disable", json!({"code": "123456"})),
        ("/api/account/totp/start", json!({"request": {"ke1": ""}})),
        (
            "/api/account/totp/enable",
            json!({"request": {"enable_id": "AAAAAAAAAAAAAAAAAAAAAA", "ke3": "", "secret": "x", "code": "123456"}}),
        ),
        (
            "/api/account/password/start",
            json!({"request": {"ke1": "", "registration_request": ""}}),
        ),
        ("/api/directory/lookup", json!({"username": "anyone"})),
        ("/api/directory/names", json!({"request": {"ids": []}})),
    ] {
        let (status, e) = c
            .post::<_, serde_json::Value>(path, &body)
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(e.code, ErrorCode::Unauthorized, "{path}");
    }
    let (status, _) = c
        .get::<Vec<SessionSummary>>("/api/account/sessions")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A forged cookie is no better than none.
    *c.cookie.lock().unwrap() = Some(shared::crypto::b64::encode(&[1u8; 32]));
    assert_eq!(c.session().await, None);
    *c.cookie.lock().unwrap() = Some("not base64 at all!".into());
    let info: Option<SessionInfo> = c.get("/api/account/session").await.unwrap();
    assert_eq!(info, None);
}

#[tokio::test]
async fn expired_sessions_get_nothing_idle_and_absolute() {
    let s = Server::new();
    let c = s.client();
    c.signup("erin", None, s.now()).await.unwrap();
    // Used every 20 minutes it stays alive past the idle timeout...
    for _ in 0..3 {
        s.advance(20 * 60);
        assert!(c.session().await.is_some());
    }
    // ...but 30 minutes of silence end it.
    s.advance(30 * 60);
    assert_eq!(c.session().await, None);
    let (status, _) = c
        .get::<Vec<SessionSummary>>("/api/account/sessions")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Absolute lifetime: busy all along, still over after 12 hours.
    c.sign_in("erin", PASSWORD).await;
    for _ in 0..(12 * 60 / 20 - 1) {
        s.advance(20 * 60);
        assert!(c.session().await.is_some());
    }
    s.advance(20 * 60);
    assert_eq!(c.session().await, None);
}

#[tokio::test]
async fn session_lifetimes_follow_the_settings() {
    let s = Server::with(server::backend::AccountSettings {
        open_signup: true,
        idle_timeout_secs: 60,
        absolute_lifetime_secs: 600,
        ..Default::default()
    });
    let c = s.client();
    let (info, _) = c.signup("fred", None, s.now()).await.unwrap();
    assert_eq!(info.idle_timeout_secs, 60);
    assert_eq!(info.expires_at, s.now() + 600);
    s.advance(59);
    assert!(c.session().await.is_some());
    s.advance(60);
    assert_eq!(c.session().await, None);
}

// ------------------------------------------------------------------ helpers

type Spoil = Box<dyn Fn(&mut shared::api::account::SignupFinishRequest)>;

use shared::{
    api::{
        account::{
            LoginStarted, PasswordChangeStarted, Recovered, RecoveryStarted, SignedIn,
            SignupStarted,
        },
        admin::{Invite, UserSummary},
        directory::DirectoryEntry,
        ApiError,
    },
    client::{
        Login, PasswordChange, Recovery, Signup, {self},
    },
    crypto::totp::{
        TotpSecret, {self},
    },
};

fn code_at(secret: &TotpSecret, now: i64) -> String {
    totp::code(secret, now as u64).unwrap().to_string()
}

async fn expect_err<T>(r: Result<T, common::Failure>, status: StatusCode) -> ApiError {
    let Err((got, e)) = r else {
        panic!("expected {status}, got a success");
    };
    assert_eq!(got, status, "{e:?}");
    e
}

/// An admin made from the command-line invite, signed in on the returned client.
async fn admin(s: &Server) -> (common::Client, shared::client::NewAccount, SessionInfo) {
    let c = s.client();
    let invite = s.cli_invite(Role::Admin);
    let (info, account) = c.signup("root.admin", Some(invite), s.now()).await.unwrap();
    assert_eq!(info.role, Role::Admin);
    (c, account, info)
}

// ------------------------------------------------------------------ sign-up

#[tokio::test]
async fn fail_invalid_and_taken_usernames_with_unicode_normalisation() {
    let s = Server::new();
    let c = s.client();
    c.signup("Zoë", None, s.now()).await.unwrap();
    for taken in ["zoë", "ZOË", "Zoe\u{0308}", "ｚｏë"] {
        let other = s.client();
        let e = expect_err(
            other.signup(taken, None, s.now()).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e.message, "That username is taken.", "{taken:?}");
    }
    for (bad, says) in [
        ("ab", "too short"),
        (&"x".repeat(33), "too long"),
        ("two words", "Spaces"),
        (" lead", "spaces at the start"),
        ("a/b/c", "not allowed"),
        ("-dash", "Start the username"),
    ] {
        let e = expect_err(
            s.client().signup(bad, None, s.now()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(e.message.contains(says), "{bad:?}: {}", e.message);
    }
}

/// The key entry's time is the client's: values at the ends of `i64` are
/// refused as a wrong clock, not an arithmetic overflow (a panic in debug
/// builds, a passed check in release).
#[tokio::test]
async fn fail_signup_finish_with_a_time_at_the_ends_of_i64() {
    let s = Server::new();
    let c = s.client();
    for at in [i64::MIN, i64::MIN + s.now(), i64::MIN + 1, i64::MAX, -1, 0] {
        let (signup, start) = Signup::start("gina", PASSWORD, None).unwrap();
        let started: SignupStarted = c
            .post("/api/account/signup/start", &json!({ "request": start }))
            .await
            .unwrap();
        let account = signup.finish(&started, at).unwrap();
        let e = expect_err(
            c.post::<_, SessionInfo>(
                "/api/account/signup/finish",
                &json!({ "request": account.request }),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(e.message.contains("clock"), "{at}: {}", e.message);
    }
    assert_eq!(c.token(), None);
    c.signup("gina", None, s.now()).await.unwrap();
}

#[tokio::test]
async fn fail_signup_with_a_name_that_mixes_scripts() {
    let s = Server::new();
    s.client().signup("dr.jones", None, s.now()).await.unwrap();
    // A Cyrillic о (U+043E) and a Greek ο (U+03BF) in place of the Latin o.
    for look_alike in ["dr.j\u{043E}nes", "dr.j\u{03BF}nes"] {
        let e = expect_err(
            s.client().signup(look_alike, None, s.now()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            e.message.contains("mixes letters from different alphabets"),
            "{}",
            e.message
        );
    }
    // One script is fine, whichever it is.
    for name in ["иван.петров", "ελένη"] {
        s.client().signup(name, None, s.now()).await.unwrap();
    }
    let (admin, _, _) = admin(&s).await;
    let users: Vec<UserSummary> = admin.get("/api/admin/users").await.unwrap();
    assert_eq!(users.len(), 4, "no look-alike account was made");
}

#[tokio::test]
async fn fail_signup_finish_with_bad_pieces_and_change_nothing() {
    let s = Server::new();
    let c = s.client();
    let start_one = || async {
        let (signup, start) = Signup::start("gina", PASSWORD, None).unwrap();
        let started: SignupStarted = c
            .post("/api/account/signup/start", &json!({ "request": start }))
            .await
            .unwrap();
        (signup.finish(&started, s.now()).unwrap(), started)
    };
    // Wrong lengths, a bad signature, a foreign user id, role or name, an old clock.
    let mut cases: Vec<(&str, Spoil)> = vec![
        (
            "short keyring",
            Box::new(|r| r.sealed_keyring.pop().map(|_| ()).unwrap()),
        ),
        (
            "long recovery keyring",
            Box::new(|r| r.recovery_keyring.push(0)),
        ),
        (
            "short upload",
            Box::new(|r| {
                r.registration_upload.truncate(100);
            }),
        ),
        (
            "bad signature",
            Box::new(|r| r.key_entry.value.created_at += 1),
        ),
    ];
    cases.push((
        "wrong role",
        Box::new(|r| r.key_entry.value.role = Role::Admin),
    ));
    for (what, spoil) in cases {
        let (mut account, _) = start_one().await;
        spoil(&mut account.request);
        let e = expect_err(
            c.post::<_, SessionInfo>(
                "/api/account/signup/finish",
                &json!({ "request": account.request }),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e.code, ErrorCode::BadRequest, "{what}");
        // Single use: the same registration cannot be finished afterwards.
        let e = expect_err(
            c.post::<_, SessionInfo>(
                "/api/account/signup/finish",
                &json!({ "request": account.request }),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            e.message.contains("expired or was already finished"),
            "{what}"
        );
    }
    // A key entry re-signed for another name (the keyring signs validly).
    let (signup, start) = Signup::start("gina", PASSWORD, None).unwrap();
    let started: SignupStarted = c
        .post("/api/account/signup/start", &json!({ "request": start }))
        .await
        .unwrap();
    let mut account = signup.finish(&started, s.now()).unwrap();
    account.request.key_entry = client::key_entry(
        &account.keyring,
        started.user_id,
        "mallory",
        Role::Patient,
        s.now(),
    );
    expect_err(
        c.post::<_, SessionInfo>(
            "/api/account/signup/finish",
            &json!({ "request": account.request }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // A key entry from a wrong clock.
    let (signup, start) = Signup::start("gina", PASSWORD, None).unwrap();
    let started: SignupStarted = c
        .post("/api/account/signup/start", &json!({ "request": start }))
        .await
        .unwrap();
    let account = signup.finish(&started, s.now() - 3600).unwrap();
    let e = expect_err(
        c.post::<_, SessionInfo>(
            "/api/account/signup/finish",
            &json!({ "request": account.request }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e.message.contains("clock"));
    // Nothing was created: the name is still free, and nobody is signed in.
    assert_eq!(c.token(), None);
    c.signup("gina", None, s.now()).await.unwrap();
    // Malformed and oversized first messages.
    for body in [
        json!({"request": {"username": "hana", "invite": null, "registration_request": "AAAA"}}),
        json!({"request": {"username": "hana", "registration_request": "!!"}}),
        json!({"request": {"username": 5}}),
        json!({}),
    ] {
        let (status, bytes) = c
            .post_raw("/api/account/signup/start", body.to_string())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        serde_json::from_slice::<ApiError>(&bytes).unwrap();
    }
    let (status, _) = c
        .post_raw("/api/account/signup/start", vec![b' '; 2 * 1024 * 1024])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn open_signup_off_needs_an_invite_and_roles_come_from_invites() {
    let s = Server::with(server::backend::AccountSettings {
        open_signup: false,
        ..Default::default()
    });
    let policy: SignupSettings = s.client().get("/api/account/signup-policy").await.unwrap();
    assert!(!policy.open_signup);
    let e = expect_err(
        s.client().signup("ivan", None, s.now()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e.message.contains("invite"));

    let (a, _, _) = admin(&s).await;
    for role in [Role::Doctor, Role::Auditor, Role::Patient, Role::Admin] {
        let invite: Invite = a
            .post("/api/admin/invites", &json!({ "role": role }))
            .await
            .unwrap();
        assert_eq!(invite.role, role);
        assert_eq!(invite.expires_at, s.now() + 7 * 24 * 3600);
        let details: shared::api::account::InviteDetails = s
            .client()
            .post("/api/account/invite-info", &json!({ "code": invite.code }))
            .await
            .unwrap();
        assert_eq!(details.role, role);
        let name = format!("user-{role:?}").to_lowercase();
        let (info, _) = s
            .client()
            .signup(&name, Some(invite.code.clone()), s.now())
            .await
            .unwrap();
        assert_eq!(info.role, role, "the role is the invite's");
        // Used once.
        let e = expect_err(
            s.client()
                .signup("another-one", Some(invite.code.clone()), s.now())
                .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(e.message.contains("already used"));
    }
}

#[tokio::test]
async fn fail_expired_forged_and_reused_invites() {
    let s = Server::new();
    let invite = s.cli_invite(Role::Admin);
    // Forged: one flipped character.
    let mut forged = invite.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for bad in [forged.as_str(), "short", "", "!!!!", &"A".repeat(43)] {
        let e = expect_err(
            s.client()
                .post::<_, serde_json::Value>("/api/account/invite-info", &json!({ "code": bad }))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(e.message.contains("not valid"), "{bad}");
        expect_err(
            s.client()
                .signup("jack", Some(bad.to_owned()), s.now())
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    // Two sign-ups race on one invite: the second finish fails and creates nothing.
    let c1 = s.client();
    let c2 = s.client();
    let (su1, st1) = Signup::start("kate", PASSWORD, Some(invite.clone())).unwrap();
    let (su2, st2) = Signup::start("liam", PASSWORD, Some(invite.clone())).unwrap();
    let started1: SignupStarted = c1
        .post("/api/account/signup/start", &json!({"request": st1}))
        .await
        .unwrap();
    let started2: SignupStarted = c2
        .post("/api/account/signup/start", &json!({"request": st2}))
        .await
        .unwrap();
    let a1 = su1.finish(&started1, s.now()).unwrap();
    let a2 = su2.finish(&started2, s.now()).unwrap();
    c1.post::<_, SessionInfo>(
        "/api/account/signup/finish",
        &json!({"request": a1.request}),
    )
    .await
    .unwrap();
    let e = expect_err(
        c2.post::<_, SessionInfo>(
            "/api/account/signup/finish",
            &json!({"request": a2.request}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(e.message.contains("already used"));
    assert!(matches!(
        s.client().login("liam", PASSWORD).await,
        Err(LoginFailed::InClient)
    ));

    // Expired after 24 hours.
    let late = s.cli_invite(Role::Admin);
    s.advance(24 * 3600);
    let e = expect_err(
        s.client().signup("mona", Some(late), s.now()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e.message.contains("expired"));
}

// ------------------------------------------------------------------ sign-in

#[tokio::test]
async fn fail_replayed_out_of_order_and_malformed_login_messages() {
    let s = Server::new();
    s.client().signup("nina", None, s.now()).await.unwrap();
    let c = s.client();
    let (login, start) = Login::start("nina", PASSWORD).unwrap();
    // Finish before start: unknown id.
    let e = expect_err(
        c.post::<_, LoginOutcome>(
            "/api/account/login/finish",
            &json!({"request": {"login_id": shared::crypto::b64::encode(&[9u8; 16]), "ke3": shared::crypto::b64::encode(&[0u8; 64])}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e.message.contains("expired or was already used"));
    let started: LoginStarted = c
        .post("/api/account/login/start", &json!({"request": start}))
        .await
        .unwrap();
    let (finish, _) = login.finish(&started).unwrap();
    let _: LoginOutcome = c
        .post("/api/account/login/finish", &json!({"request": finish}))
        .await
        .unwrap();
    // Replayed KE3.
    expect_err(
        c.post::<_, LoginOutcome>("/api/account/login/finish", &json!({"request": finish}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Wrong lengths and garbage.
    for body in [
        json!({"request": {"username": "nina", "ke1": shared::crypto::b64::encode(&[1u8; 95])}}),
        json!({"request": {"username": "nina", "ke1": shared::crypto::b64::encode(&[0u8; 96])}}),
        json!({"request": {"username": "nina"}}),
        json!({"request": {"username": "nina", "ke1": "%%%"}}),
    ] {
        let (status, _) = c
            .post_raw("/api/account/login/start", body.to_string())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (login, start) = Login::start("nina", PASSWORD).unwrap();
    let started: LoginStarted = c
        .post("/api/account/login/start", &json!({"request": start}))
        .await
        .unwrap();
    let (mut finish, _) = login.finish(&started).unwrap();
    finish.ke3.pop();
    expect_err(
        c.post::<_, LoginOutcome>("/api/account/login/finish", &json!({"request": finish}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // A login state expires after 2 minutes.
    let (login, start) = Login::start("nina", PASSWORD).unwrap();
    let started: LoginStarted = c
        .post("/api/account/login/start", &json!({"request": start}))
        .await
        .unwrap();
    let (finish, _) = login.finish(&started).unwrap();
    s.advance(121);
    expect_err(
        c.post::<_, LoginOutcome>("/api/account/login/finish", &json!({"request": finish}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn unknown_users_get_a_real_looking_ke2_that_is_stable_in_shape() {
    let s = Server::new();
    let c = s.client();
    let (_, start) = Login::start("ghost", PASSWORD).unwrap();
    let a: LoginStarted = c
        .post("/api/account/login/start", &json!({"request": start}))
        .await
        .unwrap();
    assert_eq!(a.ke2.len(), shared::crypto::opaque::CREDENTIAL_RESPONSE_LEN);
}

#[tokio::test]
async fn throttling_answers_429_with_when_and_success_resets() {
    let s = Server::new();
    s.client().signup("olga", None, s.now()).await.unwrap();
    let c = s.client();
    for _ in 0..5 {
        assert!(matches!(
            c.login("olga", "wrong password number x").await,
            Err(LoginFailed::InClient)
        ));
    }
    assert!(matches!(
        c.login("olga", "wrong password number x").await,
        Err(LoginFailed::InClient)
    ));
    let e = expect_err(
        c.login("olga", PASSWORD).await.map_err(LoginFailed::server),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(
        e.message,
        "Too many failed sign-ins. Try again in 1 second."
    );
    s.advance(1);
    assert!(matches!(
        c.login("olga", "wrong password number x").await,
        Err(LoginFailed::InClient)
    ));
    let e = expect_err(
        c.login("olga", PASSWORD).await.map_err(LoginFailed::server),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(
        e.message,
        "Too many failed sign-ins. Try again in 2 seconds."
    );
    // Unknown names are throttled the same way, so the throttle reveals nothing.
    for _ in 0..6 {
        assert!(matches!(
            c.login("nobody-at-all", PASSWORD).await,
            Err(LoginFailed::InClient)
        ));
    }
    let e = expect_err(
        c.login("nobody-at-all", PASSWORD)
            .await
            .map_err(LoginFailed::server),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(e.message.contains("1 second"));
    s.advance(2);
    c.sign_in("olga", PASSWORD).await;
    // After a success the next failure is free again.
    assert!(matches!(
        s.client().login("olga", "wrong password number x").await,
        Err(LoginFailed::InClient)
    ));
    s.client().sign_in("olga", PASSWORD).await;
}

#[tokio::test]
async fn second_factor_enrol_sign_in_and_refusals() {
    let s = Server::new();
    let c = s.client();
    c.signup("paul", None, s.now()).await.unwrap();
    let secret = TotpSecret::generate().unwrap();
    let b32 = secret.to_base32().to_string();
    // A wrong or malformed confirming code turns nothing on.
    let wrong = code_at(&secret, s.now() + 600);
    expect_err(
        c.enable_totp(PASSWORD, &b32, &wrong).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_err(
        c.enable_totp(PASSWORD, &b32, "12ab56").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_err(
        c.enable_totp(PASSWORD, "short", "123456").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(!c.session().await.unwrap().totp_enabled);
    let info = c
        .enable_totp(PASSWORD, &b32, &format!(" {} ", code_at(&secret, s.now())))
        .await
        .unwrap();
    assert!(info.totp_enabled);

    // Sign-in now stops after the password.
    s.advance(30);
    let d = s.client();
    let outcome = d.login("paul", PASSWORD).await.unwrap();
    let LoginOutcome::SecondFactor { pending_id } = outcome else {
        panic!("expected a second factor step");
    };
    assert_eq!(d.token(), None, "no session before the code");
    let id = shared::crypto::b64::encode(&pending_id);
    let wrong = code_at(&secret, s.now() + 900);
    let e = expect_err(
        d.post::<_, SignedIn>(
            "/api/account/login/second-factor",
            &json!({"request": {"pending_id": id, "code": wrong}}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(e.message.contains("authentication code"));
    let good = code_at(&secret, s.now());
    let signed_in: SignedIn = d
        .post(
            "/api/account/login/second-factor",
            &json!({"request": {"pending_id": id, "code": good}}),
        )
        .await
        .unwrap();
    assert!(signed_in.session.totp_enabled);
    assert!(d.session().await.is_some());
    // Used once: the pending step is gone, and the same code is refused as a replay.
    expect_err(
        d.post::<_, SignedIn>(
            "/api/account/login/second-factor",
            &json!({"request": {"pending_id": id, "code": good}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let e2 = s.client();
    let LoginOutcome::SecondFactor { pending_id } = e2.login("paul", PASSWORD).await.unwrap()
    else {
        panic!()
    };
    let id2 = shared::crypto::b64::encode(&pending_id);
    expect_err(
        e2.post::<_, SignedIn>(
            "/api/account/login/second-factor",
            &json!({"request": {"pending_id": id2, "code": good}}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Turning it off needs a current code, not a replayed or wrong one.
    expect_err(
        d.post::<_, SessionInfo>("/api/account/totp/disable", &json!({"code": good}))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    s.advance(30);
    let info: SessionInfo = d
        .post(
            "/api/account/totp/disable",
            &json!({"code": code_at(&secret, s.now())}),
        )
        .await
        .unwrap();
    assert!(!info.totp_enabled);
    assert!(matches!(
        s.client().login("paul", PASSWORD).await.unwrap(),
        LoginOutcome::SignedIn(_)
    ));
}

// ------------------------------------------------------------------ password change and recovery

#[tokio::test]
async fn password_change_then_old_password_fails_and_other_sessions_end() {
    let s = Server::new();
    let a = s.client();
    a.signup("quinn", None, s.now()).await.unwrap();
    let b = s.client();
    let (signed_in, keyring) = b.sign_in("quinn", PASSWORD).await;
    let user_id = signed_in.session.user_id;
    let new_password = "an entirely new passphrase 7";

    // Wrong current password: 401, nothing changes.
    let (change, start) = PasswordChange::start("wrong current password", new_password).unwrap();
    let started: PasswordChangeStarted = b
        .post("/api/account/password/start", &json!({"request": start}))
        .await
        .unwrap();
    assert!(
        change.finish(&started, &keyring, &user_id).is_err(),
        "the client notices"
    );
    // A hostile client sends it anyway, with a made-up KE3.
    let (_, start) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let started: PasswordChangeStarted = b
        .post("/api/account/password/start", &json!({"request": start}))
        .await
        .unwrap();
    let (change2, _) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let _ = change2;
    let bogus = json!({"request": {
        "change_id": shared::crypto::b64::encode(&started.change_id),
        "ke3": shared::crypto::b64::encode(&[5u8; 64]),
        "registration_upload": shared::crypto::b64::encode(&[0u8; 192]),
        "sealed_keyring": shared::crypto::b64::encode(&[0u8; shared::crypto::keyring::SEALED_LEN]),
    }});
    let (status, bytes) = b
        .post_raw("/api/account/password/finish", bogus.to_string())
        .await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
        "{status}"
    );
    serde_json::from_slice::<ApiError>(&bytes).unwrap();
    assert!(a.session().await.is_some(), "nothing ended");

    // The real change.
    let (change, start) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let started: PasswordChangeStarted = b
        .post("/api/account/password/start", &json!({"request": start}))
        .await
        .unwrap();
    let finish = change.finish(&started, &keyring, &user_id).unwrap();
    // Another session cannot finish b's change.
    expect_err(
        a.post::<_, SessionsEnded>("/api/account/password/finish", &json!({"request": finish}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let (change, start) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let started: PasswordChangeStarted = b
        .post("/api/account/password/start", &json!({"request": start}))
        .await
        .unwrap();
    let finish = change.finish(&started, &keyring, &user_id).unwrap();
    let ended: SessionsEnded = b
        .post("/api/account/password/finish", &json!({"request": finish}))
        .await
        .unwrap();
    assert_eq!(ended.ended_sessions, 1);
    assert_eq!(a.session().await, None, "the other session ended");
    assert!(b.session().await.is_some(), "this one goes on");
    // Replay of the finish: refused.
    expect_err(
        b.post::<_, SessionsEnded>("/api/account/password/finish", &json!({"request": finish}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    assert!(matches!(
        s.client().login("quinn", PASSWORD).await,
        Err(LoginFailed::InClient)
    ));
    let (_, reopened) = s.client().sign_in("quinn", new_password).await;
    assert_eq!(
        reopened.public_keys().identity,
        keyring.public_keys().identity,
        "same keys"
    );
}

#[tokio::test]
async fn recovery_keeps_the_keys_ends_every_session_and_lifts_totp() {
    let s = Server::new();
    let a = s.client();
    let (info, account) = a.signup("rita", None, s.now()).await.unwrap();
    let code = account.recovery.to_code().to_string();
    let secret = TotpSecret::generate().unwrap();
    a.enable_totp(PASSWORD, &secret.to_base32(), &code_at(&secret, s.now()))
        .await
        .unwrap();
    let new_password = "recovered passphrase for rita";

    // A wrong code: the client cannot open the keyring; a hostile one sends a bad proof.
    let c = s.client();
    let (recovery, start) = Recovery::start("rita", new_password).unwrap();
    let started: RecoveryStarted = c
        .post("/api/account/recovery/start", &json!({"request": start}))
        .await
        .unwrap();
    assert_eq!(started.user_id, info.user_id);
    let other = shared::crypto::recovery::RecoverySecret::generate().unwrap();
    assert!(recovery.finish(&started, &other.to_code()).is_err());
    let bogus = json!({"request": {
        "recovery_id": shared::crypto::b64::encode(&started.recovery_id),
        "proof": other.prove(&started.user_id, &started.challenge).unwrap(),
        "registration_upload": shared::crypto::b64::encode(&[0u8; 192]),
        "sealed_keyring": shared::crypto::b64::encode(&[0u8; shared::crypto::keyring::SEALED_LEN]),
    }});
    let (status, _) = c
        .post_raw("/api/account/recovery/finish", bogus.to_string())
        .await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
        "{status}"
    );
    assert!(a.session().await.is_some());

    // The right code.
    let (recovery, start) = Recovery::start("RITA", new_password).unwrap();
    let started: RecoveryStarted = c
        .post("/api/account/recovery/start", &json!({"request": start}))
        .await
        .unwrap();
    let (finish, keyring) = recovery.finish(&started, &code).unwrap();
    let recovered: Recovered = c
        .post("/api/account/recovery/finish", &json!({"request": finish}))
        .await
        .unwrap();
    assert_eq!(recovered.ended_sessions, 1);
    assert!(recovered.totp_removed);
    assert!(!recovered.session.totp_enabled);
    assert_eq!(a.session().await, None);
    assert!(c.session().await.is_some());
    // Replay refused.
    expect_err(
        c.post::<_, Recovered>("/api/account/recovery/finish", &json!({"request": finish}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        keyring.public_keys().identity,
        account.keyring.public_keys().identity
    );
    let (_, reopened) = s.client().sign_in("rita", new_password).await;
    assert_eq!(
        reopened.public_keys().identity,
        account.keyring.public_keys().identity
    );
    assert!(matches!(
        s.client().login("rita", PASSWORD).await,
        Err(LoginFailed::InClient)
    ));
}

#[tokio::test]
async fn recovery_for_an_unknown_user_looks_alike_and_stays_alike() {
    let s = Server::new();
    s.client().signup("sam", None, s.now()).await.unwrap();
    let c = s.client();
    let ask = |name: &'static str| {
        let c = c.clone();
        async move {
            let (_, start) = Recovery::start(name, PASSWORD).unwrap();
            c.post::<_, RecoveryStarted>("/api/account/recovery/start", &json!({"request": start}))
                .await
                .unwrap()
        }
    };
    let real = ask("sam").await;
    let fake1 = ask("nosuchuser").await;
    let fake2 = ask("nosuchuser").await;
    assert_eq!(fake1.user_id, fake2.user_id);
    assert_eq!(fake1.recovery_keyring, fake2.recovery_keyring);
    assert_ne!(fake1.challenge, fake2.challenge);
    assert_eq!(fake1.recovery_keyring.len(), real.recovery_keyring.len());
    assert_eq!(fake1.challenge.len(), 32);
    assert_eq!(
        fake1.registration_response.len(),
        real.registration_response.len()
    );
}

// ------------------------------------------------------------------ directory and admin

#[tokio::test]
async fn admin_invites_a_doctor_verifies_them_and_a_patient_sees_it() {
    let s = Server::new();
    let (a, admin_account, admin_info) = admin(&s).await;
    let invite: Invite = a
        .post("/api/admin/invites", &json!({"role": "doctor"}))
        .await
        .unwrap();
    let d = s.client();
    let (doctor_info, _) = d
        .signup("dr.who", Some(invite.code), s.now())
        .await
        .unwrap();
    assert_eq!(doctor_info.role, Role::Doctor);
    let p = s.client();
    p.signup("patient.pat", None, s.now()).await.unwrap();

    let served: DirectoryEntry = a
        .post("/api/directory/lookup", &json!({"username": "Dr.Who"}))
        .await
        .unwrap();
    let checked = client::verify_directory_entry("dr.who", &served, None).unwrap();
    assert!(checked.verified_doctor.is_none());
    // The operator certifies the admin with the installation's org key.
    let org = common::anchor::org_key();
    common::anchor::certify_admin(&a, &admin_account, &org, s.now()).await;

    let cert = client::certify_doctor(
        &admin_account.keyring,
        admin_info.user_id,
        &checked.entry,
        "GMC-1234567",
        s.now(),
    );
    // Refusals first: a patient, a bad licence id, a forged signature.
    expect_err(
        p.post::<_, UserSummary>("/api/admin/verify-doctor", &json!({"certificate": cert}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for licence in ["", &"x".repeat(65)] {
        let bad = client::certify_doctor(
            &admin_account.keyring,
            admin_info.user_id,
            &checked.entry,
            licence,
            s.now(),
        );
        expect_err(
            a.post::<_, UserSummary>("/api/admin/verify-doctor", &json!({"certificate": bad}))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let mut forged = cert.clone();
    forged.value.licence_id = "OTHER".into();
    expect_err(
        a.post::<_, UserSummary>("/api/admin/verify-doctor", &json!({"certificate": forged}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Certifying a patient is refused as not found.
    let pat: DirectoryEntry = a
        .post("/api/directory/lookup", &json!({"username": "patient.pat"}))
        .await
        .unwrap();
    let wrong = client::certify_doctor(
        &admin_account.keyring,
        admin_info.user_id,
        &pat.entry.value,
        "X1",
        s.now(),
    );
    expect_err(
        a.post::<_, UserSummary>("/api/admin/verify-doctor", &json!({"certificate": wrong}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let summary: UserSummary = a
        .post("/api/admin/verify-doctor", &json!({"certificate": cert}))
        .await
        .unwrap();
    assert!(summary.verified);
    let seen: DirectoryEntry = p
        .post("/api/directory/lookup", &json!({"username": "dr.who"}))
        .await
        .unwrap();
    let checked =
        client::verify_directory_entry("dr.who", &seen, Some(&common::anchor::fingerprint(&org)))
            .unwrap();
    assert_eq!(
        checked.verified_doctor,
        Some(("GMC-1234567".to_owned(), "root.admin".to_owned()))
    );
    expect_err(
        p.post::<_, DirectoryEntry>("/api/directory/lookup", &json!({"username": "no.one"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_err(
        p.post::<_, DirectoryEntry>("/api/directory/lookup", &json!({"username": "x"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let users: Vec<UserSummary> = a.get("/api/admin/users").await.unwrap();
    assert_eq!(users.len(), 3);
}

#[tokio::test]
async fn the_admin_finds_accounts_by_the_start_of_their_username() {
    let s = Server::new();
    let (a, _, _) = admin(&s).await;
    for name in ["maria.lopez", "mario.rossi", "ann.lee"] {
        s.client().signup(name, None, s.now()).await.unwrap();
    }
    let names =
        |list: Vec<UserSummary>| -> Vec<String> { list.into_iter().map(|u| u.username).collect() };
    let found: Vec<UserSummary> = a.get("/api/admin/users?prefix=MARI").await.unwrap();
    assert_eq!(names(found), ["maria.lopez", "mario.rossi"]);
    let found: Vec<UserSummary> = a.get("/api/admin/users?prefix=maria.").await.unwrap();
    assert_eq!(names(found), ["maria.lopez"]);
    let found: Vec<UserSummary> = a.get("/api/admin/users?prefix=zz").await.unwrap();
    assert!(found.is_empty());
    // No prefix, or an empty one: everyone.
    let all: Vec<UserSummary> = a.get("/api/admin/users?prefix=").await.unwrap();
    assert_eq!(all.len(), 4);
    // Longer than any username, or with a control character: refused.
    let long = format!("/api/admin/users?prefix={}", "a".repeat(40));
    expect_err(
        a.get::<Vec<UserSummary>>(&long).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_err(
        a.get::<Vec<UserSummary>>("/api/admin/users?prefix=a%07")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn admin_calls_are_not_found_for_everyone_else() {
    let s = Server::new();
    let p = s.client();
    p.signup("plain.patient", None, s.now()).await.unwrap();
    let anon = s.client();
    for c in [&p, &anon] {
        expect_err(
            c.post::<_, Invite>("/api/admin/invites", &json!({"role": "admin"}))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        expect_err(
            c.get::<Vec<UserSummary>>("/api/admin/users").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        expect_err(
            c.post::<_, UserSummary>(
                "/api/admin/set-disabled",
                &json!({"user_id": shared::crypto::b64::encode(&[0u8; 16]), "disabled": true}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn a_disabled_account_gets_nothing_and_its_sessions_end_at_once() {
    let s = Server::new();
    let (a, _, admin_info) = admin(&s).await;
    let v = s.client();
    let (victim, _) = v.signup("tom", None, s.now()).await.unwrap();
    let id = shared::crypto::b64::encode(&victim.user_id);
    expect_err(
        a.post::<_, UserSummary>(
            "/api/admin/set-disabled",
            &json!({"user_id": shared::crypto::b64::encode(&admin_info.user_id), "disabled": true}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_err(
        a.post::<_, UserSummary>(
            "/api/admin/set-disabled",
            &json!({"user_id": "bad", "disabled": true}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let summary: UserSummary = a
        .post(
            "/api/admin/set-disabled",
            &json!({"user_id": id, "disabled": true}),
        )
        .await
        .unwrap();
    assert!(summary.disabled);
    assert_eq!(v.session().await, None);
    let e = expect_err(
        s.client()
            .login("tom", PASSWORD)
            .await
            .map_err(LoginFailed::server),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        e.message,
        "This account has been disabled. Contact your administrator."
    );
    // A wrong password still reads as a wrong password.
    assert!(matches!(
        s.client().login("tom", "not his password at all").await,
        Err(LoginFailed::InClient)
    ));
    let entry: DirectoryEntry = a
        .post("/api/directory/lookup", &json!({"username": "tom"}))
        .await
        .unwrap();
    assert!(entry.disabled);

    let _: UserSummary = a
        .post(
            "/api/admin/set-disabled",
            &json!({"user_id": id, "disabled": false}),
        )
        .await
        .unwrap();
    s.client().sign_in("tom", PASSWORD).await;
}

// ------------------------------------------------------------------ what the disk holds

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_data_directory_holds_no_password_key_secret_or_token() {
    let s = Server::new();
    let c = s.client();
    // Sign-up by hand, so the test knows the recovery secret's bytes.
    let recovery_bytes = [0x5au8; 32];
    let recovery = shared::crypto::recovery::RecoverySecret::from_bytes(recovery_bytes);
    let (reg, request) =
        shared::crypto::opaque::client_registration_start(PASSWORD.as_bytes()).unwrap();
    let start = shared::api::account::SignupStartRequest {
        username: "una".into(),
        invite: None,
        registration_request: request,
    };
    let started: SignupStarted = c
        .post("/api/account/signup/start", &json!({"request": start}))
        .await
        .unwrap();
    let finished = reg
        .finish(PASSWORD.as_bytes(), &started.registration_response)
        .unwrap();
    let keyring = shared::crypto::keyring::Keyring::generate().unwrap();
    let request = shared::api::account::SignupFinishRequest {
        registration_id: started.registration_id,
        registration_upload: finished.upload,
        key_entry: client::key_entry(&keyring, started.user_id, "una", Role::Patient, s.now()),
        sealed_keyring: keyring
            .seal_with_password(finished.export_key.as_bytes(), &started.user_id)
            .unwrap(),
        recovery_keyring: keyring
            .seal_with_recovery(&recovery, &started.user_id)
            .unwrap(),
        recovery_verifier: recovery.verifier(&started.user_id).unwrap(),
        record: None,
    };
    let _: SessionInfo = c
        .post("/api/account/signup/finish", &json!({"request": request}))
        .await
        .unwrap();
    let mut tokens = vec![c.token().unwrap()];

    // Sign in (keeping the export key), change the password, recover.
    let d = s.client();
    let (login, start) = Login::start("una", PASSWORD).unwrap();
    let ls: LoginStarted = d
        .post("/api/account/login/start", &json!({"request": start}))
        .await
        .unwrap();
    let (finish, export_key) = login.finish(&ls).unwrap();
    let _: LoginOutcome = d
        .post("/api/account/login/finish", &json!({"request": finish}))
        .await
        .unwrap();
    tokens.push(d.token().unwrap());
    let new_password = "una's second passphrase here";
    let (change, start) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let started: PasswordChangeStarted = d
        .post("/api/account/password/start", &json!({"request": start}))
        .await
        .unwrap();
    let finish = change
        .finish(&started, &keyring, &ls_user(&d).await)
        .unwrap();
    let _: SessionsEnded = d
        .post("/api/account/password/finish", &json!({"request": finish}))
        .await
        .unwrap();
    let third = "una's third passphrase here";
    let (rec, start) = Recovery::start("una", third).unwrap();
    let rs: RecoveryStarted = d
        .post("/api/account/recovery/start", &json!({"request": start}))
        .await
        .unwrap();
    let (finish, _) = rec.finish(&rs, &recovery.to_code()).unwrap();
    let _: Recovered = d
        .post("/api/account/recovery/finish", &json!({"request": finish}))
        .await
        .unwrap();
    tokens.push(d.token().unwrap());
    s.store.flush().await.unwrap();

    let disk = s.stored_bytes().await;
    assert!(disk.len() > 1000, "the store wrote something");
    let b64 = shared::crypto::b64::encode;
    let mut secrets: Vec<(&str, Vec<u8>)> = vec![
        ("password", PASSWORD.as_bytes().to_vec()),
        ("new password", new_password.as_bytes().to_vec()),
        ("third password", third.as_bytes().to_vec()),
        ("export key", export_key.as_bytes().to_vec()),
        ("export key b64", b64(export_key.as_bytes()).into_bytes()),
        ("identity seed", keyring.identity().seed().to_vec()),
        (
            "identity seed b64",
            b64(&keyring.identity().seed()[..]).into_bytes(),
        ),
        ("x25519 secret", keyring.encryption().to_bytes().to_vec()),
        (
            "x25519 secret b64",
            b64(&keyring.encryption().to_bytes()[..]).into_bytes(),
        ),
        ("recovery secret", recovery_bytes.to_vec()),
        ("recovery secret b64", b64(&recovery_bytes).into_bytes()),
        ("recovery code", recovery.to_code().as_bytes().to_vec()),
    ];
    for t in &tokens {
        secrets.push(("session token b64", t.as_bytes().to_vec()));
        secrets.push(("session token", shared::crypto::b64::decode(t).unwrap()));
    }
    for (what, needle) in secrets {
        assert!(
            !contains(&disk, &needle),
            "the data directory holds the {what}"
        );
    }
}

async fn ls_user(c: &common::Client) -> shared::model::Id {
    c.session().await.unwrap().user_id
}

#[tokio::test]
async fn the_command_line_invite_signs_up_the_first_admin_once() {
    let s = Server::new();
    // What `medvault-server create-admin-invite` calls, on the same data directory.
    let invite = server::backend::invites::create_admin_invite(
        s.data.path(),
        "http://127.0.0.1:8080/",
        s.now(),
    )
    .unwrap();
    assert_eq!(invite.expires_at, s.now() + 24 * 3600);
    let code = invite
        .link
        .strip_prefix("http://127.0.0.1:8080/signup?invite=")
        .unwrap()
        .to_owned();
    let (info, _) = s
        .client()
        .signup("first.admin", Some(code.clone()), s.now())
        .await
        .unwrap();
    assert_eq!(info.role, Role::Admin);
    expect_err(
        s.client().signup("second.admin", Some(code), s.now()).await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn names_resolve_known_ids_only() {
    let s = Server::new();
    let a = s.client();
    let (ada, _) = a.signup("ada", None, s.now()).await.unwrap();
    let b = s.client();
    let (bob, _) = b.signup("bob", None, s.now()).await.unwrap();
    let unknown = [9u8; 16];
    let ids = [bob.user_id, unknown, ada.user_id, bob.user_id];
    let names: Vec<UserName> = a
        .post(
            "/api/directory/names",
            &json!({"request": {"ids": ids.iter().map(|i| b64::encode(i)).collect::<Vec<_>>()}}),
        )
        .await
        .unwrap();
    let got: Vec<(&str, Role)> = names
        .iter()
        .map(|n| (n.username.as_str(), n.role))
        .collect();
    assert_eq!(got, [("bob", Role::Patient), ("ada", Role::Patient)]);

    let too_many: Vec<String> = (0..=MAX_NAMES)
        .map(|i| b64::encode(&[i as u8; 16]))
        .collect();
    expect_err(
        a.post::<_, Vec<UserName>>(
            "/api/directory/names",
            &json!({"request": {"ids": too_many}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_err(
        a.post::<_, Vec<UserName>>(
            "/api/directory/names",
            &json!({"request": {"ids": ["short"]}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}
