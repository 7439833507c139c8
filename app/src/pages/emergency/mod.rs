//! Emergency access (docs/ARCHITECTURE.md, "Sharing"), both sides.
//!
//! The patient names a contact (a doctor, or a relative or friend with a
//! medvault account) and a waiting period ([`NameContact`], on the Sharing
//! page); the server serves the record's key only after the contact has
//! asked and the waiting period has passed without the patient refusing.
//!
//! `/emergency` is the contact's side: the records they may ask to open, the
//! request and its waiting period, and, once it opens, a link to the record
//! (the same read-only view as a doctor's share, checked the same way). The
//! protocol steps are `tasks::emergency`'s.

mod name_contact;

pub use name_contact::{EmergencyAlert, EmergencyFacts, EmergencyNotice, NameContact};

use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::sharing::{GrantStatus, GrantView};

use crate::{
    components::{
        action::{use_action, UseAction},
        badges::status_badge,
        form::{ErrorAlert, StatusNote, SubmitButton},
        page::Reloaded,
    },
    pages::with_keys,
    platform::browser::format_date,
    session::{use_session, Unlocked},
    tasks::{
        emergency::{ask, contact_grants, opens_text},
        sharing::id_text,
    },
};

/// Records this user may ask to open in an emergency (needs the keys).
#[component]
pub fn EmergencyPage() -> impl IntoView {
    with_keys(|u| view! { <ContactView unlocked=u/> })
}

/// The records naming this user as emergency contact, loaded; each change
/// reloads them and says what it did.
#[component]
fn ContactView(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let me = unlocked.key_entry.value.user_id;
    let data = LocalResource::new(move || contact_grants(session, me));
    let notice = RwSignal::new(None::<String>);
    let done = Callback::new(move |message: String| {
        notice.set(Some(message));
        data.refetch();
    });
    let render = move |grants: Vec<GrantView>| {
        if grants.is_empty() {
            view! { <p class="muted">"Nobody has named you as their emergency contact."</p> }
                .into_any()
        } else {
            view! {
                <ul class="grant-list" aria-label="Records you can ask to open">
                    {grants.into_iter().map(|g| view! { <ContactRow grant=g done=done/> }).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    view! {
        <div class="stack">
            <h1 id="emergency-page-heading" tabindex="-1">"Emergency access"</h1>
            <p class="lead">
                "People who named you as their emergency contact. If one of them cannot answer and you need their record, ask here: "
                "they are told at once and can refuse; if they do not, their record opens to you, to read only, when the waiting period ends."
            </p>
            <StatusNote message=notice.into()/>
            <Reloaded data=data waiting="Loading…" render=render/>
        </div>
    }
}

/// One patient who named this user: the facts, and what can be done now.
#[component]
fn ContactRow(grant: GrantView, done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let patient = grant.patient_name.clone();
    let grant_id = grant.grant.value.grant_id;
    let key = id_text(&grant_id);
    let facts = grant
        .emergency
        .clone()
        .map(|e| view! { <EmergencyFacts emergency=e status=grant.status/> });
    let asking = use_action({
        let patient = patient.clone();
        move |reason: String| {
            let patient = patient.clone();
            async move {
                let view = ask(session, grant_id, &reason).await?;
                let opens = opens_text(&view);
                done.run(format!(
                    "{patient} has been told of your request. Their record opens to you on {opens} unless they refuse."
                ));
                Ok(None)
            }
        }
    });
    let body = match grant.status {
        GrantStatus::Active => view! {
            <p><A href=format!("/patients/{key}")>{format!("Open {patient}'s record")}</A></p>
        }
        .into_any(),
        GrantStatus::Waiting => view! {
            <p class="muted">"Waiting. You can open the record here when the waiting period ends."</p>
        }
        .into_any(),
        GrantStatus::Standby => view! { <AskForm key=key patient=patient.clone() asking=asking/> }.into_any(),
        GrantStatus::Expired | GrantStatus::Revoked => view! {
            <p class="muted">{format!("{patient} removed you as emergency contact.")}</p>
        }
        .into_any(),
        GrantStatus::Declined => view! {
            <p class="muted">{format!("You declined to be {patient}'s emergency contact.")}</p>
        }
        .into_any(),
    };
    view! {
        <li class="grant">
            <div class="grant__head">
                <div class="grant__who">
                    <strong class="grant__doctor">{patient.clone()}</strong>
                    <span class="item__facts">
                        <span>"Whole record, to read"</span>
                        <span>{format!("Named {}", format_date(grant.grant.value.created_at))}</span>
                    </span>
                    {facts}
                </div>
                {status_badge(grant.status)}
            </div>
            <ErrorAlert error=asking.error/>
            {body}
        </li>
    }
}

/// The contact's reason, and the button that asks for the record.
#[component]
fn AskForm(key: String, patient: String, asking: UseAction<String>) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        asking.run(reason.get_untracked());
    };
    let reason_id = format!("emergency-reason-{key}");
    let hint_id = format!("{reason_id}-hint");
    view! {
        <form class="form" on:submit=submit novalidate>
            <div class="field">
                <label for=reason_id.clone()>"Why you need the record now"</label>
                <textarea id=reason_id rows="3" maxlength="500" aria-describedby=hint_id.clone()
                    bind:value=reason></textarea>
                <p class="field__hint" id=hint_id>{format!("{patient} reads this at once. Up to 500 characters.")}</p>
            </div>
            <SubmitButton label="Ask for emergency access" busy=asking.busy_signal()/>
        </form>
    }
}
