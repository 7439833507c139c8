//! The account test harness: the router in-process with a clock the test moves,
//! and a client with a cookie jar that speaks to it as the browser app does
//! (the CSRF header, our Origin, the session cookie), driven by the very
//! protocol steps of `shared::client`.
#![allow(dead_code)]

pub mod files;
pub mod patient;

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
    backend::{AccountConfig, AccountSettings, InviteKey, RecordsConfig},
    store::{SledStore, Store},
    web::Site,
};
use shared::{
    api::{
        account::{LoginOutcome, SessionInfo, SignedIn, SignupStarted},
        ApiError, CSRF_HEADER, SECURE_SESSION_COOKIE, SESSION_COOKIE,
    },
    client::{self, Login, NewAccount, Signup},
    crypto::keyring::Keyring,
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
}

impl Server {
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
        Server::build(settings, records, wrap, None, false)
    }

    /// A server reached over HTTPS: its own TLS, or a reverse proxy at an
    /// `https` public origin (the router itself always sees plain requests).
    pub fn https(public_origin: Option<&str>, tls: bool) -> Server {
        Server::build(
            AccountSettings::default(),
            RecordsConfig::default(),
            |store| store,
            public_origin,
            tls,
        )
    }

    /// A server behind a proxy at `public_origin`, of either scheme.
    pub fn behind_proxy(public_origin: &str) -> Server {
        Server::https(Some(public_origin), false)
    }

    fn build(
        settings: AccountSettings,
        records: RecordsConfig,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
        public_origin: Option<&str>,
        tls: bool,
    ) -> Server {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(
            site.path().join("index.html"),
            "<!DOCTYPE html><html></html>",
        )
        .unwrap();
        let data = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = wrap(Arc::new(SledStore::open(data.path()).unwrap()));
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
            },
        )
        .with_public_origin(public_origin.map(str::to_owned));
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
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn client(&self) -> Client {
        Client {
            app: self.app.clone(),
            origin: self.origin.clone(),
            cookie_name: self.cookie_name,
            cookie: Arc::new(Mutex::new(None)),
            set_cookies: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// An invite made the way the command line makes it.
    pub fn cli_invite(&self, role: shared::crypto::sign::Role) -> String {
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
}

pub type Failure = (StatusCode, ApiError);

impl Client {
    pub fn token(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Vec<u8>) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        for v in res.headers().get_all(header::SET_COOKIE) {
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
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        (status, body)
    }

    fn with_cookie(&self, mut b: axum::http::request::Builder) -> axum::http::request::Builder {
        if let Some(c) = self.token() {
            b = b.header(header::COOKIE, format!("other=1; {}={c}", self.cookie_name));
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
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        (status, headers, body)
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
        let account = signup.finish(&started, now).unwrap();
        let info: SessionInfo = self
            .post(
                "/api/account/signup/finish",
                &serde_json::json!({ "request": account.request }),
            )
            .await?;
        Ok((info, account))
    }

    /// Both OPAQUE messages; `Err` for a wrong password is the server's answer
    /// to a KE3 the client would not send, so the client sends garbage then.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginOutcome, Failure> {
        let (login, start) = Login::start(username, password).unwrap();
        let started: shared::api::account::LoginStarted = self
            .post(
                "/api/account/login/start",
                &serde_json::json!({ "request": start }),
            )
            .await?;
        let finish = match login.finish(&started) {
            Ok((finish, _)) => finish,
            // The client knows the password was wrong; a hostile one sends a
            // KE3 anyway, which is what the server must judge.
            Err(_) => shared::api::account::LoginFinishRequest {
                login_id: started.login_id,
                ke3: vec![7u8; 64],
            },
        };
        self.post(
            "/api/account/login/finish",
            &serde_json::json!({ "request": finish }),
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
