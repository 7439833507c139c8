//! Several server processes on one store, as behind a load balancer: what
//! one writes the other serves, and their audit appends form one chain.
//!
//! Each test runs against sled (two in-process servers sharing one store
//! handle) and, on a PostgreSQL run (`MEDVAULT_TEST_STORE=postgres`), against
//! PostgreSQL, where the two servers have their own connections, exactly as
//! two processes would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{files::content, patient::*, Server};
use shared::{
    api::audit::{AuditPublicKey, HeadsPage, LogPage},
    audit::{verify_log, LogEntry},
    model::Role,
};

async fn fetch_all(auditor: &common::Client) -> Vec<LogEntry> {
    let mut out = Vec::new();
    loop {
        let page: LogPage = auditor
            .get(&format!("/api/audit/log?from={}&limit=200", out.len() + 1))
            .await
            .unwrap();
        if page.entries.is_empty() {
            return out;
        }
        out.extend(page.entries);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_from_two_servers_form_one_verifying_chain() {
    let a = Arc::new(Server::new());
    let b = Arc::new(a.sibling().await);
    let now = a.now();

    // Patients on both servers at once: sign-ups, records and uploads, each
    // appending events through its own server's writer.
    let mut work = Vec::new();
    for i in 0..6 {
        let server = if i % 2 == 0 { a.clone() } else { b.clone() };
        work.push(async move {
            let p = patient(&server, &format!("pat{i}")).await;
            p.create_record(now).await;
            let root = p.tree().await.root().unwrap().clone();
            for n in 0..3 {
                let name = format!("scan {i}.{n}");
                let bytes = content(&name, 40_000);
                p.upload_new(&root, &name, &bytes, now).await;
            }
        });
    }
    futures_join_all(work).await;

    // Both servers sign the head they see; the heads verify against one chain.
    a.audit.sign_head().await.unwrap();
    b.audit.sign_head().await.unwrap();
    let auditor = b.client();
    auditor
        .signup("the.auditor", Some(a.cli_invite(Role::Auditor)), now)
        .await
        .unwrap();
    let all = fetch_all(&auditor).await;
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (1..=all.len() as u64).collect();
    assert_eq!(seqs, expected, "one sequence, no gap, no repeat");
    // 6 accounts, 6 records, 18 files, and more: each server wrote some.
    assert!(all.len() >= 30, "only {} events", all.len());
    let key: AuditPublicKey = a.client().get("/api/audit/key").await.unwrap();
    let heads: HeadsPage = auditor
        .get("/api/audit/heads?after=0&limit=1000")
        .await
        .unwrap();
    assert!(!heads.heads.is_empty());
    let verified = verify_log(&key.key, &heads.heads, &all).unwrap();
    assert_eq!(verified.events, all.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_server_stores_the_other_serves() {
    let a = Server::new();
    let b = a.sibling().await;
    let now = a.now();
    let p = patient(&a, "wanda").await;
    p.create_record(now).await;
    let root = p.tree().await.root().unwrap().clone();
    let bytes = content("x-ray", 300_000);
    p.upload_new(&root, "x-ray", &bytes, now).await;

    // The same person signs in on the other server and reads the file.
    let again = b.client();
    let (_, keyring) = again.sign_in("wanda", common::PASSWORD).await;
    let p2 = Patient {
        c: again,
        id: p.id,
        name: p.name.clone(),
        keyring,
    };
    assert_eq!(p2.download_current("x-ray").await, bytes);
}

/// `join_all` without a futures dependency: runs the futures concurrently on
/// the runtime and waits for every one.
async fn futures_join_all<F>(work: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = work.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_on_one_server_holds_on_the_other_at_once() {
    let a = Server::new();
    if a.store_url.is_none() {
        // sled is one process's store: two servers cannot share it, so this
        // server keeps its chunk access decisions for a few seconds. The
        // PostgreSQL run checks that a shared store turns that memory off.
        return;
    }
    let b = a.sibling().await;
    let now = a.now();
    let p = patient(&a, "otto").await;
    p.create_record(now).await;
    let root = p.tree().await.root().unwrap().clone();
    let bytes = content("scan", 30_000);
    p.upload_new(&root, "scan", &bytes, now).await;
    let tree = p.tree().await;
    let version = find(&tree, "scan").view.current.clone().unwrap();
    let path = shared::api::records::chunk_path(&version.node_id, version.version, 1);

    // The same session reads chunk 1 through the other server, twice.
    // (A client of its own holding the same cookie: a sign-out clears the
    // signing-out client's jar, and the stolen copy is what must be refused.)
    let on_b = b.client();
    *on_b.cookie.lock().unwrap() = p.c.token();
    for _ in 0..2 {
        let (status, _, _) = on_b.get_bytes(&path).await;
        assert_eq!(status, axum::http::StatusCode::OK);
    }
    // Signed out through the first server: the second refuses the next read.
    let _: () =
        p.c.post("/api/account/logout", &serde_json::json!({}))
            .await
            .unwrap();
    let (status, _, _) = on_b.get_bytes(&path).await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_started_on_one_server_finishes_on_the_other_once() {
    let a = Server::new();
    if a.store_url.is_none() {
        // One process per sled store: pending sign-ins stay in its memory.
        return;
    }
    let b = a.sibling().await;
    patient(&a, "sally").await;

    let on_a = a.client();
    let (login, started) = on_a.login_start("sally", common::PASSWORD).await.unwrap();
    let (finish, _) = login.finish(&started).unwrap();
    let body = serde_json::json!({ "request": finish });
    let on_b = b.client();
    let outcome: shared::api::account::LoginOutcome =
        on_b.post("/api/account/login/finish", &body).await.unwrap();
    assert!(matches!(
        outcome,
        shared::api::account::LoginOutcome::SignedIn(_)
    ));
    assert!(
        on_b.session().await.is_some(),
        "signed in on the other server"
    );
    // The same KE3 again, on either server: the state was used up.
    for c in [&on_a, &on_b] {
        let e = c
            .post::<_, shared::api::account::LoginOutcome>("/api/account/login/finish", &body)
            .await
            .unwrap_err();
        assert_eq!(e.0, axum::http::StatusCode::BAD_REQUEST);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_guesses_spread_over_two_servers_meet_one_limit() {
    let a = Server::new();
    if a.store_url.is_none() {
        // On sled each in-process server counts for itself; one process
        // per store is all sled allows, so there is nothing to spread over.
        return;
    }
    let b = a.sibling().await;
    patient(&a, "gail").await;
    let guess = |c: common::Client| async move {
        c.login_sending_ke3("gail", "not her password at all").await
    };
    // The free failures, alternating between the servers.
    for i in 0..server::backend::throttle::FREE_FAILURES {
        let c = if i % 2 == 0 { a.client() } else { b.client() };
        let e = guess(c).await.unwrap_err();
        assert_eq!(e.0, axum::http::StatusCode::UNAUTHORIZED, "guess {i}");
    }
    // One more counts a delay, which both servers then enforce.
    let e = guess(b.client()).await.unwrap_err();
    assert_eq!(e.0, axum::http::StatusCode::UNAUTHORIZED);
    for s in [&a, &b] {
        let e = guess(s.client()).await.unwrap_err();
        assert_eq!(e.0, axum::http::StatusCode::TOO_MANY_REQUESTS);
    }
}
