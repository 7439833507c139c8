//! The header's "Notifications" link with the number of unread ones. The
//! count is asked for on every page change (a person moving around the app),
//! never on a timer: a timer would keep an idle session alive on the server
//! and defeat the idle lock.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::{api::notifications::list_notices, session::use_session};

/// The link: a bell with the count beside it, named for screen readers
/// ("Notifications, 2 unread"), so the header stays one line on a desktop.
#[component]
pub fn NoticesLink() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        leptos::task::spawn_local(async move {
            if let Ok(n) = list_notices().await {
                session.unread.try_set(n.unread);
            }
        });
    });
    let unread = session.unread;
    let label = move || match unread.get() {
        0 => "Notifications".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    view! {
        <A href="/notifications" attr:aria-label=label attr:class="notices-link" attr:title="Notifications">
            <svg class="notices-link__bell" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                <path d="M12 3a6 6 0 0 0-6 6v3.6L4.3 15.4A1 1 0 0 0 5.2 17h13.6a1 1 0 0 0 .9-1.6L18 12.6V9a6 6 0 0 0-6-6Zm-2.5 15.5a2.5 2.5 0 0 0 5 0Z"
                    fill="currentColor"/>
            </svg>
            <span class="visually-hidden">"Notifications"</span>
            <Show when=move || { unread.get() > 0 }>
                <span class="notices-link__count" aria-hidden="true">{move || unread.get()}</span>
            </Show>
        </A>
    }
}
