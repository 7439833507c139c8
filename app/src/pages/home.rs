//! The landing page: what medvault is, and whether the server is ready.

use leptos::prelude::*;

use crate::components::server_status::ServerStatus;

/// `/`: a short statement of what medvault promises, and the server's state.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <div class="home">
            <section class="hero" aria-labelledby="home-heading">
                <h1 id="home-heading">"Your medical records, private by design"</h1>
                <p class="lead">
                    "medvault keeps your lab results, prescriptions, imaging and notes encrypted "
                    "on your own device before anything is stored. You decide which doctor sees what, "
                    "and for how long."
                </p>
            </section>
            <ul class="promises" aria-label="How medvault protects your records">
                <li class="card">
                    <h2>"Encrypted in your browser"</h2>
                    <p>"Every file gets its own key. Your password never leaves this device."</p>
                </li>
                <li class="card">
                    <h2>"Shared on your terms"</h2>
                    <p>"Give a doctor access to one folder or your whole record, and take it back."</p>
                </li>
                <li class="card">
                    <h2>"Every access recorded"</h2>
                    <p>"A tamper-evident history shows who opened what, and when."</p>
                </li>
            </ul>
            <ServerStatus/>
        </div>
    }
}
