//! `/directory`: look a user up and check their keys here in the browser: the
//! self-signature, a doctor's admin certificate, and whether the keys changed
//! since this browser last saw them.

use leptos::prelude::*;
use shared::{account::Username, model::Role};

use crate::{
    components::{
        action::use_action,
        form::{ErrorAlert, Field, SubmitButton},
        safety_number::SafetyNumberView,
    },
    pages::with_keys,
    session::{role_label, use_session},
    tasks::anchor::unverified_doctor_text,
    tasks::directory::{compare_with_seen, look_up, remember_new_keys, Found},
};

/// The directory page (needs the keys).
#[component]
pub fn DirectoryPage() -> impl IntoView {
    with_keys(|_| view! { <Directory/> })
}

#[component]
fn Directory() -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Found>);
    let action = use_action(move |name: Username| async move {
        let explain = |e: &shared::api::ApiError| {
            if e.code == shared::api::ErrorCode::NotFound {
                format!("There is no user named {name}. Check the spelling with them.")
            } else {
                session.explain(e)
            }
        };
        let entry = look_up(name.as_str(), explain).await?;
        found.set(Some(compare_with_seen(name.as_str(), entry)));
        Ok(None)
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if action.busy_signal().get_untracked() {
            return;
        }
        found.set(None);
        match Username::parse(username.get_untracked().trim()) {
            Ok(name) => action.run(name),
            Err(e) => action.error.set(Some(format!("{e}."))),
        }
    };

    view! {
        <div class="stack">
            <h1 id="directory-heading" tabindex="-1">"Directory"</h1>
            <p class="lead">
                "Look someone up by username. Their keys are checked in this browser; compare the safety number with them in person or on the phone before you share records."
            </p>
            <section class="card narrow" aria-labelledby="lookup-heading">
                <h2 id="lookup-heading">"Look up a user"</h2>
                <ErrorAlert error=action.error/>
                <form class="form" on:submit=submit novalidate>
                    <Field id="lookup-username" label="Username" value=username/>
                    <SubmitButton label="Look up" busy=action.busy_signal()/>
                </form>
            </section>
            {move || found.get().map(|f| view! { <EntryCard found=f/> })}
        </div>
    }
}

#[component]
fn EntryCard(found: Found) -> impl IntoView {
    let e = found.entry;
    let name = e.entry.username.clone();
    let accept = RwSignal::new(false);
    let accept_new = {
        let e = e.clone();
        move |_| {
            remember_new_keys(&e);
            accept.set(true);
        }
    };
    view! {
        <section class="card" aria-labelledby="entry-heading">
            <h2 id="entry-heading">{name.clone()}</h2>
            {(found.same_as_before == Some(false)).then(|| view! {
                <div class="alert alert--warning" role="alert">
                    <p><strong>"These keys are different from the ones this browser saw before for " {name.clone()} "."</strong></p>
                    <p>
                        "They may have recovered their account or set it up again, or someone may be pretending to be them. "
                        "Do not share records until you have compared the safety number below with them directly."
                    </p>
                    <Show when=move || !accept.get() fallback=|| view! { <p>"The new keys are now remembered."</p> }>
                        <button type="button" class="button button--secondary" on:click=accept_new.clone()>
                            "I have checked: remember the new keys"
                        </button>
                    </Show>
                </div>
            })}
            <dl class="facts">
                <div><dt>"Role"</dt><dd>{role_label(e.entry.role)}</dd></div>
                <div><dt>"Account"</dt><dd>{if e.disabled { "Disabled by an administrator" } else { "Active" }}</dd></div>
                {e.verified_doctor.clone().map(|(licence, admin)| view! {
                    <div class="facts__wide">
                        <dt>"Verification"</dt>
                        <dd>
                            <span class="badge badge--ok">"Verified doctor"</span>
                            " Licence " <strong>{licence}</strong> ", certified by administrator " <strong>{admin}</strong>
                        </dd>
                    </div>
                })}
                {(e.entry.role == Role::Doctor && e.verified_doctor.is_none()).then(|| view! {
                    <div class="facts__wide">
                        <dt>"Verification"</dt>
                        <dd><span class="badge badge--warn">"Not verified"</span> " " {unverified_doctor_text()}</dd>
                    </div>
                })}
            </dl>
            <h3>"Safety number"</h3>
            {(found.same_as_before == Some(true)).then(|| view! {
                <p class="status status--up"><span class="status__dot" aria-hidden="true"></span>"The same keys this browser saw before."</p>
            })}
            <SafetyNumberView number=e.safety_number label=format!("Safety number of {name}")/>
        </section>
    }
}
