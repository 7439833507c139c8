//! The patient's side of emergency access: naming a contact, the request
//! alert on the Sharing page (with the way to refuse), the notice on the home
//! page, and the emergency facts of a grant for either side's list.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    api::sharing::{Emergency, GrantStatus, GrantView},
    model::{Id, Role},
    records::OpenTree,
};

use crate::{
    components::{
        action::{use_action, UseAction},
        form::{ErrorAlert, Field, SubmitButton},
        safety_number::SafetyNumberView,
    },
    platform::browser::focus_later,
    session::{use_session, Unlocked},
    tasks::sharing::{Purpose, VerifiedEntry},
    tasks::{
        emergency::{
            name_contact, opens_text, refuse, state_text, verified_contact, wait_of, wait_text,
            waiting_for, DEFAULT_WAIT, WAITS,
        },
        sharing::id_text,
    },
};

/// The emergency details of a grant, for either side's list.
#[component]
pub fn EmergencyFacts(emergency: Emergency, status: GrantStatus) -> impl IntoView {
    let wait = format!("Waiting period: {}", wait_text(emergency.wait_secs));
    let state = state_text(&emergency, status);
    view! {
        <span class="item__facts">
            <span>{wait}</span>
            <span>{state}</span>
        </span>
    }
}

/// At the top of the Sharing page: an emergency contact has asked, and the
/// patient can refuse before the waiting period ends.
#[component]
pub fn EmergencyAlert(grants: Vec<GrantView>, done: Callback<String>) -> impl IntoView {
    grants
        .into_iter()
        .filter(|g| g.status == GrantStatus::Waiting)
        .map(|g| view! { <WaitingRequest grant=g done=done/> })
        .collect_view()
}

/// One contact's request, with the button that refuses it.
#[component]
fn WaitingRequest(grant: GrantView, done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let contact = grant.doctor_name.clone();
    let grant_id = grant.grant.value.grant_id;
    let reason = grant
        .emergency
        .as_ref()
        .and_then(|e| e.reason.clone())
        .unwrap_or_default();
    let refusal = use_action({
        let contact = contact.clone();
        move |()| {
            let contact = contact.clone();
            async move {
                refuse(session, grant_id).await?;
                done.run(format!(
                    "You refused {contact}'s emergency request. Your record stays closed to them; they can see that you refused."
                ));
                focus_later("main h1");
                Ok(None)
            }
        }
    });
    let opens = opens_text(&grant);
    view! {
        <section class="card card--alert" role="alert" aria-labelledby=format!("emergency-{}", id_text(&grant_id))>
            <h2 id=format!("emergency-{}", id_text(&grant_id))>{format!("{contact} asked for emergency access")}</h2>
            <p>{format!("Your whole record opens to {contact} on {opens} unless you refuse before then. Their reason:")}</p>
            <blockquote class="request__reason">{reason}</blockquote>
            <ErrorAlert error=refusal.error/>
            <div class="button-row">
                <button type="button" class="button button--danger" disabled=move || refusal.busy()
                    on:click=move |_| refusal.run(())>{move || if refusal.busy() { "Working…" } else { "Refuse emergency access" }}</button>
            </div>
        </section>
    }
}

/// On the patient's home page: emergency requests waiting for an answer, with
/// the way to refuse them.
#[component]
pub fn EmergencyNotice(me: Id) -> impl IntoView {
    let grants = LocalResource::new(move || waiting_for(me));
    move || {
        grants.get().map(|list| {
            list.into_iter()
                .map(|g| {
                    let opens = opens_text(&g);
                    view! {
                        <div class="alert alert--warning" role="alert">
                            {format!("{} asked for emergency access to your record. It opens to them on {opens} unless you refuse. ", g.doctor_name)}
                            <A href="/sharing">"Review the request on the Sharing page"</A>
                        </div>
                    }
                })
                .collect_view()
        })
    }
}

/// The two steps of naming a contact.
#[derive(Clone)]
enum Step {
    /// Look the person up by username.
    LookUp(String),
    /// Name them, with this waiting period in seconds.
    Name(Box<VerifiedEntry>, i64),
}

/// The patient names an emergency contact.
#[component]
pub fn NameContact(
    tree: OpenTree,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let wait = RwSignal::new(DEFAULT_WAIT.to_string());
    let contact = RwSignal::new(None::<VerifiedEntry>);
    let tree = StoredValue::new(tree);
    let note = RwSignal::new(None::<String>);
    let step = use_action(move |s: Step| {
        let (u, t) = (unlocked.get_value(), tree.get_value());
        async move {
            match s {
                Step::LookUp(name) => {
                    let checked = verified_contact(session, &u, &name).await?;
                    note.set(checked.first_contact_note(Purpose::Share));
                    contact.set(Some(checked.entry));
                    focus_later("#emergency-wait");
                }
                Step::Name(entry, secs) => {
                    name_contact(session, &u, &t, &entry, secs).await?;
                    contact.set(None);
                    username.set(String::new());
                    done.run(format!(
                        "{} is your emergency contact. If they ask for access, you have {} to refuse before your record opens to them.",
                        entry.entry.username,
                        wait_text(secs)
                    ));
                    focus_later("main h1");
                }
            }
            Ok(None)
        }
    });
    let look_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if step.busy() {
            return;
        }
        contact.set(None);
        step.run(Step::LookUp(username.get_untracked()));
    };
    view! {
        <section class="card" aria-labelledby="emergency-heading">
            <h2 id="emergency-heading">"Emergency contact"</h2>
            <p class="field__hint">
                "Name someone who can ask to read your whole record if you cannot answer, such as a family doctor or a relative with a medvault account. "
                "You are told as soon as they ask and can refuse during the waiting period; if you do not, the record opens to them, to read only. "
                "Every step is in your Access history."
            </p>
            <ErrorAlert error=step.error/>
            <form class="form form--inline" on:submit=look_up novalidate>
                <Field id="emergency-username" label="Contact's username" value=username/>
                <SubmitButton label="Look up contact" busy=step.busy_signal() class="button--secondary"/>
            </form>
            {move || contact.get().map(|entry| view! {
                <ContactCard entry=entry note=note.get_untracked()/>
                <WaitForm contact=contact wait=wait step=step/>
            })}
        </section>
    }
}

/// The person looked up, with the safety number to compare.
#[component]
fn ContactCard(entry: VerifiedEntry, note: Option<String>) -> impl IntoView {
    let name = entry.entry.username.clone();
    let role = if entry.entry.role == Role::Doctor {
        "Doctor"
    } else {
        "Patient"
    };
    view! {
        <div class="doctor-card">
            <h3>{name.clone()}</h3>
            <p>{match entry.verified_doctor.clone() {
                Some((licence, _)) => format!("Verified doctor, licence {licence}."),
                None => format!("{role} account."),
            }}</p>
            {note.map(|n| view! { <p class="status" role="status">{n}</p> })}
            <p class="field__hint">"Compare this safety number with them in person or on the phone:"</p>
            <SafetyNumberView number=entry.safety_number label=format!("Safety number of {name}")/>
        </div>
    }
}

/// The waiting period, and the button that names the contact.
#[component]
fn WaitForm(
    contact: RwSignal<Option<VerifiedEntry>>,
    wait: RwSignal<String>,
    step: UseAction<Step>,
) -> impl IntoView {
    let name_them = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if step.busy() {
            return;
        }
        step.error.set(None);
        let Some(entry) = contact.get_untracked() else {
            return step.error.set(Some("Look the person up first.".to_owned()));
        };
        match wait_of(&wait.get_untracked()) {
            Ok(secs) => step.run(Step::Name(Box::new(entry), secs)),
            Err(m) => step.error.set(Some(m)),
        }
    };
    view! {
        <form class="form" on:submit=name_them novalidate>
            <div class="field">
                <label for="emergency-wait">"Waiting period"</label>
                <select id="emergency-wait" aria-describedby="emergency-wait-hint"
                    on:change=move |ev| wait.set(event_target_value(&ev))>
                    {WAITS.iter().map(|(secs, words)| view! {
                        <option value=secs.to_string() selected=secs.to_string() == wait.get_untracked()>{*words}</option>
                    }).collect_view()}
                </select>
                <p class="field__hint" id="emergency-wait-hint">"How long you have to refuse after they ask."</p>
            </div>
            <SubmitButton label="Name as emergency contact" busy=step.busy_signal()/>
        </form>
    }
}
