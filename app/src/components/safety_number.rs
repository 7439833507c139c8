//! A safety number shown as the app always shows it: twelve groups of five digits
//! in three rows, so two people can read it to each other.

use leptos::prelude::*;
use shared::crypto::fingerprint::SafetyNumber;

/// The twelve groups of `number`, labelled for screen readers.
#[component]
pub fn SafetyNumberView(number: SafetyNumber, label: String) -> impl IntoView {
    let groups = number.groups();
    view! {
        <div class="safety-number" role="group" aria-label=label>
            {groups.into_iter().map(|g| view! { <span class="safety-number__group">{g}</span> }).collect_view()}
        </div>
    }
}
