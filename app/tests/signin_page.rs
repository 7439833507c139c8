//! The sign-in page mounted in real Chromium: labels bound to their inputs, the
//! heading, and a form sent empty answers with an alert that takes the focus.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{document, sleep_ms, wait_for};

#[wasm_bindgen_test]
async fn signin_labels_fields_and_alerts_on_an_empty_form() {
    web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .push_state_with_url(&JsValue::NULL, "", Some("/signin"))
        .unwrap();
    leptos::mount::mount_to_body(app::App);

    let heading = wait_for("main h1").await;
    assert_eq!(heading.text_content().as_deref(), Some("Sign in"));
    for (id, label, kind) in [
        ("username", "Username", "text"),
        ("password", "Password", "password"),
    ] {
        let l = wait_for(&format!("label[for={id}]")).await;
        assert_eq!(l.text_content().as_deref(), Some(label));
        let input = wait_for(&format!("input#{id}"))
            .await
            .dyn_into::<web_sys::HtmlInputElement>()
            .unwrap();
        assert_eq!(input.type_(), kind);
    }
    let button = wait_for("form button[type=submit]")
        .await
        .dyn_into::<web_sys::HtmlButtonElement>()
        .unwrap();
    assert_eq!(button.text_content().as_deref(), Some("Sign in"));

    // Sending the empty form says what to do, in an alert that gets the focus.
    button.click();
    let alert = wait_for("[role=alert]").await;
    assert_eq!(
        alert.text_content().as_deref(),
        Some("Type your username and password.")
    );
    for _ in 0..100 {
        if document().active_element().as_ref() == Some(&alert) {
            break;
        }
        sleep_ms(20).await;
    }
    assert_eq!(document().active_element().as_ref(), Some(&alert));
}
