//! The sign-up rules as the form applies them before anything is sent: each
//! refusal reads as a sentence that says what to change.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::tasks::account::check_new_account;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What the app fetches from `/common-passwords.txt` (tests have no server).
fn install_list() {
    shared::account::install_common_passwords(include_bytes!(
        "../../shared/data/common-passwords.txt"
    ))
    .unwrap();
}

#[wasm_bindgen_test]
fn a_good_new_account_passes() {
    install_list();
    let name = check_new_account(
        "Ada.Lovelace",
        "correct horse battery staple",
        "correct horse battery staple",
    )
    .unwrap();
    assert_eq!(name.as_str(), "ada.lovelace");
}

#[wasm_bindgen_test]
fn fail_each_rule_with_a_readable_message() {
    install_list();
    let long = "correct horse battery staple";
    let cases = [
        ("a", long, long, "too short"),
        ("ada lovelace", long, long, "Spaces are not allowed"),
        (
            "ada",
            "short words",
            "short words",
            "at least 15 characters",
        ),
        (
            "ada",
            "adaadaadaadaadaada",
            "adaadaadaadaadaada",
            "Leave your username out",
        ),
        ("ada", long, "correct horse battery stapl", "not the same"),
        (
            "ada",
            "MailCreated5240",
            "MailCreated5240",
            "one of the 10,000 most common passwords",
        ),
    ];
    for (name, password, confirm, expected) in cases {
        let message = check_new_account(name, password, confirm).unwrap_err();
        assert!(message.contains(expected), "{name}/{password}: {message}");
        assert!(message.ends_with('.'), "{message}");
    }
}

/// `shared::account::NFKC_SAMPLES`, as `shared`'s native tests check them: in
/// the app NFKC is the browser's, and it must agree with the server's crate.
#[wasm_bindgen_test]
fn the_browsers_nfkc_agrees_with_the_servers() {
    for (input, expected) in shared::account::NFKC_SAMPLES {
        assert_eq!(
            shared::account::normalize_password(input).as_str(),
            expected,
            "{input}"
        );
    }
    let name = shared::account::Username::parse("\u{ff21}lice").unwrap();
    assert_eq!(name.as_str(), "alice");
}
