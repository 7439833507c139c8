//! For the sharing and emergency task tests: a stand-in server behind
//! `window.fetch` that answers the app's API calls from a table and records
//! what was sent, and people (keys, signed directory entries) to answer with.
//! Test files include it with `#[path = "common/sharing.rs"]`.
#![allow(dead_code)]

use std::{cell::RefCell, collections::HashMap, rc::Rc, sync::Arc};

use js_sys::Promise;
use shared::{
    api::{
        account::SessionInfo,
        directory::DirectoryEntry,
        sharing::{GrantStatus, GrantView},
    },
    client::{key_entry, verify_directory_entry, VerifiedEntry},
    crypto::{keyring::Keyring, sign::Signed},
    model::{Id, KeyEntry, Role},
};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// One answer: the HTTP status and the JSON body.
type Answer = (u16, String);

/// A stand-in for the server: answers by endpoint ("directory/lookup",
/// "sharing/grants"...), 404 for anything it was not told. The key pins
/// ("account/pins") are kept like the server does unless told otherwise:
/// `PUT` stores the envelope, `GET` serves the last one stored.
#[derive(Clone, Default)]
pub struct StandIn {
    answers: Rc<RefCell<HashMap<String, Answer>>>,
    /// The pin object stored by the last `PUT account/pins` (JSON).
    pub pins: Rc<RefCell<Option<String>>>,
    /// Another tab's save (JSON envelope) that lands just before this
    /// browser's next `PUT account/pins`, which then gets `conflict`.
    pub other_tab: Rc<RefCell<Option<String>>>,
    /// Every call, as (endpoint, request body).
    pub calls: Rc<RefCell<Vec<(String, String)>>>,
}

impl StandIn {
    /// Replaces `window.fetch` with this stand-in. The closure is leaked: it
    /// must outlive the test.
    pub fn install() -> StandIn {
        // A fresh server: what an earlier test's browser remembered (the
        // highest pin object seen) belongs to that test.
        if let Some(storage) = web_sys::window().unwrap().local_storage().unwrap() {
            storage.clear().unwrap();
        }
        let stand_in = StandIn::default();
        let inner = stand_in.clone();
        let answer = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |input: JsValue| {
            let inner = inner.clone();
            future_to_promise(async move { Ok(inner.respond(input).await) })
        });
        let window = web_sys::window().unwrap();
        js_sys::Reflect::set(&window, &"fetch".into(), answer.as_ref()).unwrap();
        answer.forget();
        stand_in
    }

    async fn respond(&self, input: JsValue) -> JsValue {
        let (method, url, body) = match input.dyn_into::<web_sys::Request>() {
            Ok(request) => {
                let body = match request.text() {
                    Ok(p) => JsFuture::from(p)
                        .await
                        .ok()
                        .and_then(|t| t.as_string())
                        .unwrap_or_default(),
                    Err(_) => String::new(),
                };
                (request.method(), request.url(), body)
            }
            Err(other) => (
                "GET".to_owned(),
                other.as_string().unwrap_or_default(),
                String::new(),
            ),
        };
        let endpoint = endpoint_of(&url);
        self.calls
            .borrow_mut()
            .push((endpoint.clone(), body.clone()));
        let told = self.answers.borrow().get(&endpoint).cloned();
        let (status, text) = match told {
            Some(answer) => answer,
            None if endpoint == "account/pins" => self.keep_pins(&method, &body),
            None => (
                404,
                r#"{"code":"not_found","message":"Not found."}"#.to_owned(),
            ),
        };
        let init = web_sys::ResponseInit::new();
        init.set_status(status);
        let response = web_sys::Response::new_with_opt_str_and_init(Some(&text), &init).unwrap();
        response
            .headers()
            .set("content-type", "application/json")
            .unwrap();
        response.into()
    }

    /// The pin store as the server keeps it (no checks: the browser's own
    /// checks are what the tests look at).
    fn keep_pins(&self, method: &str, body: &str) -> Answer {
        if method == "PUT" {
            if let Some(first) = self.other_tab.borrow_mut().take() {
                *self.pins.borrow_mut() = Some(first);
                let conflict = serde_json::json!({
                    "code": "conflict",
                    "message": "Your saved keys were changed in another tab or on another device. Load them again and retry."
                });
                return (409, conflict.to_string());
            }
            let sent: serde_json::Value = serde_json::from_str(body).unwrap();
            *self.pins.borrow_mut() = Some(sent["request"]["envelope"].to_string());
            return (200, "null".to_owned());
        }
        let stored = self.pins.borrow().clone();
        (200, stored.unwrap_or_else(|| "null".to_owned()))
    }

    /// The pin object last stored, as sent.
    pub fn stored_pins(&self) -> Option<Signed<shared::pins::PinEnvelope>> {
        self.pins
            .borrow()
            .as_ref()
            .map(|j| serde_json::from_str(j).unwrap())
    }

    /// Answers `endpoint` with 200 and `json` (`serde_json::to_string` of
    /// the value the server would send).
    pub fn answer(&self, endpoint: &str, json: String) {
        let body = json;
        self.answers
            .borrow_mut()
            .insert(endpoint.to_owned(), (200, body));
    }

    /// Answers `endpoint` with an API error.
    pub fn fail(&self, endpoint: &str, status: u16, code: &str, message: &str) {
        let body = serde_json::json!({ "code": code, "message": message }).to_string();
        self.answers
            .borrow_mut()
            .insert(endpoint.to_owned(), (status, body));
    }

    /// How many times `endpoint` was called.
    pub fn count(&self, endpoint: &str) -> usize {
        self.calls
            .borrow()
            .iter()
            .filter(|(e, _)| e == endpoint)
            .count()
    }

    /// The JSON body of the last call to `endpoint`.
    pub fn last_body(&self, endpoint: &str) -> serde_json::Value {
        let calls = self.calls.borrow();
        let (_, body) = calls.iter().rev().find(|(e, _)| e == endpoint).unwrap();
        serde_json::from_str(body).unwrap()
    }
}

/// "sharing/grants" from "http://host/api/sharing/grants?x=1".
fn endpoint_of(url: &str) -> String {
    let path = url.split_once("/api/").map(|(_, p)| p).unwrap_or(url);
    path.split('?').next().unwrap_or(path).to_owned()
}

/// Someone with an account: their keys and their self-signed entry.
pub struct Person {
    /// Their private keys.
    pub keyring: Arc<Keyring>,
    /// Their entry, signed with their own key.
    pub entry: Signed<KeyEntry>,
}

impl Person {
    /// A new person with fresh keys.
    pub fn new(id: u8, username: &str, role: Role) -> Person {
        let keyring = Arc::new(Keyring::generate().unwrap());
        let entry = key_entry(&keyring, [id; 16], username, role, 1_795_000_000);
        Person { keyring, entry }
    }

    /// A person with the given keys (a record's owner, say).
    pub fn with_keys(id: u8, username: &str, role: Role, keyring: Keyring) -> Person {
        let entry = key_entry(&keyring, [id; 16], username, role, 1_795_000_000);
        Person {
            keyring: Arc::new(keyring),
            entry,
        }
    }

    /// Their id.
    pub fn id(&self) -> Id {
        self.entry.value.user_id
    }

    /// What the directory serves for them.
    pub fn served(&self) -> DirectoryEntry {
        DirectoryEntry {
            entry: self.entry.clone(),
            certificate: None,
            certifier: None,
            certifier_certificate: None,
            disabled: false,
        }
    }

    /// Their entry as the browser checks it.
    pub fn verified(&self) -> VerifiedEntry {
        verify_directory_entry(&self.entry.value.username, &self.served(), None).unwrap()
    }

    /// Their keys open in a session, as after sign-in.
    pub fn unlocked(&self) -> app::session::Unlocked {
        app::session::Unlocked {
            info: SessionInfo {
                user_id: self.id(),
                username: self.entry.value.username.clone(),
                role: self.entry.value.role,
                totp_enabled: false,
                expires_at: i64::MAX,
                idle_timeout_secs: 3600,
                second_factor_required: false,
                second_factor_policy: false,
            },
            keyring: self.keyring.clone(),
            key_entry: self.entry.clone(),
        }
    }
}

/// A grant as the server lists it.
pub fn listed(grant: Signed<shared::model::Grant>, status: GrantStatus) -> GrantView {
    GrantView {
        grant,
        wrapped_key: vec![0; 16],
        patient_name: "maria".into(),
        doctor_name: "drwho".into(),
        status,
        revoked_at: None,
        emergency: None,
    }
}
