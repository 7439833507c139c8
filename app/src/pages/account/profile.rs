//! The patient's profile card: the name and date of birth their doctors see
//! above what is shared with them and that printouts carry, signed and
//! encrypted in this browser (PROTOCOL 17.10).

use leptos::prelude::*;
use shared::api::sharing::list_grants;

use crate::{
    components::{
        action::use_action,
        form::{ErrorAlert, StatusNote, SubmitButton},
    },
    platform::clock::LocalTime,
    session::{now_unix, use_session, Unlocked},
    tasks::{
        profile::{self, shown, ProfileShown},
        record::use_record_store,
    },
};

/// Name and date of birth, loaded from the root's copy and saved to every
/// copy.
#[component]
pub fn ProfileCard(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let unlocked = StoredValue::new_local(unlocked);
    let name = RwSignal::new(String::new());
    let born = RwSignal::new(String::new());
    let refused = RwSignal::new(None::<&'static str>);
    let loaded = LocalResource::new(move || async move {
        let u = unlocked.get_value();
        let tree = store.open(session, &u).await?;
        let (opened, _) = profile::own(session, &u, &tree).await?;
        Ok::<_, String>(shown(opened))
    });
    Effect::new(move |_| match loaded.get() {
        Some(Ok(ProfileShown::Given(p))) => {
            name.set(p.display_name);
            born.set(p.date_of_birth.unwrap_or_default());
        }
        Some(Ok(ProfileShown::Refused(why))) => refused.set(Some(why)),
        _ => {}
    });
    let save = use_action(move |(n, b): (String, String)| async move {
        let u = unlocked.get_value();
        let tree = store.open(session, &u).await?;
        let me = u.key_entry.value.user_id;
        let mut grants = list_grants().await.map_err(|e| session.explain(&e))?;
        grants.retain(|g| g.grant.value.patient_id == me);
        let dob = Some(b.trim().to_owned()).filter(|d| !d.is_empty());
        profile::save(session, &u, &tree, &grants, n, dob).await?;
        refused.set(None);
        Ok(Some(
            "Saved. Doctors you share with see this name and date of birth above what you share, and your printouts carry them.".to_owned(),
        ))
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run((name.get_untracked(), born.get_untracked()));
    };
    let today = LocalTime::of(now_unix()).date_iso();
    let load_error = move || loaded.get().and_then(Result::err);
    view! {
        <section class="card" aria-labelledby="profile-heading">
            <h2 id="profile-heading">"Your profile"</h2>
            <p>"The name and date of birth your doctors see above what you share with them, and that your printouts carry. They are encrypted in this browser and signed by you: the server cannot read or change them."</p>
            {move || load_error().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
            {move || refused.get().map(|why| view! {
                <p class="alert alert--error" role="alert">
                    "Your saved profile was not filled in: " {why} " Enter it again and save."
                </p>
            })}
            <ErrorAlert error=save.error/>
            <StatusNote message=save.status.into()/>
            <form class="form" on:submit=submit novalidate>
                <div class="field">
                    <label for="profile-name">"Name to show"</label>
                    <input id="profile-name" type="text" autocomplete="name" maxlength="100"
                        required bind:value=name/>
                </div>
                <div class="field">
                    <label for="profile-born">"Date of birth"</label>
                    <input id="profile-born" type="date" autocomplete="bday" min="1900-01-01"
                        max=today bind:value=born aria-describedby="profile-born-hint"/>
                    <p class="field__hint" id="profile-born-hint">"Optional."</p>
                </div>
                <SubmitButton label="Save profile" busy=save.busy_signal()/>
            </form>
        </section>
    }
}
