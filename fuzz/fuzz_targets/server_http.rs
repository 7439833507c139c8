//! Requests through the server's whole router, in-process, chosen by the
//! first byte: chunk `PUT` bodies to Alice's unfinished upload or to any
//! path; every `GET` server function with any query string; every `POST`
//! server function with a body whose signed node states and record heads
//! are re-signed with Alice's key, so that the server's own checks of
//! signed objects run; and a forged stored audit chain head, read back by
//! the appends and reads of the audit log. The store is an in-memory copy
//! of one with Alice's account, reset for each input. No request may make
//! the server answer 500 unless the store was forged.

#![no_main]

use std::sync::{Arc, OnceLock};

use axum::{
    body::Body,
    http::{header, Method, Request},
    Router,
};
use libfuzzer_sys::fuzz_target;
use medvault_fuzz::accounts::{self, world, ALICE, PASSWORD};
use medvault_fuzz::mem::MemStore;
use medvault_fuzz::Cursor;
use serde_json::Value;
use server::app::{router, AppState, Limits};
use server::backend::audit::head_key;
use server::backend::AccountConfig;
use server::store::Space;
use server::web::Site;
use shared::api::account::{LoginBackend, LoginFinishRequest};
use shared::api::records::CHUNK_ROUTE;
use shared::api::{CSRF_HEADER, SESSION_COOKIE};
use shared::crypto::b64;
use shared::crypto::sign::{self, Signed};
use shared::records::state::{NodeState, RecordHead};
use tower::ServiceExt;

struct Http {
    store: Arc<MemStore>,
    app: Router,
    gets: Vec<&'static str>,
    posts: Vec<&'static str>,
}

fn http() -> &'static Http {
    static HTTP: OnceLock<Http> = OnceLock::new();
    HTTP.get_or_init(|| {
        let site = std::env::temp_dir().join(format!("medvault-fuzz-site-{}", std::process::id()));
        std::fs::create_dir_all(&site).expect("site directory");
        std::fs::write(site.join("index.html"), "<!DOCTYPE html><html></html>").expect("index");
        let store = Arc::new(MemStore::copy_of(&world().store));
        let state = AppState::with_accounts(
            store.clone(),
            Site::load(&site, false).expect("site"),
            AccountConfig {
                clock: Arc::new(|| accounts::NOW),
                ..AccountConfig::default()
            },
        );
        let app = router(state, Limits::default());
        // Sorted: the registry's order differs from one process to the next,
        // and an input must pick the same function every time.
        let mut gets = Vec::new();
        let mut posts = Vec::new();
        for (path, method) in server_fn::axum::server_fn_paths() {
            match method {
                Method::GET => gets.push(path),
                Method::POST => posts.push(path),
                _ => {}
            }
        }
        gets.sort_unstable();
        posts.sort_unstable();
        Http {
            store,
            app,
            gets,
            posts,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let h = http();
    h.store.reset_to(&world().store);
    let mut c = Cursor(data);
    match c.u8() % 4 {
        0 => chunk_put(h, c),
        1 => get_query(h, c),
        2 => post_signed(h, c),
        _ => audit_head(h, c),
    }
});

fn cookie() -> String {
    format!("{SESSION_COOKIE}={}", world().session)
}

fn send(h: &Http, req: Request<Body>) -> (u16, Vec<u8>) {
    world().runtime.block_on(async {
        let res = h.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status().as_u16();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, body.to_vec())
    })
}

/// With `FUZZ_SHOW` set, each answer is printed: replaying the seeds
/// (`target/.../server_http corpus/server_http/*`) shows how far they reach.
fn no_server_error(status: u16, body: &[u8]) {
    if std::env::var_os("FUZZ_SHOW").is_some() {
        eprintln!(
            "{status} {}",
            String::from_utf8_lossy(&body[..body.len().min(160)])
        );
    }
    assert!(status < 500, "{status}: {}", String::from_utf8_lossy(body));
}

/// A chunk `PUT`: to the upload's own node and version (any index) or to any
/// path under the chunk route; with or without the session and the content
/// type; any body.
fn chunk_put(h: &Http, mut c: Cursor) {
    let flags = c.u8();
    let upload = &world().upload;
    let tail = if flags & 1 == 0 {
        format!(
            "{}/{}/{}",
            b64::encode(&upload.node_id),
            upload.version,
            c.u8() % 6
        )
    } else {
        let len = usize::from(c.u8() % 64);
        escape(c.take(len))
    };
    let mut req = Request::put(format!("{CHUNK_ROUTE}/{tail}"))
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(CSRF_HEADER, "1");
    if flags & 2 == 0 {
        req = req.header(header::CONTENT_TYPE, "application/octet-stream");
    }
    if flags & 4 == 0 {
        req = req.header(header::COOKIE, cookie());
    }
    let Ok(req) = req.body(Body::from(c.rest().to_vec())) else {
        return;
    };
    let (status, body) = send(h, req);
    no_server_error(status, &body);
}

/// Escapes the bytes a URI may not hold, leaving `%`, `&`, `=` and `+` to the
/// fuzzer, so that any query reaches the server's decoding.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_graphic() && !b"#\"<>\\^`{|}".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Any `GET` server function with any query string, signed in or not.
fn get_query(h: &Http, mut c: Cursor) {
    let pick = c.u8();
    let path = h.gets[usize::from(pick >> 1) % h.gets.len()];
    let uri = format!("{path}?{}", escape(c.rest()));
    let mut req = Request::get(uri).header(CSRF_HEADER, "1");
    if pick & 1 == 0 {
        req = req.header(header::COOKIE, cookie());
    }
    let Ok(req) = req.body(Body::empty()) else {
        return;
    };
    let (status, body) = send(h, req);
    no_server_error(status, &body);
}

/// Re-signs, anywhere in the body, what decodes as a signed node state or a
/// signed record head, with Alice's identity key.
fn resign(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("value") && map.contains_key("signature") {
                let key = world().keyring.identity();
                let whole = Value::Object(map.clone());
                let signed =
                    if let Ok(s) = serde_json::from_value::<Signed<NodeState>>(whole.clone()) {
                        serde_json::to_value(sign::sign(key, s.value)).ok()
                    } else if let Ok(s) = serde_json::from_value::<Signed<RecordHead>>(whole) {
                        serde_json::to_value(sign::sign(key, s.value)).ok()
                    } else {
                        None
                    };
                if let Some(signed) = signed {
                    *value = signed;
                    return;
                }
            }
            map.values_mut().for_each(resign);
        }
        Value::Array(items) => items.iter_mut().for_each(resign),
        _ => {}
    }
}

/// Any `POST` server function, signed in as Alice, with a JSON body whose
/// signed states and heads carry her valid signature.
fn post_signed(h: &Http, mut c: Cursor) {
    let path = h.posts[usize::from(c.u8()) % h.posts.len()];
    let bytes = c.rest();
    let body = match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            resign(&mut value);
            serde_json::to_vec(&value).expect("JSON")
        }
        Err(_) => bytes.to_vec(),
    };
    let Ok(req) = Request::post(path)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(CSRF_HEADER, "1")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, cookie())
        .body(Body::from(body))
    else {
        return;
    };
    let (status, body) = send(h, req);
    no_server_error(status, &body);
}

/// A forged chain head in the store: a failed sign-in appends an event on
/// it, and Alice reads her history and the heads. A head that does not
/// decode may fail the request, but never panic the server.
fn audit_head(h: &Http, c: Cursor) {
    h.store.set(Space::Meta, &head_key(), c.0);
    // A backend of its own: the router's throttle would soon refuse Alice.
    let backend = accounts::backend(h.store.clone());
    world().runtime.block_on(async {
        let caller = accounts::caller();
        let (_, start) = shared::client::Login::start(ALICE, PASSWORD).expect("KE1");
        if let Ok(started) = backend.login_start(&caller, start).await {
            let finish = LoginFinishRequest {
                login_id: started.login_id,
                ke3: vec![0; medvault_crypto::opaque::CREDENTIAL_FINALIZATION_LEN],
            };
            let _ = backend.login_finish(&caller, finish).await;
        }
    });
    for path in h.gets.iter().filter(|p| p.contains("audit")) {
        let req = Request::get(*path)
            .header(CSRF_HEADER, "1")
            .header(header::COOKIE, cookie())
            .body(Body::empty())
            .expect("request");
        let _ = send(h, req);
    }
}
