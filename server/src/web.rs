//! The built app (static files with SPA fallback), the Content-Security-Policy,
//! the browser's reports of its violations, and the security headers every
//! response carries.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shared::api::{ApiError, ErrorCode};
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::error::AppError;

/// What the web layer reads of the server's state (made from `AppState` by
/// `FromRef`, so this module does not depend on the router's state).
#[derive(Clone)]
pub struct WebState {
    /// The built app and its CSP.
    pub site: Arc<Site>,
    /// Whether browsers reach us over HTTPS: every response then carries HSTS.
    pub https: bool,
}

/// The built app as loaded at start: its directory and its `index.html`, with the
/// CSP that allows exactly the inline scripts this `index.html` holds.
pub struct Site {
    dir: PathBuf,
    index_html: bytes::Bytes,
    csp: HeaderValue,
    hsts: bool,
}

/// Why the built app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// `index.html` is missing: the app was not built, or the path is wrong.
    #[error(
        "cannot read {path}: {source}. Build the app first (scripts/run.sh does) or pass --site"
    )]
    MissingIndex {
        /// Where we looked.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CSP could not be put into a header (cannot happen with base64 hashes).
    #[error("the Content-Security-Policy is not a valid header value")]
    BadHeader,
}

impl Site {
    /// Loads `index.html` from the built app's directory and derives the CSP from it.
    pub fn load(dir: &Path, hsts: bool) -> Result<Site, SiteError> {
        let path = dir.join("index.html");
        let html = std::fs::read(&path).map_err(|source| SiteError::MissingIndex {
            path: path.clone(),
            source,
        })?;
        let csp = content_security_policy(&inline_script_hashes(&String::from_utf8_lossy(&html)));
        Ok(Site {
            dir: dir.to_path_buf(),
            index_html: bytes::Bytes::from(html),
            csp: HeaderValue::from_str(&csp).map_err(|_| SiteError::BadHeader)?,
            hsts,
        })
    }

    /// Whether the app is served over TLS (HSTS on, cookies `Secure`, origin `https`).
    pub fn tls(&self) -> bool {
        self.hsts
    }

    /// The Content-Security-Policy header value sent with every response.
    pub fn csp(&self) -> &HeaderValue {
        &self.csp
    }
}

/// `'sha256-…'` sources for every inline `<script>` (one without `src`) in the page,
/// in order. Trunk writes one small inline loader; hashing it at start keeps the
/// policy free of `'unsafe-inline'` whatever Trunk's loader looks like.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| i + at) {
        let Some(open_end) = lower[start..].find('>').map(|i| i + start) else {
            break;
        };
        let Some(close) = lower[open_end..].find("</script").map(|i| i + open_end) else {
            break;
        };
        let attrs = &lower[start + "<script".len()..open_end];
        let has_src = attrs
            .split(|c: char| c.is_ascii_whitespace())
            .any(|a| a.starts_with("src="));
        if !has_src {
            let body = &html[open_end + 1..close];
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        at = close;
    }
    hashes
}

/// The policy: only our own origin, WASM compilation allowed, the given inline
/// script hashes, no plugins, no framing of us, frames only for the `blob:` URLs
/// of decrypted PDF previews, no `<base>`, and violations reported to us.
pub fn content_security_policy(script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for h in script_hashes {
        script_src.push(' ');
        script_src.push_str(h);
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' blob: data:; \
         font-src 'self'; connect-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; \
         frame-src blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; \
         report-uri /api/csp-report"
    )
}

const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
    geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), \
    usb=(), xr-spatial-tracking=()";

/// Adds the security headers to every response, whatever produced it.
pub async fn security_headers(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with(shared::api::API_PREFIX);
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, state.site.csp.clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    // Our own TLS or an https public origin (the proxy terminates TLS).
    if state.https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if is_api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Serves the built app: files that exist, `index.html` for app routes (paths
/// without a file extension), and a plain 404 for missing files.
pub async fn static_app(State(state): State<WebState>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = req.uri().path().to_owned();
    if path == "/" || path == "/index.html" {
        return index(&state.site);
    }
    // The build writes `foo.br` and `foo.gz` next to each text or WASM file
    // (scripts/compress-dist.mjs); ServeDir sends one of them with its
    // Content-Encoding when Accept-Encoding allows, and `foo` itself otherwise.
    // Nothing is compressed per request.
    let served = ServeDir::new(&state.site.dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .oneshot(req)
        .await;
    match served {
        Ok(res) if res.status() != StatusCode::NOT_FOUND => {
            let mut res = res.map(Body::new);
            let h = res.headers_mut();
            // Caches must key the answer on the encoding the browser accepted.
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(if is_content_hashed(&path) {
                    // Trunk names these by content hash, so they never change.
                    "public, max-age=31536000, immutable"
                } else {
                    // favicon.svg, robots.txt: same name, new content per build.
                    "no-cache"
                }),
            );
            res
        }
        _ if looks_like_file(&path) => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Not found\n",
        )
            .into_response(),
        // An app route: the app's router decides what to show (including its
        // own "page not found").
        _ => index(&state.site),
    }
}

fn looks_like_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

/// Whether the last path segment carries Trunk's content hash: `name-<hex>.ext`
/// or `name-<hex>_bg.wasm`, the hash being 8 to 16 lowercase hex digits (Trunk
/// writes a 64-bit hash without leading zeros).
fn is_content_hashed(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or("");
    let stem = last.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(name, hash)| {
        !name.is_empty()
            && (8..=16).contains(&hash.len())
            && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn index(site: &Arc<Site>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Always revalidate, so a new build's asset names are picked up.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        site.index_html.clone(),
    )
        .into_response()
}

/// The part of a CSP report we look at. Other fields (the page and the blocked
/// address) may carry private data, so they are neither parsed nor logged.
#[derive(Debug, Deserialize)]
struct CspReport {
    #[serde(rename = "csp-report")]
    report: CspReportBody,
}

#[derive(Debug, Deserialize)]
struct CspReportBody {
    #[serde(rename = "effective-directive", default)]
    effective_directive: String,
}

/// `POST /api/csp-report`: the browser tells us it blocked something. A violation
/// in our own app is a bug or an attack, so it is logged as a warning.
pub async fn csp_report(headers: HeaderMap, body: Bytes) -> Result<StatusCode, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(content_type.starts_with("application/csp-report")
        || content_type.starts_with("application/json"))
    {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Send the report as application/csp-report or application/json.",
        )
        .into());
    }
    let report: CspReport = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("The body is not a valid CSP report (JSON)."))?;
    let directive: String = report
        .report
        .effective_directive
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    tracing::warn!(directive = %directive, "content security policy violation reported");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<html><head><script src="/a.js"></script>
<script type="module">import init from '/app.js';init();</script>
<SCRIPT>x()</SCRIPT></head></html>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2);
        let expect = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"import init from '/app.js';init();"));
        assert_eq!(hashes[0], format!("'sha256-{expect}'"));
    }

    #[test]
    fn policy_is_strict() {
        let csp = content_security_policy(&["'sha256-abc'".into()]);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc';"));
        assert!(!csp.contains("unsafe-inline"));
        for d in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(d), "{d}");
        }
    }

    #[test]
    fn only_decrypted_previews_may_be_framed() {
        // A PDF preview is a blob: URL made in the page from verified
        // plaintext; nothing else may be framed, and nobody may frame us.
        let csp = content_security_policy(&[]);
        assert!(csp.contains("frame-src blob:;"));
        assert!(!csp.contains("frame-src 'self'"));
        assert!(!csp.contains("frame-src *"));
    }

    #[test]
    fn only_hashed_asset_names_are_immutable() {
        assert!(is_content_hashed("/app-3bfc441e22a832d4_bg.wasm"));
        assert!(is_content_hashed("/app-3bfc441e22a832d4.js"));
        assert!(is_content_hashed("/main-c9f5fcff1cf4c1d7.css"));
        assert!(is_content_hashed("/favicon-74bc75618fac90d7.svg"));
        assert!(is_content_hashed("/app-3bfc441e22a832d4_bg.wasm.br"));
        assert!(is_content_hashed("/app-bfc441e22a832d4.js"));
        assert!(!is_content_hashed("/favicon.svg"));
        assert!(!is_content_hashed("/robots.txt"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/my-file.txt"));
        assert!(!is_content_hashed("/-3bfc441e22a832d4.js"));
        assert!(!is_content_hashed("/app-3BFC441E22A832D4.js"));
        assert!(!is_content_hashed("/app-3bfc441e22a832d4ff.js"));
    }

    #[test]
    fn file_paths_are_told_from_app_routes() {
        assert!(looks_like_file("/app-1234.wasm"));
        assert!(looks_like_file("/static/x.css"));
        assert!(!looks_like_file("/records/folder"));
        assert!(!looks_like_file("/"));
    }
}
