//! The frame around every page: skip link, header with the product name, footer.

use leptos::prelude::*;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

/// Lets keyboard and screen reader users jump past the header. The router would
/// treat `#main` as a navigation, so the click moves focus itself.
#[component]
pub fn SkipLink() -> impl IntoView {
    let skip = |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = main.focus();
            main.scroll_into_view();
        }
    };
    view! {
        <a class="skip-link" href="#main" on:click=skip>
            "Skip to main content"
        </a>
    }
}

/// The banner at the top of every page.
#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="site-header">
            <div class="site-header__inner">
                <A href="/" attr:class="brand">
                    <img class="brand__mark" src="/favicon.svg" alt="" width="28" height="28"/>
                    <span class="brand__name">"medvault"</span>
                </A>
                <p class="site-header__tagline">"End-to-end encrypted medical records"</p>
            </div>
        </header>
    }
}

/// The footer: what the product promises, in one line.
#[component]
pub fn SiteFooter() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                "Your records are encrypted in this browser before they are sent. "
                "The medvault server stores only ciphertext and cannot read them."
            </p>
            <p class="site-footer__version">"medvault " {shared::VERSION}</p>
        </footer>
    }
}
