//! Printing a folder's list or the vital signs: the Print button, and the
//! heading that only paper shows (whose record it is, and when it was
//! printed). The print stylesheet (`@media print` in `style/main.css`)
//! leaves out the navigation, forms, buttons and uploads.

use leptos::prelude::*;

use crate::{
    platform::browser::format_date,
    session::{now_unix, use_session},
    tasks::{
        profile::{self, shown},
        record::use_record_store,
    },
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

/// The top of a printout: the record's owner (their profile's name and
/// date of birth once checked, else the username) and the date; hidden on
/// screen.
#[component]
pub fn PrintHeader() -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let username = session
        .unlocked()
        .map(|u| u.info.username)
        .unwrap_or_default();
    // Only what opened and checked is printed; a refused or missing
    // profile leaves the username.
    let profile = LocalResource::new(move || async move {
        let u = session.unlocked()?;
        let tree = store.open(session, &u).await.ok()?;
        let (opened, _) = profile::own(session, &u, &tree).await.ok()?;
        shown(opened).line()
    });
    let who = move || profile.get().flatten().unwrap_or_else(|| username.clone());
    view! {
        <div class="print-header">
            <p class="print-header__who">"Medical record of " <strong>{who}</strong></p>
            <p>"Printed from medvault on " {format_date(now_unix())} ". The record is encrypted; this paper is not."</p>
        </div>
    }
}
