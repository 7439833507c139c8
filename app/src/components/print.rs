//! Printing a folder's list or the vital signs: the Print button, and the
//! heading that only paper shows (whose record it is, and when it was
//! printed). The print stylesheet (`@media print` in `style/main.css`)
//! leaves out the navigation, forms, buttons and uploads.

use leptos::prelude::*;

use crate::{
    platform::browser::format_date,
    session::{now_unix, use_session},
};

/// Opens the browser's print dialog for this page.
#[component]
pub fn PrintButton(
    /// The button's accessible name ("Print this folder's list").
    label: &'static str,
) -> impl IntoView {
    let print = |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <button type="button" class="button button--secondary button--small no-print"
            aria-label=label on:click=print>
            "Print"
        </button>
    }
}

/// The top of a printout: the record's owner and the date; hidden on screen.
#[component]
pub fn PrintHeader() -> impl IntoView {
    let session = use_session();
    let username = session
        .unlocked()
        .map(|u| u.info.username)
        .unwrap_or_default();
    view! {
        <div class="print-header">
            <p class="print-header__who">"Medical record of " <strong>{username}</strong></p>
            <p>"Printed from medvault on " {format_date(now_unix())} ". The record is encrypted; this paper is not."</p>
        </div>
    }
}
