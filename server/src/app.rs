//! The router, on one screen: server functions, plain API routes, the built app,
//! and the layers every response passes through.

use std::time::Duration;

use axum::{
    body::to_bytes,
    extract::{Request, State},
    http::{header, HeaderValue, Method},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, get, on, post, MethodFilter},
    Json, Router,
};
use leptos::prelude::provide_context;
use shared::{
    api::{
        records::{CHUNK_ROUTE, MAX_CHUNK_SIZE},
        ApiError, Caller, CookieChange, ErrorCode, CSRF_HEADER,
    },
    crypto::stream::TAG_LEN,
};
use tower_http::trace::TraceLayer;
use tracing::Span;
use zeroize::Zeroizing;

pub use crate::state::AppState;
use crate::{
    error::{api_error_response, api_not_found, limit_body, normalize_api_errors},
    extract::{ChunkAddress, RequestCaller},
    overload::{shed, ClassLimits, Gates},
    web::{csp_report, security_headers, static_app},
};

/// Limits the operator can tune.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body a JSON API call accepts, in bytes.
    pub max_json_body: usize,
    /// Longest a request may take from its headers to the response, reading
    /// the body included; a slower one gets `request_timeout` (408). The
    /// listener also closes a connection whose headers take longer than this
    /// (at most [`MAX_HEADER_READ_TIMEOUT`]).
    pub request_timeout: Duration,
    /// How many requests of each class run at once ([`crate::overload`]).
    pub classes: ClassLimits,
}

/// The default request time limit: enough for a full 4 MiB chunk at about
/// 70 KB/s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a client may take to send a request's headers; headers are
/// small, so a slower client is stalling on purpose.
pub const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_json_body: 1024 * 1024,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            classes: ClassLimits::default(),
        }
    }
}

impl Limits {
    /// How long the listener waits for a request's headers.
    pub fn header_read_timeout(&self) -> Duration {
        self.request_timeout.min(MAX_HEADER_READ_TIMEOUT)
    }
}

/// The whole HTTP surface of the server.
pub fn router(state: AppState, limits: Limits) -> Router {
    let mut api = Router::new();
    for (path, method) in server_fn::axum::server_fn_paths() {
        if let Some(filter) = method_filter(&method) {
            api = api.route(path, on(filter, call_server_fn));
        }
    }
    // The chunk routes take raw bytes, behind the same request-forgery check
    // and error format as the rest of the API. No body limit layer: `put_chunk`
    // checks the session before it reads a byte of the body, then reads at most
    // `CHUNK_BODY_LIMIT`.
    let chunks = Router::new()
        .route(
            &format!("{CHUNK_ROUTE}/{{node}}/{{version}}/{{index}}"),
            get(get_chunk).put(put_chunk),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_same_origin,
        ))
        .layer(middleware::from_fn(normalize_api_errors));
    let api = api
        .route("/api/csp-report", post(csp_report))
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .layer(middleware::from_fn(move |req, next| {
            limit_body(limits.max_json_body, req, next)
        }))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_same_origin,
        ))
        .layer(middleware::from_fn(normalize_api_errors));

    Router::new()
        .merge(chunks)
        .merge(api)
        .fallback(static_app)
        // Inside the time limit: a wait for room counts towards it.
        .layer(middleware::from_fn_with_state(
            Gates::new(limits.classes),
            shed,
        ))
        .layer(middleware::from_fn(move |req, next| {
            time_limit(limits.request_timeout, req, next)
        }))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response)
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        .with_state(state)
}

fn method_filter(method: &Method) -> Option<MethodFilter> {
    match *method {
        Method::GET => Some(MethodFilter::GET),
        Method::POST => Some(MethodFilter::POST),
        Method::PUT => Some(MethodFilter::PUT),
        Method::PATCH => Some(MethodFilter::PATCH),
        Method::DELETE => Some(MethodFilter::DELETE),
        _ => None,
    }
}

/// Runs a server function with the backend and the [`Caller`] in its context,
/// then turns what the backend asked of the session cookie into `Set-Cookie`.
async fn call_server_fn(
    State(state): State<AppState>,
    RequestCaller(caller): RequestCaller,
    mut req: Request,
) -> Response {
    // Leptos turns the answer to a plain HTML form post into a redirect; the API
    // only speaks JSON, so never let a client's Accept header pick that path.
    req.headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let backend = state.backend.clone();
    let context_caller = caller.clone();
    let res = leptos_axum::handle_server_fns_with_context(
        move || {
            provide_context(backend.clone());
            provide_context(context_caller.clone());
        },
        req,
    )
    .await
    .into_response();
    with_cookie_change(&state, &caller, res)
}

/// Turns what the backend asked of the session cookie into `Set-Cookie`.
fn with_cookie_change(state: &AppState, caller: &Caller, mut res: Response) -> Response {
    let secure = if state.https() { "; Secure" } else { "" };
    let name = state.session_cookie();
    let cookie = match caller.cookie_change() {
        CookieChange::Keep => None,
        CookieChange::Set(token) => Some(Zeroizing::new(format!(
            "{name}={}; HttpOnly; SameSite=Strict; Path=/{secure}",
            token.as_str()
        ))),
        CookieChange::Clear => Some(Zeroizing::new(format!(
            "{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"
        ))),
    };
    if let Some(cookie) = cookie {
        match HeaderValue::from_str(&cookie) {
            Ok(v) => {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            Err(_) => tracing::error!("session cookie is not a valid header value"),
        }
    }
    res
}

/// The largest chunk `PUT` body: a full chunk of the largest size and its tag.
pub const CHUNK_BODY_LIMIT: usize = MAX_CHUNK_SIZE as usize + TAG_LEN;

/// `PUT /api/records/chunk/{node}/{version}/{index}`: one chunk of an upload,
/// `application/octet-stream`; answers a `ChunkReceipt`.
async fn put_chunk(
    State(state): State<AppState>,
    ChunkAddress {
        node,
        version,
        index,
    }: ChunkAddress,
    RequestCaller(caller): RequestCaller,
    req: Request,
) -> Response {
    let octets = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/octet-stream"));
    if !octets {
        return api_error_response(&ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "A chunk must be sent as application/octet-stream.",
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > CHUNK_BODY_LIMIT as u64) {
        return chunk_too_large();
    }
    // The session first: without one, the body is never read (nor buffered),
    // and the connection is closed after the answer.
    match state.backend.current_session(&caller).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            let res = api_error_response(&ApiError::new(
                ErrorCode::Unauthorized,
                "You are not signed in, or your session has ended. Sign in again.",
            ));
            return with_cookie_change(&state, &caller, res);
        }
        Err(e) => return api_error_response(&e),
    }
    // At most the limit (a body without a length included); more is 413.
    let Ok(body) = to_bytes(req.into_body(), CHUNK_BODY_LIMIT).await else {
        return chunk_too_large();
    };
    let res = match state
        .backend
        .put_chunk(&caller, node, version, index, body)
        .await
    {
        Ok(receipt) => Json(receipt).into_response(),
        Err(e) => api_error_response(&e),
    };
    with_cookie_change(&state, &caller, res)
}

fn chunk_too_large() -> Response {
    api_error_response(&ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("A chunk is at most {CHUNK_BODY_LIMIT} bytes."),
    ))
}

/// Answers `request_timeout` (408) when a request has not been answered within
/// `limit` of its headers arriving, reading a slow body included; the handler
/// is dropped and the connection closed, so a slow client holds nothing for
/// longer.
async fn time_limit(limit: Duration, req: Request, next: middleware::Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            let mut res = api_error_response(&ApiError::new(
                ErrorCode::RequestTimeout,
                format!(
                    "The request took longer than the {} seconds this server allows. Check your connection and try again.",
                    limit.as_secs()
                ),
            ));
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            res
        }
    }
}

/// `GET /api/records/chunk/{node}/{version}/{index}`: one chunk of a complete
/// version, `application/octet-stream` with its `Content-Length`, never cached.
async fn get_chunk(
    State(state): State<AppState>,
    ChunkAddress {
        node,
        version,
        index,
    }: ChunkAddress,
    RequestCaller(caller): RequestCaller,
) -> Response {
    let res = match state.backend.get_chunk(&caller, node, version, index).await {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (header::CONTENT_LENGTH, HeaderValue::from(bytes.len())),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => api_error_response(&e),
    };
    with_cookie_change(&state, &caller, res)
}

/// Refuses an `/api` request that a page of another site could make with
/// the user's cookie, before any handler runs:
///
/// - every request but `OPTIONS` needs [`CSRF_HEADER`]: `1`, reads included,
///   because several reads append audit events, sweep uploads or end expired
///   sessions (a cross-site page cannot add the header without a CORS
///   preflight, which is never granted);
/// - a request that is not a read (GET, HEAD) also needs an `Origin` equal to
///   this server's own (`scheme://Host`, or the public origin).
///
/// Exempt: `GET /api/health`, for monitors, which reads no session and
/// changes nothing; and the CSP report, which browsers post themselves.
async fn require_same_origin(
    State(state): State<AppState>,
    req: Request,
    next: middleware::Next,
) -> Response {
    let method = req.method();
    let path = req.uri().path();
    let read = method == Method::GET || method == Method::HEAD;
    if method == Method::OPTIONS
        || (read && path == "/api/health")
        || (method == Method::POST && path == "/api/csp-report")
    {
        return next.run(req).await;
    }
    let headers = req.headers();
    let marked = headers
        .get(CSRF_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1");
    if read {
        // Browsers send no Origin on same-origin GETs; the header is enough.
        return if marked {
            next.run(req).await
        } else {
            api_error_response(&ApiError::new(
                ErrorCode::Forbidden,
                "This request lacks the header the medvault app sends. Reload the app and try again.",
            ))
        };
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let same_origin = match (&state.public_origin, origin) {
        (Some(public), Some(origin)) => origin.eq_ignore_ascii_case(public),
        (None, Some(origin)) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
            let scheme = if state.site.tls() { "https" } else { "http" };
            host.is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
        }
        (_, None) => false,
    };
    if marked && same_origin {
        next.run(req).await
    } else {
        api_error_response(&ApiError::from_code(ErrorCode::Forbidden))
    }
}

/// The span every request's events run in: method and path, never the query
/// (which may carry arguments), headers, bodies or cookies.
fn request_span(req: &Request) -> Span {
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
}

/// One line per request, in its span (method and path): status and time.
/// Failures are not logged again here: a server fault is logged once, with its
/// detail, where it happened (`AppError::to_api`).
fn log_response(res: &Response, latency: Duration, _: &Span) {
    tracing::info!(
        status = res.status().as_u16(),
        ms = latency.as_millis() as u64,
        "answered"
    );
}
