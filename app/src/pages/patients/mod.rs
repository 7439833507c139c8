//! `/patients`, the doctor's side of sharing: ask a patient for access, the
//! answers, and the records shared with this doctor (each can be declined);
//! `/patients/:grant` opens one of them ([`shared_record`]). The protocol
//! steps are `tasks::sharing`'s.

/// `/patients/:grant`.
mod organise;
pub mod shared_health;
pub mod shared_record;
mod shared_vitals;
mod write;

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    api::sharing::{AccessRequestView, GrantStatus, GrantView},
    model::Role,
};

use crate::{
    components::{
        action::use_action,
        badges::{request_badge, status_badge},
        form::{ErrorAlert, Field, StatusNote, SubmitButton},
        page::Reloaded,
    },
    pages::with_keys,
    platform::browser::{focus_later, format_date},
    session::{use_session, Unlocked},
    tasks::sharing::{
        access_request, ask_for_access, decline, id_text, load_doctor, permission_text, DoctorData,
    },
};

/// The doctor's patients page (needs the keys).
#[component]
pub fn PatientsPage() -> impl IntoView {
    with_keys(|u| view! { <Patients unlocked=u/> })
}

/// The shares, the request form and the requests, loaded; each change
/// reloads them and says what it did. Other roles are sent to their page.
#[component]
fn Patients(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let is_doctor = unlocked.info.role == Role::Doctor;
    let data = LocalResource::new(move || load_doctor(session));
    let notice = RwSignal::new(None::<String>);
    let done = Callback::new(move |message: String| {
        notice.set(Some(message));
        data.refetch();
    });
    if !is_doctor {
        return view! {
            <div class="stack">
                <h1 id="patients-heading" tabindex="-1">"Patients"</h1>
                <p class="alert alert--info" role="status">"This page is for doctors. Patients share their record from the Sharing page."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="stack">
            <h1 id="patients-heading" tabindex="-1">"Patients"</h1>
            <p class="lead">"Records your patients shared with you, and your requests for access. What you open is decrypted in this browser only."</p>
            <StatusNote message=notice.into()/>
            <Reloaded data=data waiting="Loading…" render=move |d: DoctorData| view! {
                <SharedWithMe grants=d.grants.clone() done=done/>
                <AskForm done=done/>
                <MyRequests requests=d.requests/>
            }/>
        </div>
    }
    .into_any()
}

/// The shares naming this doctor (emergency grants are on the Emergency page).
#[component]
fn SharedWithMe(grants: Vec<GrantView>, done: Callback<String>) -> impl IntoView {
    let grants: Vec<GrantView> = grants
        .into_iter()
        .filter(|g| g.emergency.is_none())
        .collect();
    view! {
        <section class="card" aria-labelledby="shared-heading">
            <h2 id="shared-heading">"Shared with you"</h2>
            {if grants.is_empty() {
                view! { <p class="muted">"No patient has shared their record with you yet. Ask a patient for access below."</p> }.into_any()
            } else {
                view! {
                    <ul class="patient-list">
                        {grants.into_iter().map(|g| view! { <SharedRow grant=g done=done/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// One share in the doctor's list, with a way to decline it (confirmed first).
#[component]
fn SharedRow(grant: GrantView, done: Callback<String>) -> impl IntoView {
    let v = grant.grant.value.clone();
    let patient = grant.patient_name.clone();
    let href = format!("/patients/{}", id_text(&v.grant_id));
    let open = grant.status.is_live();
    let shown = patient.clone();
    let name = if grant.status == GrantStatus::Active {
        view! { <A href=href attr:class="item__name">{shown}</A> }.into_any()
    } else {
        view! { <span class="item__name">{shown}</span> }.into_any()
    };
    let end = match (grant.status, v.expires_at) {
        (GrantStatus::Revoked, _) => "Access removed by the patient".to_owned(),
        (_, None) => "No end date".to_owned(),
        (_, Some(t)) => format!("Until {}", format_date(t)),
    };
    view! {
        <li class="patient-list__item">
            <div>
                {name}
                <span class="item__facts">
                    <span>{permission_text(v.permission)}</span>
                    <span>{format!("Since {}", format_date(v.created_at))}</span>
                    <span>{end}</span>
                </span>
                <DeclineShare grant=grant.clone() open=open done=done/>
            </div>
            {status_badge(grant.status)}
        </li>
    }
}

/// "Decline", its question and answer (for a share still live), and the
/// alert if declining failed.
#[component]
fn DeclineShare(grant: GrantView, open: bool, done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let confirming = RwSignal::new(false);
    let patient = grant.patient_name.clone();
    let grant_id = grant.grant.value.grant_id;
    let declining = use_action({
        let patient = patient.clone();
        move |()| {
            let patient = patient.clone();
            async move {
                decline(session, grant_id).await?;
                done.run(format!(
                    "You declined {patient}'s share. It is gone from your list, and {patient} sees in their Sharing page and Access history that you declined it."
                ));
                focus_later("main h1");
                Ok(None)
            }
        }
    });
    let question = format!(
        "Decline {}'s share? You will no longer be able to open it, and the server deletes your key to it. {} is told that you declined; only they can share it with you again.",
        patient, patient
    );
    view! {
        {open.then(|| view! {
            <Show
                when=move || confirming.get()
                fallback={
                    let patient = patient.clone();
                    move || view! {
                        <div class="button-row">
                            <button type="button" class="button button--secondary button--small"
                                aria-label=format!("Decline {}'s share", patient)
                                on:click=move |_| confirming.set(true)>"Decline"</button>
                        </div>
                    }
                }
            >
                <div class="confirm" role="group" aria-label="Confirm declining">
                    <p>{question.clone()}</p>
                    <div class="button-row">
                        <button type="button" class="button button--danger button--small" disabled=move || declining.busy()
                            on:click=move |_| declining.run(())>{move || if declining.busy() { "Working…" } else { "Yes, decline" }}</button>
                        <button type="button" class="button button--secondary button--small"
                            on:click=move |_| confirming.set(false)>"Keep the share"</button>
                    </div>
                </div>
            </Show>
        })}
        <ErrorAlert error=declining.error/>
    }
}

/// The doctor asks a patient for access, with a reason.
#[component]
fn AskForm(done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let asking = use_action(move |request| async move {
        let name = ask_for_access(session, request).await?;
        username.set(String::new());
        reason.set(String::new());
        done.run(format!(
            "Your request was sent to {name}. You will see their answer here."
        ));
        Ok(None)
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if asking.busy() {
            return;
        }
        asking.error.set(None);
        match access_request(&username.get_untracked(), &reason.get_untracked()) {
            Ok(request) => asking.run(request),
            Err(m) => asking.error.set(Some(m)),
        }
    };
    view! {
        <section class="card narrow" aria-labelledby="ask-heading">
            <h2 id="ask-heading">"Ask a patient for access"</h2>
            <ErrorAlert error=asking.error/>
            <form class="form" on:submit=submit novalidate>
                <Field id="ask-username" label="Patient's username" value=username/>
                <div class="field">
                    <label for="ask-reason">"Reason"</label>
                    <textarea id="ask-reason" rows="3" maxlength="500" aria-describedby="ask-reason-hint"
                        bind:value=reason></textarea>
                    <p class="field__hint" id="ask-reason-hint">"The patient reads this when deciding. Up to 500 characters."</p>
                </div>
                <SubmitButton label="Send request" busy=asking.busy_signal()/>
            </form>
        </section>
    }
}

/// The doctor's requests and their answers.
#[component]
fn MyRequests(requests: Vec<AccessRequestView>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="my-requests-heading">
            <h2 id="my-requests-heading">"Your requests"</h2>
            {if requests.is_empty() {
                view! { <p class="muted">"You have not asked anyone yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list">
                        {requests.into_iter().map(|r| view! {
                            <li>
                                <strong>{r.patient_name.clone()}</strong>
                                " · " {format_date(r.created_at)} " · “" {r.reason.clone()} "” "
                                {request_badge(r.status)}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
