//! Transport hardening in-process: the session cookie's name and flags and
//! HSTS over plain HTTP, behind an https proxy and under our own TLS; the
//! request-forgery header on reads that use the session.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::{
    body::Body,
    http::{header, HeaderMap, Request, StatusCode},
};
use common::{
    patient::{find, patient},
    Client, Server, PASSWORD,
};
use http_body_util::BodyExt as _;
use shared::api::{
    records::chunk_path, ApiError, ErrorCode, CSRF_HEADER, SECURE_SESSION_COOKIE, SESSION_COOKIE,
};
use tower::ServiceExt as _;

/// The last Set-Cookie the client saw.
fn last_cookie(c: &Client) -> String {
    c.set_cookies.lock().unwrap().last().cloned().unwrap()
}

/// Headers of a plain GET of the app and of an API call.
async fn headers_of(s: &Server, uri: &str) -> HeaderMap {
    let req = Request::get(uri)
        .header(header::HOST, "localhost")
        .header(shared::api::CSRF_HEADER, "1")
        .body(Body::empty())
        .unwrap();
    let res = s.app.clone().oneshot(req).await.unwrap();
    let headers = res.headers().clone();
    let _ = res.into_body().collect().await.unwrap();
    headers
}

#[tokio::test]
async fn plain_http_keeps_the_plain_cookie_and_sends_no_hsts() {
    let s = Server::new();
    let c = s.client();
    c.signup("plain.http", None, s.now()).await.unwrap();
    let cookie = last_cookie(&c);
    assert!(
        cookie.starts_with(&format!("{SESSION_COOKIE}=")),
        "{cookie}"
    );
    assert!(!cookie.contains("__Host-"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(c.session().await.is_some());
    for uri in ["/", "/api/health", "/api/account/session"] {
        let h = headers_of(&s, uri).await;
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "{uri}");
    }
}

/// Sign-up, the session read back under the prefixed name, sign-out, and a
/// cookie under the unprefixed name ignored.
async fn check_host_prefixed(s: &Server, name: &str) {
    assert_eq!(s.cookie_name, SECURE_SESSION_COOKIE);
    let c = s.client();
    c.signup(name, None, s.now()).await.unwrap();
    let cookie = last_cookie(&c);
    assert!(
        cookie.starts_with(&format!("{SECURE_SESSION_COOKIE}=")),
        "{cookie}"
    );
    // What browsers demand of a __Host- cookie: Secure, Path=/, no Domain.
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("; Path=/"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain"), "{cookie}");
    assert!(cookie.contains("HttpOnly; SameSite=Strict"), "{cookie}");
    // The server reads the prefixed cookie back.
    let info = c
        .session()
        .await
        .expect("signed in under the prefixed name");
    assert_eq!(info.username, name);

    // The same token under the unprefixed name (as a sibling subdomain could
    // plant it) is not read.
    let token = c.token().unwrap();
    let planted = Request::get("/api/account/session")
        .header(header::HOST, "localhost")
        .header(shared::api::CSRF_HEADER, "1")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .body(Body::empty())
        .unwrap();
    let res = s.app.clone().oneshot(planted).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"null", "no session under the plain name");

    // HSTS on every response: the app, the API, errors.
    for uri in ["/", "/api/health", "/api/account/session", "/api/nope"] {
        let h = headers_of(s, uri).await;
        let hsts = h
            .get(header::STRICT_TRANSPORT_SECURITY)
            .unwrap_or_else(|| panic!("no HSTS on {uri}"))
            .to_str()
            .unwrap();
        assert!(hsts.starts_with("max-age="), "{uri}: {hsts}");
    }

    // Sign-out clears the prefixed cookie, with the same attributes.
    let () = c
        .post("/api/account/logout", &serde_json::json!({}))
        .await
        .unwrap();
    let cleared = last_cookie(&c);
    assert!(
        cleared.starts_with(&format!("{SECURE_SESSION_COOKIE}=;")),
        "{cleared}"
    );
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("; Secure"),
        "{cleared}"
    );
    assert_eq!(c.session().await, None);
    c.sign_in(name, PASSWORD).await;
    assert!(c.session().await.is_some());
}

#[tokio::test]
async fn an_https_public_origin_gets_the_host_prefix_and_hsts() {
    let s = Server::behind_proxy("https://medvault.example.org");
    check_host_prefixed(&s, "behind.proxy").await;
}

#[tokio::test]
async fn our_own_tls_gets_the_host_prefix_and_hsts() {
    let s = Server::https(None, true);
    check_host_prefixed(&s, "own.tls").await;
}

#[tokio::test]
async fn an_http_public_origin_keeps_the_plain_cookie() {
    let s = Server::behind_proxy("http://intranet.example:8080");
    assert_eq!(s.cookie_name, SESSION_COOKIE);
    let c = s.client();
    c.signup("http.proxy", None, s.now()).await.unwrap();
    let cookie = last_cookie(&c);
    assert!(
        cookie.starts_with(&format!("{SESSION_COOKIE}=")),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
    let h = headers_of(&s, "/").await;
    assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
}

/// A read sent with the session cookie but not the request-forgery header, as
/// a page of another (same-site) origin could make it.
async fn unmarked(s: &Server, c: &Client, method: &str, uri: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "localhost")
        .header(
            header::COOKIE,
            format!("{}={}", c.cookie_name, c.token().unwrap()),
        )
        .body(Body::empty())
        .unwrap();
    let res = s.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, body)
}

#[tokio::test]
async fn fail_reads_that_use_the_session_without_the_header_and_log_nothing() {
    let s = Server::new();
    let p = patient(&s, "no.forged.reads").await;
    p.create_record(s.now()).await;
    let labs = find(&p.tree().await, "Lab results").clone();
    let file = p.upload_new(&labs, "one.txt", b"a result", s.now()).await;
    let version = p.versions(&file).await.unwrap()[0].version;
    let before = p.history().await;

    let reads = [
        "/api/records/tree".to_owned(),
        format!(
            "/api/records/versions?node_id={}",
            shared::crypto::b64::encode(&file)
        ),
        chunk_path(&file, version, 0),
        "/api/sharing/grants".to_owned(),
        "/api/sharing/requests".to_owned(),
        "/api/account/session".to_owned(),
        "/api/account/sessions".to_owned(),
        "/api/audit/mine?after=0&limit=10".to_owned(),
    ];
    for uri in &reads {
        for method in ["GET", "HEAD"] {
            let (status, body) = unmarked(&s, &p.c, method, uri).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}");
            if method == "GET" {
                let e: ApiError = serde_json::from_slice(&body).unwrap_or_else(|_| {
                    panic!("{uri}: not JSON: {}", String::from_utf8_lossy(&body))
                });
                assert_eq!(e.code, ErrorCode::Forbidden, "{uri}");
            }
        }
    }
    // Nothing was appended (no record_viewed, no file_read), and the session
    // was not touched.
    assert_eq!(p.history().await, before);
    assert!(p.c.session().await.is_some());

    // With the header, as the app sends it, the same reads work and are logged.
    for uri in &reads {
        let (status, _, _) = p.c.get_bytes(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    let after = p.history().await;
    assert!(after.len() > before.len());
    assert!(after.contains(&shared::audit::EventKind::RecordViewed));

    // Health stays open to monitors.
    let req = Request::get("/api/health").body(Body::empty()).unwrap();
    assert_eq!(
        s.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
    // A wrong header value is no header.
    let req = Request::get("/api/records/tree")
        .header(CSRF_HEADER, "0")
        .header(
            header::COOKIE,
            format!("{SESSION_COOKIE}={}", p.c.token().unwrap()),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        s.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}
