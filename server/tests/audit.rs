//! The audit log end to end in-process: every account and admin action
//! appends exactly one event of its kind in the same batch as its change; the
//! chain and the signed heads verify with the shared verifier; tampering with
//! the store is found and named; who may read what.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use common::{Server, PASSWORD};
use serde_json::json;
use server::{
    backend::audit::{event_key, Draft},
    store::{Batch, Space, StoreError},
};
use shared::{
    api::{
        account::{PasswordChangeStarted, Recovered, RecoveryStarted, SessionInfo, SessionSummary},
        admin::{Invite, UserSummary},
        audit::{AuditPublicKey, EventsPage, HeadsPage, LogPage},
        ErrorCode,
    },
    audit::{verify_log, AuditEvent, BreakReason, EventKind, LogEntry},
    client::{PasswordChange, Recovery},
    crypto::{
        audit_chain::{
            GENESIS, {self},
        },
        b64,
        totp::{
            TotpSecret, {self},
        },
    },
    model::{Id, Role},
};

/// The whole log as the auditor fetches it, in small pages.
async fn fetch_all(auditor: &common::Client) -> Vec<LogEntry> {
    let mut out = Vec::new();
    loop {
        let page: LogPage = auditor
            .get(&format!("/api/audit/log?from={}&limit=3", out.len() + 1))
            .await
            .unwrap();
        if page.entries.is_empty() {
            // (The head may say more: the verifier judges a short log.)
            return out;
        }
        out.extend(page.entries);
    }
}

async fn heads(auditor: &common::Client) -> HeadsPage {
    auditor
        .get("/api/audit/heads?after=0&limit=1000")
        .await
        .unwrap()
}

/// The events after the first `seen`, decoded; moves `seen` on.
async fn new_events(auditor: &common::Client, seen: &mut usize) -> Vec<AuditEvent> {
    let all = fetch_all(auditor).await;
    let fresh = all[*seen..]
        .iter()
        .map(|e| AuditEvent::decode(&e.event).unwrap())
        .collect();
    *seen = all.len();
    fresh
}

async fn expect_kinds(auditor: &common::Client, seen: &mut usize, kinds: &[EventKind]) {
    let got: Vec<EventKind> = new_events(auditor, seen)
        .await
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(got, kinds);
}

async fn auditor(s: &Server) -> common::Client {
    let c = s.client();
    let (info, _) = c
        .signup("the.auditor", Some(s.cli_invite(Role::Auditor)), s.now())
        .await
        .unwrap();
    assert_eq!(info.role, Role::Auditor);
    c
}

fn code_at(secret: &TotpSecret, now: i64) -> String {
    totp::code(secret, now as u64).unwrap().to_string()
}

#[tokio::test]
async fn every_account_and_admin_action_appends_one_event_of_its_kind() {
    use EventKind::*;
    let s = Server::new();
    let au = auditor(&s).await;
    let mut seen = 0;
    expect_kinds(&au, &mut seen, &[AccountCreated]).await;

    let p = s.client();
    let (info, account) = p.signup("pat", None, s.now()).await.unwrap();
    let pat: Id = info.user_id;
    let created = new_events(&au, &mut seen).await;
    assert_eq!(created.len(), 1);
    let e = &created[0];
    assert_eq!(
        (e.kind, e.actor, e.subject, e.at),
        (AccountCreated, Some(pat), Some(pat), s.now())
    );
    assert!(e.session.is_some());

    let _: () = p.post("/api/account/logout", &json!({})).await.unwrap();
    expect_kinds(&au, &mut seen, &[SignOut]).await;
    p.sign_in("pat", PASSWORD).await;
    expect_kinds(&au, &mut seen, &[SignIn]).await;

    // Failures: a known account (named) and an unknown one (nobody).
    assert!(s
        .client()
        .login_sending_ke3("pat", "not the password at all")
        .await
        .is_err());
    assert!(s
        .client()
        .login_sending_ke3("nobody.here", PASSWORD)
        .await
        .is_err());
    let failed = new_events(&au, &mut seen).await;
    assert_eq!(failed.len(), 2);
    assert_eq!(
        (failed[0].kind, failed[0].actor, failed[0].subject),
        (SignInFailed, Some(pat), Some(pat))
    );
    assert_eq!(
        (failed[1].kind, failed[1].actor, failed[1].subject),
        (SignInFailed, None, None)
    );

    // Reading changes nothing and logs nothing.
    let q = s.client();
    q.sign_in("pat", PASSWORD).await;
    expect_kinds(&au, &mut seen, &[SignIn]).await;
    let list: Vec<SessionSummary> = p.get("/api/account/sessions").await.unwrap();
    assert_eq!(p.session().await.unwrap().user_id, pat);
    expect_kinds(&au, &mut seen, &[]).await;
    let other = list.iter().find(|x| !x.current).unwrap();
    let _: () = p
        .post("/api/account/sessions/revoke", &json!({"id": other.id}))
        .await
        .unwrap();
    let revoked = new_events(&au, &mut seen).await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].kind, SessionRevoked);
    assert_eq!(b64::encode(&revoked[0].item.unwrap()), other.id);

    // Second factor on and off; a wrong code is refused and logged.
    let secret = TotpSecret::generate().unwrap();
    let wrong = code_at(&secret, s.now() + 7200);
    let (status, _) = p
        .enable_totp(PASSWORD, &secret.to_base32(), &wrong)
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    expect_kinds(&au, &mut seen, &[SecondFactorChangeFailed]).await;
    // A wrong password in the proof is refused and logged the same way.
    let (status, _) = p
        .enable_totp(
            "not the password at all",
            &secret.to_base32(),
            &code_at(&secret, s.now()),
        )
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    expect_kinds(&au, &mut seen, &[SecondFactorChangeFailed]).await;
    p.enable_totp(PASSWORD, &secret.to_base32(), &code_at(&secret, s.now()))
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[SecondFactorOn]).await;
    s.advance(30);
    let (status, _) = p
        .post_raw(
            "/api/account/totp/disable",
            json!({"code": code_at(&secret, s.now() + 7200)}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    expect_kinds(&au, &mut seen, &[SecondFactorChangeFailed]).await;
    let _: SessionInfo = p
        .post(
            "/api/account/totp/disable",
            &json!({"code": code_at(&secret, s.now())}),
        )
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[SecondFactorOff]).await;

    // A password change whose proof of the current password is wrong (a
    // client that skips its own check): refused and logged.
    let (change, start) = PasswordChange::start(PASSWORD, "another new passphrase 8").unwrap();
    let started: PasswordChangeStarted = p
        .post("/api/account/password/start", &json!({"request": start}))
        .await
        .unwrap();
    let finish = change.finish(&started, &account.keyring, &pat).unwrap();
    let mut forged = serde_json::to_value(&finish).unwrap();
    let mut ke3 = b64::decode(forged["ke3"].as_str().unwrap()).unwrap();
    ke3[0] ^= 1;
    forged["ke3"] = json!(b64::encode(&ke3));
    let (status, _) = p
        .post_raw(
            "/api/account/password/finish",
            json!({ "request": forged }).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    expect_kinds(&au, &mut seen, &[PasswordChangeFailed]).await;

    // Password change.
    let new_password = "an entirely new passphrase 7";
    let (change, start) = PasswordChange::start(PASSWORD, new_password).unwrap();
    let started: PasswordChangeStarted = p
        .post("/api/account/password/start", &json!({"request": start}))
        .await
        .unwrap();
    let finish = change.finish(&started, &account.keyring, &pat).unwrap();
    let _: serde_json::Value = p
        .post("/api/account/password/finish", &json!({"request": finish}))
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[PasswordChanged]).await;

    // Recovery: a wrong code, then the right one.
    let r = s.client();
    let (_, start) = Recovery::start("pat", PASSWORD).unwrap();
    let started: RecoveryStarted = r
        .post("/api/account/recovery/start", &json!({"request": start}))
        .await
        .unwrap();
    let other = shared::crypto::recovery::RecoverySecret::generate().unwrap();
    let bogus = json!({"request": {
        "recovery_id": b64::encode(&started.recovery_id),
        "proof": other.prove(&started.user_id, &started.challenge).unwrap(),
        "registration_upload": b64::encode(&[0u8; 192]),
        "sealed_keyring": b64::encode(&[0u8; shared::crypto::keyring::SEALED_LEN]),
    }});
    let (status, _) = r
        .post_raw("/api/account/recovery/finish", bogus.to_string())
        .await;
    let failed = new_events(&au, &mut seen).await;
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(
            failed.iter().map(|e| e.kind).collect::<Vec<_>>(),
            [RecoveryFailed]
        );
    } else {
        assert!(failed.is_empty(), "a malformed request logs nothing");
    }
    let (recovery, start) = Recovery::start("pat", PASSWORD).unwrap();
    let started: RecoveryStarted = r
        .post("/api/account/recovery/start", &json!({"request": start}))
        .await
        .unwrap();
    let (finish, _) = recovery
        .finish(&started, &account.recovery.to_code())
        .unwrap();
    let _: Recovered = r
        .post("/api/account/recovery/finish", &json!({"request": finish}))
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[AccountRecovered]).await;
    let _: serde_json::Value = r
        .post("/api/account/logout-everywhere", &json!({}))
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[SignOutEverywhere]).await;

    // Admin actions name the admin as actor and the account as subject.
    let a = s.client();
    let (admin_info, admin_account) = a
        .signup("root.admin", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[AccountCreated]).await;
    let invite: Invite = a
        .post("/api/admin/invites", &json!({"role": "doctor"}))
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[InviteCreated]).await;
    let d = s.client();
    d.signup("dr.who", Some(invite.code), s.now())
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[AccountCreated]).await;
    let served: shared::api::directory::DirectoryEntry = a
        .post("/api/directory/lookup", &json!({"username": "dr.who"}))
        .await
        .unwrap();
    let checked = shared::client::verify_directory_entry("dr.who", &served).unwrap();
    let cert = shared::client::certify_doctor(
        &admin_account.keyring,
        admin_info.user_id,
        &checked.entry,
        "GMC-1234567",
        s.now(),
    );
    let _: UserSummary = a
        .post("/api/admin/verify-doctor", &json!({"certificate": cert}))
        .await
        .unwrap();
    let verified = new_events(&au, &mut seen).await;
    assert_eq!(verified.len(), 1);
    assert_eq!(
        (verified[0].kind, verified[0].actor, verified[0].subject),
        (
            DoctorVerified,
            Some(admin_info.user_id),
            Some(checked.entry.user_id)
        )
    );
    for disabled in [true, false] {
        let _: UserSummary = a
            .post(
                "/api/admin/set-disabled",
                &json!({"user_id": b64::encode(&pat), "disabled": disabled}),
            )
            .await
            .unwrap();
    }
    expect_kinds(&au, &mut seen, &[AccountDisabled, AccountEnabled]).await;
    let _: Vec<UserSummary> = a.get("/api/admin/users").await.unwrap();
    expect_kinds(&au, &mut seen, &[]).await;

    // The whole chain verifies, link by link and against a signed head.
    let all = fetch_all(&au).await;
    let links: Vec<audit_chain::Link<'_>> = all
        .iter()
        .map(|e| audit_chain::Link {
            seq: e.seq,
            event: &e.event,
            hash: e.hash,
        })
        .collect();
    let last = audit_chain::verify_run(&GENESIS, 0, &links).unwrap();
    let signed = s.audit.sign_head().await.unwrap().unwrap();
    assert_eq!(
        (signed.value.seq, signed.value.hash),
        (all.len() as u64, last)
    );
    assert_eq!(
        s.audit.sign_head().await.unwrap(),
        None,
        "nothing new to sign"
    );
    let key: AuditPublicKey = s.client().get("/api/audit/key").await.unwrap();
    let hs = heads(&au).await;
    assert_eq!(hs.heads, vec![signed]);
    let v = verify_log(&key.key, &hs.heads, &all).unwrap();
    assert_eq!((v.events, v.heads), (all.len() as u64, 1));
}

#[tokio::test]
async fn failed_batches_leave_neither_change_nor_event() {
    let s = Server::new();
    let au = auditor(&s).await;
    let a = s.client();
    a.signup("root.admin", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    let mut seen = fetch_all(&au).await.len();

    // Two sign-ups race for one name: the second finish fails whole.
    use shared::client::Signup;
    let mut finishes = Vec::new();
    for _ in 0..2 {
        let c = s.client();
        let (signup, start) = Signup::start("same.name", PASSWORD, None).unwrap();
        let started: shared::api::account::SignupStarted = c
            .post("/api/account/signup/start", &json!({"request": start}))
            .await
            .unwrap();
        finishes.push((c, signup.finish(&started, s.now()).unwrap()));
    }
    let mut results = Vec::new();
    for (c, account) in &finishes {
        results.push(
            c.post::<_, SessionInfo>(
                "/api/account/signup/finish",
                &json!({"request": account.request}),
            )
            .await,
        );
    }
    assert!(results[0].is_ok());
    let (status, e) = results[1].as_ref().unwrap_err();
    assert_eq!(
        (*status, e.code),
        (StatusCode::CONFLICT, ErrorCode::Conflict)
    );
    assert_eq!(finishes[1].0.token(), None);
    expect_kinds(&au, &mut seen, &[EventKind::AccountCreated]).await;

    // One invite, two sign-ups: the second fails with its event.
    let invite: Invite = a
        .post("/api/admin/invites", &json!({"role": "doctor"}))
        .await
        .unwrap();
    expect_kinds(&au, &mut seen, &[EventKind::InviteCreated]).await;
    let mut finishes = Vec::new();
    for name in ["doc.one", "doc.two"] {
        let c = s.client();
        let (signup, start) = Signup::start(name, PASSWORD, Some(invite.code.clone())).unwrap();
        let started: shared::api::account::SignupStarted = c
            .post("/api/account/signup/start", &json!({"request": start}))
            .await
            .unwrap();
        finishes.push((c, signup.finish(&started, s.now()).unwrap()));
    }
    let first: Result<SessionInfo, _> = finishes[0]
        .0
        .post(
            "/api/account/signup/finish",
            &json!({"request": finishes[0].1.request}),
        )
        .await;
    assert!(first.is_ok());
    let second: Result<SessionInfo, _> = finishes[1]
        .0
        .post(
            "/api/account/signup/finish",
            &json!({"request": finishes[1].1.request}),
        )
        .await;
    assert_eq!(second.unwrap_err().0, StatusCode::CONFLICT);
    expect_kinds(&au, &mut seen, &[EventKind::AccountCreated]).await;
    let users: Vec<UserSummary> = a.get("/api/admin/users").await.unwrap();
    assert!(users.iter().all(|u| u.username != "doc.two"));

    // Straight at the log: a batch whose precondition fails writes no event,
    // and concurrent appends (some failing) keep the chain whole.
    let mut tasks = Vec::new();
    for i in 0..64u8 {
        let log = s.audit.clone();
        tasks.push(tokio::spawn(async move {
            let mut batch = Batch::new();
            // Every fourth one claims a key that already exists (its own twin).
            let key = vec![9, i / 4];
            batch
                .expect_absent(Space::Grants, key.clone())
                .put(Space::Grants, key, vec![i]);
            log.append(batch, Draft::new(EventKind::SignInFailed)).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 16, "one per key");
    let fresh = new_events(&au, &mut seen).await;
    assert_eq!(fresh.len(), 16);
    let all = fetch_all(&au).await;
    let key: AuditPublicKey = au.get("/api/audit/key").await.unwrap();
    verify_log(&key.key, &[], &all).unwrap();
}

/// Rewrites the stored event `seq` with one of its bytes changed.
async fn edit_stored_event(s: &Server, seq: u64) {
    let key = event_key(seq);
    let raw = s.store.get(Space::Audit, &key).await.unwrap().unwrap();
    let mut stored: serde_json::Value = serde_json::from_slice(&raw[1..]).unwrap();
    let mut event = b64::decode(stored["event"].as_str().unwrap()).unwrap();
    let last = event.len() - 20;
    event[last] ^= 1;
    stored["event"] = json!(b64::encode(&event));
    let mut bytes = vec![raw[0]];
    bytes.extend(serde_json::to_vec(&stored).unwrap());
    s.store.put(Space::Audit, key, bytes).await.unwrap();
}

#[tokio::test]
async fn tampering_in_the_store_is_found_and_named() {
    let s = Server::new();
    let au = auditor(&s).await;
    for name in ["ann", "bob", "cat"] {
        s.client().signup(name, None, s.now()).await.unwrap();
    }
    let signed = s.audit.sign_head().await.unwrap().unwrap();
    assert_eq!(signed.value.seq, 4);
    let key: AuditPublicKey = au.get("/api/audit/key").await.unwrap();
    let hs = heads(&au).await.heads;
    verify_log(&key.key, &hs, &fetch_all(&au).await).unwrap();

    // One event edited in place: named at its position.
    edit_stored_event(&s, 2).await;
    let err = verify_log(&key.key, &hs, &fetch_all(&au).await).unwrap_err();
    assert_eq!((err.seq, err.reason), (2, BreakReason::HashMismatch));

    // The same edit with every later hash recomputed: the signed head catches it.
    let mut forged = fetch_all(&au).await;
    let mut prev = forged[0].hash;
    for e in &mut forged[1..] {
        e.hash = audit_chain::link(&prev, e.seq, &e.event);
        prev = e.hash;
    }
    let err = verify_log(&key.key, &hs, &forged).unwrap_err();
    assert_eq!((err.seq, err.reason), (4, BreakReason::HeadMismatch));

    // The last events dropped behind the signed head.
    let s2 = Server::new();
    let au2 = auditor(&s2).await;
    for name in ["ann", "bob", "cat"] {
        s2.client().signup(name, None, s2.now()).await.unwrap();
    }
    s2.audit.sign_head().await.unwrap().unwrap();
    let key2: AuditPublicKey = au2.get("/api/audit/key").await.unwrap();
    let hs2 = heads(&au2).await.heads;
    for seq in [3, 4] {
        s2.store.delete(Space::Audit, event_key(seq)).await.unwrap();
    }
    let err = verify_log(&key2.key, &hs2, &fetch_all(&au2).await).unwrap_err();
    assert_eq!((err.seq, err.reason), (3, BreakReason::Truncated));
    // A head signed by another server's key is refused.
    assert_eq!(
        verify_log(&key.key, &hs2, &[]).unwrap_err().reason,
        BreakReason::BadHeadSignature
    );
}

#[tokio::test]
async fn who_may_read_what_and_bad_page_requests() {
    let s = Server::new();
    let au = auditor(&s).await;
    let a = s.client();
    a.signup("root.admin", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    let p = s.client();
    let (pinfo, _) = p.signup("pat", None, s.now()).await.unwrap();
    let q = s.client();
    q.signup("quin", None, s.now()).await.unwrap();
    assert!(s
        .client()
        .login_sending_ke3("pat", "wrong password here")
        .await
        .is_err());

    // Auditor calls: not found for anyone else.
    for c in [&a, &p] {
        for path in [
            "/api/audit/log?from=1&limit=10",
            "/api/audit/heads?after=0&limit=10",
        ] {
            let e = c.get::<serde_json::Value>(path).await.unwrap_err();
            assert_eq!(e.0, StatusCode::NOT_FOUND, "{path}");
        }
    }
    // Admin's system events: not found for the auditor and patients.
    for c in [&au, &p] {
        let e = c
            .get::<EventsPage>("/api/audit/system?after=0&limit=10")
            .await
            .unwrap_err();
        assert_eq!(e.0, StatusCode::NOT_FOUND);
    }
    let system: EventsPage = a.get("/api/audit/system?after=0&limit=2").await.unwrap();
    assert_eq!(system.events.len(), 2);
    let rest: EventsPage = a
        .get(&format!(
            "/api/audit/system?after={}&limit=1000",
            system.next.unwrap()
        ))
        .await
        .unwrap();
    assert_eq!(system.events.len() + rest.events.len(), 5);
    assert_eq!(rest.next, None);

    // A patient sees events about them only (their sign-up and the failed sign-in).
    let mine: EventsPage = p.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let kinds: Vec<EventKind> = mine.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::AccountCreated, EventKind::SignInFailed]);
    assert!(mine.events.iter().all(|e| e.subject == Some(pinfo.user_id)));
    let theirs: EventsPage = q.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    assert_eq!(theirs.events.len(), 1);
    let e = s
        .client()
        .get::<EventsPage>("/api/audit/mine?after=0&limit=10")
        .await
        .unwrap_err();
    assert_eq!(e.0, StatusCode::UNAUTHORIZED);

    // Bad pages: 400 JSON, for the auditor too.
    for path in [
        "/api/audit/log?from=0&limit=10",
        "/api/audit/log?from=7&limit=10",
        "/api/audit/log?from=1&limit=0",
        "/api/audit/log?from=1&limit=1001",
        "/api/audit/log?from=abc&limit=10",
        "/api/audit/log?from=1",
        "/api/audit/heads?after=0&limit=5000",
        "/api/audit/log?from=-1&limit=10",
    ] {
        let e = au.get::<LogPage>(path).await.unwrap_err();
        assert_eq!(e.0, StatusCode::BAD_REQUEST, "{path}: {:?}", e.1);
    }
    let e = p
        .get::<EventsPage>("/api/audit/mine?after=0&limit=100000")
        .await
        .unwrap_err();
    assert_eq!(e.0, StatusCode::BAD_REQUEST);
    // One past the end is an empty page, not an error.
    let page: LogPage = au.get("/api/audit/log?from=6&limit=10").await.unwrap();
    assert!(page.entries.is_empty());
    assert_eq!(page.head_seq, 5);
    // Reading logged nothing.
    assert_eq!(fetch_all(&au).await.len(), 5);
}

/// The real store, except that while `failing` is set every write fails as a
/// full or broken disk would.
struct FailingStore {
    inner: std::sync::Arc<dyn server::store::Store>,
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait::async_trait]
impl server::store::Store for FailingStore {
    async fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(space, key).await
    }

    async fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<server::store::Entry>, StoreError> {
        self.inner.scan_prefix(space, prefix, after, limit).await
    }

    async fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Backend("injected write failure".into()));
        }
        self.inner.apply(batch).await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.inner.check().await
    }
}

#[tokio::test]
async fn a_write_the_store_fails_leaves_neither_the_change_nor_its_event() {
    use common::patient::{find, patient};
    use std::sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    };
    let failing = Arc::new(AtomicBool::new(false));
    let switch = failing.clone();
    let s = Server::with_store(Default::default(), Default::default(), move |inner| {
        Arc::new(FailingStore {
            inner,
            failing: switch,
        })
    });
    let au = auditor(&s).await;
    let p = patient(&s, "fay").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let mut seen = 0;
    new_events(&au, &mut seen).await;
    let before = p.raw_tree().await;
    new_events(&au, &mut seen).await;

    // The disk fails: a new folder, a trash and a sign-in are all refused
    // with the generic 500 and nothing of them is kept.
    // (The changes are signed first: reading the tree to sign is logged.)
    let create = p.create_folder_request(&notes, "never").await;
    let trash = p.trash_request(notes.id(), notes.view.revision).await;
    new_events(&au, &mut seen).await;
    failing.store(true, Ordering::SeqCst);
    let e = common::patient::expect_err(
        p.c.post::<_, shared::api::records::NodeView>("/api/records/node/create", &create)
            .await,
        StatusCode::INTERNAL_SERVER_ERROR,
    );
    assert_eq!(e.code, ErrorCode::Internal);
    common::patient::expect_err(
        p.c.post::<_, shared::api::records::NodeView>("/api/records/node/trash", &trash)
            .await,
        StatusCode::INTERNAL_SERVER_ERROR,
    );
    assert!(s.client().login("fay", PASSWORD).await.is_err());
    failing.store(false, Ordering::SeqCst);

    let after = p.raw_tree().await;
    assert_eq!(after.nodes, before.nodes, "no change was kept");
    // Only the tree view just now was logged; nothing of the failed writes.
    expect_kinds(&au, &mut seen, &[EventKind::RecordViewed]).await;

    // The log goes on from where it was: the next change and its event land,
    // and the whole chain verifies.
    let kept = p.create_folder_request(&notes, "kept").await;
    new_events(&au, &mut seen).await;
    let _: shared::api::records::NodeView =
        p.c.post("/api/records/node/create", &kept).await.unwrap();
    expect_kinds(&au, &mut seen, &[EventKind::NodeCreated]).await;
    let all = fetch_all(&au).await;
    let signed = s.audit.sign_head().await.unwrap().unwrap();
    let key: AuditPublicKey = s.client().get("/api/audit/key").await.unwrap();
    let v = verify_log(&key.key, &[signed], &all).unwrap();
    assert_eq!(v.events, all.len() as u64);
}
