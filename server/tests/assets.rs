//! How the built app's files are served: the brotli or gzip copy the build made
//! (`foo.br`, `foo.gz`) when the browser accepts it, the file itself otherwise,
//! `Vary: Accept-Encoding` on every file, and a long immutable cache only for
//! names that carry Trunk's content hash.
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::{
    body::Body,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt as _;
use server::{
    app::{router, AppState, Limits},
    store::{SledStore, Store},
    web::Site,
};
use tower::ServiceExt as _;

const INDEX: &str = "<!DOCTYPE html><html><head></head><body></body></html>";
const WASM: &str = "/app-0123456789abcdef_bg.wasm";
const CSS: &str = "/main-fedcba9876543210.css";
// The server never decodes these: marker bytes show which file was sent.
const WASM_RAW: &[u8] = b"\0asm identity bytes of the app";
const WASM_BR: &[u8] = b"brotli bytes";
const WASM_GZ: &[u8] = b"gzip bytes";
const CSS_RAW: &[u8] = b"body { color: black; }";
const CSS_GZ: &[u8] = b"gzip css";

struct Harness {
    app: Router,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn harness() -> Harness {
    let site = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: &[u8]| {
        std::fs::write(site.path().join(name.trim_start_matches('/')), bytes).unwrap()
    };
    put("index.html", INDEX.as_bytes());
    // The build writes its copy of index.html too; the server answers `/` from
    // the index.html it loaded at start.
    put("index.html.br", b"brotli index");
    put(WASM, WASM_RAW);
    put(&format!("{WASM}.br"), WASM_BR);
    put(&format!("{WASM}.gz"), WASM_GZ);
    // Only a gzip copy: a browser that prefers brotli gets gzip.
    put(CSS, CSS_RAW);
    put(&format!("{CSS}.gz"), CSS_GZ);
    put("robots.txt", b"User-agent: *\n");
    let data = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(data.path()).unwrap());
    let state = AppState::new(store, Site::load(site.path(), false).unwrap());
    Harness {
        app: router(state, Limits::default()),
        _dirs: (site, data),
    }
}

async fn get(h: &Harness, uri: &str, accept: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    let res = h
        .app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

fn header_of(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn assert_varies(headers: &HeaderMap) {
    let vary = header_of(headers, header::VARY).unwrap_or("");
    assert!(
        vary.to_ascii_lowercase().contains("accept-encoding"),
        "Vary: {vary:?}"
    );
}

#[tokio::test]
async fn brotli_is_sent_when_accepted() {
    let h = harness();
    // What Chromium sends.
    let (status, headers, body) = get(&h, WASM, Some("gzip, deflate, br, zstd")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, WASM_BR);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(
        header_of(&headers, header::CONTENT_TYPE),
        Some("application/wasm")
    );
    assert_eq!(
        header_of(&headers, header::CONTENT_LENGTH),
        Some(WASM_BR.len().to_string().as_str())
    );
    assert_varies(&headers);
    let (_, headers, body) = get(&h, WASM, Some("br")).await;
    assert_eq!(body, WASM_BR);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), Some("br"));
}

#[tokio::test]
async fn identity_without_accept_encoding() {
    let h = harness();
    for accept in [None, Some("identity"), Some("br;q=0, gzip;q=0")] {
        let (status, headers, body) = get(&h, WASM, accept).await;
        assert_eq!(status, StatusCode::OK, "{accept:?}");
        assert_eq!(body, WASM_RAW, "{accept:?}");
        assert_eq!(header_of(&headers, header::CONTENT_ENCODING), None);
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            Some("application/wasm")
        );
        assert_varies(&headers);
    }
}

#[tokio::test]
async fn gzip_when_only_gzip_is_accepted() {
    let h = harness();
    for accept in ["gzip", "gzip, deflate", "br;q=0, gzip"] {
        let (status, headers, body) = get(&h, WASM, Some(accept)).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(body, WASM_GZ, "{accept}");
        assert_eq!(header_of(&headers, header::CONTENT_ENCODING), Some("gzip"));
        assert_varies(&headers);
    }
}

#[tokio::test]
async fn falls_back_to_the_copies_that_exist() {
    let h = harness();
    // No brotli copy of the CSS: gzip, then the file itself.
    let (_, headers, body) = get(&h, CSS, Some("gzip, br")).await;
    assert_eq!(body, CSS_GZ);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), Some("gzip"));
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), Some("text/css"));
    let (_, headers, body) = get(&h, CSS, Some("br")).await;
    assert_eq!(body, CSS_RAW);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), None);
    assert_varies(&headers);
    // No copy at all.
    let (status, headers, body) = get(&h, "/robots.txt", Some("gzip, br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"User-agent: *\n");
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), None);
    // A missing file is still a plain 404, whatever is accepted.
    let (status, headers, _) = get(&h, "/app-0000000000000000.js", Some("br")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), None);
}

#[tokio::test]
async fn only_hashed_names_are_cached_for_good() {
    let h = harness();
    for (uri, accept) in [(WASM, Some("br")), (WASM, None), (CSS, Some("gzip"))] {
        let (_, headers, _) = get(&h, uri, accept).await;
        assert_eq!(
            header_of(&headers, header::CACHE_CONTROL),
            Some("public, max-age=31536000, immutable"),
            "{uri}"
        );
    }
    // Names without a hash keep their name across builds.
    let (_, headers, _) = get(&h, "/robots.txt", None).await;
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), Some("no-cache"));
    // The page itself is always revalidated, and sent as loaded at start.
    for uri in ["/", "/index.html", "/records"] {
        let (status, headers, body) = get(&h, uri, Some("br, gzip")).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(body, INDEX.as_bytes(), "{uri}");
        assert_eq!(header_of(&headers, header::CONTENT_ENCODING), None);
        assert_eq!(header_of(&headers, header::CACHE_CONTROL), Some("no-cache"));
    }
}

#[tokio::test]
async fn compressed_files_keep_the_security_headers() {
    let h = harness();
    let (_, headers, _) = get(&h, WASM, Some("br")).await;
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert_eq!(
        header_of(&headers, header::X_CONTENT_TYPE_OPTIONS),
        Some("nosniff")
    );
}

#[tokio::test]
async fn no_path_leaves_the_site_through_a_compressed_copy() {
    let h = harness();
    for uri in ["/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd"] {
        let (_, _, body) = get(&h, uri, Some("br, gzip")).await;
        assert!(!String::from_utf8_lossy(&body).contains("root:"), "{uri}");
    }
}
