//! Sharing is logged: each step appends exactly one event of its kind, and
//! views, grant expiry and session expiry once.

use super::*;

#[tokio::test]
async fn views_of_metadata_grant_expiry_and_session_expiry_are_logged_once() {
    let s = Server::new();
    let p = patient(&s, "una").await;
    let d = doctor(&s, "dr.day").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let file = p
        .upload_new(&notes, "plan.txt", b"care plan", s.now())
        .await;
    let count =
        |events: &[EventKind], kind: EventKind| events.iter().filter(|k| **k == kind).count();

    // Each look at the list of items, or at a file's versions, is one event.
    let before = p.history().await;
    p.raw_tree().await;
    versions(&p.c, &file).await.unwrap();
    let after = p.history().await;
    assert_eq!(
        count(&after, EventKind::RecordViewed),
        count(&before, EventKind::RecordViewed) + 1
    );
    assert_eq!(
        count(&after, EventKind::VersionsViewed),
        count(&before, EventKind::VersionsViewed) + 1
    );
    // A doctor's look at the versions is in the patient's history too.
    let view = share(&s, &p, "dr.day", &notes, Some(s.now() + 600), None)
        .await
        .unwrap();
    versions(&d.c, &file).await.unwrap();
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    assert!(page
        .events
        .iter()
        .any(|e| e.kind == EventKind::VersionsViewed && e.actor == Some(d.id)));

    // The share reaches its end date: logged once, when either side next lists it.
    s.advance(601);
    let listed = grants(&d.c).await;
    assert_eq!(listed[0].status, GrantStatus::Expired);
    grants(&p.c).await;
    grants(&d.c).await;
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let expired: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.kind == EventKind::GrantExpired)
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (expired[0].actor, expired[0].subject, expired[0].item),
        (None, Some(p.id), Some(view.grant.value.node_id))
    );

    // An idle session ends at its next use, with one event.
    s.advance(31 * 60);
    for _ in 0..2 {
        let (status, _, _) = d.c.get_bytes("/api/sharing/grants").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    d.c.sign_in("dr.day", common::PASSWORD).await;
    let mine: shared::api::audit::EventsPage =
        d.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    assert_eq!(
        mine.events
            .iter()
            .filter(|e| e.kind == EventKind::SessionExpired)
            .count(),
        1
    );
}

#[tokio::test]
async fn every_sharing_step_appends_exactly_one_event_of_its_kind() {
    use EventKind::*;
    let s = Server::new();
    let p = patient(&s, "vera").await;
    let d = doctor(&s, "dr.vale").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let notes = find(&tree, "Notes").clone();
    let root = tree.root().unwrap().clone();
    let mut seen = 0;
    fresh(&p, &mut seen).await;

    let direct = share(&s, &p, "dr.vale", &labs, None, None).await.unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [GrantCreated]);
    let ask = |reason: &str| json!({"request": {"patient_username": "vera", "reason": reason}});
    let first: AccessRequestView =
        d.c.post("/api/sharing/request/create", &ask("Results"))
            .await
            .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [AccessRequested]);
    let _: AccessRequestView =
        p.c.post(
            "/api/sharing/request/deny",
            &json!({"request": {"request_id": b64::encode(&first.request_id)}}),
        )
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [AccessDenied]);
    let second: AccessRequestView =
        d.c.post("/api/sharing/request/create", &ask("Notes, please"))
            .await
            .unwrap();
    share(&s, &p, "dr.vale", &notes, None, Some(second.request_id))
        .await
        .unwrap();
    assert_eq!(
        fresh(&p, &mut seen).await,
        [AccessRequested, AccessApproved]
    );
    scope(&d, &direct.grant.value.grant_id).await.unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [SharedViewed]);
    let _: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&direct.grant.value.grant_id) } }),
        )
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [GrantRevoked]);
    rotate(&s, &p, labs.id(), |_| {}).await.unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [KeysRotated]);

    let named = name_contact(&s, &p, "dr.vale", &root, Permission::Read, 3600)
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [EmergencyContactNamed]);
    ask_emergency(&d.c, &named.grant.value.grant_id, "Emergency")
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [EmergencyRequested]);
    refuse_emergency(&p.c, &named.grant.value.grant_id)
        .await
        .unwrap();
    assert_eq!(fresh(&p, &mut seen).await, [EmergencyRefused]);
}
