//! The signed-in user, in memory only. The keyring never touches localStorage,
//! sessionStorage or a cookie: a reload forgets it, and the user signs in again
//! to unlock it (the server's session cookie alone opens nothing).

use std::sync::Arc;

use leptos::prelude::*;
use shared::{
    api::{account::SessionInfo, ApiError, ErrorCode},
    crypto::{keyring::Keyring, sign::Signed},
    model::{KeyEntry, Role},
};

/// A session whose keys are open in this tab.
#[derive(Clone)]
pub struct Unlocked {
    /// What the server says about the session.
    pub info: SessionInfo,
    /// The user's private keys.
    pub keyring: Arc<Keyring>,
    /// The user's own signed directory entry, checked against `keyring`.
    pub key_entry: Signed<KeyEntry>,
}

/// Where the app stands with the server and the keys.
#[derive(Clone)]
pub enum AuthState {
    /// Asking the server whether a session exists.
    Checking,
    /// No session.
    SignedOut,
    /// The server has a session but this tab has no keys (after a reload).
    Locked(SessionInfo),
    /// Signed in with the keys open.
    Unlocked(Unlocked),
}

/// The app-wide session context.
#[derive(Clone, Copy)]
pub struct Session {
    /// The current state.
    pub state: RwSignal<AuthState, LocalStorage>,
    /// A one-time note for the next page ("You have signed out.").
    pub notice: RwSignal<Option<String>>,
    /// How many notifications are unread, as the server last said
    /// (`components::notices_link`).
    pub unread: RwSignal<u32>,
}

impl Session {
    /// A fresh context, checking with the server.
    pub fn new() -> Self {
        Session {
            state: RwSignal::new_local(AuthState::Checking),
            notice: RwSignal::new(None),
            unread: RwSignal::new(0),
        }
    }

    /// The open keys, if any (tracked).
    pub fn unlocked(&self) -> Option<Unlocked> {
        match self.state.get() {
            AuthState::Unlocked(u) => Some(u),
            _ => None,
        }
    }

    /// The signed-in user's role, if the keys are open (tracked).
    pub fn role(&self) -> Option<Role> {
        self.state.with(|s| match s {
            AuthState::Unlocked(u) => Some(u.info.role),
            _ => None,
        })
    }

    /// Opens the session with its keys.
    pub fn unlock(&self, info: SessionInfo, keyring: Keyring, key_entry: Signed<KeyEntry>) {
        self.state.set(AuthState::Unlocked(Unlocked {
            info,
            keyring: Arc::new(keyring),
            key_entry,
        }));
    }

    /// Replaces the session facts (after the second factor changed), keeping the keys.
    pub fn update_info(&self, info: SessionInfo) {
        self.state.update(|s| {
            if let AuthState::Unlocked(u) = s {
                u.info = info;
            }
        });
    }

    /// The sentence for a failed call on a signed-in page ([`crate::api::explain`]),
    /// after [`Session::on_error`] has acted on it.
    pub fn explain(&self, error: &ApiError) -> String {
        self.on_error(error);
        crate::api::explain(error)
    }

    /// The side effect of a failed call: when the server no longer knows the
    /// session (it expired, or was signed out elsewhere), the keys are
    /// forgotten too and the pages send the user to sign in again.
    pub fn on_error(&self, error: &ApiError) {
        if error.code == ErrorCode::Unauthorized {
            self.forget();
            self.notice.set(Some(
                "Your session has ended. Sign in again to continue.".to_owned(),
            ));
        }
    }

    /// Forgets the keys and the session (after sign-out or when the server ended
    /// it), and removes any decrypted download still in browser storage.
    pub fn forget(&self) {
        self.state.set(AuthState::SignedOut);
        crate::platform::spool::sweep();
    }
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// The session context; provided by [`crate::App`].
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_default()
}

/// Unix seconds now, from the browser's clock.
pub fn now_unix() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// A human label for a role.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Patient => "Patient",
        Role::Doctor => "Doctor",
        Role::Admin => "Administrator",
        Role::Auditor => "Auditor",
    }
}

/// "a doctor", "an administrator": the role with its article, for sentences.
pub fn role_with_article(role: Role) -> String {
    let name = role_label(role).to_lowercase();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}
