//! A stand-in for the medvault server in the browser tests of `tasks/`:
//! `window.fetch` is replaced by a handler written in Rust, which sees each
//! call (method, address, body) and answers with a status and a body. Both
//! kinds of request the app makes come through: a chunk's `fetch(path, init)`
//! and a server function's `fetch(Request)`.
#![allow(dead_code)]

use std::{cell::RefCell, rc::Rc};

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// One request the app made.
#[derive(Clone, Debug)]
pub struct Call {
    /// "GET", "PUT", "POST"...
    pub method: String,
    /// The address as given (absolute for a server function).
    pub url: String,
    /// The body's bytes (empty without one).
    pub body: Vec<u8>,
}

impl Call {
    /// The body as JSON (a server function's arguments).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Every request made since [`serve`], in order.
pub type Calls = Rc<RefCell<Vec<Call>>>;

/// An answer: a status and its body.
pub type Answer = (u16, Vec<u8>);

/// A JSON answer with status 200 (`serde_json::to_value(&x)` of the reply).
pub fn ok_json(value: serde_json::Value) -> Answer {
    (200, serde_json::to_vec(&value).unwrap())
}

/// The server's error body for `code` ("not_found", "conflict"...), with `status`.
pub fn error(status: u16, code: &str, message: &str) -> Answer {
    (
        status,
        serde_json::to_vec(&serde_json::json!({ "code": code, "message": message })).unwrap(),
    )
}

/// Replaces `window.fetch` with `handler`; returns the log of calls. The
/// closure is leaked: it must outlive the test.
pub fn serve(handler: impl Fn(&Call) -> Answer + 'static) -> Calls {
    let calls: Calls = Rc::new(RefCell::new(Vec::new()));
    let handler = Rc::new(handler);
    let log = calls.clone();
    let answer = Closure::<dyn FnMut(JsValue, JsValue) -> Promise>::new(
        move |input: JsValue, init: JsValue| {
            let log = log.clone();
            let handler = handler.clone();
            future_to_promise(async move {
                let call = read_call(input, init).await;
                let (status, mut bytes) = handler(&call);
                log.borrow_mut().push(call);
                let response_init = web_sys::ResponseInit::new();
                response_init.set_status(status);
                let response = web_sys::Response::new_with_opt_u8_array_and_init(
                    Some(&mut bytes),
                    &response_init,
                )?;
                Ok(response.into())
            })
        },
    );
    let window = web_sys::window().unwrap();
    Reflect::set(&window, &"fetch".into(), answer.as_ref()).unwrap();
    answer.forget();
    calls
}

async fn read_call(input: JsValue, init: JsValue) -> Call {
    if let Some(url) = input.as_string() {
        let field = |name: &str| {
            Reflect::get(&init, &name.into())
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        let method = field("method")
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "GET".to_owned());
        let body = match field("body") {
            Some(b) if b.is_instance_of::<Uint8Array>() => {
                b.unchecked_into::<Uint8Array>().to_vec()
            }
            // The app sends request bodies as Blobs (faster uploads in Chromium).
            Some(b) if b.is_instance_of::<web_sys::Blob>() => {
                JsFuture::from(b.unchecked_into::<web_sys::Blob>().array_buffer())
                    .await
                    .map(|buffer| Uint8Array::new(&buffer).to_vec())
                    .unwrap_or_default()
            }
            Some(b) => b.as_string().unwrap_or_default().into_bytes(),
            None => Vec::new(),
        };
        return Call { method, url, body };
    }
    let request: web_sys::Request = input.unchecked_into();
    let body = match request.array_buffer() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .map(|b| Uint8Array::new(&b).to_vec())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    Call {
        method: request.method(),
        url: request.url(),
        body,
    }
}
