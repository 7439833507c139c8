//! The admin page's Installation certificate card: the request code for the
//! operator, the field for the certificate they send back, and where this
//! admin stands. The checks are `tasks::admin`'s.

use leptos::prelude::*;

use crate::{
    components::{
        action::use_action,
        form::{ErrorAlert, StatusNote, SubmitButton},
        page::Loaded,
    },
    platform::browser::copy_text,
    session::Unlocked,
    tasks::admin::{
        anchor_text, built_in_fingerprint, load_anchor, request_code, store_certificate, Anchor,
    },
};

/// The card (the admin's keys are needed for the request and the checks).
#[component]
pub(super) fn InstallationCertificate(
    unlocked: StoredValue<Unlocked, LocalStorage>,
) -> impl IntoView {
    let state = LocalResource::new(move || async move { load_anchor(&unlocked.get_value()).await });
    let code = unlocked.with_value(request_code);
    view! {
        <section class="card" aria-labelledby="anchor-heading">
            <h2 id="anchor-heading">"Installation certificate"</h2>
            <Loaded data=state waiting="Checking your certificate…" render=|anchor: Anchor| view! {
                <p class=if matches!(anchor, Anchor::Certified(_)) { "status status--up" } else { "status" } role="status">
                    {anchor_text(&anchor)}
                </p>
            }/>
            <p>"The operator keeps this installation's key off the server. To be able to verify doctors, copy your request code and send it to the operator. They run "
                <code>"medvault-server org-key certify-admin"</code>
                " with it, compare your safety number with you, and send back a certificate code. Paste that code below."</p>
            {built_in_fingerprint().map(|fp| view! {
                <p>"This app was built for the installation key with fingerprint " <code>{fp}</code> ". The operator's key must show the same."</p>
            })}
            <RequestCode code=code/>
            <PasteCertificate unlocked=unlocked stored=move || state.refetch()/>
        </section>
    }
}

/// The request code, read-only, with a copy button.
#[component]
fn RequestCode(code: String) -> impl IntoView {
    let copied = RwSignal::new(None::<String>);
    let text = code.clone();
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            copied.set(Some(if copy_text(&text).await {
                "Request code copied.".to_owned()
            } else {
                "Copying did not work here; select the code and copy it by hand.".to_owned()
            }));
        });
    };
    view! {
        <div class="field">
            <label for="anchor-request">"Your certificate request"</label>
            <textarea id="anchor-request" readonly rows="4" prop:value=code></textarea>
        </div>
        <button type="button" class="button button--secondary" on:click=copy>"Copy request code"</button>
        <StatusNote message=copied.into()/>
    }
}

/// The field for the operator's certificate code.
#[component]
fn PasteCertificate(
    unlocked: StoredValue<Unlocked, LocalStorage>,
    stored: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let pasted = RwSignal::new(String::new());
    let action = use_action(move |code: String| async move {
        let anchor = store_certificate(&unlocked.get_value(), &code).await?;
        pasted.set(String::new());
        stored();
        Ok(Some(format!(
            "Certificate stored. {}",
            anchor_text(&anchor)
        )))
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.run(pasted.get_untracked());
    };
    view! {
        <ErrorAlert error=action.error/>
        <StatusNote message=action.status.into()/>
        <form class="form" on:submit=submit novalidate>
            <div class="field">
                <label for="anchor-certificate">"Certificate code from the operator"</label>
                <textarea id="anchor-certificate" rows="4" bind:value=pasted></textarea>
            </div>
            <SubmitButton label="Store certificate" busy=action.busy_signal()/>
        </form>
    }
}
