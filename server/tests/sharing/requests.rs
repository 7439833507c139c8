//! Access requests are approved or denied once.

use super::*;

#[tokio::test]
async fn requests_are_approved_or_denied_once() {
    let s = Server::new();
    let p = patient(&s, "gil").await;
    let d = doctor(&s, "dr.fox").await;
    p.create_record(s.now()).await;
    let ask = |reason: &str| json!({"request": {"patient_username": "gil", "reason": reason}});

    // Bad requests first: nothing is stored.
    let e = expect_err(
        d.c.post::<_, AccessRequestView>("/api/sharing/request/create", &ask("  "))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("why"), "{}", e.message);
    expect_err(
        d.c.post::<_, AccessRequestView>(
            "/api/sharing/request/create",
            &json!({"request": {"patient_username": "nobody", "reason": "x"}}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    // Asking a doctor is asking no patient.
    let other = doctor(&s, "dr.owl").await;
    expect_err(
        d.c.post::<_, AccessRequestView>(
            "/api/sharing/request/create",
            &json!({"request": {"patient_username": "dr.owl", "reason": "x"}}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        p.c.post::<_, AccessRequestView>("/api/sharing/request/create", &ask("me"))
            .await,
        StatusCode::FORBIDDEN,
    );
    let requests: Vec<AccessRequestView> = p.c.get("/api/sharing/requests").await.unwrap();
    assert!(requests.is_empty());

    let first: AccessRequestView =
        d.c.post(
            "/api/sharing/request/create",
            &ask("Follow-up of your blood tests"),
        )
        .await
        .unwrap();
    assert_eq!(first.status, RequestStatus::Pending);
    let e = expect_err(
        d.c.post::<_, AccessRequestView>("/api/sharing/request/create", &ask("again"))
            .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already asked"), "{}", e.message);
    let incoming: Vec<AccessRequestView> = p.c.get("/api/sharing/requests").await.unwrap();
    assert_eq!(incoming.len(), 1);
    assert_eq!(incoming[0].doctor_name, "dr.fox");
    assert_eq!(incoming[0].reason, "Follow-up of your blood tests");
    // Nobody else sees or answers it.
    let deny = |id: &Id| json!({"request": {"request_id": b64::encode(id)}});
    expect_err(
        other
            .c
            .post::<_, AccessRequestView>("/api/sharing/request/deny", &deny(&first.request_id))
            .await,
        StatusCode::NOT_FOUND,
    );
    let stranger = patient(&s, "hal").await;
    expect_err(
        stranger
            .c
            .post::<_, AccessRequestView>("/api/sharing/request/deny", &deny(&first.request_id))
            .await,
        StatusCode::NOT_FOUND,
    );
    // A grant approving it for another doctor is refused.
    let tree = p.tree().await;
    let root = tree.root().unwrap().clone();
    let e = expect_err(
        share(&s, &p, "dr.owl", &root, None, Some(first.request_id)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("another doctor"), "{}", e.message);

    // Approve: the grant and the answer together.
    let view = share(&s, &p, "dr.fox", &root, None, Some(first.request_id))
        .await
        .unwrap();
    let mine: Vec<AccessRequestView> = d.c.get("/api/sharing/requests").await.unwrap();
    assert_eq!(mine[0].status, RequestStatus::Approved);
    assert_eq!(mine[0].grant_id, Some(view.grant.value.grant_id));
    // Approving twice: 409 and no second grant.
    let notes = find(&tree, "Notes").clone();
    let e = expect_err(
        share(&s, &p, "dr.fox", &notes, None, Some(first.request_id)).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already answered"), "{}", e.message);
    assert_eq!(grants(&p.c).await.len(), 1);
    expect_err(
        p.c.post::<_, AccessRequestView>("/api/sharing/request/deny", &deny(&first.request_id))
            .await,
        StatusCode::CONFLICT,
    );

    // A second request, denied: no grant, the doctor sees the answer.
    let second: AccessRequestView =
        d.c.post("/api/sharing/request/create", &ask("Second opinion"))
            .await
            .unwrap();
    let denied: AccessRequestView =
        p.c.post("/api/sharing/request/deny", &deny(&second.request_id))
            .await
            .unwrap();
    assert_eq!(denied.status, RequestStatus::Denied);
    let mine: Vec<AccessRequestView> = d.c.get("/api/sharing/requests").await.unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine
        .iter()
        .any(|r| r.request_id == second.request_id && r.status == RequestStatus::Denied));
    assert_eq!(grants(&d.c).await.len(), 1);
    let kinds = p.history().await;
    for kind in [
        EventKind::AccessRequested,
        EventKind::AccessApproved,
        EventKind::AccessDenied,
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
}
