//! `/records/search`: find anything in the record by name, description or type.
//! The record is decrypted in this browser and searched here.

use leptos::prelude::*;
use shared::records::OpenTree;

use crate::{
    components::{form::ErrorAlert, search::RecordSearch},
    pages::with_keys,
    session::{use_session, Unlocked},
    tasks::record::use_record_store,
};

/// The search page (needs the keys).
#[component]
pub fn SearchPage() -> impl IntoView {
    with_keys(|u| view! { <Search unlocked=u/> })
}

#[component]
fn Search(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let tree = RwSignal::new(None::<OpenTree>);
    let error = RwSignal::new(None::<String>);
    leptos::task::spawn_local(async move {
        match store.open(session, &unlocked).await {
            Ok(t) => tree.set(Some(t)),
            Err(e) => error.set(Some(e)),
        }
    });
    view! {
        <div class="stack search-page">
            <div class="page-intro">
                <h1 id="search-heading" tabindex="-1">"Search your record"</h1>
                <p class="lead">"Your record is searched in this browser; the server never sees what you look for."</p>
            </div>
            <ErrorAlert error=error/>
            <div class="card">
                <RecordSearch tree=tree.into()/>
            </div>
        </div>
    }
}
