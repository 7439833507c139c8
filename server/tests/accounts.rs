//! Accounts end to end in-process: sign-up, sign-in, sessions, second factor,
//! password change, recovery, throttling, and every refusal, driven by the
//! browser's own protocol steps (`shared::client`).

mod common;

use axum::http::StatusCode;
use common::{Server, PASSWORD, T0};
use serde_json::json;
use shared::{
    api::{
        account::{SessionInfo, SessionSummary, SessionsEnded, SignupSettings},
        ErrorCode,
    },
    crypto::sign::Role,
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
    let (status, wrong) = c.login("bob", "not the password at all").await.unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status2, unknown) = c.login("nobody-here", PASSWORD).await.unwrap_err();
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
        (
            "/api/account/totp/enable",
            json!({"request": {"secret": "x", "code": "123456"}}),
        ),
        (
            "/api/account/password/start",
            json!({"request": {"ke1": "", "registration_request": ""}}),
        ),
        ("/api/directory/lookup", json!({"username": "anyone"})),
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
