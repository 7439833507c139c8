//! The HTTP API: one module per area, each holding its server functions and wire
//! types. Every server function lives under [`API_PREFIX`]; the wire format of
//! each is in `docs/PROTOCOL.md` section 15.

pub mod account;
pub mod admin;
pub mod audit;
pub mod directory;
pub mod error;
pub mod notifications;
pub mod records;
pub mod sharing;
pub mod system;

pub use error::{ApiError, ErrorCode};

/// Path prefix of every API route, server functions and plain routes alike.
pub const API_PREFIX: &str = "/api";

/// The header every API request must carry (value `1`), reads included (some
/// reads append audit events); a request that is not a read also needs an
/// `Origin` equal to the server's own. A cross-site page cannot add a custom
/// header without a CORS preflight, which the server never grants, so this stops
/// cross-site request forgery even where SameSite cookies are not enforced.
/// Only `GET /api/health` and the browser's own CSP reports go without it.
pub const CSRF_HEADER: &str = "x-medvault-request";

/// Name of the session cookie over plain HTTP (HttpOnly, SameSite=Strict, Path=/).
pub const SESSION_COOKIE: &str = "medvault_session";

/// Name of the session cookie when browsers reach the server over HTTPS (its
/// own TLS or an `https` public origin): the `__Host-` prefix makes browsers
/// accept it only with `Secure`, `Path=/` and no `Domain`, so a sibling
/// subdomain cannot set or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-medvault_session";

/// Reads a base64url id (16 bytes) from a request field.
pub fn parse_id(text: &str) -> Result<crate::model::Id, ApiError> {
    crate::crypto::b64::decode(text)
        .and_then(|bytes| <crate::model::Id>::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| ApiError::bad_request("The id is not valid (16 bytes, base64url)."))
}

/// The fetch client of every server function (GET and POST alike): the
/// browser's `fetch` with [`CSRF_HEADER`] added. (Native builds compile it too but never send with it.)
pub struct ApiClient;

impl<E, I, O> server_fn::client::Client<E, I, O> for ApiClient
where
    E: server_fn::error::FromServerFnError,
    I: server_fn::error::FromServerFnError,
    O: server_fn::error::FromServerFnError,
{
    type Request = server_fn::request::browser::BrowserRequest;
    type Response = server_fn::response::browser::BrowserResponse;

    fn send(
        req: Self::Request,
    ) -> impl std::future::Future<Output = Result<Self::Response, E>> + Send {
        req.headers().set(CSRF_HEADER, "1");
        <server_fn::client::browser::BrowserClient as server_fn::client::Client<E, I, O>>::send(req)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl std::future::Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<server_fn::Bytes, server_fn::Bytes>> + Send + 'static,
                impl futures::Sink<server_fn::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <server_fn::client::browser::BrowserClient as server_fn::client::Client<E, I, O>>::open_websocket(path)
    }

    fn spawn(future: impl std::future::Future<Output = ()> + Send + 'static) {
        <server_fn::client::browser::BrowserClient as server_fn::client::Client<E, I, O>>::spawn(
            future,
        )
    }
}

/// Who is calling, as the server's router found it, handed to every backend
/// method. Built by the server for each request; the backend checks the session.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct Caller {
    /// The session cookie's value, if the request carried one (not yet checked).
    pub session_token: Option<zeroize::Zeroizing<String>>,
    /// The client's address, for throttling (never logged with a username).
    pub client_addr: std::net::IpAddr,
    /// The request's User-Agent, shortened, for the session list.
    pub user_agent: String,
    cookie: std::sync::Arc<std::sync::Mutex<CookieChange>>,
}

/// What the response should do to the session cookie.
#[cfg(feature = "ssr")]
#[derive(Clone, Default, PartialEq, Eq)]
pub enum CookieChange {
    /// Leave it.
    #[default]
    Keep,
    /// Set it to this token.
    Set(zeroize::Zeroizing<String>),
    /// Remove it.
    Clear,
}

#[cfg(feature = "ssr")]
impl Caller {
    /// A caller for one request; the server reads [`Caller::cookie_change`] after
    /// the call to write `Set-Cookie`.
    pub fn new(
        session_token: Option<zeroize::Zeroizing<String>>,
        client_addr: std::net::IpAddr,
        user_agent: String,
    ) -> Caller {
        Caller {
            session_token,
            client_addr,
            user_agent,
            cookie: Default::default(),
        }
    }

    /// Asks for the session cookie to be set to `token` on the response.
    pub fn set_session_cookie(&self, token: zeroize::Zeroizing<String>) {
        if let Ok(mut c) = self.cookie.lock() {
            *c = CookieChange::Set(token);
        }
    }

    /// Asks for the session cookie to be removed on the response.
    pub fn clear_session_cookie(&self) {
        if let Ok(mut c) = self.cookie.lock() {
            *c = CookieChange::Clear;
        }
    }

    /// What the backend asked for; shared by every clone of this caller.
    pub fn cookie_change(&self) -> CookieChange {
        self.cookie.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// What the server implements for the server functions. Each area adds its own
/// trait as a supertrait, so one `Arc<dyn Backend>` in the request context serves
/// every call.
#[cfg(feature = "ssr")]
pub trait Backend:
    system::SystemBackend
    + account::AccountBackend
    + directory::DirectoryBackend
    + admin::AdminBackend
    + audit::AuditBackend
    + notifications::NotificationsBackend
    + records::RecordsBackend
    + sharing::SharingBackend
    + Send
    + Sync
    + 'static
{
}

#[cfg(feature = "ssr")]
impl<T> Backend for T where
    T: system::SystemBackend
        + account::AccountBackend
        + directory::DirectoryBackend
        + admin::AdminBackend
        + audit::AuditBackend
        + notifications::NotificationsBackend
        + records::RecordsBackend
        + sharing::SharingBackend
        + Send
        + Sync
        + 'static
{
}

/// The backend the server put into the request context, or an internal error if it
/// is missing (a wiring bug in the router, never the client's fault).
#[cfg(feature = "ssr")]
pub fn backend() -> Result<std::sync::Arc<dyn Backend>, ApiError> {
    leptos::prelude::use_context::<std::sync::Arc<dyn Backend>>().ok_or_else(ApiError::internal)
}

/// The caller the server put into the request context.
#[cfg(feature = "ssr")]
pub fn caller() -> Result<Caller, ApiError> {
    leptos::prelude::use_context::<Caller>().ok_or_else(ApiError::internal)
}
