//! The admin page's system events: sign-ins, refusals and admin actions,
//! newest first, and the audit key that auditors compare against.

use leptos::prelude::*;
use shared::crypto::b64;

use crate::{
    api::audit::audit_key,
    components::page::Loaded,
    platform::browser::format_time,
    session::use_session,
    tasks::admin::{load_system_events, SystemEvents as Events},
};

/// Sign-ins, refusals and admin actions, newest first, and the audit key that
/// auditors compare against.
#[component]
pub(super) fn SystemEvents() -> impl IntoView {
    let session = use_session();
    let key = LocalResource::new(audit_key);
    let events = LocalResource::new(move || async move {
        load_system_events().await.map_err(|e| session.explain(&e))
    });
    view! {
        <section class="card" aria-labelledby="events-heading">
            <h2 id="events-heading">"System events"</h2>
            <p>
                "The newest sign-ins, refused sign-ins and administrator actions. "
                "Auditors verify the whole log against this server's audit key:"
            </p>
            <Suspense fallback=|| ()>
                {move || key.get().map(|k| match k {
                    Ok(k) => view! { <p class="audit-key">"Audit key: " <code>{b64::encode(&k.key.to_bytes())}</code></p> }.into_any(),
                    Err(e) => view! { <p class="alert alert--error" role="alert">{session.explain(&e)}</p> }.into_any(),
                })}
            </Suspense>
            <Loaded data=events waiting="Loading events…" render=move |loaded: Events| view! { <EventTable loaded=loaded/> }/>
        </section>
    }
}

#[component]
fn EventTable(loaded: Events) -> impl IntoView {
    let rows = loaded
        .events
        .iter()
        .map(|e| {
            (
                e.at,
                loaded.name(e.actor),
                e.kind.label(),
                loaded.name(e.subject),
            )
        })
        .collect::<Vec<_>>();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Account concerned"</th></tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|(at, who, what, subject)| view! {
                        <tr>
                            <td>{format_time(at)}</td>
                            <td>{who}</td>
                            <td>{what}</td>
                            <td>{subject}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
