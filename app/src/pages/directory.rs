//! `/directory`: look a user up and check their keys here in the browser: the
//! self-signature, a doctor's admin certificate, and whether the keys differ
//! from the user's pins (the first keys seen are pinned; a change can be
//! trusted here once the user compared the safety number).

use leptos::prelude::*;
use shared::{account::Username, model::Role};

use crate::{
    components::{
        action::use_action,
        form::{ErrorAlert, Field, SubmitButton},
        safety_number::SafetyNumberView,
    },
    pages::with_keys,
    session::{role_label, use_session, Unlocked},
    tasks::anchor::unverified_doctor_text,
    tasks::directory::VerifiedEntry,
    tasks::directory::{look_up_pinned, trust_new_keys, Found},
};

/// The directory page (needs the keys).
#[component]
pub fn DirectoryPage() -> impl IntoView {
    with_keys(|u| view! { <Directory unlocked=u/> })
}

#[component]
fn Directory(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let unlocked = StoredValue::new_local(unlocked);
    let username = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Found>);
    let action = use_action(move |name: Username| {
        let u = unlocked.get_value();
        async move {
            let explain = |e: &shared::api::ApiError| {
                if e.code == shared::api::ErrorCode::NotFound {
                    format!("There is no user named {name}. Check the spelling with them.")
                } else {
                    session.explain(e)
                }
            };
            found.set(Some(
                look_up_pinned(session, &u, name.as_str(), explain).await?,
            ));
            Ok(None)
        }
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
            {move || found.get().map(|f| view! { <EntryCard found=f unlocked=unlocked/> })}
        </div>
    }
}

#[component]
fn EntryCard(found: Found, unlocked: StoredValue<Unlocked, LocalStorage>) -> impl IntoView {
    let e = found.entry;
    let name = e.entry.username.clone();
    view! {
        <section class="card" aria-labelledby="entry-heading">
            <h2 id="entry-heading">{name.clone()}</h2>
            {(found.same_as_before == Some(false)).then(|| view! {
                <ChangedKeys entry=e.clone() unlocked=unlocked/>
            })}
            {found.same_as_before.is_none().then(|| view! {
                <p class="status" role="status">
                    "First time you see " {name.clone()} "'s keys. They are now saved with your keys, so any change will be flagged. Compare the safety number below with them in person or on the phone."
                </p>
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
                <p class="status status--up"><span class="status__dot" aria-hidden="true"></span>"The same keys you saved before."</p>
            })}
            <SafetyNumberView number=e.safety_number label=format!("Safety number of {name}")/>
        </section>
    }
}

/// Keys that differ from the pinned ones: the warning, and "Trust the new
/// keys" once the user compared the safety number.
#[component]
fn ChangedKeys(
    entry: VerifiedEntry,
    unlocked: StoredValue<Unlocked, LocalStorage>,
) -> impl IntoView {
    let session = use_session();
    let name = entry.entry.username.clone();
    let entry = StoredValue::new(entry);
    let trusted = RwSignal::new(false);
    let trust = use_action(move |_: ()| {
        let (u, e) = (unlocked.get_value(), entry.get_value());
        async move {
            trust_new_keys(session, &u, &e).await?;
            trusted.set(true);
            Ok(None)
        }
    });
    view! {
        <div class="alert alert--warning" role="alert">
            <p><strong>"These keys are different from the ones you saved for " {name.clone()} "."</strong></p>
            <p>
                "They may have recovered their account or set it up again, or someone may be pretending to be them. "
                "Until you trust the new keys, nothing can be shared with them and nothing they sign is opened. "
                "Compare the safety number below with them in person or on the phone first."
            </p>
            <ErrorAlert error=trust.error/>
            <Show when=move || !trusted.get() fallback=|| view! { <p>"The new keys are now saved with your keys."</p> }>
                <button type="button" class="button button--secondary" disabled=move || trust.busy()
                    on:click=move |_| trust.run(())>
                    {move || if trust.busy() { "Saving…" } else { "Trust the new keys" }}
                </button>
            </Show>
        </div>
    }
}
