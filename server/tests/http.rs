//! The router end to end in-process (`tower::ServiceExt::oneshot`): every route,
//! every kind of bad input, and the headers on every response.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt as _;
use server::{
    app::{router, AppState, Limits},
    store::{SledStore, Store},
    web::Site,
};
use shared::api::{ApiError, ErrorCode};
use tower::ServiceExt as _;

const INDEX: &str = "<!DOCTYPE html><html><head><script type=\"module\">import init from '/app.js';await init();</script></head><body></body></html>";

/// A test-only server function with a JSON body, to prove how server functions
/// answer bad input: it echoes a number and refuses zero as "not found".
#[leptos::server(prefix = "/api", endpoint = "test/echo", input = server_fn::codec::Json, output = server_fn::codec::Json)]
async fn echo(n: u32) -> Result<u32, ApiError> {
    if n == 0 {
        Err(ApiError::not_found())
    } else {
        Ok(n)
    }
}

struct Harness {
    app: Router,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn harness_with(limits: Limits, tls: bool) -> Harness {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), INDEX).unwrap();
    std::fs::write(site.path().join("app-123.js"), "export default 1;").unwrap();
    let data = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(data.path()).unwrap());
    let state = AppState::new(store, Site::load(site.path(), tls).unwrap());
    Harness {
        app: router(state, limits),
        _dirs: (site, data),
    }
}

fn harness() -> Harness {
    harness_with(Limits::default(), false)
}

async fn send(h: &Harness, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = h.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

fn api_error(body: &[u8]) -> ApiError {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not an ApiError: {}", String::from_utf8_lossy(body)))
}

/// A GET as the app sends it (with the request-forgery header).
fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(shared::api::CSRF_HEADER, "1")
        .body(Body::empty())
        .unwrap()
}

/// A POST as the app sends it: JSON, the CSRF header and our own Origin.
fn post_json(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(shared::api::CSRF_HEADER, "1")
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn health_reports_version_and_open_store() {
    let h = harness();
    let (status, headers, body) = send(&h, get("/api/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["store_open"], true);
    assert_eq!(v["version"], shared::VERSION);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let h = harness();
    for uri in [
        "/",
        "/records/anything",
        "/app-123.js",
        "/missing.wasm",
        "/api/health",
        "/api/nope",
    ] {
        let (_, headers, _) = send(&h, get(uri)).await;
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{uri}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{uri}"
        );
        assert!(csp.contains("object-src 'none'"), "{uri}");
        assert!(csp.contains("base-uri 'none'"), "{uri}");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}");
        assert!(!csp.contains("unsafe-inline"), "{uri}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{uri}");
        assert_eq!(
            headers["cross-origin-opener-policy"], "same-origin",
            "{uri}"
        );
        assert!(headers["permissions-policy"]
            .to_str()
            .unwrap()
            .contains("camera=()"));
        assert!(
            headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
            "no HSTS without TLS"
        );
        if uri.starts_with("/api") {
            assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{uri}");
        }
    }
}

#[tokio::test]
async fn csp_allows_exactly_the_inline_loader_of_index_html() {
    let h = harness();
    let (_, headers, _) = send(&h, get("/")).await;
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let hashes = server::web::inline_script_hashes(INDEX);
    assert_eq!(hashes.len(), 1);
    assert!(csp.contains(&hashes[0]));
}

#[tokio::test]
async fn hsts_is_sent_under_tls() {
    let h = harness_with(Limits::default(), true);
    let (_, headers, _) = send(&h, get("/")).await;
    assert!(headers[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

#[tokio::test]
async fn app_routes_fall_back_to_index_and_missing_files_are_404() {
    let h = harness();
    let (status, headers, body) = send(&h, get("/records/folder/123")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(body, INDEX.as_bytes());
    let (status, _, body) = send(&h, get("/app-123.js")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"export default 1;");
    let (status, _, _) = send(&h, get("/missing.js")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = send(&h, get("/../index.html/../../etc/passwd")).await;
    assert!(
        !String::from_utf8_lossy(&body).contains("root:"),
        "{status}"
    );
}

#[tokio::test]
async fn unknown_api_call_is_404_json() {
    let h = harness();
    for req in [
        post_json("/api/does-not-exist", "garbage"),
        get("/api/does-not-exist"),
        get("/api"),
        get("/api/"),
    ] {
        let (status, headers, body) = send(&h, req).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(api_error(&body).code, ErrorCode::NotFound);
    }
}

#[tokio::test]
async fn wrong_method_is_405_json() {
    let h = harness();
    for req in [
        post_json("/api/health", "{}"),
        get("/api/test/echo"),
        Request::put("/api/health")
            .header(header::HOST, "localhost")
            .header(header::ORIGIN, "http://localhost")
            .header(shared::api::CSRF_HEADER, "1")
            .body(Body::from(vec![b'x'; 10]))
            .unwrap(),
    ] {
        let (status, headers, body) = send(&h, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(api_error(&body).code, ErrorCode::MethodNotAllowed);
    }
}

#[tokio::test]
async fn server_function_round_trip_and_its_errors_keep_their_status() {
    let h = harness();
    let (status, _, body) = send(&h, post_json("/api/test/echo", r#"{"n":7}"#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"7");
    let (status, headers, body) = send(&h, post_json("/api/test/echo", r#"{"n":0}"#)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert!(headers
        .get(server_fn::error::SERVER_FN_ERROR_HEADER)
        .is_none());
    assert_eq!(api_error(&body).code, ErrorCode::NotFound);
}

#[tokio::test]
async fn malformed_json_is_400_json() {
    let h = harness();
    for bad in [
        "garbage",
        "{\"n\":",
        "{\"n\":\"seven\"}",
        "{\"n\":-1}",
        "[]",
        "",
        "\u{0}\u{1}",
    ] {
        let (status, _, body) = send(&h, post_json("/api/test/echo", bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        let e = api_error(&body);
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(
            !e.message.contains("seven"),
            "the error does not echo the input"
        );
    }
    let (status, _, body) = send(&h, post_json("/api/csp-report", "{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(api_error(&body).code, ErrorCode::BadRequest);
}

struct Chunks(std::vec::IntoIter<Result<bytes::Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<bytes::Bytes, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.next())
    }
}

#[tokio::test]
async fn body_over_the_limit_is_413_json_with_or_without_a_length() {
    let h = harness_with(
        Limits {
            max_json_body: 1000,
            ..Limits::default()
        },
        false,
    );
    let big = format!("{{\"n\":1,\"pad\":\"{}\"}}", "x".repeat(5000));
    let (status, _, body) = send(&h, post_json("/api/test/echo", big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api_error(&body).code, ErrorCode::PayloadTooLarge);

    // No Content-Length: a streamed body is cut off at the limit all the same.
    let chunks: Vec<_> = (0..10)
        .map(|_| Ok(bytes::Bytes::from(vec![b' '; 500])))
        .collect();
    let stream = Body::from_stream(Chunks(chunks.into_iter()));
    let (status, _, body) = send(&h, post_json("/api/test/echo", stream)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api_error(&body).code, ErrorCode::PayloadTooLarge);

    // And the server still answers.
    let (status, _, _) = send(&h, post_json("/api/test/echo", r#"{"n":3}"#)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn csp_reports_are_accepted_and_checked() {
    let h = harness();
    let report = r#"{"csp-report":{"effective-directive":"script-src-elem","blocked-uri":"inline","document-uri":"http://x/secret"}}"#;
    let req = Request::post("/api/csp-report")
        .header(header::CONTENT_TYPE, "application/csp-report")
        .body(Body::from(report))
        .unwrap();
    let (status, _, _) = send(&h, req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let req = Request::post("/api/csp-report")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(report))
        .unwrap();
    let (status, _, body) = send(&h, req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(api_error(&body).code, ErrorCode::UnsupportedMediaType);
}

#[tokio::test]
async fn fail_state_changing_requests_without_the_header_or_from_another_origin() {
    let h = harness();
    let cases: [(&str, Option<&str>, Option<&str>); 6] = [
        ("no header", None, Some("http://localhost")),
        ("wrong header value", Some("0"), Some("http://localhost")),
        ("no origin", Some("1"), None),
        ("foreign origin", Some("1"), Some("https://evil.example")),
        ("other scheme", Some("1"), Some("https://localhost")),
        ("other port", Some("1"), Some("http://localhost:8080")),
    ];
    for (what, marker, origin) in cases {
        let mut req = Request::post("/api/test/echo")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::HOST, "localhost");
        if let Some(m) = marker {
            req = req.header(shared::api::CSRF_HEADER, m);
        }
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        let (status, headers, body) = send(&h, req.body(Body::from(r#"{"n":7}"#)).unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{what}");
        assert_eq!(api_error(&body).code, ErrorCode::Forbidden, "{what}");
    }
    // Also for unknown calls and other methods; reads are never refused.
    let req = Request::delete("/api/anything")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&h, req).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&h, get("/api/health")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn under_tls_the_origin_must_be_https() {
    let h = harness_with(Limits::default(), true);
    let (status, _, _) = send(&h, post_json("/api/test/echo", r#"{"n":7}"#)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "http origin under TLS");
    let req = Request::post("/api/test/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "https://localhost")
        .header(shared::api::CSRF_HEADER, "1")
        .body(Body::from(r#"{"n":7}"#))
        .unwrap();
    assert_eq!(send(&h, req).await.0, StatusCode::OK);
}

#[tokio::test]
async fn behind_a_proxy_the_public_origin_is_the_only_one_accepted() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), INDEX).unwrap();
    let data = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(data.path()).unwrap());
    let state = AppState::new(store, Site::load(site.path(), false).unwrap())
        .with_public_origin(Some("https://medvault.example.org/".into()));
    let h = Harness {
        app: router(state, Limits::default()),
        _dirs: (site, data),
    };
    // The proxy forwards to us as plain HTTP on an inner host name.
    let echo = |origin: &str| {
        Request::post("/api/test/echo")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::HOST, "10.0.0.5:8080")
            .header(header::ORIGIN, origin)
            .header(shared::api::CSRF_HEADER, "1")
            .body(Body::from(r#"{"n":7}"#))
            .unwrap()
    };
    assert_eq!(
        send(&h, echo("https://medvault.example.org")).await.0,
        StatusCode::OK
    );
    for origin in [
        "http://10.0.0.5:8080",
        "http://medvault.example.org",
        "https://medvault.example.org:8443",
        "https://evil.example",
    ] {
        assert_eq!(
            send(&h, echo(origin)).await.0,
            StatusCode::FORBIDDEN,
            "{origin}"
        );
    }
}

/// A request body that sends what the test gives it and stays open until the
/// sender is dropped: a client that is slow to finish.
struct Trickle(tokio::sync::mpsc::Receiver<bytes::Bytes>);

impl futures_core::Stream for Trickle {
    type Item = Result<bytes::Bytes, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

#[tokio::test]
async fn a_full_class_answers_503_with_retry_after_and_the_others_still_work() {
    let h = harness_with(
        Limits {
            classes: server::overload::ClassLimits {
                records: 1,
                queue_wait: std::time::Duration::from_millis(100),
                ..server::overload::ClassLimits::for_cores(1)
            },
            ..Limits::default()
        },
        false,
    );
    // One API call holds the class's only place while its body trickles in.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(bytes::Bytes::from_static(b"{\"n\":"))
        .await
        .unwrap();
    let held = tokio::spawn(
        h.app
            .clone()
            .oneshot(post_json("/api/test/echo", Body::from_stream(Trickle(rx)))),
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // The next waits its 100 ms, then is refused: 503, Retry-After, JSON.
    let (status, headers, body) = send(&h, post_json("/api/test/echo", r#"{"n":1}"#)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers[header::RETRY_AFTER], "1");
    let error = api_error(&body);
    assert_eq!(error.code, ErrorCode::Unavailable);
    assert_eq!(error.message, server::overload::BUSY);

    // Other classes are not held back: the health check, the app's files,
    // a sign-in (refused for its content, not for the load).
    assert_eq!(send(&h, get("/api/health")).await.0, StatusCode::OK);
    assert_eq!(send(&h, get("/")).await.0, StatusCode::OK);
    let (status, _, _) = send(&h, post_json("/api/account/login/start", "{}")).await;
    assert_ne!(status, StatusCode::SERVICE_UNAVAILABLE);

    // The slow client finishes; its place is free again.
    tx.send(bytes::Bytes::from_static(b"2}")).await.unwrap();
    drop(tx);
    let res = held.await.unwrap().unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The place is kept until the answer's body has been sent.
    let (status, _, _) = send(&h, post_json("/api/test/echo", r#"{"n":4}"#)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "2");
    let (status, _, body) = send(&h, post_json("/api/test/echo", r#"{"n":3}"#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"3");
}
