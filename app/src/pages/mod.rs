//! The pages, one module per route or area (a folder when it has several
//! parts). Pages render and collect input; the work is in `crate::tasks`.

pub mod account;
pub mod admin;
pub mod audit;
pub mod directory;
pub mod emergency;
pub mod health;
pub mod history;
pub mod home;
pub mod not_found;
pub mod notifications;
pub mod patients;
pub mod records;
pub mod recover;
pub mod search;
pub mod sharing;
pub mod signin;
pub mod signup;
pub mod vitals;

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::session::{use_session, AuthState, Unlocked};

/// Renders `page` with the open keys; otherwise a short wait while checking, or
/// the sign-in page (which explains a locked session itself).
pub fn with_keys<V: IntoView + 'static>(
    page: impl Fn(Unlocked) -> V + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    // Only the kind of state is tracked, so a change inside the session (the second
    // factor turned on) does not rebuild the page and lose what it shows.
    let kind = Memo::new(move |_| {
        session.state.with(|s| match s {
            AuthState::Checking => 0u8,
            AuthState::SignedOut | AuthState::Locked(_) => 1,
            AuthState::Unlocked(_) => 2,
        })
    });
    move || match kind.get() {
        0 => view! {
            <p class="status status--pending" role="status">"Checking your session…"</p>
        }
        .into_any(),
        2 => match session.state.get_untracked() {
            AuthState::Unlocked(u) => page(u).into_any(),
            _ => ().into_any(),
        },
        _ => view! { <Redirect path="/signin"/> }.into_any(),
    }
}
