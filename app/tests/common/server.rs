//! A stand-in for the server's JSON calls: `window.fetch` is replaced by one
//! that answers by path from a table the test fills, counts the requests per
//! path and can answer late, so overlapping calls really overlap.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use js_sys::Promise;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

/// What the stand-in answers and what it was asked.
#[derive(Default)]
pub struct Stand {
    /// Path -> (status, JSON body).
    pub answers: HashMap<String, (u16, String)>,
    /// Path -> how many requests came.
    pub asked: HashMap<String, usize>,
}

/// The shared table; clone it into the test to change answers or read counts.
pub type Server = Rc<RefCell<Stand>>;

/// The path of a `fetch` input: a URL string or a `Request`.
fn path_of(input: &JsValue) -> String {
    let url = input.as_string().unwrap_or_else(|| {
        js_sys::Reflect::get(input, &"url".into())
            .ok()
            .and_then(|u| u.as_string())
            .unwrap_or_default()
    });
    let without_origin = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url.as_str(),
    };
    without_origin
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Replaces `window.fetch` with the stand-in; each answer comes after
/// `delay_ms`. Unknown paths get a 404 with the server's error shape. The
/// closure is leaked: it must outlive the test.
pub fn serve(delay_ms: i32) -> Server {
    let server: Server = Rc::default();
    let table = server.clone();
    let answer = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |input: JsValue| {
        let path = path_of(&input);
        let (status, body) = {
            let mut stand = table.borrow_mut();
            *stand.asked.entry(path.clone()).or_default() += 1;
            stand.answers.get(&path).cloned().unwrap_or((
                404,
                r#"{"code":"not_found","message":"Not found."}"#.to_owned(),
            ))
        };
        Promise::new(&mut |resolve, _| {
            let init = web_sys::ResponseInit::new();
            init.set_status(status);
            let headers = web_sys::Headers::new().unwrap();
            headers.set("content-type", "application/json").unwrap();
            init.set_headers(&headers);
            let response =
                web_sys::Response::new_with_opt_str_and_init(Some(&body), &init).unwrap();
            let respond = Closure::once_into_js(move || {
                let _ = resolve.call1(&JsValue::NULL, &response);
            });
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    respond.unchecked_ref(),
                    delay_ms,
                )
                .unwrap();
        })
    });
    let window = web_sys::window().unwrap();
    js_sys::Reflect::set(&window, &"fetch".into(), answer.as_ref()).unwrap();
    answer.forget();
    server
}

/// Sets the answer for `path`.
pub fn answer(server: &Server, path: &str, status: u16, body: String) {
    server
        .borrow_mut()
        .answers
        .insert(path.to_owned(), (status, body));
}

/// How many requests came for `path`.
pub fn asked(server: &Server, path: &str) -> usize {
    server.borrow().asked.get(path).copied().unwrap_or(0)
}
