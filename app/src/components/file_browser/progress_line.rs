//! The one progress bar of the app: uploads, downloads, and (for the sharing
//! page) re-keying a grant.

use leptos::prelude::*;

use crate::tasks::progress::Progress;

/// A labelled progress bar with its percent and speed in words. Only its
/// attributes and text change as the transfer moves, so focus nearby stays.
#[component]
pub fn ProgressLine(label: String, progress: Signal<Progress>) -> impl IntoView {
    let pct = move || progress.get().percent();
    view! {
        <div class="progress-line">
            <div
                class="progress"
                role="progressbar"
                aria-label=label
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || pct().to_string()
                aria-valuetext=move || format!("{}%", pct())
            >
                <div class="progress__bar" style:width=move || format!("{}%", pct())></div>
            </div>
            <span class="progress-line__text">{move || format!("{}% · {}", pct(), progress.get().describe())}</span>
        </div>
    }
}
