//! Making and ending grants: every bad grant is refused and changes nothing, a
//! doctor declines a share, a taken grant id is refused even in a race, spam
//! grants push nothing out of view.

use super::*;

#[tokio::test]
async fn bad_grants_are_refused_and_change_nothing() {
    let s = Server::new();
    let p = patient(&s, "eve").await;
    let d = doctor(&s, "dr.ash").await;
    let q = patient(&s, "fay").await;
    p.create_record(s.now()).await;
    q.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let me = entry(&p.c, "eve").await;
    let doc = entry(&p.c, "dr.ash").await;
    let post = |grant: &sign::Signed<shared::model::Grant>, wrapped: &[u8]| json!({"request": {"grant": grant, "wrapped_key": b64::encode(wrapped), "request_id": null}});
    let good = || {
        make_grant(
            &me,
            p.keyring.identity(),
            &choice(&doc, &labs, None),
            s.now(),
        )
        .unwrap()
    };

    // To oneself, or to a patient (the client refuses too; the server decides).
    for (to, words) in [
        (&me, "yourself"),
        (&entry(&p.c, "fay").await, "not a doctor"),
    ] {
        let (mut grant, wrapped) = good();
        grant.value.doctor_id = to.user_id;
        let grant = sign::sign(p.keyring.identity(), grant.value);
        let e = expect_err(
            p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
                .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains(words), "{}", e.message);
    }
    // An end date in the past.
    let (grant, wrapped) = good();
    let mut past = grant.value.clone();
    past.expires_at = Some(s.now() - 1);
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), past), &wrapped),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("passed"), "{}", e.message);
    // A creation time far from the server's, up to the ends of i64 (where
    // `created_at - now` used to overflow).
    for at in [s.now() - 2 * 86_400, i64::MIN, i64::MIN + s.now(), i64::MAX] {
        let mut skewed = grant.value.clone();
        skewed.created_at = at;
        let e = expect_err(
            p.c.post::<_, GrantView>(
                "/api/sharing/grant/create",
                &post(&sign::sign(p.keyring.identity(), skewed), &wrapped),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains("clock"), "{at}: {}", e.message);
    }
    // A folder of another patient's record: not_found.
    let theirs = find(&q.tree().await, "Lab results").clone();
    let mut foreign = grant.value.clone();
    foreign.node_id = *theirs.id();
    expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), foreign), &wrapped),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    // A grant not signed by the caller.
    let forged = sign::sign(q.keyring.identity(), grant.value.clone());
    let e = expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&forged, &wrapped))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("signed"), "{}", e.message);
    // A grant naming another patient as the one who shares.
    let mut as_other = grant.value.clone();
    as_other.patient_id = q.id;
    expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), as_other), &wrapped),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    // A grant naming another key than the doctor's: the re-wraps of a later
    // key rotation would go to it.
    let mut other_key = grant.value.clone();
    other_key.doctor_key = me.encryption_key;
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), other_key), &wrapped),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("other keys"), "{}", e.message);
    // A wrapped key of the wrong size.
    expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped[1..]))
            .await,
        StatusCode::BAD_REQUEST,
    );
    // A file whose upload has not finished is not in the record yet.
    let up = p.start_new(&labs, "one.txt", b"1", s.now()).await.unwrap();
    let mut on_file = grant.value.clone();
    on_file.node_id = up.node_id;
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &post(&sign::sign(p.keyring.identity(), on_file), &wrapped),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(e.code, ErrorCode::NotFound);
    // A doctor cannot make grants.
    let e = expect_err(
        d.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
            .await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(grants(&p.c).await.is_empty());
    assert!(grants(&d.c).await.is_empty());
    assert!(!p.history().await.contains(&EventKind::GrantCreated));

    // The good one goes through once; the same doctor and folder again: 409.
    p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
        .await
        .unwrap();
    let (twice, wrapped2) = good();
    expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&twice, &wrapped2))
            .await,
        StatusCode::CONFLICT,
    );
    // The same grant id again: 409, nothing changed.
    expect_err(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &post(&grant, &wrapped))
            .await,
        StatusCode::CONFLICT,
    );
    assert_eq!(grants(&p.c).await.len(), 1);
    // An unknown grant id for the doctor's scope call: not_found.
    expect_err(scope(&d, &[3; 16]).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_doctor_declines_a_share_and_it_serves_nothing_more() {
    let s = Server::new();
    let p = patient(&s, "nora").await;
    let d = doctor(&s, "dr.nye").await;
    let other = doctor(&s, "dr.oak").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    p.upload_new(&notes, "n.txt", b"a note", s.now()).await;
    let to_decline = share(&s, &p, "dr.nye", &notes, None, None).await.unwrap();
    let kept = share(&s, &p, "dr.oak", &notes, None, None).await.unwrap();
    let id = to_decline.grant.value.grant_id;
    let shared = open_scope(&d, "nora", &id).await;
    let file = find(&shared, "n.txt").clone();
    let version = file.view.current.clone().unwrap();
    assert_eq!(read_all(&d.c, &version).await.len(), 1);

    // Only the grant's own doctor may decline it: the patient, another
    // doctor and an unknown id all get not_found, and nothing changes.
    expect_err(decline(&p.c, &id).await, StatusCode::NOT_FOUND);
    expect_err(decline(&other.c, &id).await, StatusCode::NOT_FOUND);
    expect_err(decline(&d.c, &[7; 16]).await, StatusCode::NOT_FOUND);
    assert_eq!(mine(&grants(&p.c).await, &id).status, GrantStatus::Active);
    let bad =
        d.c.post_raw(
            "/api/sharing/grant/decline",
            r#"{"request":{"grant_id":"x"}}"#,
        )
        .await;
    assert!(bad.0.is_client_error(), "{bad:?}");

    let declined = decline(&d.c, &id).await.unwrap();
    assert_eq!(declined.status, GrantStatus::Declined);
    assert!(declined.wrapped_key.is_empty());
    let again = expect_err(decline(&d.c, &id).await, StatusCode::CONFLICT);
    assert!(
        again.message.contains("already declined"),
        "{}",
        again.message
    );

    // The declined grant serves no key and opens nothing, even to a doctor
    // who kept the old key; it leaves the doctor's list.
    expect_err(scope(&d, &id).await, StatusCode::NOT_FOUND);
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 0).await);
    expect_err(versions(&d.c, file.id()).await, StatusCode::NOT_FOUND);
    assert!(grants(&d.c).await.is_empty());
    // The other doctor keeps access.
    assert_eq!(read_all(&other.c, &version).await.len(), 1);

    // The patient sees it declined, with no key stored, and an event naming
    // the doctor; it cannot be removed any more, and a key rotation leaves it out.
    let listed = grants(&p.c).await;
    let seen = mine(&listed, &id);
    assert_eq!(seen.status, GrantStatus::Declined);
    assert!(seen.wrapped_key.is_empty());
    let (_, raw) = s
        .store
        .scan_prefix(
            server::store::Space::Grants,
            &server::store::keys::Key::new().u8(1).fixed(&id).finish(),
            None,
            1,
        )
        .await
        .unwrap()
        .remove(0);
    let stored: server::backend::sharing::layout::StoredGrant =
        server::store::codec::decode(&raw).unwrap();
    assert!(stored.wrapped_key.is_empty());
    assert!(stored.declined_at.is_some());
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    let event = page
        .events
        .iter()
        .find(|e| e.kind == EventKind::GrantDeclined)
        .expect("a grant_declined event");
    assert_eq!(event.actor, Some(d.id));
    assert_eq!(event.subject, Some(p.id));
    assert_eq!(event.item, Some(*notes.id()));
    assert_eq!(EventKind::GrantDeclined.label(), "Declined a share");
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&id) } }),
        )
        .await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("declined"), "{}", e.message);
    let ticket: shared::api::sharing::RotationTicket =
        p.c.post(
            "/api/sharing/rotation/start",
            &json!({ "request": { "node_id": b64::encode(notes.id()) } }),
        )
        .await
        .unwrap();
    let rewrapped: Vec<Id> = ticket
        .grants
        .iter()
        .map(|g| g.grant.value.grant_id)
        .collect();
    assert_eq!(rewrapped, [kept.grant.value.grant_id]);

    // The patient may share with that doctor again.
    let fresh = share(&s, &p, "dr.nye", &notes, None, None).await.unwrap();
    assert_eq!(fresh.status, GrantStatus::Active);
}

#[tokio::test]
async fn a_grant_id_that_exists_is_refused_even_in_a_race() {
    let s = Server::new();
    let p = patient(&s, "ida").await;
    let q = patient(&s, "jon").await;
    let _d = doctor(&s, "dr.lee").await;
    p.create_record(s.now()).await;
    q.create_record(s.now()).await;
    let p_notes = find(&p.tree().await, "Notes").clone();
    let q_notes = find(&q.tree().await, "Notes").clone();
    let first = share(&s, &p, "dr.lee", &p_notes, None, None).await.unwrap();
    let taken = first.grant.value.grant_id;

    // The same id again, from its patient or from anyone else: 409 with a
    // JSON body, and nothing stored.
    let again = grant_body(&s, &q, &q_notes, taken).await;
    let e = expect_err(
        q.c.post::<_, GrantView>("/api/sharing/grant/create", &again)
            .await,
        StatusCode::CONFLICT,
    );
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("already exists"), "{}", e.message);
    assert!(grants(&q.c).await.is_empty());
    assert_eq!(grants(&p.c).await.len(), 1);

    // Two patients racing for one new id: exactly one wins.
    let id = [0x42; 16];
    let (a, b) = (
        grant_body(&s, &p, &find(&p.tree().await, "Lab results").clone(), id).await,
        grant_body(&s, &q, &q_notes, id).await,
    );
    let (ra, rb) = tokio::join!(
        p.c.post::<_, GrantView>("/api/sharing/grant/create", &a),
        q.c.post::<_, GrantView>("/api/sharing/grant/create", &b),
    );
    let wins = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{ra:?} {rb:?}");
    let lost = if ra.is_ok() { rb } else { ra };
    expect_err(lost, StatusCode::CONFLICT);
}

#[tokio::test]
async fn spam_grants_do_not_push_a_doctors_real_grant_out_of_view() {
    use server::{
        backend::sharing::layout::StoredGrant,
        store::{codec, keys::Key, Batch, Space},
    };
    let s = Server::new();
    let p = patient(&s, "real").await;
    let d = doctor(&s, "dr.busy").await;
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    p.upload_new(&notes, "r.txt", b"real content", s.now())
        .await;
    let real = share(&s, &p, "dr.busy", &notes, None, None).await.unwrap();

    // Two open-signup accounts hold more grants to the doctor than the old
    // window of 1001, with ids that sort before any real one. Written straight
    // to the store (signed by their patients, as the API would store them) to
    // keep the test fast.
    let doctor_entry = entry(&p.c, "dr.busy").await;
    let mut batch = Batch::new();
    let mut n: u32 = 0;
    for name in ["spam.one", "spam.two"] {
        let spammer = patient(&s, name).await;
        spammer.create_record(s.now()).await;
        let folder = find(&spammer.tree().await, "Notes").clone();
        let me = entry(&spammer.c, name).await;
        let (grant, wrapped) = make_grant(
            &me,
            spammer.keyring.identity(),
            &choice(&doctor_entry, &folder, None),
            s.now(),
        )
        .unwrap();
        for _ in 0..600 {
            n += 1;
            let mut id = [0u8; 16];
            id[12..].copy_from_slice(&n.to_be_bytes());
            let mut value = grant.value.clone();
            value.grant_id = id;
            let stored = StoredGrant {
                grant: sign::sign(spammer.keyring.identity(), value),
                wrapped_key: wrapped.clone(),
                revoked_at: Some(s.now()),
                request_id: None,
                emergency: None,
                expiry_logged: false,
                declined_at: None,
            };
            batch
                .put(
                    Space::Grants,
                    Key::new().u8(1).fixed(&id).finish(),
                    codec::encode(&stored).unwrap(),
                )
                .put(
                    Space::Grants,
                    Key::new().u8(2).fixed(&spammer.id).fixed(&id).finish(),
                    Vec::new(),
                )
                .put(
                    Space::Grants,
                    Key::new().u8(3).fixed(&d.id).fixed(&id).finish(),
                    Vec::new(),
                );
        }
    }
    s.store.apply(batch).await.unwrap();

    // The doctor's list holds every grant, the real one among them, and the
    // real grant still opens the record.
    let listed = grants(&d.c).await;
    assert_eq!(listed.len(), 1201);
    let id = real.grant.value.grant_id;
    assert_eq!(mine(&listed, &id).status, GrantStatus::Active);
    let shared = open_scope(&d, "real", &id).await;
    let file = find(&shared, "r.txt").clone();
    let version = file.view.current.clone().unwrap();
    assert_eq!(read_all(&d.c, &version).await.len(), 1);
}
