//! The frame around every page: skip link, header with the product name, footer.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use shared::model::Role;
use wasm_bindgen::JsCast;

use crate::{api::account::logout, session::use_session};

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

/// The banner at the top of every page, with the main navigation and "Sign out"
/// once the keys are open.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let sign_out = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            // Whatever the server answers, the keys leave this tab now.
            let _ = logout().await;
            session.forget();
            session.notice.set(Some("You have signed out.".to_owned()));
            busy.set(false);
            navigate("/signin", Default::default());
        });
    };
    view! {
        <header class="site-header">
            <div class="site-header__inner">
                <A href="/" attr:class="brand">
                    <img class="brand__mark" src="/favicon.svg" alt="" width="28" height="28"/>
                    <span class="brand__name">"medvault"</span>
                </A>
                {move || match session.unlocked() {
                    Some(u) => {
                        let admin = u.info.role == Role::Admin;
                        let auditor = u.info.role == Role::Auditor;
                        let patient = u.info.role == Role::Patient;
                        let doctor = u.info.role == Role::Doctor;
                        view! {
                            <nav class="site-nav" aria-label="Main">
                                <A href="/">"Home"</A>
                                {patient.then(|| view! { <A href="/records">"Records"</A> })}
                                {patient.then(|| view! { <A href="/vitals">"Vital signs"</A> })}
                                {patient.then(|| view! { <A href="/sharing">"Sharing"</A> })}
                                {doctor.then(|| view! { <A href="/patients">"Patients"</A> })}
                                {(patient || doctor).then(|| view! { <A href="/emergency">"Emergency"</A> })}
                                <A href="/directory">"Directory"</A>
                                <A href="/account">"Account"</A>
                                <A href="/history">"Access history"</A>
                                {admin.then(|| view! { <A href="/admin">"Admin"</A> })}
                                {auditor.then(|| view! { <A href="/audit">"Audit log"</A> })}
                                <span class="site-nav__user">{u.info.username.clone()}</span>
                                <button
                                    type="button"
                                    class="button button--secondary button--small"
                                    disabled=move || busy.get()
                                    on:click=sign_out.clone()
                                >
                                    {move || if busy.get() { "Working…" } else { "Sign out" }}
                                </button>
                            </nav>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <p class="site-header__tagline">"End-to-end encrypted medical records"</p>
                        }
                            .into_any()
                    }
                }}
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
