//! The frame around every page: skip link, header with the product name, footer.

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_location, use_navigate},
};
use shared::model::Role;
use wasm_bindgen::JsCast;

use super::notices_link::NoticesLink;
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

/// The banner at the top of every page, with the main navigation once the keys
/// are open. On a desktop it is one line; on a phone the navigation folds
/// behind a "Menu" button so the page starts right below the header.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = use_session();
    view! {
        <header class="site-header">
            <div class="site-header__inner">
                <A href="/" attr:class="brand">
                    <img class="brand__mark" src="/favicon.svg" alt="" width="28" height="28"/>
                    <span class="brand__name">"medvault"</span>
                </A>
                {move || match session.unlocked() {
                    Some(u) => view! { <MainNav role=u.info.role username=u.info.username/> }.into_any(),
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

/// Moves focus back to a menu's button once the menu closes by Escape.
fn refocus(button: NodeRef<leptos::html::Button>) {
    if let Some(b) = button.get_untracked() {
        let _ = b.focus();
    }
}

/// The role's main pages, and the account menu. Below 52rem it is a
/// disclosure behind "Menu" (`aria-expanded`), closed by Escape (focus back
/// on "Menu") and by every page change.
#[component]
fn MainNav(role: Role, username: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let toggle = NodeRef::<leptos::html::Button>::new();
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        open.set(false);
    });
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            open.set(false);
            refocus(toggle);
        }
    };
    let (patient, doctor) = (role == Role::Patient, role == Role::Doctor);
    view! {
        <button
            type="button"
            class="nav-toggle button button--secondary button--small"
            aria-expanded=move || open.get().to_string()
            aria-controls="site-nav"
            node_ref=toggle
            on:click=move |_| open.update(|o| *o = !*o)
            on:keydown=escape
        >
            "Menu"
        </button>
        <nav id="site-nav" class="site-nav" class:site-nav--open=move || open.get()
            aria-label="Main" on:keydown=escape>
            <ul class="site-nav__links">
                <li><A href="/">"Home"</A></li>
                {patient.then(|| view! { <li><A href="/records">"Records"</A></li> })}
                {patient.then(|| view! { <li><A href="/health">"Summary"</A></li> })}
                {patient.then(|| view! { <li><A href="/vitals">"Vital signs"</A></li> })}
                {patient.then(|| view! { <li><A href="/sharing">"Sharing"</A></li> })}
                {doctor.then(|| view! { <li><A href="/patients">"Patients"</A></li> })}
                {(patient || doctor).then(|| view! { <li><A href="/emergency">"Emergency"</A></li> })}
                {(role == Role::Admin).then(|| view! { <li><A href="/admin">"Admin"</A></li> })}
                {(role == Role::Auditor).then(|| view! { <li><A href="/audit">"Audit log"</A></li> })}
                {(patient || doctor).then(|| view! { <li><NoticesLink/></li> })}
            </ul>
            <AccountMenu username=username/>
        </nav>
    }
}

/// The username as a disclosure button over Account, Directory, Access
/// history and Sign out: Escape closes it (focus back on the button), as do a
/// press outside it and every page change.
#[component]
fn AccountMenu(username: String) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let open = RwSignal::new(false);
    let toggle = NodeRef::<leptos::html::Button>::new();
    let menu = NodeRef::<leptos::html::Div>::new();
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        open.set(false);
    });
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        let inside = menu.get_untracked().is_some_and(|m| {
            ev.target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                .is_some_and(|t| m.contains(Some(&t)))
        });
        if open.get_untracked() && !inside {
            open.set(false);
        }
    });
    on_cleanup(move || outside.remove());
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            // This menu first; the next Escape closes the phone's menu.
            ev.stop_propagation();
            open.set(false);
            refocus(toggle);
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
        <div class="account-menu" node_ref=menu on:keydown=escape>
            <button type="button" class="account-menu__toggle" node_ref=toggle
                aria-expanded=move || open.get().to_string() aria-controls="account-menu"
                on:click=move |_| open.update(|o| *o = !*o)>
                <span class="visually-hidden">"Account menu for "</span>
                {username}
                <span class="account-menu__chevron" aria-hidden="true"></span>
            </button>
            <ul id="account-menu" class="account-menu__list" hidden=move || !open.get()>
                <li><A href="/account">"Account"</A></li>
                <li><A href="/directory">"Directory"</A></li>
                <li><A href="/history">"Access history"</A></li>
                <li>
                    <button type="button" class="account-menu__sign-out"
                        disabled=move || busy.get() on:click=sign_out>
                        {move || if busy.get() { "Working…" } else { "Sign out" }}
                    </button>
                </li>
            </ul>
        </div>
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
