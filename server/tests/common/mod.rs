//! The account test harness: the router in-process with a clock the test moves,
//! and a client with a cookie jar that speaks to it as the browser app does
//! (the CSRF header, our Origin, the session cookie), driven by the very
//! protocol steps of `shared::client`.
#![allow(dead_code)]

pub mod anchor;
pub mod binary;
pub mod files;
pub mod patient;
pub mod postgres;
pub mod signing;

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc, Mutex,
};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt as _;
use serde::{de::DeserializeOwned, Serialize};
use server::{
    app::{router, AppState, Limits},
    backend::{AccountConfig, AccountSettings, InviteKey, RecordsConfig, TotpKey},
    store::{SledStore, Store},
    web::Site,
};
use shared::{
    api::{
        account::{LoginOutcome, SessionInfo, SignedIn, SignupStarted, TotpEnableStarted},
        ApiError, CSRF_HEADER, SECURE_SESSION_COOKIE, SESSION_COOKIE,
    },
    client::{
        Login, NewAccount, Signup, TotpEnrolment, {self},
    },
    crypto::{keyring::Keyring, totp::TotpSecret},
};
use tower::ServiceExt as _;

/// A start time far from zero, so that "now minus a lifetime" stays positive.
pub const T0: i64 = 1_750_000_000;

/// A strong password that passes the rules.
pub const PASSWORD: &str = "correct horse battery staple 42";

pub struct Server {
    pub app: Router,
    /// The origin the clients send (`http://localhost`, or the public origin).
    pub origin: String,
    /// The session cookie's name this server uses.
    pub cookie_name: &'static str,
    pub clock: Arc<AtomicI64>,
    pub store: Arc<dyn Store>,
    pub invite_key: InviteKey,
    pub audit: server::backend::audit::AuditLog,
    pub data: tempfile::TempDir,
    _site: tempfile::TempDir,
    /// The small filesystem under `data`, unmounted last.
    pub disk: Option<SmallDisk>,
    /// The PostgreSQL connection string of the store, when this run puts
    /// servers on PostgreSQL (see [`open_store`]).
    pub store_url: Option<String>,
    /// Where that store keeps its chunks (`--blobs`), if not in itself.
    pub blobs_url: Option<String>,
}

/// A PostgreSQL store as a server opens it: `url`, chunks in `blobs`.
pub fn pg_store(url: &str, blobs: Option<&str>) -> server::store::PgStore {
    let store = server::store::PgStore::lazy(url, 8).unwrap();
    match blobs {
        Some(b) => store.with_blobs(server::store::blobs::Blobs::open(b).unwrap()),
        None => store,
    }
}

/// The store a test server runs on: sled in `data`, or, when the run asks for
/// it (`MEDVAULT_TEST_STORE=postgres`), a fresh schema in the test cluster.
/// Returns the connection string in that case.
/// Chunks then go to an object store in a directory beside `data`, as a
/// scale-out installation keeps them (`--blobs`).
pub fn open_store(data: &std::path::Path) -> (Arc<dyn Store>, Option<(String, String)>) {
    if postgres::selected() {
        let url = postgres::schema_url_blocking(&postgres::unique_schema("srv"));
        // `MEDVAULT_TEST_BLOBS=s3://bucket` (scripts/garage-test.sh) puts
        // them in S3; names are random, so test servers can share a bucket.
        let blobs = std::env::var("MEDVAULT_TEST_BLOBS")
            .unwrap_or_else(|_| format!("file://{}-chunks", data.display()));
        let store = pg_store(&url, Some(&blobs));
        (Arc::new(store), Some((url, blobs)))
    } else {
        (Arc::new(SledStore::open(data).unwrap()), None)
    }
}

/// A tmpfs of a fixed size mounted for a test, unmounted (lazily, in case
/// something still has a file open) when dropped.
pub struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    pub fn mount(at: &std::path::Path, bytes: u64) -> Result<SmallDisk, String> {
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount refused: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk(at.to_owned()))
    }

    /// Bytes still free on it.
    pub fn free(&self) -> u64 {
        let out = std::process::Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.0)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

thread_local! {
    /// The mailer the next server built on this thread gets
    /// ([`Server::with_mailer`]).
    static NEXT_MAILER: std::cell::RefCell<Option<Arc<server::backend::mailer::Mailer>>> =
        const { std::cell::RefCell::new(None) };
}

impl Server {
    /// A server that sends notification e-mail through `mailer`.
    #[allow(dead_code)]
    pub fn with_mailer(mailer: Arc<server::backend::mailer::Mailer>) -> Server {
        NEXT_MAILER.with(|m| *m.borrow_mut() = Some(mailer));
        Server::new()
    }

    pub fn new() -> Server {
        Server::with(AccountSettings::default())
    }

    pub fn with(settings: AccountSettings) -> Server {
        Server::with_records(settings, RecordsConfig::default())
    }

    pub fn with_records(settings: AccountSettings, records: RecordsConfig) -> Server {
        Server::with_store(settings, records, |store| store)
    }

    /// A server whose store is `wrap` of the real sled store (a test that
    /// makes writes fail wraps it).
    pub fn with_store(
        settings: AccountSettings,
        records: RecordsConfig,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> Server {
        Server::build(settings, records, wrap, Vec::new(), None, false)
    }

    /// A server behind these trusted reverse proxies (`--trusted-proxy`).
    pub fn with_trusted_proxies(proxies: &[&str]) -> Server {
        Server::build(
            AccountSettings::default(),
            RecordsConfig::default(),
            |store| store,
            proxies.iter().map(|p| p.parse().unwrap()).collect(),
            None,
            false,
        )
    }

    /// A server reached over HTTPS: its own TLS, or a reverse proxy at an
    /// `https` public origin (the router itself always sees plain requests).
    pub fn https(public_origin: Option<&str>, tls: bool) -> Server {
        Server::build(
            AccountSettings::default(),
            RecordsConfig::default(),
            |store| store,
            Vec::new(),
            public_origin,
            tls,
        )
    }

    /// A server behind a proxy at `public_origin`, of either scheme.
    pub fn behind_proxy(public_origin: &str) -> Server {
        Server::https(Some(public_origin), false)
    }

    /// A server whose data directory is a filesystem of its own of `bytes`
    /// (a tmpfs mounted for the test), to fill up; `Err` says why mounting is
    /// not possible here.
    pub fn on_small_disk(bytes: u64) -> Result<Server, String> {
        let data = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mount = SmallDisk::mount(data.path(), bytes)?;
        let mut server = Server::build_in(
            data,
            AccountSettings::default(),
            RecordsConfig::default(),
            |store| store,
            Vec::new(),
            None,
            false,
        );
        server.disk = Some(mount);
        Ok(server)
    }

    fn build(
        settings: AccountSettings,
        records: RecordsConfig,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
        proxies: Vec<server::proxy::IpNet>,
        public_origin: Option<&str>,
        tls: bool,
    ) -> Server {
        let data = tempfile::tempdir().unwrap();
        Server::build_in(data, settings, records, wrap, proxies, public_origin, tls)
    }

    fn build_in(
        data: tempfile::TempDir,
        settings: AccountSettings,
        records: RecordsConfig,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
        proxies: Vec<server::proxy::IpNet>,
        public_origin: Option<&str>,
        tls: bool,
    ) -> Server {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(
            site.path().join("index.html"),
            "<!DOCTYPE html><html></html>",
        )
        .unwrap();
        let (store, urls) = open_store(data.path());
        let (store_url, blobs_url) = urls.unzip();
        let store = wrap(store);
        let clock = Arc::new(AtomicI64::new(T0));
        let c = clock.clone();
        let invite_key = InviteKey::load_or_create(data.path()).unwrap();
        let state = AppState::with_accounts(
            store.clone(),
            Site::load(site.path(), tls).unwrap(),
            AccountConfig {
                settings,
                records,
                clock: Arc::new(move || c.load(Ordering::SeqCst)),
                invite_key: Some(invite_key.clone()),
                totp_key: Some(TotpKey::from_bytes([0x5a; 32])),
                mailer: NEXT_MAILER.with(|m| m.borrow_mut().take()),
            },
        )
        .with_public_origin(public_origin.map(str::to_owned))
        .with_trusted_proxies(proxies);
        let audit = state.audit.clone();
        let https = tls || public_origin.is_some_and(|o| o.starts_with("https://"));
        let origin = match public_origin {
            Some(o) => o.trim_end_matches('/').to_owned(),
            None if tls => "https://localhost".to_owned(),
            None => "http://localhost".to_owned(),
        };
        Server {
            audit,
            origin,
            cookie_name: if https {
                SECURE_SESSION_COOKIE
            } else {
                SESSION_COOKIE
            },
            app: router(state, Limits::default()),
            clock,
            store,
            invite_key,
            data,
            _site: site,
            disk: None,
            store_url,
            blobs_url,
        }
    }

    /// The server started again over the same store with `totp_key`: every
    /// in-memory state (pending steps, throttle, cached secrets) is gone. Clients
    /// made before keep their cookies but talk to the old instance.
    pub fn restart(&mut self, totp_key: Option<TotpKey>) {
        let c = self.clock.clone();
        let state = AppState::with_accounts(
            self.store.clone(),
            Site::load(self._site.path(), false).unwrap(),
            AccountConfig {
                settings: AccountSettings::default(),
                records: RecordsConfig::default(),
                clock: Arc::new(move || c.load(Ordering::SeqCst)),
                invite_key: Some(self.invite_key.clone()),
                totp_key,
                mailer: None,
            },
        );
        self.audit = state.audit.clone();
        self.app = router(state, Limits::default());
    }

    /// A second server process on the same store, as a load balancer's
    /// second backend: its own memory, the same keys (invite, TOTP, audit)
    /// and clock. On PostgreSQL it has its own connections; on sled the two
    /// share the store handle (sled allows one process per directory).
    pub async fn sibling(&self) -> Server {
        let store: Arc<dyn Store> = match &self.store_url {
            Some(url) => Arc::new(pg_store(url, self.blobs_url.as_deref())),
            None => self.store.clone(),
        };
        let key = self.audit.signing_key().await.unwrap();
        Server::over(
            store,
            self.store_url.clone(),
            self.blobs_url.clone(),
            tempfile::tempdir().unwrap(),
            self.invite_key.clone(),
            self.clock.clone(),
            &key.seed(),
        )
    }

    /// A server on the PostgreSQL store at `url` with the data directory
    /// (key files) and audit key of a stopped one: the installation after
    /// `medvault-server migrate`.
    pub fn moved_to(
        url: &str,
        blobs: Option<&str>,
        data: tempfile::TempDir,
        clock: Arc<AtomicI64>,
        audit_seed: &[u8; 32],
    ) -> Server {
        let store: Arc<dyn Store> = Arc::new(pg_store(url, blobs));
        let invite_key = InviteKey::load_or_create(data.path()).unwrap();
        Server::over(
            store,
            Some(url.to_owned()),
            blobs.map(str::to_owned),
            data,
            invite_key,
            clock,
            audit_seed,
        )
    }

    /// A plain-HTTP server over `store` with these keys and clock.
    fn over(
        store: Arc<dyn Store>,
        store_url: Option<String>,
        blobs_url: Option<String>,
        data: tempfile::TempDir,
        invite_key: InviteKey,
        clock: Arc<AtomicI64>,
        audit_seed: &[u8; 32],
    ) -> Server {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(
            site.path().join("index.html"),
            "<!DOCTYPE html><html></html>",
        )
        .unwrap();
        let c = clock.clone();
        let state = AppState::with_accounts(
            store.clone(),
            Site::load(site.path(), false).unwrap(),
            AccountConfig {
                settings: AccountSettings::default(),
                records: RecordsConfig::default(),
                clock: Arc::new(move || c.load(Ordering::SeqCst)),
                invite_key: Some(invite_key.clone()),
                totp_key: Some(TotpKey::from_bytes([0x5a; 32])),
                mailer: None,
            },
        );
        assert!(state
            .audit
            .use_key(shared::crypto::sign::SigningKey::from_seed(audit_seed)));
        Server {
            audit: state.audit.clone(),
            origin: "http://localhost".to_owned(),
            cookie_name: SESSION_COOKIE,
            app: router(state, Limits::default()),
            clock,
            store,
            invite_key,
            data,
            _site: site,
            disk: None,
            store_url,
            blobs_url,
        }
    }

    /// A real restart of the store: every handle to it is dropped (clients
    /// must be [`Client::detach`]ed first), the sled store is opened again from
    /// disk, and the server starts on it with the same settings and keys.
    pub fn reopen_store(&mut self) {
        self.reopen_store_after(|_| {});
    }

    /// [`Server::reopen_store`] with `medvault-server compact` run on the
    /// closed store before it opens again (sled only).
    pub fn compact_store(&mut self) -> server::store::sled::compact::Compacted {
        let mut done = None;
        self.reopen_store_after(|path| {
            let mut result = server::store::sled::compact::compact(path);
            for _ in 0..100 {
                if result.is_ok() {
                    break;
                }
                // A write step still finishing holds the old handle for a moment.
                std::thread::sleep(std::time::Duration::from_millis(50));
                result = server::store::sled::compact::compact(path);
            }
            done = Some(result.unwrap_or_else(|e| panic!("the store did not compact: {e}")));
        });
        done.expect("a sled store")
    }

    fn reopen_store_after(&mut self, closed: impl FnOnce(&std::path::Path)) {
        if let Some(url) = &self.store_url {
            self.store = Arc::new(pg_store(url, self.blobs_url.as_deref()));
            self.restart(Some(TotpKey::from_bytes([0x5a; 32])));
            return;
        }
        let path = self.data.path().to_owned();
        let spare = tempfile::tempdir().unwrap();
        let clock = self.clock.clone();
        let spare_store: Arc<dyn Store> = Arc::new(SledStore::open(spare.path()).unwrap());
        self.audit = server::backend::audit::AuditLog::new(
            spare_store.clone(),
            Arc::new(move || clock.load(Ordering::SeqCst)),
        );
        self.app = Router::new();
        self.store = spare_store;
        closed(&path);
        let mut reopened = SledStore::open(&path);
        for _ in 0..100 {
            if reopened.is_ok() {
                break;
            }
            // A write step still finishing holds the old handle for a moment.
            std::thread::sleep(std::time::Duration::from_millis(50));
            reopened = SledStore::open(&path);
        }
        self.store =
            Arc::new(reopened.unwrap_or_else(|e| panic!("the store did not open again: {e}")));
        drop(spare);
        self.restart(Some(TotpKey::from_bytes([0x5a; 32])));
    }

    /// Every byte the server keeps: the files of its data directory (the
    /// sled store, key files) and, on PostgreSQL, every key and value of
    /// every table; for "no secret reaches the server" checks.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        fn walk(dir: &std::path::Path, out: &mut Vec<u8>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.extend(std::fs::read(&path).unwrap());
                }
            }
        }
        let mut out = Vec::new();
        walk(self.data.path(), &mut out);
        if self.store_url.is_some() {
            for space in server::store::Space::ALL {
                for (k, v) in self
                    .store
                    .scan_prefix(space, b"", None, usize::MAX)
                    .await
                    .unwrap()
                {
                    out.extend(k);
                    out.extend(v);
                }
            }
        }
        out
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn client(&self) -> Client {
        Client {
            origin: self.origin.clone(),
            cookie_name: self.cookie_name,
            ..Client::new(self.app.clone())
        }
    }

    /// A client whose connection comes from `peer` (the TCP address the server
    /// sees), sending `X-Forwarded-For: forwarded_for` when given.
    pub fn client_at(&self, peer: &str, forwarded_for: Option<&str>) -> Client {
        Client {
            peer: Some(std::net::SocketAddr::new(peer.parse().unwrap(), 40000)),
            forwarded_for: forwarded_for.map(str::to_owned),
            ..self.client()
        }
    }

    /// An invite made the way the command line makes it.
    pub fn cli_invite(&self, role: shared::model::Role) -> String {
        self.invite_key
            .make_code(role, self.now() + 24 * 3600)
            .unwrap()
    }
}

#[derive(Clone)]
pub struct Client {
    app: Router,
    /// The `Origin` sent with state-changing requests.
    pub origin: String,
    /// The session cookie's name, sent and read back.
    pub cookie_name: &'static str,
    pub cookie: Arc<Mutex<Option<String>>>,
    /// Every Set-Cookie header seen, newest last.
    pub set_cookies: Arc<Mutex<Vec<String>>>,
    peer: Option<std::net::SocketAddr>,
    forwarded_for: Option<String>,
    /// The `Retry-After` header of the last response, if it had one.
    pub retry_after: Arc<Mutex<Option<String>>>,
    /// A real server process at this address, reached over TCP, instead of
    /// the router in-process.
    remote: Option<std::net::SocketAddr>,
}

impl Client {
    /// Lets go of the server this client talks to (before a store restart).
    pub fn detach(&mut self) {
        self.app = Router::new();
    }

    /// Talks to `s` from now on, with the same cookie.
    pub fn attach(&mut self, s: &Server) {
        self.app = s.app.clone();
    }
}

pub type Failure = (StatusCode, ApiError);

/// How a sign-in ended without a session or a second-factor step.
#[derive(Debug)]
pub enum LoginFailed {
    /// KE2 did not open with this password (wrong password or unknown user):
    /// the client stops there and sends no KE3, as the app does.
    InClient,
    /// The server refused a message.
    Server(Failure),
}

impl LoginFailed {
    /// The server's refusal; panics when the client stopped on its own.
    pub fn server(self) -> Failure {
        match self {
            LoginFailed::Server(f) => f,
            LoginFailed::InClient => panic!("the client stopped after KE2; no server error"),
        }
    }
}

impl From<Failure> for LoginFailed {
    fn from(f: Failure) -> Self {
        LoginFailed::Server(f)
    }
}

impl Client {
    /// A client with an empty cookie jar for `app`, reached over plain HTTP.
    pub fn new(app: Router) -> Client {
        Client {
            app,
            origin: "http://localhost".to_owned(),
            cookie_name: SESSION_COOKIE,
            cookie: Arc::new(Mutex::new(None)),
            set_cookies: Arc::new(Mutex::new(Vec::new())),
            peer: None,
            forwarded_for: None,
            retry_after: Arc::new(Mutex::new(None)),
            remote: None,
        }
    }

    /// A client of the server process listening at `addr` (plain HTTP over
    /// loopback), for tests that kill and restart the real binary. A request
    /// the connection fails on (the server is gone) is answered here with a
    /// 503 `unavailable` error whose message starts with "transport:".
    pub fn remote(addr: std::net::SocketAddr) -> Client {
        Client {
            origin: format!("http://{addr}"),
            remote: Some(addr),
            ..Client::new(Router::new())
        }
    }

    /// The whole answer to `req`: in-process, or over TCP for a remote client
    /// (`Err` when the connection failed).
    async fn exchange(
        &self,
        mut req: Request<Body>,
    ) -> Result<(StatusCode, axum::http::HeaderMap, Vec<u8>), String> {
        let Some(addr) = self.remote else {
            let res = self.app.clone().oneshot(req).await.unwrap();
            let (parts, body) = res.into_parts();
            let body = body.collect().await.unwrap().to_bytes().to_vec();
            return Ok((parts.status, parts.headers, body));
        };
        req.headers_mut()
            .insert(header::HOST, addr.to_string().parse().unwrap());
        let round_trip = async {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
            let (parts, body) = res.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((parts.status, parts.headers, body.to_bytes().to_vec()))
        };
        tokio::time::timeout(std::time::Duration::from_secs(120), round_trip)
            .await
            .map_err(|_| "no answer in 120 s".to_owned())?
    }

    /// [`Client::exchange`], with a failed connection turned into the 503
    /// `unavailable` answer a caller handles like any refusal.
    async fn exchange_or_unavailable(
        &self,
        req: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        match self.exchange(req).await {
            Ok(answer) => answer,
            Err(e) => {
                let error = ApiError {
                    code: shared::api::ErrorCode::Unavailable,
                    message: format!("transport: {e}"),
                    retry_after: None,
                };
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::http::HeaderMap::new(),
                    serde_json::to_vec(&error).unwrap(),
                )
            }
        }
    }

    pub fn token(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    async fn send(&self, mut req: Request<Body>) -> (StatusCode, Vec<u8>) {
        if let Some(peer) = self.peer {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        let (status, headers, body) = self.exchange_or_unavailable(req).await;
        *self.retry_after.lock().unwrap() = headers
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        for v in headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap().to_owned();
            let value = v
                .split(';')
                .next()
                .unwrap()
                .strip_prefix(&format!("{}=", self.cookie_name))
                .unwrap()
                .to_owned();
            *self.cookie.lock().unwrap() = if v.contains("Max-Age=0") {
                None
            } else {
                Some(value)
            };
            self.set_cookies.lock().unwrap().push(v);
        }
        (status, body)
    }

    fn with_cookie(&self, mut b: axum::http::request::Builder) -> axum::http::request::Builder {
        if let Some(c) = self.token() {
            b = b.header(header::COOKIE, format!("other=1; {}={c}", self.cookie_name));
        }
        if let Some(hops) = &self.forwarded_for {
            b = b.header("x-forwarded-for", hops);
        }
        b.header(header::USER_AGENT, "TestBrowser/1.0")
    }

    /// POSTs raw bytes as the app does.
    pub async fn post_raw(&self, path: &str, body: impl Into<Body>) -> (StatusCode, Vec<u8>) {
        let req = self
            .with_cookie(Request::post(path))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::HOST, "localhost")
            .header(header::ORIGIN, self.origin.as_str())
            .header(CSRF_HEADER, "1")
            .body(body.into())
            .unwrap();
        self.send(req).await
    }

    /// PUTs raw bytes with a content type, as the app sends a chunk.
    pub async fn put_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let req = self
            .with_cookie(Request::put(path))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::HOST, "localhost")
            .header(header::ORIGIN, self.origin.as_str())
            .header(CSRF_HEADER, "1")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// GETs raw bytes with the response's headers, with the request-forgery
    /// header as the app sends it on every call.
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let req = self
            .with_cookie(Request::get(path))
            .header(CSRF_HEADER, "1")
            .body(Body::empty())
            .unwrap();
        self.exchange_or_unavailable(req).await
    }

    /// Sends any request as built, with the session cookie.
    pub async fn send_request(
        &self,
        builder: axum::http::request::Builder,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let req = self.with_cookie(builder).body(Body::from(body)).unwrap();
        self.send(req).await
    }

    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, Failure> {
        let (status, bytes) = self.post_raw(path, serde_json::to_vec(body).unwrap()).await;
        decode(status, &bytes)
    }

    pub async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, Failure> {
        let req = self
            .with_cookie(Request::get(path))
            .header(CSRF_HEADER, "1")
            .body(Body::empty())
            .unwrap();
        let (status, bytes) = self.send(req).await;
        decode(status, &bytes)
    }

    pub async fn session(&self) -> Option<SessionInfo> {
        self.get("/api/account/session").await.unwrap()
    }

    /// Signs up with the real client steps; returns the new account's secrets.
    pub async fn signup(
        &self,
        username: &str,
        invite: Option<String>,
        now: i64,
    ) -> Result<(SessionInfo, NewAccount), Failure> {
        let (signup, start) = Signup::start(username, PASSWORD, invite).unwrap();
        let started: SignupStarted = self
            .post(
                "/api/account/signup/start",
                &serde_json::json!({ "request": start }),
            )
            .await?;
        let mut account = signup.finish(&started, now).unwrap();
        // The browser sends a patient's new record with sign-up; these tests
        // make records themselves (records/create, or a record from before
        // signed records), so the account starts without one.
        account.request.record = None;
        let info: SessionInfo = self
            .post(
                "/api/account/signup/finish",
                &serde_json::json!({ "request": account.request }),
            )
            .await?;
        Ok((info, account))
    }

    /// A sign-in as the app makes it: `login/start`, then, only when KE2 opens
    /// with the password, `login/finish`. A wrong password or an unknown user
    /// ends in the client ([`LoginFailed::InClient`]) with nothing more sent.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginOutcome, LoginFailed> {
        let (login, start) = Login::start(username, password).unwrap();
        let started: shared::api::account::LoginStarted = self
            .post(
                "/api/account/login/start",
                &serde_json::json!({ "request": start }),
            )
            .await?;
        let Ok((finish, _)) = login.finish(&started) else {
            return Err(LoginFailed::InClient);
        };
        Ok(self
            .post(
                "/api/account/login/finish",
                &serde_json::json!({ "request": finish }),
            )
            .await?)
    }

    /// `login/start` only; the answer or the server's refusal.
    pub async fn login_start(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(Login, shared::api::account::LoginStarted), Failure> {
        let (login, start) = Login::start(username, password).unwrap();
        let started = self
            .post(
                "/api/account/login/start",
                &serde_json::json!({ "request": start }),
            )
            .await?;
        Ok((login, started))
    }

    /// A sign-in by a hostile client that sends a KE3 even when KE2 did not
    /// open (a made-up one then), so the server's verdict on it shows.
    pub async fn login_sending_ke3(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LoginOutcome, Failure> {
        let (login, started) = self.login_start(username, password).await?;
        let finish = match login.finish(&started) {
            Ok((finish, _)) => finish,
            Err(_) => shared::api::account::LoginFinishRequest {
                login_id: started.login_id,
                ke3: vec![7u8; shared::crypto::opaque::CREDENTIAL_FINALIZATION_LEN],
            },
        };
        self.post(
            "/api/account/login/finish",
            &serde_json::json!({ "request": finish }),
        )
        .await
    }

    /// Turns the second factor on as the app does: a fresh proof of `password`,
    /// then the secret (base32 text, sent as given) and a code. For a wrong
    /// password the client would stop; a hostile one sends a made-up KE3, which
    /// is what the server must judge.
    pub async fn enable_totp(
        &self,
        password: &str,
        secret: &str,
        code: &str,
    ) -> Result<SessionInfo, Failure> {
        let (enrolment, start) = TotpEnrolment::start(password).unwrap();
        let started: TotpEnableStarted = self
            .post(
                "/api/account/totp/start",
                &serde_json::json!({ "request": start }),
            )
            .await?;
        let mut request = match enrolment.finish(&started, &TotpSecret::from_bytes([0; 20]), code) {
            Ok(request) => serde_json::to_value(&request).unwrap(),
            Err(_) => serde_json::json!({
                "enable_id": shared::crypto::b64::encode(&started.enable_id),
                "ke3": shared::crypto::b64::encode(&[7u8; 64]),
                "code": code,
            }),
        };
        request["secret"] = serde_json::json!(secret);
        self.post(
            "/api/account/totp/enable",
            &serde_json::json!({ "request": request }),
        )
        .await
    }

    /// A full sign-in without a second factor, with the keyring opened.
    pub async fn sign_in(&self, username: &str, password: &str) -> (SignedIn, Keyring) {
        let (login, start) = Login::start(username, password).unwrap();
        let started: shared::api::account::LoginStarted = self
            .post(
                "/api/account/login/start",
                &serde_json::json!({ "request": start }),
            )
            .await
            .unwrap();
        let (finish, export_key) = login.finish(&started).unwrap();
        let outcome: LoginOutcome = self
            .post(
                "/api/account/login/finish",
                &serde_json::json!({ "request": finish }),
            )
            .await
            .unwrap();
        let LoginOutcome::SignedIn(signed_in) = outcome else {
            panic!("expected to be signed in");
        };
        let keyring = client::open_keyring(&signed_in, &export_key).unwrap();
        (*signed_in, keyring)
    }
}

pub fn decode<R: DeserializeOwned>(status: StatusCode, bytes: &[u8]) -> Result<R, Failure> {
    if status.is_success() {
        Ok(serde_json::from_slice(bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes))))
    } else {
        let e: ApiError = serde_json::from_slice(bytes)
            .unwrap_or_else(|_| panic!("not an ApiError: {}", String::from_utf8_lossy(bytes)));
        assert_eq!(e.http_status(), status.as_u16());
        Err((status, e))
    }
}
