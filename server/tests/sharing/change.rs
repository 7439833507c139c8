//! Changing a share (`sharing/grant/change`): a later end or write access
//! takes effect at once for the doctor; a change of anything else, of a grant
//! that ended, by someone else, or not signed by the patient is refused and
//! changes nothing; every change is in the audit log.

use super::*;

fn changed(g: &GrantView, permission: Permission, expires_at: Option<i64>) -> shared::model::Grant {
    shared::model::Grant {
        permission,
        expires_at,
        revision: g.grant.value.revision + 1,
        ..g.grant.value.clone()
    }
}

fn body(grant: &sign::Signed<shared::model::Grant>) -> serde_json::Value {
    json!({"request": {"grant": grant}})
}

#[tokio::test]
async fn a_share_lasts_longer_and_gains_write_access_at_once() {
    let s = Server::new();
    let p = patient(&s, "gia").await;
    let d = writer(&s, "dr.hal").await;
    p.create_record(s.now()).await;
    let notes = find(&p.tree().await, "Notes").clone();
    let g = share(&s, &p, "dr.hal", &notes, Some(s.now() + 600), None)
        .await
        .unwrap();
    let id = g.grant.value.grant_id;
    // Read only, so far.
    let seen = open_scope_as(&d.c, &d.id, &d.keyring, "gia", &id).await;
    let top = seen.root().unwrap().clone();
    assert!(d
        .start_new(&top, "early.txt", b"not yet", s.now())
        .await
        .is_err());

    // Two weeks instead of ten minutes, and write access.
    let longer = sign::sign(
        p.keyring.identity(),
        changed(&g, Permission::ReadWrite, Some(s.now() + 14 * 86_400)),
    );
    let view: GrantView =
        p.c.post("/api/sharing/grant/change", &body(&longer))
            .await
            .unwrap();
    assert_eq!(view.grant, longer);
    assert_eq!(view.status, GrantStatus::Active);
    // The doctor sees the new grant, signed by the patient, and still opens
    // the folder with the same key after the old end date.
    s.advance(601);
    let theirs = mine(&grants(&d.c).await, &id).clone();
    assert_eq!(theirs.grant, longer);
    assert_eq!(theirs.status, GrantStatus::Active);
    let seen = open_scope_as(&d.c, &d.id, &d.keyring, "gia", &id).await;
    // And writes there.
    let top = seen.root().unwrap().clone();
    let up = d
        .start_new(&top, "letter.txt", b"from the doctor", s.now())
        .await
        .unwrap();
    d.put_all(&up).await;
    d.finish(&up, s.now()).await.unwrap();
    assert!(p.tree().await.node(&up.node_id).is_some());

    // Logged as the patient's change of that folder.
    let page: shared::api::audit::EventsPage =
        p.c.get("/api/audit/mine?after=0&limit=1000").await.unwrap();
    assert!(page.events.iter().any(|e| e.kind == EventKind::GrantChanged
        && e.actor == Some(p.id)
        && e.item == Some(*notes.id())));
}

#[tokio::test]
async fn fail_changes_of_anything_else_by_anyone_else_or_after_the_end() {
    let s = Server::new();
    let p = patient(&s, "ida").await;
    let q = patient(&s, "jon").await;
    let d = doctor(&s, "dr.kim").await;
    p.create_record(s.now()).await;
    q.create_record(s.now()).await;
    let tree = p.tree().await;
    let notes = find(&tree, "Notes").clone();
    let labs = find(&tree, "Lab results").clone();
    let g = share(&s, &p, "dr.kim", &notes, Some(s.now() + 600), None)
        .await
        .unwrap();
    let id = g.grant.value.grant_id;
    let post = |c: &Client, grant: sign::Signed<shared::model::Grant>| {
        let c = c.clone();
        async move {
            c.post::<_, GrantView>("/api/sharing/grant/change", &body(&grant))
                .await
        }
    };
    let later = changed(&g, Permission::Read, Some(s.now() + 3_600));

    // Another folder under the same grant id.
    let mut moved = later.clone();
    moved.node_id = *labs.id();
    let e = expect_err(
        post(&p.c, sign::sign(p.keyring.identity(), moved)).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("only in its end date"), "{}", e.message);
    // A revision not one above the stored one: the same (a replay of the
    // terms as they are) or one skipped.
    for revision in [0, 2] {
        let mut wrong = later.clone();
        wrong.revision = revision;
        let e = expect_err(
            post(&p.c, sign::sign(p.keyring.identity(), wrong)).await,
            StatusCode::BAD_REQUEST,
        );
        assert!(e.message.contains("revision up by one"), "{}", e.message);
    }
    // Nothing changed, or an end already passed.
    let e = expect_err(
        post(
            &p.c,
            sign::sign(
                p.keyring.identity(),
                changed(&g, g.grant.value.permission, g.grant.value.expires_at),
            ),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("Nothing was changed"), "{}", e.message);
    let e = expect_err(
        post(
            &p.c,
            sign::sign(
                p.keyring.identity(),
                changed(&g, Permission::Read, Some(s.now() - 1)),
            ),
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("already passed"), "{}", e.message);
    // Signed by someone else (the server cannot make a share last longer).
    let e = expect_err(
        post(&p.c, sign::sign(q.keyring.identity(), later.clone())).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(e.message.contains("signed"), "{}", e.message);
    // Another patient, or the doctor, cannot change it at all.
    expect_err(
        post(&q.c, sign::sign(q.keyring.identity(), later.clone())).await,
        StatusCode::NOT_FOUND,
    );
    expect_err(
        post(&d.c, sign::sign(d.keyring.identity(), later.clone())).await,
        StatusCode::FORBIDDEN,
    );
    // Nothing of it was stored.
    assert_eq!(mine(&grants(&p.c).await, &id).grant, g.grant);

    // After the end date, there is nothing to change.
    s.advance(601);
    let e = expect_err(
        post(&p.c, sign::sign(p.keyring.identity(), later)).await,
        StatusCode::CONFLICT,
    );
    assert!(e.message.contains("already ended"), "{}", e.message);
}
