//! Online guessing and unauthenticated limits: every started sign-in, recovery
//! and password change counts until its proof arrives; pending states are
//! shared fairly between client addresses; behind trusted proxies the client
//! address comes from `X-Forwarded-For`.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{Client, Server, PASSWORD};
use serde_json::json;
use shared::{
    api::{
        account::{
            LoginOutcome, PasswordChangeStarted, RecoveryStarted, SessionInfo, SignupStarted,
        },
        audit::EventsPage,
        ErrorCode,
    },
    audit::EventKind,
    client::{Login, PasswordChange, Recovery, Signup},
};

/// The honest client's first step, and nothing after it: the guess is judged
/// by the client from KE2, so a guesser never needs to send KE3.
async fn ke1_only(c: &Client, username: &str, guess: &str) -> Result<(), common::Failure> {
    let (login, started) = c.login_start(username, guess).await?;
    assert!(login.finish(&started).is_err(), "the guess must be wrong");
    Ok(())
}

fn retry_after(c: &Client) -> Option<u64> {
    c.retry_after
        .lock()
        .unwrap()
        .as_deref()
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn fail_a_client_sending_only_login_start_is_throttled_with_retry_after() {
    let s = Server::new();
    s.client().signup("victim", None, s.now()).await.unwrap();
    let c = s.client();
    let mut refused_at = None;
    for attempt in 1..=10 {
        if let Err((status, e)) = ke1_only(&c, "victim", &format!("guess number {attempt}")).await {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(e.code, ErrorCode::TooManyRequests);
            let wait = retry_after(&c).expect("a Retry-After header");
            assert!(wait >= 1);
            assert_eq!(e.retry_after, Some(wait));
            refused_at = Some(attempt);
            break;
        }
    }
    let refused_at = refused_at.expect("no 429 within ten KE1s");
    assert!((6..=10).contains(&refused_at), "{refused_at}");
    // The same holds for a name that has no account.
    let mut refused = false;
    for attempt in 1..=10 {
        if ke1_only(&c, "nobody-at-all", &format!("guess {attempt} here"))
            .await
            .is_err()
        {
            refused = true;
            break;
        }
    }
    assert!(refused);
}

#[tokio::test]
async fn fail_no_more_than_100_ke2s_an_hour_even_when_the_user_resets_the_delay() {
    let s = Server::new();
    s.client().signup("target", None, s.now()).await.unwrap();
    let attacker = s.client();
    let user = s.client();
    let start = s.now();
    let (mut ke2s, mut user_in) = (0, 0);
    let mut guess = 0;
    while s.now() < start + 3600 {
        // The real user signs in once a minute, which clears the account's delay.
        if let Ok(LoginOutcome::SignedIn(_)) = user.login("target", PASSWORD).await {
            user_in += 1;
        }
        // The attacker sends KE1s until refused.
        loop {
            guess += 1;
            match ke1_only(&attacker, "target", &format!("guess number {guess}")).await {
                Ok(()) => ke2s += 1,
                Err((status, _)) => {
                    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                    break;
                }
            }
        }
        s.advance(60);
    }
    assert_eq!(ke2s, 100, "the hourly cap per account");
    assert!(user_in > 0);
    // An hour after the first guesses, the user gets in again.
    s.advance(3600);
    user.sign_in("target", PASSWORD).await;
}

#[tokio::test]
async fn successful_sign_ins_never_add_up_to_a_cap() {
    let s = Server::new();
    s.client().signup("frequent", None, s.now()).await.unwrap();
    let c = s.client();
    // More than the hourly cap per account, in one minute, from one address.
    for _ in 0..105 {
        c.sign_in("frequent", PASSWORD).await;
    }
    // And the free failures are all still there.
    for i in 0..5 {
        ke1_only(&c, "frequent", &format!("typo number {i}"))
            .await
            .unwrap();
    }
    c.sign_in("frequent", PASSWORD).await;
}

/// The events of the signed-in client's own access history.
async fn my_kinds(c: &Client) -> Vec<EventKind> {
    let page: EventsPage = c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    page.events.iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn an_unfinished_sign_in_is_a_failure_in_the_access_history_once_it_expires() {
    let s = Server::new();
    let owner = s.client();
    owner.signup("hana", None, s.now()).await.unwrap();
    let failures = |kinds: Vec<EventKind>| {
        kinds
            .iter()
            .filter(|k| **k == EventKind::SignInFailed)
            .count()
    };
    // A guess that stops after KE2, and a sign-in that succeeds.
    ke1_only(&s.client(), "hana", "not her password at all")
        .await
        .unwrap();
    s.client().sign_in("hana", PASSWORD).await;
    assert_eq!(
        my_kinds(&owner).await,
        [EventKind::AccountCreated, EventKind::SignIn],
        "not yet: the guess could still finish"
    );
    s.advance(2 * 60 + 1);
    assert_eq!(
        my_kinds(&owner).await,
        [
            EventKind::AccountCreated,
            EventKind::SignIn,
            EventKind::SignInFailed
        ]
    );
    // Recorded once; the finished sign-in never becomes a failure later.
    s.advance(3600);
    owner.sign_in("hana", PASSWORD).await;
    assert_eq!(failures(my_kinds(&owner).await), 1);
    // A KE3 that arrives too late finds nothing; the attempt is recorded once.
    let c = s.client();
    let (login, started) = c.login_start("hana", PASSWORD).await.unwrap();
    let (finish, _) = login.finish(&started).unwrap();
    s.advance(2 * 60 + 1);
    let e = c
        .post::<_, LoginOutcome>("/api/account/login/finish", &json!({"request": finish}))
        .await
        .unwrap_err();
    assert_eq!(e.0, StatusCode::BAD_REQUEST);
    assert_eq!(failures(my_kinds(&owner).await), 2);
    // An unknown name leaves nothing in anyone's history.
    ke1_only(&s.client(), "nobody-at-all", PASSWORD)
        .await
        .unwrap();
    s.advance(2 * 60 + 1);
    assert_eq!(failures(my_kinds(&owner).await), 2);
}

#[tokio::test]
async fn fail_recovery_starts_without_a_proof_are_throttled() {
    let s = Server::new();
    let owner = s.client();
    owner.signup("rosa", None, s.now()).await.unwrap();
    let c = s.client();
    let mut refused_at = None;
    for attempt in 1..=10 {
        let (_, start) = Recovery::start("rosa", "a new long password for rosa").unwrap();
        match c
            .post::<_, RecoveryStarted>("/api/account/recovery/start", &json!({"request": start}))
            .await
        {
            Ok(_) => {}
            Err((status, _)) => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                assert!(retry_after(&c).is_some());
                refused_at = Some(attempt);
                break;
            }
        }
    }
    assert!(
        refused_at.is_some_and(|n| (6..=10).contains(&n)),
        "{refused_at:?}"
    );
    // The unfinished recoveries show up as failures once they expire.
    s.advance(10 * 60 + 1);
    let kinds = my_kinds(&owner).await;
    assert!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::RecoveryFailed)
            .count()
            >= 6,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn fail_password_change_starts_without_a_proof_are_throttled() {
    let s = Server::new();
    let c = s.client();
    let (info, account) = c.signup("pete", None, s.now()).await.unwrap();
    let mut refused_at = None;
    for attempt in 1..=10 {
        let guess = format!("maybe this is it {attempt}");
        let (change, start) = PasswordChange::start(&guess, "a brand new password 77").unwrap();
        match c
            .post::<_, PasswordChangeStarted>(
                "/api/account/password/start",
                &json!({"request": start}),
            )
            .await
        {
            Ok(started) => {
                // The current-password oracle: the client learns it was wrong
                // from KE2 and stops.
                assert!(change
                    .finish(&started, &account.keyring, &info.user_id)
                    .is_err());
            }
            Err((status, _)) => {
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
                assert!(retry_after(&c).is_some());
                refused_at = Some(attempt);
                break;
            }
        }
    }
    assert!(
        refused_at.is_some_and(|n| (6..=10).contains(&n)),
        "{refused_at:?}"
    );
}

// ------------------------------------------------------------------ fair share of pending states

async fn signup_start(c: &Client, username: &str) -> Result<SignupStarted, common::Failure> {
    let (_, start) = Signup::start(username, PASSWORD, None).unwrap();
    c.post("/api/account/signup/start", &json!({"request": start}))
        .await
}

#[tokio::test]
async fn fail_one_address_filling_its_share_does_not_stop_another_from_signing_in() {
    let s = Server::new();
    s.client().signup("nina", None, s.now()).await.unwrap();
    let flood = s.client_at("198.51.100.66", None);
    // Half-finished sign-ins from one address, each for another name so that
    // the per-account delay never stops them.
    let mut refused = None;
    for i in 0..200 {
        let (_, start) = Login::start(&format!("flood{i}"), PASSWORD).unwrap();
        if let Err((status, e)) = flood
            .post::<_, shared::api::account::LoginStarted>(
                "/api/account/login/start",
                &json!({"request": start}),
            )
            .await
        {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert!(e.message.contains("waiting to finish"), "{}", e.message);
            assert!(retry_after(&flood).is_some_and(|w| (1..=120).contains(&w)));
            refused = Some(i);
            break;
        }
    }
    assert_eq!(refused, Some(100), "the share of one address");
    // Another address signs in and signs up as usual.
    let other = s.client_at("203.0.113.10", None);
    other.sign_in("nina", PASSWORD).await;
    s.client_at("203.0.113.11", None)
        .signup("omar", None, s.now())
        .await
        .unwrap();
    // Half-finished sign-ups too.
    for i in 0..20 {
        signup_start(&flood, &format!("new{i}")).await.unwrap();
    }
    let (status, _) = signup_start(&flood, "new20").await.unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&flood).is_some());
    s.client_at("203.0.113.12", None)
        .signup("pia", None, s.now())
        .await
        .unwrap();
    // Once its entries expire, the flooding address has room again.
    s.advance(10 * 60 + 1);
    signup_start(&flood, "new21").await.unwrap();
}

// ------------------------------------------------------------------ trusted proxies

const PROXY: &str = "10.0.0.5";

/// Fills the sign-up share of the client behind `xff` at `peer`; returns
/// whether the 21st start was refused.
async fn fill_signup_share(s: &Server, peer: &str, xff: impl Fn(usize) -> String) -> bool {
    for i in 0..20 {
        let c = s.client_at(peer, Some(&xff(i)));
        signup_start(&c, &format!("fill{i}")).await.unwrap();
    }
    let c = s.client_at(peer, Some(&xff(20)));
    match signup_start(&c, "fill20").await {
        Ok(_) => false,
        Err((status, _)) => {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            true
        }
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_address() {
    let s = Server::with_trusted_proxies(&[PROXY, "10.1.0.0/16"]);
    // One client behind the proxy (a chain of two trusted proxies, with a
    // made-up first hop it wrote itself) uses up its share...
    assert!(fill_signup_share(&s, PROXY, |i| format!("192.0.2.{i}, 203.0.113.7, 10.1.2.3")).await);
    // ...while another client behind the same proxy is not affected.
    let other = s.client_at(PROXY, Some("198.51.100.20"));
    other.signup("quentin", None, s.now()).await.unwrap();
}

#[tokio::test]
async fn fail_without_the_flag_forwarded_for_is_ignored() {
    let s = Server::new();
    // Every client behind the proxy is the proxy: the header is not read...
    assert!(fill_signup_share(&s, PROXY, |i| format!("203.0.113.{i}")).await);
    let (status, _) = signup_start(&s.client_at(PROXY, Some("198.51.100.20")), "rhea")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // ...and a direct client elsewhere is not affected.
    s.client_at("198.51.100.21", None)
        .signup("rhea", None, s.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn fail_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let s = Server::with_trusted_proxies(&[PROXY]);
    // A direct client that makes up a new address in every request is still
    // counted under its own.
    assert!(fill_signup_share(&s, "198.51.100.30", |i| format!("203.0.113.{i}")).await);
    let _: SessionInfo = s
        .client_at("198.51.100.31", None)
        .signup("sven", None, s.now())
        .await
        .unwrap()
        .0;
}
