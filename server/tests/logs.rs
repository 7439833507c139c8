//! The server's logs hold no secrets: a whole account journey (sign-up, sign-in,
//! a wrong password, a password change, recovery, sign-out) runs with every
//! log line of every level captured, and none of them contains the password, the
//! session token, the export key, a private key or the recovery code.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use common::{Server, PASSWORD};
use shared::{
    api::account::{PasswordChangeStarted, Recovered, RecoveryStarted, SessionsEnded},
    client::{PasswordChange, Recovery},
    crypto::b64,
};

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_reaches_the_log_at_any_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Server::new();
    let client = server.client();
    let (_, account) = client.signup("log-test", None, server.now()).await.unwrap();
    let first_token = client.token().unwrap();
    let recovery_code = account.recovery.to_code();
    let identity_seed = account.keyring.identity().seed();
    let encryption_secret = account.keyring.encryption().to_bytes();

    // Sign in again, fail once, change the password, recover, sign out.
    let (_, keyring) = client.sign_in("log-test", PASSWORD).await;
    let second_token = client.token().unwrap();
    assert!(client
        .login("log-test", "a wrong password entirely")
        .await
        .is_err());
    let new_password = "another long passphrase for logs 9";
    let (change, start) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let started: PasswordChangeStarted = client
        .post(
            "/api/account/password/start",
            &serde_json::json!({ "request": start }),
        )
        .await
        .unwrap();
    let session = client.session().await.unwrap();
    let finish = change.finish(&started, &keyring, &session.user_id).unwrap();
    let _: SessionsEnded = client
        .post(
            "/api/account/password/finish",
            &serde_json::json!({ "request": finish }),
        )
        .await
        .unwrap();
    let third_password = "a third passphrase after recovery 5";
    let (recovery, start) = Recovery::start("log-test", third_password).unwrap();
    let started: RecoveryStarted = client
        .post(
            "/api/account/recovery/start",
            &serde_json::json!({ "request": start }),
        )
        .await
        .unwrap();
    let (finish, _) = recovery.finish(&started, &recovery_code).unwrap();
    let _: Recovered = client
        .post(
            "/api/account/recovery/finish",
            &serde_json::json!({ "request": finish }),
        )
        .await
        .unwrap();
    let third_token = client.token().unwrap();
    let _: () = client
        .post("/api/account/logout", &serde_json::json!({}))
        .await
        .unwrap();

    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    // The capture works: request lines are there.
    assert!(
        log.contains("/api/account/login/start"),
        "nothing captured:\n{log}"
    );
    let secrets: Vec<(&str, String)> = vec![
        ("password", PASSWORD.to_owned()),
        ("new password", new_password.to_owned()),
        ("third password", third_password.to_owned()),
        ("session token 1", first_token),
        ("session token 2", second_token),
        ("session token 3", third_token),
        ("recovery code", recovery_code.to_string()),
        (
            "identity seed (base64url)",
            b64::encode(identity_seed.as_ref()),
        ),
        (
            "encryption secret (base64url)",
            b64::encode(encryption_secret.as_ref()),
        ),
    ];
    for (what, secret) in &secrets {
        assert!(!log.contains(secret.as_str()), "the log holds the {what}");
    }
    // No username either: logs carry opaque ids only.
    assert!(!log.contains("log-test"), "the log holds the username");
}
