//! The medvault browser app. It holds the user's keys in memory and does every
//! cryptographic step itself; the server only ever sees ciphertext.

pub mod api;
pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use components::layout::{SiteFooter, SiteHeader, SkipLink};
use pages::{home::HomePage, not_found::NotFoundPage};

/// The whole app: layout landmarks around the router's current page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <SkipLink/>
            <SiteHeader/>
            <main id="main" class="page" tabindex="-1">
                <Routes fallback=|| view! { <NotFoundPage/> }>
                    <Route path=path!("/") view=HomePage/>
                </Routes>
            </main>
            <SiteFooter/>
        </Router>
    }
}
