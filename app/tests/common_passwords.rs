//! The common-password list the app fetches instead of carrying it in the WASM:
//! a new password is refused while the list has not arrived, a list that could
//! not be fetched leaves the other rules, and a list that is not the built one is
//! never installed. One test, in order, since the list is installed once per page.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::tasks::{
    account::check_new_password,
    common_passwords::{ensure_loaded, state, ListState, LIST_LOADING_MESSAGE},
};
use shared::account::{install_common_passwords, CommonListError};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const LIST: &[u8] = include_bytes!("../../shared/data/common-passwords.txt");
const COMMON: &str = "MailCreated5240";
const GOOD: &str = "correct horse battery staple";

#[wasm_bindgen_test]
async fn the_list_is_fetched_pinned_and_applied() {
    // Before the list arrived: refused with a sentence, and the fetch starts.
    assert_eq!(state(), ListState::Idle);
    let early = check_new_password(GOOD, GOOD, "ada", false).unwrap_err();
    assert_eq!(early, LIST_LOADING_MESSAGE);
    // The test runner serves no list: the fetch fails, and the rules that need no
    // list still apply (the meter tells the user the common check is off).
    assert_eq!(ensure_loaded().await, ListState::Failed);
    assert!(check_new_password(GOOD, GOOD, "ada", false).is_ok());
    assert!(check_new_password("short pass 1", "short pass 1", "ada", false).is_err());
    // A list the server altered (one entry dropped) is not installed.
    let mut altered = LIST.to_vec();
    altered.truncate(LIST.len() - 8);
    assert_eq!(
        install_common_passwords(&altered),
        Err(CommonListError::NotTheBuiltList)
    );
    assert_eq!(state(), ListState::Failed);
    // The built list: every rule applies.
    install_common_passwords(LIST).unwrap();
    assert_eq!(state(), ListState::Ready);
    let refused = check_new_password(COMMON, COMMON, "ada", false).unwrap_err();
    assert!(
        refused.contains("one of the 10,000 most common passwords"),
        "{refused}"
    );
    assert!(check_new_password(GOOD, GOOD, "ada", false).is_ok());
}
