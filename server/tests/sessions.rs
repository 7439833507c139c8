//! Ending sessions in bulk: "sign out everywhere", a password change and a
//! recovery end every session of the account however many there are, and the
//! rows of ended, replaced and expired sessions do not pile up.
//!
//! Thousands of OPAQUE sign-ins would take minutes, so the extra sessions are
//! written straight into the store in the server's own layout; ending them goes
//! through the real API calls.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Client, Server, PASSWORD};
use serde_json::json;
use server::{
    backend::sessions::{token_hash, SessionRecord},
    store::{codec, keys::Key, Batch, Space},
};
use shared::{
    api::account::{
        PasswordChangeStarted, Recovered, RecoveryStarted, SessionSummary, SessionsEnded,
    },
    client::{PasswordChange, Recovery},
    crypto::{b64, rng},
    model::Id,
};

/// More than the 1000 index entries the server used to look at.
const MANY: usize = 1203;

fn row_key(hash: &[u8; 32]) -> Vec<u8> {
    Key::new().u8(1).fixed(hash).finish()
}

fn index_prefix(user: &Id) -> Vec<u8> {
    Key::new().u8(2).fixed(user).finish()
}

/// Writes `n` live sessions of `user`, as sign-ins would; returns their tokens.
async fn mint(s: &Server, user: &Id, n: usize, at: i64) -> Vec<String> {
    let mut batch = Batch::new();
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        let token = b64::encode(&rng::bytes::<32>().unwrap());
        let hash = token_hash(&token).unwrap();
        let record = SessionRecord {
            user_id: *user,
            created_at: at,
            last_seen: at,
            client: "Minted".into(),
        };
        batch.put(
            Space::Sessions,
            row_key(&hash),
            codec::encode(&record).unwrap(),
        );
        batch.put(
            Space::Sessions,
            Key::new().u8(2).fixed(user).fixed(&hash).finish(),
            Vec::new(),
        );
        tokens.push(token);
    }
    s.store.apply(batch).await.unwrap();
    tokens
}

/// How many entries the account's session index holds.
async fn indexed(s: &Server, user: &Id) -> usize {
    s.store
        .scan_prefix(Space::Sessions, &index_prefix(user), None, usize::MAX)
        .await
        .unwrap()
        .len()
}

/// How many of these tokens still have a session row.
async fn rows_left(s: &Server, tokens: &[String]) -> usize {
    let mut left = 0;
    for t in tokens {
        let hash = token_hash(t).unwrap();
        if s.store
            .get(Space::Sessions, &row_key(&hash))
            .await
            .unwrap()
            .is_some()
        {
            left += 1;
        }
    }
    left
}

/// A client holding the minted session whose index entry sorts last, the one
/// a capped scan reached least.
fn holder_of_last(s: &Server, tokens: &[String]) -> Client {
    let last = tokens
        .iter()
        .max_by_key(|t| token_hash(t).unwrap())
        .unwrap()
        .clone();
    let c = s.client();
    *c.cookie.lock().unwrap() = Some(last);
    c
}

#[tokio::test]
async fn sign_out_everywhere_ends_more_than_a_thousand_sessions() {
    let s = Server::new();
    let a = s.client();
    let (info, _) = a.signup("many.sessions", None, s.now()).await.unwrap();
    let tokens = mint(&s, &info.user_id, MANY, s.now()).await;
    let last = holder_of_last(&s, &tokens);
    assert!(last.session().await.is_some());
    // The list shows them all, not the first thousand.
    let list: Vec<SessionSummary> = a.get("/api/account/sessions").await.unwrap();
    assert_eq!(list.len(), MANY + 1);

    let ended: SessionsEnded = a
        .post("/api/account/logout-everywhere", &json!({}))
        .await
        .unwrap();
    assert_eq!(ended.ended_sessions as usize, MANY);
    assert_eq!(last.session().await, None, "the last one ended too");
    assert_eq!(a.session().await, None);
    assert_eq!(rows_left(&s, &tokens).await, 0, "every row deleted");
    assert_eq!(indexed(&s, &info.user_id).await, 0, "every entry deleted");
}

#[tokio::test]
async fn a_password_change_ends_more_than_a_thousand_sessions() {
    let s = Server::new();
    let a = s.client();
    let (info, _) = a.signup("many.changes", None, s.now()).await.unwrap();
    let (_, keyring) = a.sign_in("many.changes", PASSWORD).await;
    let tokens = mint(&s, &info.user_id, MANY, s.now()).await;
    let last = holder_of_last(&s, &tokens);

    let new_password = "another long passphrase 8";
    let (change, start) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let started: PasswordChangeStarted = a
        .post("/api/account/password/start", &json!({ "request": start }))
        .await
        .unwrap();
    let finish = change.finish(&started, &keyring, &info.user_id).unwrap();
    let ended: SessionsEnded = a
        .post(
            "/api/account/password/finish",
            &json!({ "request": finish }),
        )
        .await
        .unwrap();
    assert_eq!(ended.ended_sessions as usize, MANY);
    assert_eq!(last.session().await, None);
    assert!(a.session().await.is_some(), "the changing session goes on");
    assert_eq!(rows_left(&s, &tokens).await, 0);
    assert_eq!(indexed(&s, &info.user_id).await, 1, "only the current one");
}

#[tokio::test]
async fn a_recovery_ends_more_than_a_thousand_sessions() {
    let s = Server::new();
    let a = s.client();
    let (info, account) = a.signup("many.recoveries", None, s.now()).await.unwrap();
    let code = account.recovery.to_code().to_string();
    let tokens = mint(&s, &info.user_id, MANY, s.now()).await;
    let last = holder_of_last(&s, &tokens);

    let c = s.client();
    let (recovery, start) = Recovery::start("many.recoveries", "recovered passphrase 9").unwrap();
    let started: RecoveryStarted = c
        .post("/api/account/recovery/start", &json!({ "request": start }))
        .await
        .unwrap();
    let (finish, _) = recovery.finish(&started, &code).unwrap();
    let recovered: Recovered = c
        .post(
            "/api/account/recovery/finish",
            &json!({ "request": finish }),
        )
        .await
        .unwrap();
    assert_eq!(recovered.ended_sessions as usize, MANY + 1, "and a's");
    assert_eq!(last.session().await, None);
    assert_eq!(a.session().await, None);
    assert!(c.session().await.is_some());
    assert_eq!(rows_left(&s, &tokens).await, 0);
    assert_eq!(indexed(&s, &info.user_id).await, 1, "only the new one");
}

#[tokio::test]
async fn signing_in_again_leaves_no_stale_index_entry() {
    let s = Server::new();
    let a = s.client();
    let (info, _) = a.signup("stale.entries", None, s.now()).await.unwrap();
    for _ in 0..3 {
        // The browser still holds its cookie: the old session is replaced.
        a.sign_in("stale.entries", PASSWORD).await;
    }
    assert_eq!(indexed(&s, &info.user_id).await, 1);
    // Another account signing in from the same browser drops the first
    // account's entry with its session.
    a.signup("second.account", None, s.now()).await.unwrap();
    assert_eq!(indexed(&s, &info.user_id).await, 0);
}

#[tokio::test]
async fn expired_sessions_are_deleted_at_the_next_sign_in() {
    let s = Server::new();
    let a = s.client();
    let (info, _) = a.signup("expired.rows", None, s.now()).await.unwrap();
    let old = mint(&s, &info.user_id, 5, s.now()).await;
    // Past the idle timeout; none of them is used again.
    s.advance(31 * 60);
    let fresh = mint(&s, &info.user_id, 2, s.now()).await;
    let b = s.client();
    b.sign_in("expired.rows", PASSWORD).await;
    assert_eq!(rows_left(&s, &old).await, 0, "expired rows deleted");
    assert_eq!(rows_left(&s, &fresh).await, 2, "live ones kept");
    // The two minted, b's; a's session expired with the others.
    assert_eq!(indexed(&s, &info.user_id).await, 3);
}

#[tokio::test]
async fn a_sign_in_that_skips_the_sweep_keeps_the_next_one_due() {
    // The sweep runs only once something in the index can have expired; a
    // sign-in before then must not push that moment back.
    let s = Server::new();
    let a = s.client();
    let (info, _) = a.signup("due.rows", None, s.now()).await.unwrap();
    let first = a.token().unwrap();
    s.advance(1000);
    let b = s.client();
    b.sign_in("due.rows", PASSWORD).await;
    assert_eq!(indexed(&s, &info.user_id).await, 2);
    // a's session is now past the 30-minute idle timeout, b's is not.
    s.advance(900);
    let c = s.client();
    c.sign_in("due.rows", PASSWORD).await;
    assert_eq!(rows_left(&s, &[first]).await, 0, "expired row deleted");
    assert_eq!(
        rows_left(&s, &[b.token().unwrap(), c.token().unwrap()]).await,
        2
    );
    assert_eq!(indexed(&s, &info.user_id).await, 2);
}
