//! Notifications: each party hears of what the other did, in the same write
//! as the change; a share ending within seven days is announced to both
//! sides; marking read clears the count; nobody lists anyone else's.

use shared::api::notifications::{Notice, NoticeKind, Notices};

use super::*;

async fn notices(c: &Client) -> Notices {
    c.get("/api/notifications").await.unwrap()
}

fn kinds(n: &Notices) -> Vec<NoticeKind> {
    n.notices.iter().map(|n| n.kind).collect()
}

fn first(n: &Notices, kind: NoticeKind) -> &Notice {
    n.notices.iter().find(|n| n.kind == kind).unwrap()
}

#[tokio::test]
async fn each_side_hears_of_what_the_other_did() {
    let s = Server::new();
    let p = patient(&s, "nora").await;
    let d = writer(&s, "dr.bell").await;
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    assert_eq!(notices(&p.c).await.unread, 0);

    // A request reaches the patient; the patient's no reaches the doctor.
    let ask = json!({"request": {"patient_username": "nora", "reason": "follow-up"}});
    let first_ask: AccessRequestView = d.c.post("/api/sharing/request/create", &ask).await.unwrap();
    let got = notices(&p.c).await;
    assert_eq!(got.unread, 1);
    let asked = first(&got, NoticeKind::AccessRequested);
    assert_eq!((asked.other.as_str(), asked.unread), ("dr.bell", true));
    let deny = json!({"request": {"request_id": b64::encode(&first_ask.request_id)}});
    let _: AccessRequestView = p.c.post("/api/sharing/request/deny", &deny).await.unwrap();
    assert_eq!(kinds(&notices(&d.c).await), [NoticeKind::AccessDenied]);

    // Notices of one second have no set order.
    s.advance(1);
    // Asked again and approved with a share ending in three days: the
    // doctor hears of the approval, and both sides of the end.
    let again: AccessRequestView = d.c.post("/api/sharing/request/create", &ask).await.unwrap();
    let ends = s.now() + 3 * 24 * 3600;
    let grant = share_as(
        &s,
        &p,
        "dr.bell",
        &notes,
        Permission::ReadWrite,
        Some(ends),
        Some(again.request_id),
    )
    .await
    .unwrap();
    let grant_id = grant.grant.value.grant_id;
    let at_doctor = notices(&d.c).await;
    assert_eq!(
        kinds(&at_doctor),
        [
            NoticeKind::ShareEnding,
            NoticeKind::AccessApproved,
            NoticeKind::AccessDenied
        ]
    );
    assert_eq!(first(&at_doctor, NoticeKind::ShareEnding).at, ends);
    assert_eq!(
        first(&at_doctor, NoticeKind::AccessApproved).grant_id,
        Some(grant_id)
    );
    let at_patient = notices(&p.c).await;
    assert_eq!(first(&at_patient, NoticeKind::ShareEnding).other, "dr.bell");

    // A file the doctor adds reaches the patient, naming the file's node.
    let seen = open_scope_as(&d.c, &d.id, &d.keyring, "nora", &grant_id).await;
    let up = d
        .start_new(seen.root().unwrap(), "ecg.pdf", b"sinus rhythm", s.now())
        .await
        .unwrap();
    d.put_all(&up).await;
    d.finish(&up, s.now()).await.unwrap();
    let at_patient = notices(&p.c).await;
    let written = first(&at_patient, NoticeKind::FileWritten);
    assert_eq!(written.node_id, Some(up.node_id));
    assert_eq!(written.other, "dr.bell");
    // The patient's own uploads tell nobody.
    let own = p
        .start_new(&notes, "own.txt", b"mine", s.now())
        .await
        .unwrap();
    p.put_all(&own).await;
    p.finish(&own, s.now()).await.unwrap();
    assert_eq!(notices(&p.c).await.notices.len(), at_patient.notices.len());

    // Read: the stored ones stop counting; the ending share counts while it is so.
    let before = notices(&p.c).await.unread;
    assert_eq!(before, 4);
    let read: Notices =
        p.c.post("/api/notifications/read", &json!({}))
            .await
            .unwrap();
    assert_eq!(read.unread, 1);
    assert!(read
        .notices
        .iter()
        .all(|n| !n.unread || n.kind == NoticeKind::ShareEnding));
    // A share ending in eight days is not "ending soon" yet.
    let labs = find(&p.tree().await, "Lab results").clone();
    share(
        &s,
        &p,
        "dr.bell",
        &labs,
        Some(s.now() + 8 * 24 * 3600),
        None,
    )
    .await
    .unwrap();
    let ending = |n: &Notices| {
        n.notices
            .iter()
            .filter(|n| n.kind == NoticeKind::ShareEnding)
            .count()
    };
    assert_eq!(ending(&notices(&p.c).await), 1);
    assert_eq!(ending(&notices(&d.c).await), 1);

    // Nobody signed out lists any.
    expect_err(
        s.client().get::<Notices>("/api/notifications").await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn an_emergency_request_and_its_opening_reach_the_patient_once() {
    let s = Server::new();
    let p = patient(&s, "olga").await;
    let c = writer(&s, "dr.watch").await;
    p.create_record(s.now()).await;
    let root = p.tree().await.root().unwrap().clone();
    let named = name_contact(&s, &p, "dr.watch", &root, Permission::Read, 3600)
        .await
        .unwrap();
    let grant_id = named.grant.value.grant_id;
    assert_eq!(kinds(&notices(&c.c).await), [NoticeKind::ContactNamed]);
    ask_emergency(&c.c, &grant_id, "found unconscious")
        .await
        .unwrap();
    let got = notices(&p.c).await;
    assert_eq!(kinds(&got), [NoticeKind::EmergencyRequested]);
    assert_eq!(got.notices[0].other, "dr.watch");
    pass(&s, &[&p.c, &c.c], 3700).await;
    for _ in 0..3 {
        let _: SharedScope =
            c.c.get(&format!(
                "/api/sharing/shared?grant_id={}",
                b64::encode(&grant_id)
            ))
            .await
            .unwrap();
    }
    let got = notices(&p.c).await;
    assert_eq!(
        kinds(&got),
        [NoticeKind::EmergencyOpened, NoticeKind::EmergencyRequested]
    );
}

/// A local SMTP sink: Debian's aiosmtpd writing every message it takes
/// into a maildir, stopped when dropped.
struct SmtpSink {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    async fn start() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let mut child = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .expect("python3-aiosmtpd (installed by scripts/setup.sh --test)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpSink { child, port, dir };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start; is python3-aiosmtpd installed?");
    }

    /// The messages received so far, raw.
    fn messages(&self) -> Vec<String> {
        let new = self.dir.path().join("mail").join("new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect()
    }

    /// Waits up to ten seconds for `count` messages.
    async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..100 {
            let got = self.messages();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_notification_email_says_only_that_there_is_one() {
    use server::backend::mailer::{Mailer, SUBJECT};
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(
        &format!("smtp://127.0.0.1:{}", sink.port),
        "medvault <noreply@clinic.example>",
        Some("https://medvault.clinic.example".to_owned()),
    )
    .unwrap();
    let s = Server::with_mailer(mailer);
    let p = patient(&s, "quinn").await;
    let d = writer(&s, "dr.marsh").await;
    p.create_record(s.now()).await;

    // The address is checked, kept, shown back, and its change is logged
    // without it.
    let set = |email: serde_json::Value| json!({ "email": email });
    expect_err(
        p.c.post::<_, serde_json::Value>(
            "/api/notifications/email/set",
            &set(json!("not an address")),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    let kept: serde_json::Value =
        p.c.post(
            "/api/notifications/email/set",
            &set(json!(" quinn@example.org ")),
        )
        .await
        .unwrap();
    assert_eq!(
        kept,
        json!({ "email": "quinn@example.org", "available": true })
    );
    let shown: serde_json::Value = p.c.get("/api/notifications/email").await.unwrap();
    assert_eq!(shown, kept);
    assert!(p.history().await.contains(&EventKind::NoticeEmailChanged));

    // Two notices in a row (a request, and another after a no): one e-mail.
    let reason = "chest pain follow-up";
    let ask = json!({"request": {"patient_username": "quinn", "reason": reason}});
    let first_ask: AccessRequestView = d.c.post("/api/sharing/request/create", &ask).await.unwrap();
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1, "one message for the request");
    let deny = json!({"request": {"request_id": b64::encode(&first_ask.request_id)}});
    let _: AccessRequestView = p.c.post("/api/sharing/request/deny", &deny).await.unwrap();
    let _: AccessRequestView = d.c.post("/api/sharing/request/create", &ask).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got = sink.messages();
    assert_eq!(
        got.len(),
        1,
        "the second notice within the quiet time sends nothing"
    );

    // What it says: that there is a notification, and where to read it.
    let message = &got[0];
    assert!(message.contains("To: quinn@example.org"), "{message}");
    assert!(
        message.contains(&format!("Subject: {SUBJECT}")),
        "{message}"
    );
    assert!(
        message.contains("https://medvault.clinic.example/notifications"),
        "{message}"
    );
    // Nothing else: not who asked, not why, not whose record.
    for secret in ["dr.marsh", reason, "chest", "quinn\n", "Notes", "record of"] {
        assert!(!message.contains(secret), "{secret:?} in {message}");
    }
    // The doctor gave no address and gets nothing.
    assert_eq!(notices(&d.c).await.notices.len(), 1);
    assert_eq!(sink.messages().len(), 1);

    // Removed: nothing is kept.
    let removed: serde_json::Value =
        p.c.post(
            "/api/notifications/email/set",
            &set(serde_json::Value::Null),
        )
        .await
        .unwrap();
    assert_eq!(removed, json!({ "email": null, "available": true }));
}

#[tokio::test]
async fn without_a_relay_no_address_is_kept() {
    let s = Server::new();
    let p = patient(&s, "rhea").await;
    let shown: serde_json::Value = p.c.get("/api/notifications/email").await.unwrap();
    assert_eq!(shown, json!({ "email": null, "available": false }));
    let e = expect_err(
        p.c.post::<_, serde_json::Value>(
            "/api/notifications/email/set",
            &json!({ "email": "rhea@example.org" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("does not send e-mail"), "{}", e.message);
}
