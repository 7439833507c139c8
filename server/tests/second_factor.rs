//! Turning the second factor on needs a fresh password proof bound to the
//! session, and the TOTP secret is sealed at rest under a key kept outside the
//! store.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use axum::http::StatusCode;
use common::{Failure, Server, PASSWORD};
use serde_json::json;
use server::{
    app::{router, AppState, Limits},
    backend::{
        totp_key::seal_plaintext_secrets,
        users::{user_key, UserRecord},
        AccountConfig, TotpKey,
    },
    store::{codec, Batch, SledStore, Space, Store},
    web::Site,
};
use shared::{
    api::{
        account::{LoginOutcome, SessionInfo, SignedIn, TotpEnableStarted},
        audit::EventsPage,
        ApiError, ErrorCode,
    },
    audit::EventKind,
    client::TotpEnrolment,
    crypto::{
        b64,
        totp::{
            TotpSecret, {self},
        },
    },
    model::Id,
};

fn code_at(secret: &TotpSecret, now: i64) -> String {
    totp::code(secret, now as u64).unwrap().to_string()
}

fn expect_err<T: std::fmt::Debug>(r: Result<T, Failure>, status: StatusCode) -> ApiError {
    let (got, e) = r.unwrap_err();
    assert_eq!(got, status, "{e:?}");
    e
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn history(c: &common::Client) -> Vec<EventKind> {
    let page: EventsPage = c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    page.events.iter().map(|e| e.kind).collect()
}

/// Signs in through the second factor with `code`.
async fn sign_in_with_code(
    c: &common::Client,
    username: &str,
    code: &str,
) -> Result<SignedIn, Failure> {
    let LoginOutcome::SecondFactor { pending_id } = c.login(username, PASSWORD).await.unwrap()
    else {
        panic!("expected a second factor step");
    };
    c.post(
        "/api/account/login/second-factor",
        &json!({"request": {"pending_id": b64::encode(&pending_id), "code": code}}),
    )
    .await
}

#[tokio::test]
async fn fail_totp_enable_without_a_fresh_password_proof_of_this_session() {
    let s = Server::new();
    let a = s.client();
    a.signup("tess", None, s.now()).await.unwrap();
    let secret = TotpSecret::generate().unwrap();
    let b32 = secret.to_base32().to_string();
    let code = code_at(&secret, s.now());

    // The old request (a session, the secret and a code, no proof): refused.
    let e = expect_err(
        a.post::<_, SessionInfo>(
            "/api/account/totp/enable",
            &json!({"request": {"secret": b32, "code": code}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(e.code, ErrorCode::BadRequest);
    // A made-up proof id: refused.
    let e = expect_err(
        a.post::<_, SessionInfo>(
            "/api/account/totp/enable",
            &json!({"request": {
                "enable_id": b64::encode(&[9u8; 16]),
                "ke3": b64::encode(&[7u8; 64]),
                "secret": b32,
                "code": code,
            }}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("Type your password"), "{}", e.message);

    // A wrong password: refused, and logged.
    let e = expect_err(
        a.enable_totp("not the password at all", &b32, &code).await,
        StatusCode::UNAUTHORIZED,
    );
    assert!(e.message.contains("password is not right"), "{}", e.message);

    // A proof made in another session of the same account (or another account)
    // does not count in this one, and is used up by the attempt.
    let b = s.client();
    b.sign_in("tess", PASSWORD).await;
    let mallory = s.client();
    mallory.signup("mallory", None, s.now()).await.unwrap();
    for other in [&b, &mallory] {
        let (enrolment, start) = TotpEnrolment::start(PASSWORD).unwrap();
        let started: TotpEnableStarted = a
            .post("/api/account/totp/start", &json!({"request": start}))
            .await
            .unwrap();
        let request = enrolment.finish(&started, &secret, &code).unwrap();
        expect_err(
            other
                .post::<_, SessionInfo>("/api/account/totp/enable", &json!({"request": request}))
                .await,
            StatusCode::BAD_REQUEST,
        );
        expect_err(
            a.post::<_, SessionInfo>("/api/account/totp/enable", &json!({"request": request}))
                .await,
            StatusCode::BAD_REQUEST,
        );
    }

    // Nothing changed: no second factor on either account, none asked at sign-in.
    assert!(!a.session().await.unwrap().totp_enabled);
    assert!(!mallory.session().await.unwrap().totp_enabled);
    assert!(matches!(
        s.client().login("tess", PASSWORD).await.unwrap(),
        LoginOutcome::SignedIn(_)
    ));
    let kinds = history(&a).await;
    assert!(!kinds.contains(&EventKind::SecondFactorOn), "{kinds:?}");
    assert!(
        kinds.contains(&EventKind::SecondFactorChangeFailed),
        "{kinds:?}"
    );

    // The real thing works, once.
    let info = a.enable_totp(PASSWORD, &b32, &code).await.unwrap();
    assert!(info.totp_enabled);
}

#[tokio::test]
async fn fail_totp_enable_proof_replayed() {
    let s = Server::new();
    let a = s.client();
    a.signup("uma", None, s.now()).await.unwrap();
    let secret = TotpSecret::generate().unwrap();
    let (enrolment, start) = TotpEnrolment::start(PASSWORD).unwrap();
    let started: TotpEnableStarted = a
        .post("/api/account/totp/start", &json!({"request": start}))
        .await
        .unwrap();
    let request = enrolment
        .finish(&started, &secret, &code_at(&secret, s.now()))
        .unwrap();
    let _: SessionInfo = a
        .post("/api/account/totp/enable", &json!({"request": request}))
        .await
        .unwrap();
    // Off again (the recovery path is elsewhere): the used proof cannot turn it on.
    s.advance(30);
    let _: SessionInfo = a
        .post(
            "/api/account/totp/disable",
            &json!({"code": code_at(&secret, s.now())}),
        )
        .await
        .unwrap();
    expect_err(
        a.post::<_, SessionInfo>("/api/account/totp/enable", &json!({"request": request}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(!a.session().await.unwrap().totp_enabled);
}

#[test]
fn the_enable_request_does_not_print_its_secret() {
    let secret = TotpSecret::generate().unwrap();
    let started = TotpEnableStarted {
        enable_id: [1; 16],
        ke2: vec![0; 320],
    };
    let (enrolment, _) = TotpEnrolment::start(PASSWORD).unwrap();
    // A KE2 of zeros does not verify; build the request by hand instead.
    assert!(enrolment.finish(&started, &secret, "123456").is_err());
    let request: shared::api::account::TotpEnableRequest = serde_json::from_value(json!({
        "enable_id": b64::encode(&[1u8; 16]),
        "ke3": b64::encode(&[7u8; 64]),
        "secret": secret.to_base32().to_string(),
        "code": "123456",
    }))
    .unwrap();
    let printed = format!("{request:?}");
    assert!(!printed.contains(secret.to_base32().as_str()), "{printed}");
    assert!(!printed.contains("123456"), "{printed}");
}

/// Turns the second factor on for a new account `name`; returns the secret.
async fn with_second_factor(s: &Server, name: &str) -> (common::Client, TotpSecret) {
    let c = s.client();
    c.signup(name, None, s.now()).await.unwrap();
    let secret = TotpSecret::generate().unwrap();
    c.enable_totp(PASSWORD, &secret.to_base32(), &code_at(&secret, s.now()))
        .await
        .unwrap();
    (c, secret)
}

#[tokio::test]
async fn the_stored_totp_secret_is_sealed_and_works_across_a_restart() {
    let mut s = Server::new();
    let (_, secret) = with_second_factor(&s, "vera").await;
    s.store.flush().await.unwrap();
    let stored = s.stored_bytes().await;
    let b32 = secret.to_base32();
    for needle in [
        b32.as_bytes(),
        b32.to_lowercase().as_bytes(),
        &secret.as_bytes()[..],
        b64::encode(secret.as_bytes()).as_bytes(),
    ] {
        assert!(!contains(&stored, needle), "the secret is in the store");
    }

    // The same key (the key file read again): sign-in with the code works.
    s.restart(Some(TotpKey::from_bytes([0x5a; 32])));
    s.advance(30);
    let signed_in = sign_in_with_code(&s.client(), "vera", &code_at(&secret, s.now()))
        .await
        .unwrap();
    assert!(signed_in.session.totp_enabled);
}

/// Collects every log line written while it is the default subscriber.
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

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn fail_a_store_copied_without_its_totp_key_checks_no_code() {
    let s = Server::new();
    if s.store_url.is_some() {
        // Copies sled's directory; the sled run covers it.
        return;
    }
    let (_, secret) = with_second_factor(&s, "wendy").await;
    s.store.flush().await.unwrap();

    // The data directory copied elsewhere, started as the server would: its key
    // file is not beside the copy, so a new key is made.
    let root = tempfile::tempdir().unwrap();
    let copy = root.path().join("stolen");
    copy_dir(s.data.path(), &copy);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&copy).unwrap());
    let key_file = TotpKey::default_path(&copy).unwrap();
    assert!(!key_file.exists());
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let clock = s.now() + 30;
    let state = AppState::with_accounts(
        store,
        Site::load(site.path(), false).unwrap(),
        AccountConfig {
            clock: Arc::new(move || clock),
            totp_key: Some(TotpKey::load_or_create(&key_file).unwrap()),
            ..AccountConfig::default()
        },
    );
    let thief = common::Client::new(router(state, Limits::default()));

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let e = expect_err(
        sign_in_with_code(&thief, "wendy", &code_at(&secret, clock)).await,
        StatusCode::INTERNAL_SERVER_ERROR,
    );
    assert_eq!(e.code, ErrorCode::Internal);
    assert_eq!(thief.token(), None, "no session");
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("does not open with this server's TOTP key"),
        "{log}"
    );
    assert!(!log.contains(secret.to_base32().as_str()));
}

#[tokio::test]
async fn plaintext_secrets_from_before_are_sealed_at_start() {
    let s = Server::new();
    let (c, secret) = with_second_factor(&s, "xena").await;
    let user_id: Id = c.session().await.unwrap().user_id;
    // Write the record the way older servers did: the base32 secret in the clear.
    let key = user_key(&user_id);
    let old = s.store.get(Space::Users, &key).await.unwrap().unwrap();
    let mut record: UserRecord = codec::decode(&old).unwrap();
    record.totp_sealed = None;
    record.totp_secret = Some(secret.to_base32().to_string());
    let legacy = codec::encode(&record).unwrap();
    assert!(contains(&legacy, secret.to_base32().as_bytes()));
    let mut batch = Batch::new();
    batch.put(Space::Users, key.clone(), legacy);
    s.store.apply(batch).await.unwrap();

    // Until it is sealed, the server refuses to use it (fails closed).
    s.advance(30);
    expect_err(
        sign_in_with_code(&s.client(), "xena", &code_at(&secret, s.now())).await,
        StatusCode::INTERNAL_SERVER_ERROR,
    );

    let totp_key = TotpKey::from_bytes([0x5a; 32]);
    assert_eq!(
        seal_plaintext_secrets(s.store.as_ref(), &totp_key)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        seal_plaintext_secrets(s.store.as_ref(), &totp_key)
            .await
            .unwrap(),
        0,
        "once"
    );
    let now = s.store.get(Space::Users, &key).await.unwrap().unwrap();
    assert!(!contains(&now, secret.to_base32().as_bytes()));
    s.advance(30);
    sign_in_with_code(&s.client(), "xena", &code_at(&secret, s.now()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_required_second_factor_opens_nothing_but_its_set_up_until_it_is_on() {
    use shared::{
        api::{account::SessionSummary, directory::DirectoryEntry},
        model::Role,
    };
    let s = Server::with(server::backend::AccountSettings {
        second_factor_roles: server::backend::Roles::of(&[Role::Doctor, Role::Auditor]),
        ..Default::default()
    });
    let lookup = json!({"username": "dr.who"});

    // A doctor without one is signed in and told so at once.
    let d = s.client();
    let (info, _) = d
        .signup("dr.who", Some(s.cli_invite(Role::Doctor)), s.now())
        .await
        .unwrap();
    assert!(info.second_factor_required && info.second_factor_policy && !info.totp_enabled);
    assert!(d.session().await.unwrap().second_factor_required);
    // Everything else is refused with a sentence that says what to do.
    let e = expect_err(
        d.post::<_, DirectoryEntry>("/api/directory/lookup", &lookup)
            .await,
        StatusCode::FORBIDDEN,
    );
    assert!(
        e.message.contains("requires a second factor"),
        "{}",
        e.message
    );
    assert!(e.message.contains("Turn it on in Account"), "{}", e.message);
    expect_err(
        d.get::<Vec<SessionSummary>>("/api/account/sessions").await,
        StatusCode::FORBIDDEN,
    );
    // So is an auditor's log, which answers strangers not_found.
    let au = s.client();
    au.signup("the.auditor", Some(s.cli_invite(Role::Auditor)), s.now())
        .await
        .unwrap();
    let e = expect_err(
        au.get::<shared::api::audit::LogPage>("/api/audit/log?from=1&limit=1")
            .await,
        StatusCode::FORBIDDEN,
    );
    assert!(
        e.message.contains("requires a second factor"),
        "{}",
        e.message
    );

    // A patient's role is not in the list: nothing changes for them.
    let p = s.client();
    let (info, _) = p.signup("pat", None, s.now()).await.unwrap();
    assert!(!info.second_factor_required && !info.second_factor_policy);
    let _: DirectoryEntry = p.post("/api/directory/lookup", &lookup).await.unwrap();

    // Turning it on is the one thing that works, and then everything does.
    let secret = TotpSecret::generate().unwrap();
    let b32 = secret.to_base32().to_string();
    let info = d
        .enable_totp(PASSWORD, &b32, &code_at(&secret, s.now()))
        .await
        .unwrap();
    assert!(info.totp_enabled && !info.second_factor_required && info.second_factor_policy);
    let _: DirectoryEntry = d.post("/api/directory/lookup", &lookup).await.unwrap();
    let _: Vec<SessionSummary> = d.get("/api/account/sessions").await.unwrap();

    // And it stays on while the policy holds.
    s.advance(30);
    let e = expect_err(
        d.post::<_, SessionInfo>(
            "/api/account/totp/disable",
            &json!({"code": code_at(&secret, s.now())}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert!(e.message.contains("stays on"), "{}", e.message);
    // The next sign-in asks for a code, as for anyone with one.
    s.advance(30);
    let again = s.client();
    let signed = sign_in_with_code(&again, "dr.who", &code_at(&secret, s.now()))
        .await
        .unwrap();
    assert!(!signed.session.second_factor_required);
}
