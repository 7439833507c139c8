//! The app mounted in real Chromium (wasm-bindgen-test): its layout landmarks,
//! and that a failing server is reported to the user instead of breaking the page.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{document, wait_for};

#[wasm_bindgen_test]
async fn app_shows_landmarks_and_reports_an_unreachable_server() {
    leptos::mount::mount_to_body(app::App);

    // Landmarks a screen reader user navigates by.
    wait_for("header.site-header").await;
    let main = wait_for("main#main").await;
    assert_eq!(main.get_attribute("tabindex").as_deref(), Some("-1"));
    let skip = wait_for("a.skip-link").await;
    assert_eq!(skip.get_attribute("href").as_deref(), Some("#main"));
    assert!(document().query_selector("footer").unwrap().is_some());

    // The test runner's page has no medvault server behind it, so the health call
    // fails; the status card must say so in an alert rather than fail silently.
    let alert = wait_for("[role=alert]").await;
    let text = alert.text_content().unwrap_or_default();
    assert!(
        !text.trim().is_empty(),
        "the alert explains what went wrong"
    );
    let button = document()
        .query_selector("section.status-card button")
        .unwrap()
        .expect("a button to check again")
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap();
    assert_eq!(button.text_content().as_deref(), Some("Check again"));
}
