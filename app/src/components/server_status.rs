//! A card that tells whether the medvault server is up and its store is open.

use leptos::prelude::*;

use crate::api::{explain, health, HealthReport};

/// Asks `/api/health` and shows the answer, with a button to ask again.
#[component]
pub fn ServerStatus() -> impl IntoView {
    let report = LocalResource::new(health);
    let refresh = move |_| report.refetch();

    view! {
        <section class="card status-card" aria-labelledby="server-status-heading">
            <h2 id="server-status-heading">"Server status"</h2>
            <Transition fallback=|| {
                view! { <p class="status status--pending" role="status">"Checking the server…"</p> }
            }>
                {move || {
                    report
                        .get()
                        .map(|result| match result {
                            Ok(h) => view! { <HealthDetails report=h/> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="status status--down" role="alert">
                                        <span class="status__dot" aria-hidden="true"></span>
                                        {explain(&e)}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            <button type="button" class="button button--secondary" on:click=refresh>
                "Check again"
            </button>
        </section>
    }
}

#[component]
fn HealthDetails(report: HealthReport) -> impl IntoView {
    let online = report.status == "ok";
    let (class, text) = if online {
        ("status status--up", "Online: the server is ready.")
    } else {
        (
            "status status--down",
            "Degraded: the server is running but its storage is not available.",
        )
    };
    view! {
        <p class=class role="status">
            <span class="status__dot" aria-hidden="true"></span>
            {text}
        </p>
        <dl class="facts">
            <div>
                <dt>"Server version"</dt>
                <dd>{report.version}</dd>
            </div>
            <div>
                <dt>"Encrypted storage"</dt>
                <dd>{if report.store_open { "Open" } else { "Not available" }}</dd>
            </div>
        </dl>
    }
}
