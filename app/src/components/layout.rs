//! The frame around every page: skip link, header with the product name, footer.

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_location, use_navigate},
};
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

/// The banner at the top of every page, with the main navigation and, once the
/// keys are open, the account menu (Account, Directory, Access history, Sign
/// out). On a desktop it is one line; on a phone the navigation folds behind
/// a "Menu" button so the page starts right below the header. Both menus are
/// disclosure buttons (`aria-expanded`): Escape closes them and gives focus
/// back to their button, and they close on every page change.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let nav_open = RwSignal::new(false);
    let account_open = RwSignal::new(false);
    let nav_toggle = NodeRef::<leptos::html::Button>::new();
    let account_toggle = NodeRef::<leptos::html::Button>::new();
    let account_menu = NodeRef::<leptos::html::Div>::new();

    // A new page closes both menus.
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        nav_open.set(false);
        account_open.set(false);
    });
    // A press anywhere outside the account menu closes it.
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        if !account_open.get_untracked() {
            return;
        }
        let inside = account_menu.get_untracked().is_some_and(|menu| {
            ev.target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                .is_some_and(|t| menu.contains(Some(&t)))
        });
        if !inside {
            account_open.set(false);
        }
    });
    on_cleanup(move || outside.remove());
    // Escape closes the innermost open menu and returns focus to its button.
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Escape" {
            return;
        }
        if account_open.get_untracked() {
            account_open.set(false);
            if let Some(b) = account_toggle.get_untracked() {
                let _ = b.focus();
            }
        } else if nav_open.get_untracked() {
            nav_open.set(false);
            if let Some(b) = nav_toggle.get_untracked() {
                let _ = b.focus();
            }
        }
    };

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
        <header class="site-header" on:keydown=escape>
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
                        let sign_out = sign_out.clone();
                        view! {
                            <button
                                type="button"
                                class="nav-toggle button button--secondary button--small"
                                aria-expanded=move || nav_open.get().to_string()
                                aria-controls="site-nav"
                                node_ref=nav_toggle
                                on:click=move |_| nav_open.update(|o| *o = !*o)
                            >
                                "Menu"
                            </button>
                            <nav
                                id="site-nav"
                                class="site-nav"
                                class:site-nav--open=move || nav_open.get()
                                aria-label="Main"
                            >
                                <ul class="site-nav__links">
                                    <li><A href="/">"Home"</A></li>
                                    {patient.then(|| view! { <li><A href="/records">"Records"</A></li> })}
                                    {patient.then(|| view! { <li><A href="/vitals">"Vital signs"</A></li> })}
                                    {patient.then(|| view! { <li><A href="/sharing">"Sharing"</A></li> })}
                                    {doctor.then(|| view! { <li><A href="/patients">"Patients"</A></li> })}
                                    {(patient || doctor).then(|| view! { <li><A href="/emergency">"Emergency"</A></li> })}
                                    {admin.then(|| view! { <li><A href="/admin">"Admin"</A></li> })}
                                    {auditor.then(|| view! { <li><A href="/audit">"Audit log"</A></li> })}
                                </ul>
                                <div class="account-menu" node_ref=account_menu>
                                    <button
                                        type="button"
                                        class="account-menu__toggle"
                                        aria-expanded=move || account_open.get().to_string()
                                        aria-controls="account-menu"
                                        node_ref=account_toggle
                                        on:click=move |_| account_open.update(|o| *o = !*o)
                                    >
                                        <span class="visually-hidden">"Account menu for "</span>
                                        {u.info.username.clone()}
                                        <span class="account-menu__chevron" aria-hidden="true"></span>
                                    </button>
                                    <ul
                                        id="account-menu"
                                        class="account-menu__list"
                                        hidden=move || !account_open.get()
                                    >
                                        <li><A href="/account">"Account"</A></li>
                                        <li><A href="/directory">"Directory"</A></li>
                                        <li><A href="/history">"Access history"</A></li>
                                        <li>
                                            <button
                                                type="button"
                                                class="account-menu__sign-out"
                                                disabled=move || busy.get()
                                                on:click=sign_out
                                            >
                                                {move || if busy.get() { "Working…" } else { "Sign out" }}
                                            </button>
                                        </li>
                                    </ul>
                                </div>
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
