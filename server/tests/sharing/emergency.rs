//! Emergency access: a contact reads only after asking and the wait, unless the
//! patient refuses.

use super::*;

#[tokio::test]
async fn an_emergency_contact_reads_only_after_asking_and_the_wait_unless_refused() {
    let s = Server::new();
    let p = patient(&s, "ivy").await;
    let d = doctor(&s, "dr.em").await;
    let kin = patient(&s, "kin").await;
    let other = doctor(&s, "dr.other").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let root = tree.root().unwrap().clone();
    let notes = find(&tree, "Notes").clone();
    p.upload_new(&notes, "allergies.txt", b"penicillin", s.now())
        .await;

    // Bad choices: the wait out of range, a folder, write access, an admin.
    let hour = 3600;
    for wait in [59 * 60, 31 * 24 * hour] {
        let e = expect_err(
            name_contact(&s, &p, "dr.em", &root, Permission::Read, wait).await,
            StatusCode::BAD_REQUEST,
        );
        assert!(
            e.message.contains("between 1 hour and 30 days"),
            "{}",
            e.message
        );
    }
    expect_err(
        name_contact(&s, &p, "dr.em", &notes, Permission::Read, hour).await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(
        name_contact(&s, &p, "dr.em", &root, Permission::ReadWrite, hour).await,
        StatusCode::BAD_REQUEST,
    );
    let admin = s.client();
    admin
        .signup("root.admin", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    let admin_entry = entry(&p.c, "root.admin").await;
    let mut to_admin = choice(&admin_entry, &root, None);
    to_admin.emergency = true;
    assert!(make_grant(
        &entry(&p.c, "ivy").await,
        p.keyring.identity(),
        &to_admin,
        s.now()
    )
    .is_err());
    // A patient is refused as a doctor (the server checks too, whatever the
    // browser signed), but may be an emergency contact.
    let kin_entry = entry(&p.c, "kin").await;
    let mut to_kin = choice(&kin_entry, &root, None);
    to_kin.emergency = true;
    let (signed, wrapped) = make_grant(
        &entry(&p.c, "ivy").await,
        p.keyring.identity(),
        &to_kin,
        s.now(),
    )
    .unwrap();
    let e = expect_err(
        p.c.post::<_, GrantView>(
            "/api/sharing/grant/create",
            &json!({ "request": { "grant": signed, "wrapped_key": b64::encode(&wrapped), "request_id": null } }),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("not a doctor"), "{}", e.message);
    assert!(grants(&p.c).await.is_empty());

    let named = name_contact(&s, &p, "dr.em", &root, Permission::Read, hour)
        .await
        .unwrap();
    let grant_id = named.grant.value.grant_id;
    assert_eq!(named.status, GrantStatus::Standby);
    let kin_grant = name_contact(&s, &p, "kin", &root, Permission::Read, 2 * hour)
        .await
        .unwrap()
        .grant
        .value
        .grant_id;
    // On standby nothing is served: no key, no record, no chunk.
    let held = grants(&d.c).await;
    assert_eq!(mine(&held, &grant_id).status, GrantStatus::Standby);
    assert!(mine(&held, &grant_id).wrapped_key.is_empty());
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    let own = p.tree().await;
    let allergies = find(&own, "allergies.txt").clone();
    let version = allergies.view.current.clone().unwrap();
    assert_not_found(chunk_status(&d.c, allergies.id(), 1, 0).await);

    // Refusing needs a request; asking needs a reason and the right person.
    expect_err(
        refuse_emergency(&p.c, &grant_id).await,
        StatusCode::CONFLICT,
    );
    expect_err(
        ask_emergency(&d.c, &grant_id, "  ").await,
        StatusCode::BAD_REQUEST,
    );
    expect_err(
        ask_emergency(&other.c, &grant_id, "let me in").await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        refuse_emergency(&d.c, &grant_id).await,
        StatusCode::NOT_FOUND,
    );

    // The contact asks; the patient sees it at once and refuses.
    let asked = ask_emergency(&d.c, &grant_id, "Unconscious in A&E")
        .await
        .unwrap();
    assert_eq!(asked.status, GrantStatus::Waiting);
    assert!(asked.wrapped_key.is_empty());
    expect_err(
        ask_emergency(&d.c, &grant_id, "again").await,
        StatusCode::CONFLICT,
    );
    let seen = grants(&p.c).await;
    let waiting = mine(&seen, &grant_id);
    assert_eq!(waiting.status, GrantStatus::Waiting);
    let e = waiting.emergency.clone().unwrap();
    assert_eq!(e.reason.as_deref(), Some("Unconscious in A&E"));
    assert_eq!(e.opens_at(), Some(e.requested_at.unwrap() + hour));
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    let refused = refuse_emergency(&p.c, &grant_id).await.unwrap();
    assert_eq!(refused.status, GrantStatus::Standby);
    // Past the wait, a refused request opens nothing.
    pass(&s, &[&p.c, &d.c, &kin.c], hour + 60).await;
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    let after = grants(&d.c).await;
    assert!(mine(&after, &grant_id)
        .emergency
        .as_ref()
        .unwrap()
        .refused_at
        .is_some());

    // Asked again and not refused: the record opens when the wait is over.
    ask_emergency(&d.c, &grant_id, "Still unconscious")
        .await
        .unwrap();
    ask_emergency(&kin.c, &kin_grant, "Her sister, at the hospital")
        .await
        .unwrap();
    pass(&s, &[&p.c, &d.c, &kin.c], hour - 120).await;
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    pass(&s, &[&p.c, &d.c, &kin.c], 180).await;
    let open = grants(&d.c).await;
    assert_eq!(mine(&open, &grant_id).status, GrantStatus::Active);
    assert!(!mine(&open, &grant_id).wrapped_key.is_empty());
    let shared = open_scope(&d, "ivy", &grant_id).await;
    let theirs = find(&shared, "allergies.txt");
    let chunks = read_all(&d.c, &theirs.view.current.clone().unwrap()).await;
    let ivy_key = entry(&d.c, "ivy").await.identity_key;
    assert_eq!(
        open_file(&version, &ivy_key, &theirs.key, &chunks),
        b"penicillin"
    );
    // Too late to refuse; removing the contact is the way to close it.
    expect_err(
        refuse_emergency(&p.c, &grant_id).await,
        StatusCode::CONFLICT,
    );
    // The relative's wait is two hours: still closed, then open.
    expect_err(
        kin.c
            .get::<SharedScope>(&format!(
                "/api/sharing/shared?grant_id={}",
                b64::encode(&kin_grant)
            ))
            .await,
        StatusCode::NOT_FOUND,
    );
    pass(&s, &[&p.c, &d.c, &kin.c], hour).await;
    let kin_view = open_scope_as(&kin.c, &kin.id, &kin.keyring, "ivy", &kin_grant).await;
    assert!(kin_view.nodes().any(|n| n.metadata.name == "allergies.txt"));
    // Read only: the contact cannot write.
    expect_err(
        kin.trash(allergies.id(), allergies.view.revision).await,
        StatusCode::FORBIDDEN,
    );

    // Every step is in the patient's history.
    let history = p.history().await;
    for kind in [
        EventKind::EmergencyContactNamed,
        EventKind::EmergencyRequested,
        EventKind::EmergencyRefused,
        EventKind::EmergencyOpened,
    ] {
        assert!(history.contains(&kind), "{kind:?}");
    }

    // Removing the contact closes it at once.
    let _: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({ "request": { "grant_id": b64::encode(&grant_id) } }),
        )
        .await
        .unwrap();
    expect_err(scope(&d, &grant_id).await, StatusCode::NOT_FOUND);
    assert_not_found(chunk_status(&d.c, allergies.id(), 1, 0).await);
}
