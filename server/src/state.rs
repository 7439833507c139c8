//! What every handler can reach: the store, the backend, the built app and the
//! operator's network settings. Its own module so that the router (`app.rs`)
//! and the web layer (`web.rs`) both use it without using each other.

use std::sync::Arc;

use axum::extract::FromRef;
use shared::api::{Backend, SECURE_SESSION_COOKIE, SESSION_COOKIE};

use crate::{
    backend::{audit::AuditLog, AccountConfig, ServerBackend},
    proxy::IpNet,
    store::Store,
    web::{Site, WebState},
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The record store.
    pub store: Arc<dyn Store>,
    /// The implementation of the server functions, handed to them as context.
    pub backend: Arc<dyn Backend>,
    /// The built app and its CSP.
    pub site: Arc<Site>,
    /// The origin browsers see (`https://medvault.example.org`) when a reverse
    /// proxy stands in front; `None` derives it from `Host` and our own TLS.
    pub public_origin: Option<Arc<str>>,
    /// The audit log, for the head signer (and tests).
    pub audit: AuditLog,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`);
    /// empty means the header is ignored.
    pub trusted_proxies: Arc<[IpNet]>,
    server: Arc<ServerBackend>,
}

impl AppState {
    /// Wires the backend to the store, with default account settings.
    pub fn new(store: Arc<dyn Store>, site: Site) -> AppState {
        AppState::with_accounts(store, site, AccountConfig::default())
    }

    /// Wires the backend to the store with these account settings.
    pub fn with_accounts(store: Arc<dyn Store>, site: Site, accounts: AccountConfig) -> AppState {
        let server = Arc::new(ServerBackend::with_config(store.clone(), accounts));
        let audit = server.audit_log();
        let backend: Arc<dyn Backend> = server.clone();
        AppState {
            store,
            backend,
            site: Arc::new(site),
            public_origin: None,
            audit,
            trusted_proxies: Arc::from(Vec::new()),
            server,
        }
    }

    /// Trusts these reverse proxies to name the client in `X-Forwarded-For`
    /// (see [`crate::proxy`]).
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpNet>) -> AppState {
        self.trusted_proxies = Arc::from(proxies);
        self
    }

    /// Records sign-ins, recoveries and password changes that were started and
    /// never finished, every `every`, for as long as the server runs.
    pub fn spawn_abandoned_logger(
        &self,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        self.server.clone().spawn_abandoned_logger(every)
    }

    /// Sets the public origin (scheme, host and port, no path), for a server
    /// behind a reverse proxy: request-forgery checks compare `Origin` with it,
    /// and an `https` origin makes the session cookie `Secure`.
    pub fn with_public_origin(mut self, origin: Option<String>) -> AppState {
        self.public_origin = origin.map(|o| Arc::from(o.trim_end_matches('/')));
        self
    }

    /// The session cookie's name: `__Host-` prefixed over HTTPS, where browsers
    /// hold it to `Secure`, `Path=/` and no `Domain`. Only this name is read
    /// back, so a cookie planted under the other name is ignored.
    pub(crate) fn session_cookie(&self) -> &'static str {
        if self.https() {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// Whether browsers reach us over HTTPS (our own TLS or the proxy's): the
    /// session cookie is then `Secure` with the `__Host-` prefix, and every
    /// response carries HSTS.
    pub(crate) fn https(&self) -> bool {
        self.site.tls()
            || self
                .public_origin
                .as_deref()
                .is_some_and(|o| o.starts_with("https://"))
    }
}

impl FromRef<AppState> for WebState {
    fn from_ref(state: &AppState) -> WebState {
        WebState {
            site: state.site.clone(),
            https: state.https(),
        }
    }
}
