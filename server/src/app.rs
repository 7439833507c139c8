//! The router, on one screen: server functions, plain API routes, the built app,
//! and the layers every response passes through.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, on, post, MethodFilter},
    Router,
};
use leptos::prelude::provide_context;
use shared::api::Backend;

use crate::{
    backend::ServerBackend,
    error::{api_not_found, limit_body, normalize_api_errors},
    store::Store,
    web::{security_headers, static_app, Site},
};

/// Limits the operator can tune.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body a JSON API call accepts, in bytes.
    pub max_json_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_json_body: 1024 * 1024,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The record store.
    pub store: Arc<dyn Store>,
    /// The implementation of the server functions, handed to them as context.
    pub backend: Arc<dyn Backend>,
    /// The built app and its CSP.
    pub site: Arc<Site>,
}

impl AppState {
    /// Wires the backend to the store.
    pub fn new(store: Arc<dyn Store>, site: Site) -> AppState {
        let backend: Arc<dyn Backend> = Arc::new(ServerBackend::new(store.clone()));
        AppState {
            store,
            backend,
            site: Arc::new(site),
        }
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
    let api = api
        .route("/api/csp-report", post(crate::backend::system::csp_report))
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .layer(middleware::from_fn(move |req, next| {
            limit_body(limits.max_json_body, req, next)
        }))
        .layer(middleware::from_fn(normalize_api_errors));

    Router::new()
        .merge(api)
        .fallback(static_app)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(middleware::from_fn(log_request))
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

/// Runs a server function with the backend in its context.
async fn call_server_fn(State(state): State<AppState>, mut req: Request) -> Response {
    // Leptos turns the answer to a plain HTML form post into a redirect; the API
    // only speaks JSON, so never let a client's Accept header pick that path.
    req.headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let backend = state.backend.clone();
    leptos_axum::handle_server_fns_with_context(move || provide_context(backend.clone()), req)
        .await
        .into_response()
}

/// One line per request: method, path (never the query, which may carry
/// arguments), status and time. No headers, bodies or cookies.
async fn log_request(req: Request, next: middleware::Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    tracing::info!(
        %method,
        path = %path,
        status = res.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    res
}
