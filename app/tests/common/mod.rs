//! Helpers shared by the app's browser tests: waiting without blocking the page.
#![allow(dead_code)]

/// Yields to the browser for `ms` milliseconds.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The page's document.
pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// The first element matching `selector`, waiting up to 10 s for it to appear.
pub async fn wait_for(selector: &str) -> web_sys::Element {
    for _ in 0..200 {
        if let Ok(Some(el)) = document().query_selector(selector) {
            return el;
        }
        sleep_ms(50).await;
    }
    panic!("{selector} never appeared");
}

pub mod record;
pub mod server;
