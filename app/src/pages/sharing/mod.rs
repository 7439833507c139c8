//! `/sharing`, the patient's side of sharing: requests from doctors (approve
//! or deny), sharing a folder or the whole record with a doctor, the doctors
//! who have access, with a way to remove it, and the emergency contact. The
//! doctor's side is in `pages/patients`.
//!
//! These views only collect choices and show results: making, signing and
//! wrapping grants, and replacing keys, is `tasks::sharing`'s work.

mod change;
mod grants;
mod rekey;
mod requests;
mod share_form;

use leptos::prelude::*;

use crate::{
    components::{form::StatusNote, page::Reloaded},
    pages::{
        emergency::{EmergencyAlert, NameContact},
        with_keys,
    },
    session::{use_session, Unlocked},
    tasks::{
        record::use_record_store,
        sharing::{load_patient, PatientData},
    },
};

use grants::GrantList;
use rekey::{KeysOwedPanel, OwedState};
use requests::Requests;
use share_form::ShareForm;

/// The patient's sharing page (needs the keys).
#[component]
pub fn SharingPage() -> impl IntoView {
    with_keys(|u| view! { <PatientSharing unlocked=u/> })
}

/// The page's parts, drawn once the record, grants and requests are loaded;
/// every change reloads them and shows what it did in the status line.
#[component]
fn PatientSharing(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let unlocked = StoredValue::new_local(unlocked);
    let data = LocalResource::new(move || async move {
        load_patient(session, store, unlocked.get_value()).await
    });
    let notice = RwSignal::new(None::<String>);
    let owed = OwedState::new();
    provide_context(owed);
    let done = Callback::new(move |message: String| {
        notice.set(Some(message));
        data.refetch();
    });

    view! {
        <div class="stack">
            <h1 id="sharing-heading" tabindex="-1">"Sharing"</h1>
            <p class="lead">
                "Share your whole record, one folder or one file with your doctors. Everything is encrypted in this browser "
                "for the doctor you choose: the server cannot read it, and it stops serving it the moment you remove access."
            </p>
            <StatusNote message=notice.into()/>
            <Reloaded data=data waiting="Loading your sharing…" render=move |d: PatientData| view! {
                {d.renewed.clone().map(|(alert, m)| view! { <p class="alert" class:alert--info=!alert class:alert--error=alert role=if alert { "alert" } else { "status" }>{m}</p> })}
                <KeysOwedPanel data=d.clone() unlocked=unlocked done=done state=owed/>
                <EmergencyAlert grants=d.grants.clone() done=done/>
                <Requests data=d.clone() unlocked=unlocked done=done/>
                <ShareForm tree=d.tree.clone() unlocked=unlocked done=done/>
                <GrantList data=d.clone() unlocked=unlocked done=done/>
                <NameContact tree=d.tree.clone() unlocked=unlocked done=done/>
            }/>
        </div>
    }
}
