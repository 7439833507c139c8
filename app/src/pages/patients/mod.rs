//! `/patients`, the doctor's side of sharing: ask a patient for access, the
//! answers, and the records shared with this doctor (each can be declined);
//! `/patients/:grant` opens one of them ([`shared_record`]).

pub mod shared_record;

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    account::Username,
    api::sharing::{
        self, validate_reason, AccessRequestView, GrantRef, GrantStatus, GrantView,
        NewAccessRequest,
    },
    crypto::sign::{Permission, Role},
};

use crate::{
    components::{
        badges::{request_badge, status_badge},
        form::{ErrorAlert, Field, StatusNote, SubmitButton},
    },
    pages::with_keys,
    platform::browser::{focus_later, format_date},
    session::{use_session, Unlocked},
    tasks::sharing::id_text,
};

#[derive(Clone)]
struct DoctorData {
    grants: Vec<GrantView>,
    requests: Vec<AccessRequestView>,
}

/// The doctor's patients page (needs the keys).
#[component]
pub fn PatientsPage() -> impl IntoView {
    with_keys(|u| view! { <Patients unlocked=u/> })
}

#[component]
fn Patients(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let is_doctor = unlocked.info.role == Role::Doctor;
    let data = LocalResource::new(move || async move {
        let grants = sharing::list_grants()
            .await
            .map_err(|e| session.explain(&e))?;
        let requests = sharing::list_requests()
            .await
            .map_err(|e| session.explain(&e))?;
        Ok::<_, String>(DoctorData { grants, requests })
    });
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
            <Suspense fallback=|| view! { <p class="status status--pending" role="status">"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(message) => view! { <p class="alert alert--error" role="alert">{message}</p> }.into_any(),
                    Ok(d) => view! {
                        <SharedWithMe grants=d.grants.clone() done=done/>
                        <AskForm done=done/>
                        <MyRequests requests=d.requests/>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

#[component]
fn SharedWithMe(grants: Vec<GrantView>, done: Callback<String>) -> impl IntoView {
    // Emergency grants are on the Emergency page.
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
    let session = use_session();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let v = grant.grant.value.clone();
    let patient = grant.patient_name.clone();
    let grant_id = v.grant_id;
    let href = format!("/patients/{}", id_text(&grant_id));
    let open = grant.status.is_live();
    let decline = {
        let patient = patient.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let patient = patient.clone();
            leptos::task::spawn_local(async move {
                match sharing::decline_grant(GrantRef { grant_id }).await {
                    Ok(_) => {
                        done.run(format!(
                            "You declined {patient}'s share. It is gone from your list, and {patient} sees in their Sharing page and Access history that you declined it."
                        ));
                        focus_later("main h1");
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(session.explain(&e)));
                    }
                }
            });
        }
    };
    let shown = patient.clone();
    let name = if grant.status == GrantStatus::Active {
        view! { <A href=href attr:class="item__name">{shown}</A> }.into_any()
    } else {
        view! { <span class="item__name">{shown}</span> }.into_any()
    };
    view! {
        <li class="patient-list__item">
            <div>
                {name}
                <span class="item__facts">
                    <span>{match v.permission { Permission::Read => "Read", Permission::ReadWrite => "Read and write" }}</span>
                    <span>{format!("Since {}", format_date(v.created_at))}</span>
                    <span>{match (grant.status, v.expires_at) {
                        (GrantStatus::Revoked, _) => "Access removed by the patient".to_owned(),
                        (_, None) => "No end date".to_owned(),
                        (_, Some(t)) => format!("Until {}", format_date(t)),
                    }}</span>
                </span>
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
                            <p>{format!(
                                "Decline {}'s share? You will no longer be able to open it, and the server deletes your key to it. {} is told that you declined; only they can share it with you again.",
                                patient, patient
                            )}</p>
                            <div class="button-row">
                                <button type="button" class="button button--danger button--small" disabled=move || busy.get()
                                    on:click=decline.clone()>{move || if busy.get() { "Working…" } else { "Yes, decline" }}</button>
                                <button type="button" class="button button--secondary button--small"
                                    on:click=move |_| confirming.set(false)>"Keep the share"</button>
                            </div>
                        </div>
                    </Show>
                })}
                <ErrorAlert error=error/>
            </div>
            {status_badge(grant.status)}
        </li>
    }
}

#[component]
fn AskForm(done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let name = match Username::parse(username.get_untracked().trim()) {
            Ok(n) => n.to_string(),
            Err(e) => return error.set(Some(format!("{e}."))),
        };
        let why = match validate_reason(&reason.get_untracked()) {
            Ok(r) => r.to_owned(),
            Err(m) => return error.set(Some(m)),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = sharing::request_access(NewAccessRequest {
                patient_username: name.clone(),
                reason: why,
            })
            .await;
            busy.set(false);
            match result {
                Ok(_) => {
                    username.set(String::new());
                    reason.set(String::new());
                    done.run(format!(
                        "Your request was sent to {name}. You will see their answer here."
                    ));
                }
                Err(e) => error.set(Some(session.explain(&e))),
            }
        });
    };
    view! {
        <section class="card narrow" aria-labelledby="ask-heading">
            <h2 id="ask-heading">"Ask a patient for access"</h2>
            <ErrorAlert error=error/>
            <form class="form" on:submit=submit novalidate>
                <Field id="ask-username" label="Patient's username" value=username/>
                <div class="field">
                    <label for="ask-reason">"Reason"</label>
                    <textarea id="ask-reason" rows="3" maxlength="500" aria-describedby="ask-reason-hint"
                        bind:value=reason></textarea>
                    <p class="field__hint" id="ask-reason-hint">"The patient reads this when deciding. Up to 500 characters."</p>
                </div>
                <SubmitButton label="Send request" busy=busy.into()/>
            </form>
        </section>
    }
}

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
