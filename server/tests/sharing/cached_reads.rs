//! The chunk GET keeps "this session may read this version" for a few seconds
//! (`server/src/backend/access_cache.rs`). Each test reads chunks past the
//! first (chunk 0 is never served from memory), so the answer is kept, then
//! plays what must end access at once, and the very next GET is refused.

use axum::http::{header, Request, StatusCode};
use serde_json::json;
use server::backend::AccountSettings;
use shared::api::{
    account::SessionInfo, admin::UserSummary, records::chunk_path, sharing::GrantView, CSRF_HEADER,
    SESSION_COOKIE,
};

use super::*;

/// More than one chunk of [`CHUNK`], so that chunks 1 and 2 exist.
fn three_chunks() -> Vec<u8> {
    (0..(2 * CHUNK as usize + 10)).map(|i| i as u8).collect()
}

/// A patient with a three-chunk file in "Lab results", shared with `dr`
/// (expiring at `expires_at`); the doctor has read chunks 1 and 2 twice.
async fn shared_file(
    s: &Server,
    dr: &str,
    expires_at: Option<i64>,
) -> (Patient, Doctor, GrantView, OpenNode, VersionView) {
    let p = patient(s, "cleo").await;
    let d = doctor(s, dr).await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    p.upload_new(&labs, "scan.bin", &three_chunks(), s.now())
        .await;
    let grant = share(s, &p, dr, &labs, expires_at, None).await.unwrap();
    let shared = open_scope(&d, "cleo", &grant.grant.value.grant_id).await;
    let file = find(&shared, "scan.bin").clone();
    let version = file.view.current.clone().unwrap();
    read_past_the_first(&d.c, &version).await;
    (p, d, grant, file, version)
}

/// Reads chunks 1 and 2 twice: the second time from the kept answer, with
/// the same bytes and headers.
async fn read_past_the_first(c: &Client, version: &VersionView) {
    let mut first = Vec::new();
    for round in 0..2 {
        for i in 1..3 {
            let (status, headers, body) = c
                .get_bytes(&chunk_path(&version.node_id, version.version, i))
                .await;
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            assert_eq!(
                headers[header::CONTENT_LENGTH],
                body.len().to_string().as_str()
            );
            assert_eq!(headers[header::CACHE_CONTROL], "no-store");
            if round == 0 {
                first.push(body);
            } else {
                assert_eq!(first[i as usize - 1], body);
            }
        }
    }
}

/// A GET of chunk 1 with this exact session token, from a client that holds
/// no cookie of its own.
async fn get_with_token(s: &Server, token: &str, version: &VersionView) -> (StatusCode, Vec<u8>) {
    let req = Request::get(chunk_path(&version.node_id, version.version, 1))
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .header(CSRF_HEADER, "1");
    s.client().send_request(req, Vec::new()).await
}

fn unauthorized((status, body): (StatusCode, Vec<u8>)) {
    let e = raw_err((status, body), StatusCode::UNAUTHORIZED);
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert!(e.message.contains("Sign in again"), "{}", e.message);
}

#[tokio::test]
async fn a_revoked_doctor_is_not_served_from_memory() {
    let s = Server::new();
    let (p, d, grant, file, version) = shared_file(&s, "dr.roe", None).await;
    let _: GrantView =
        p.c.post(
            "/api/sharing/grant/revoke",
            &json!({"request": {"grant_id": b64::encode(&grant.grant.value.grant_id)}}),
        )
        .await
        .unwrap();
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 1).await);
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 2).await);
}

#[tokio::test]
async fn a_grant_that_ends_within_the_memory_time_is_not_served_after_its_end() {
    let s = Server::new();
    // Ends in 2 s: sooner than the 5 s an answer is kept for.
    let ends = s.now() + 2;
    let (_, d, _, file, version) = shared_file(&s, "dr.roe", Some(ends)).await;
    s.advance(ends - s.now());
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 1).await);
}

#[tokio::test]
async fn a_grant_edited_behind_the_servers_back_is_not_served_from_memory() {
    // Even a write that does not go through the backend's calls (an operator
    // on the disk) ends what was kept, within the memory time at the latest;
    // one through the backend's store ends it at once.
    let s = Server::new();
    let (_, d, grant, file, version) = shared_file(&s, "dr.roe", None).await;
    edit_grant(&s, &grant.grant.value.grant_id, |g| {
        g.revoked_at = Some(1);
    })
    .await;
    s.advance(5);
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 1).await);
}

#[tokio::test]
async fn a_signed_out_session_is_not_served_from_memory() {
    let s = Server::new();
    let (_, d, _, _, version) = shared_file(&s, "dr.roe", None).await;
    let token = d.c.token().unwrap();
    let (status, _) = get_with_token(&s, &token, &version).await;
    assert_eq!(status, StatusCode::OK);
    d.c.post::<_, ()>("/api/account/logout", &json!({}))
        .await
        .unwrap();
    unauthorized(get_with_token(&s, &token, &version).await);
}

#[tokio::test]
async fn a_session_that_ends_by_the_clock_is_not_served_from_memory() {
    // Idle for 3 s ends a session: sooner than the memory time.
    let s = Server::with(AccountSettings {
        idle_timeout_secs: 3,
        ..AccountSettings::default()
    });
    let p = patient(&s, "cleo").await;
    p.create_record(s.now()).await;
    let tree = p.tree().await;
    let labs = find(&tree, "Lab results").clone();
    let id = p
        .upload_new(&labs, "scan.bin", &three_chunks(), s.now())
        .await;
    let version = p.versions(&id).await.unwrap().remove(0);
    let token = p.c.token().unwrap();
    read_past_the_first(&p.c, &version).await;
    s.advance(3);
    unauthorized(get_with_token(&s, &token, &version).await);
}

#[tokio::test]
async fn a_disabled_doctor_is_not_served_from_memory() {
    let s = Server::new();
    let (_, d, _, _, version) = shared_file(&s, "dr.roe", None).await;
    let admin = s.client();
    let (info, _) = admin
        .signup("root.admin", Some(s.cli_invite(Role::Admin)), s.now())
        .await
        .unwrap();
    let _: SessionInfo = info;
    let token = d.c.token().unwrap();
    let _: UserSummary = admin
        .post(
            "/api/admin/set-disabled",
            &json!({"user_id": b64::encode(&d.id), "disabled": true}),
        )
        .await
        .unwrap();
    unauthorized(get_with_token(&s, &token, &version).await);
}

#[tokio::test]
async fn a_trashed_file_is_not_served_to_the_doctor_from_memory() {
    let s = Server::new();
    let (p, d, _, file, version) = shared_file(&s, "dr.roe", None).await;
    p.trash(file.id(), file.view.revision).await.unwrap();
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 1).await);
}

#[tokio::test]
async fn a_file_deleted_for_good_is_not_served_to_its_owner_from_memory() {
    let s = Server::new();
    let (p, _, _, file, version) = shared_file(&s, "dr.roe", None).await;
    read_past_the_first(&p.c, &version).await;
    p.trash(file.id(), file.view.revision).await.unwrap();
    // The owner still reads a file in the Trash...
    read_past_the_first(&p.c, &version).await;
    // ...and nothing once it is deleted for good.
    p.empty_trash().await.unwrap();
    assert_not_found(chunk_status(&p.c, file.id(), version.version, 1).await);
}

#[tokio::test]
async fn a_kept_answer_still_checks_the_chunk_index_and_the_version() {
    let s = Server::new();
    let (_, d, _, file, version) = shared_file(&s, "dr.roe", None).await;
    assert_not_found(chunk_status(&d.c, file.id(), version.version, 3).await);
    assert_not_found(chunk_status(&d.c, file.id(), version.version + 1, 1).await);
    let stranger = doctor(&s, "dr.poe").await;
    assert_not_found(chunk_status(&stranger.c, file.id(), version.version, 1).await);
}
