//! The list of common passwords, fetched once per page load when a new password is
//! first typed (sign-up, password change, recovery), rather than compiled into the
//! WASM. `shared::account::install_common_passwords` takes it only if it is the
//! exact file this app was built with; a list the server altered, or no list, leaves
//! the checks that need no list, and the meter says so.

use std::cell::Cell;

use js_sys::{ArrayBuffer, Uint8Array};
use shared::account::{
    common_passwords_installed, install_common_passwords, COMMON_PASSWORDS_MAX_BYTES,
    COMMON_PASSWORDS_PATH,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::platform::http::sleep_ms;

/// Where the list stands on this page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListState {
    /// Not asked for yet.
    Idle,
    /// Being fetched.
    Loading,
    /// Installed: every rule applies.
    Ready,
    /// Could not be fetched, or was not the list this app was built with.
    Failed,
}

/// The meter's note when the list could not be used.
pub const LIST_FAILED_NOTE: &str = "The list of common passwords could not be loaded, so this \
     meter cannot tell whether the password is a common one. Reload the page to try again";

/// The refusal when a new password is sent before the list arrived.
pub const LIST_LOADING_MESSAGE: &str =
    "The list of common passwords is still loading. Wait a moment, then try again.";

/// How long the list may take to arrive before it counts as unavailable.
const FETCH_TIMEOUT_MS: u32 = 15_000;

thread_local! {
    static STATE: Cell<ListState> = const { Cell::new(ListState::Idle) };
}

/// Where the list stands now.
pub fn state() -> ListState {
    if common_passwords_installed() {
        ListState::Ready
    } else {
        STATE.with(Cell::get)
    }
}

/// Fetches and installs the list unless that was done or tried already on this page;
/// waits for a fetch already under way. Returns where the list stands after.
pub async fn ensure_loaded() -> ListState {
    match state() {
        ListState::Idle => {}
        ListState::Loading => {
            while state() == ListState::Loading {
                sleep_ms(100).await;
            }
            return state();
        }
        done => return done,
    }
    STATE.with(|s| s.set(ListState::Loading));
    // A server that never answers must not hold a form forever.
    let fetched =
        futures::future::select(Box::pin(fetch_list()), Box::pin(sleep_ms(FETCH_TIMEOUT_MS))).await;
    let installed = match fetched {
        futures::future::Either::Left((Some(bytes), _)) => install_common_passwords(&bytes).is_ok(),
        _ => false,
    };
    let after = if installed {
        ListState::Ready
    } else {
        ListState::Failed
    };
    STATE.with(|s| s.set(after));
    after
}

/// Starts [`ensure_loaded`] without waiting for it.
pub fn start_loading() {
    if state() == ListState::Idle {
        wasm_bindgen_futures::spawn_local(async {
            ensure_loaded().await;
        });
    }
}

/// Runs `submit` once the list is installed or known to be unavailable: at once
/// when it is, else after [`ensure_loaded`] (started here if need be).
pub fn after_list(submit: impl FnOnce() + 'static) {
    match state() {
        ListState::Ready | ListState::Failed => submit(),
        ListState::Idle | ListState::Loading => wasm_bindgen_futures::spawn_local(async move {
            ensure_loaded().await;
            submit();
        }),
    }
}

/// For a new password about to be used: refuses while the list has not arrived (and
/// starts fetching it), so a common password cannot slip through a fast submit.
pub fn ready_for_check() -> Result<(), String> {
    match state() {
        ListState::Ready | ListState::Failed => Ok(()),
        ListState::Idle | ListState::Loading => {
            start_loading();
            Err(LIST_LOADING_MESSAGE.to_owned())
        }
    }
}

/// One same-origin GET of the list; `None` on any failure or an answer over
/// [`COMMON_PASSWORDS_MAX_BYTES`].
async fn fetch_list() -> Option<Vec<u8>> {
    let window = web_sys::window()?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(COMMON_PASSWORDS_PATH, &init))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
    if response.status() != 200 {
        return None;
    }
    let body: ArrayBuffer = JsFuture::from(response.array_buffer().ok()?)
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    if body.byte_length() as usize > COMMON_PASSWORDS_MAX_BYTES {
        return None;
    }
    Some(Uint8Array::new(&body).to_vec())
}
