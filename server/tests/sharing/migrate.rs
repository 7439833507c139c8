//! `medvault-server migrate` on an installation made by the current code:
//! accounts, a record with a file, a grant and the audit chain move from sled
//! to PostgreSQL, and afterwards the patient, the doctor and the auditor find
//! everything as it was. A live source and a used target are refused.

use std::process::Command;

use shared::{
    api::audit::{AuditPublicKey, HeadsPage, LogPage},
    audit::{verify_log, LogEntry},
};

use super::*;

async fn whole_log(auditor: &Client) -> Vec<LogEntry> {
    let mut out = Vec::new();
    loop {
        let page: LogPage = auditor
            .get(&format!("/api/audit/log?from={}&limit=500", out.len() + 1))
            .await
            .unwrap();
        if page.entries.is_empty() {
            return out;
        }
        out.extend(page.entries);
    }
}

fn migrate(from: &std::path::Path, to: &str, blobs: Option<&str>) -> std::process::Output {
    let mut command = Command::new(common::binary::BIN);
    command
        .args(["migrate", "--from"])
        .arg(from)
        .args(["--to", to]);
    if let Some(blobs) = blobs {
        command.args(["--blobs", blobs]);
    }
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_installation_moves_to_postgresql_and_everything_still_works() {
    if common::postgres::selected() {
        // The source of a move is sled; the sled run covers it.
        return;
    }
    let s = Server::new();
    let p = patient(&s, "mona").await;
    let d = doctor(&s, "dr.move").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let bytes = content("MARKER-moved-file", 3 * CHUNK as usize + 11);
    p.upload_new(&labs, "x-ray.pdf", &bytes, s.now()).await;
    let grant = share(&s, &p, "dr.move", &labs, None, None).await.unwrap();
    let auditor = s.client();
    auditor
        .signup("the.auditor", Some(s.cli_invite(Role::Auditor)), s.now())
        .await
        .unwrap();
    s.audit.sign_head().await.unwrap();
    let events_before = whole_log(&auditor).await.len();
    let audit_seed = s.audit.signing_key().await.unwrap().seed();

    // Stop the server: every handle to the store goes.
    drop((p, d, auditor));
    let (data, clock) = {
        let stopped = s;
        let common::Server { data, clock, .. } = stopped;
        (data, clock)
    };

    let url = common::postgres::schema_url(&common::postgres::unique_schema("moved")).await;
    // Chunks go to an object store, as on a scale-out installation.
    let chunks = tempfile::tempdir().unwrap();
    let blobs = format!("file://{}", chunks.path().display());
    let mut out = migrate(data.path(), &url, Some(&blobs));
    for _ in 0..50 {
        // A write step still finishing holds the store for a moment.
        if out.status.success() || !String::from_utf8_lossy(&out.stderr).contains("running") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        out = migrate(data.path(), &url, Some(&blobs));
    }
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("moved and checked"), "{printed}");
    assert!(printed.contains("blobs"), "{printed}");

    // A second run finds the database in use and leaves it alone.
    let again = migrate(data.path(), &url, Some(&blobs));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));

    // The new installation: PostgreSQL, the same key files and audit key.
    let s = Server::moved_to(&url, Some(&blobs), data, clock, &audit_seed);
    let p2 = s.client();
    let (_, keyring) = p2.sign_in("mona", common::PASSWORD).await;
    let p2 = Patient {
        c: p2,
        id: grant.grant.value.patient_id,
        name: "mona".into(),
        keyring,
    };
    assert_eq!(p2.download_current("x-ray.pdf").await, bytes);

    let dc = s.client();
    let (signed_in, keyring) = dc.sign_in("dr.move", common::PASSWORD).await;
    let d2 = Doctor {
        c: dc,
        id: signed_in.session.user_id,
        keyring,
    };
    let shared = open_scope(&d2, "mona", &grant.grant.value.grant_id).await;
    let file = find(&shared, "x-ray.pdf");
    let version = file.view.current.clone().unwrap();
    let chunks = read_all(&d2.c, &version).await;
    let patient_key = entry(&d2.c, "mona").await.identity_key;
    assert_eq!(open_file(&version, &patient_key, &file.key, &chunks), bytes);

    let auditor = s.client();
    auditor.sign_in("the.auditor", common::PASSWORD).await;
    let all = whole_log(&auditor).await;
    assert!(all.len() > events_before, "the old chain goes on");
    s.audit.sign_head().await.unwrap();
    let key: AuditPublicKey = auditor.get("/api/audit/key").await.unwrap();
    let heads: HeadsPage = auditor
        .get("/api/audit/heads?after=0&limit=1000")
        .await
        .unwrap();
    assert!(
        heads.heads.len() >= 2,
        "the head signed before the move too"
    );
    verify_log(&key.key, &heads.heads, &whole_log(&auditor).await).unwrap();
}

#[test]
fn fail_a_store_a_server_is_running_on_is_not_moved() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    let data = tempfile::tempdir().unwrap();
    let (mut child, _) = common::binary::start(site.path(), data.path(), None, &[]);
    let out = migrate(data.path(), "postgres://nobody@127.0.0.1:1/never", None);
    let _ = child.kill();
    let _ = child.wait();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("is a server still running on it"), "{said}");
}
