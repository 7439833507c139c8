//! Shown for any address the app does not know.

use leptos::prelude::*;
use leptos_router::components::A;

/// The app's "page not found", with a way back.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="card narrow" aria-labelledby="not-found-heading">
            <h1 id="not-found-heading">"Page not found"</h1>
            <p>"There is no page at this address. It may have moved, or the link may be mistyped."</p>
            <p>
                <A href="/" attr:class="button">"Go to the start page"</A>
            </p>
        </section>
    }
}
