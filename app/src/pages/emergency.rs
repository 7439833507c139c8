//! Emergency access (DESIGN: emergency access), both sides.
//!
//! The patient names a contact (a doctor, or a relative or friend with a
//! medvault account) and a waiting period. This browser signs a read grant of
//! the whole record and wraps the record's top key to the contact now; the
//! server keeps that key and serves it only after the contact has asked and
//! the waiting period has passed without the patient refusing. The Sharing
//! page shows a request at once, with a button to refuse it.
//!
//! `/emergency` is the contact's side: the records they may ask to open, the
//! request and its waiting period, and, once it opens, the record itself
//! (the same read-only view as a doctor's share, checked the same way).

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    api::sharing::{
        self, validate_reason, validate_wait, Emergency, EmergencyAsk, GrantRef, GrantStatus,
        GrantView,
    },
    client::VerifiedEntry,
    crypto::sign::{Permission, Role},
    records::OpenTree,
};

use crate::{
    components::{
        badges::status_badge,
        form::{ErrorAlert, Field, StatusNote, SubmitButton},
        safety_number::SafetyNumberView,
    },
    pages::{
        sharing::{share_with, verified_entry},
        with_keys,
    },
    platform::browser::{focus_later, format_date, format_time},
    session::{use_session, Session, Unlocked},
    tasks::sharing::id_text,
};

/// The waiting periods offered, in seconds, with their words.
const WAITS: [(i64, &str); 6] = [
    (60 * 60, "1 hour"),
    (24 * 60 * 60, "1 day"),
    (2 * 24 * 60 * 60, "2 days"),
    (7 * 24 * 60 * 60, "7 days"),
    (14 * 24 * 60 * 60, "14 days"),
    (30 * 24 * 60 * 60, "30 days"),
];

/// A waiting period in words.
fn wait_text(secs: i64) -> String {
    match WAITS.iter().find(|(s, _)| *s == secs) {
        Some((_, words)) => (*words).to_owned(),
        None if secs % 86_400 == 0 => format!("{} days", secs / 86_400),
        None => format!("{} hours", secs / 3600),
    }
}

/// The emergency details of a grant, for either side's list.
#[component]
pub fn EmergencyFacts(emergency: Emergency, status: GrantStatus) -> impl IntoView {
    let wait = format!("Waiting period: {}", wait_text(emergency.wait_secs));
    let state = match (status, emergency.requested_at, emergency.opens_at()) {
        (GrantStatus::Waiting, Some(asked), Some(opens)) => format!(
            "Asked {}; opens {} unless refused",
            format_time(asked),
            format_time(opens)
        ),
        (GrantStatus::Active, _, Some(opens)) => format!("Open since {}", format_time(opens)),
        _ => match emergency.refused_at {
            Some(t) => format!("Last request refused {}", format_time(t)),
            None => "Not asked for".to_owned(),
        },
    };
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
    let waiting: Vec<GrantView> = grants
        .into_iter()
        .filter(|g| g.status == GrantStatus::Waiting)
        .collect();
    waiting
        .into_iter()
        .map(|g| view! { <WaitingRequest grant=g done=done/> })
        .collect_view()
}

#[component]
fn WaitingRequest(grant: GrantView, done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let contact = grant.doctor_name.clone();
    let grant_id = grant.grant.value.grant_id;
    let (reason, opens) = grant
        .emergency
        .as_ref()
        .map(|e| (e.reason.clone().unwrap_or_default(), e.opens_at()))
        .unwrap_or_default();
    let refuse = {
        let contact = contact.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let contact = contact.clone();
            leptos::task::spawn_local(async move {
                let result = sharing::refuse_emergency(GrantRef { grant_id }).await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        done.run(format!(
                            "You refused {contact}'s emergency request. Your record stays closed to them; they can see that you refused."
                        ));
                        focus_later("main h1");
                    }
                    Err(e) => error.set(Some(session.explain(&e))),
                }
            });
        }
    };
    let opens = opens.map(format_time).unwrap_or_default();
    view! {
        <section class="card card--alert" role="alert" aria-labelledby=format!("emergency-{}", id_text(&grant_id))>
            <h2 id=format!("emergency-{}", id_text(&grant_id))>{format!("{contact} asked for emergency access")}</h2>
            <p>{format!("Your whole record opens to {contact} on {opens} unless you refuse before then. Their reason:")}</p>
            <blockquote class="request__reason">{reason}</blockquote>
            <ErrorAlert error=error/>
            <div class="button-row">
                <button type="button" class="button button--danger" disabled=move || busy.get()
                    on:click=refuse>{move || if busy.get() { "Working…" } else { "Refuse emergency access" }}</button>
            </div>
        </section>
    }
}

/// On the patient's home page: emergency requests waiting for an answer, with
/// the way to refuse them.
#[component]
pub fn EmergencyNotice(me: shared::crypto::Id) -> impl IntoView {
    let grants =
        LocalResource::new(move || async move { sharing::list_grants().await.unwrap_or_default() });
    move || {
        grants.get().map(|list| {
            list.into_iter()
                .filter(|g| g.grant.value.patient_id == me && g.status == GrantStatus::Waiting)
                .map(|g| {
                    let opens = g
                        .emergency
                        .as_ref()
                        .and_then(Emergency::opens_at)
                        .map(format_time)
                        .unwrap_or_default();
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

/// Checks a contact's directory entry: a patient or a doctor, not disabled.
async fn verified_contact(session: Session, username: &str) -> Result<VerifiedEntry, String> {
    let entry = verified_entry(session, username).await?;
    let name = entry.entry.username.clone();
    if !matches!(entry.entry.role, Role::Patient | Role::Doctor) {
        return Err(format!(
            "{name} is an administrator or auditor account and cannot be an emergency contact."
        ));
    }
    if entry.disabled {
        return Err(format!(
            "{name}'s account is disabled by an administrator, so they cannot be your emergency contact."
        ));
    }
    Ok(entry)
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
    let wait = RwSignal::new((2 * 24 * 60 * 60).to_string());
    let contact = RwSignal::new(None::<VerifiedEntry>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let tree = StoredValue::new(tree);
    let me = unlocked.with_value(|u| u.key_entry.value.user_id);

    let look_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        contact.set(None);
        busy.set(true);
        let name = username.get_untracked();
        leptos::task::spawn_local(async move {
            let result = verified_contact(session, &name).await;
            busy.set(false);
            match result {
                Ok(entry) if entry.entry.user_id == me => {
                    error.set(Some("You cannot be your own emergency contact.".to_owned()))
                }
                Ok(entry) => {
                    contact.set(Some(entry));
                    focus_later("#emergency-wait");
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };
    let name_them = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let Some(entry) = contact.get_untracked() else {
            return error.set(Some("Look the person up first.".to_owned()));
        };
        let secs = match wait
            .get_untracked()
            .parse::<i64>()
            .map_err(|_| "Choose a waiting period.".to_owned())
            .and_then(validate_wait)
        {
            Ok(s) => s,
            Err(m) => return error.set(Some(m)),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let (u, t) = (unlocked.get_value(), tree.get_value());
            let root = t.root_id;
            let result = share_with(
                session,
                &u,
                &t,
                &entry,
                (root, Permission::Read, None),
                None,
                Some(secs),
            )
            .await;
            busy.set(false);
            match result {
                Ok(_) => {
                    contact.set(None);
                    username.set(String::new());
                    done.run(format!(
                        "{} is your emergency contact. If they ask for access, you have {} to refuse before your record opens to them.",
                        entry.entry.username,
                        wait_text(secs)
                    ));
                    focus_later("main h1");
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="emergency-heading">
            <h2 id="emergency-heading">"Emergency contact"</h2>
            <p class="field__hint">
                "Name someone who can ask to read your whole record if you cannot answer, such as a family doctor or a relative with a medvault account. "
                "You are told as soon as they ask and can refuse during the waiting period; if you do not, the record opens to them, to read only. "
                "Every step is in your Access history."
            </p>
            <ErrorAlert error=error/>
            <form class="form form--inline" on:submit=look_up novalidate>
                <Field id="emergency-username" label="Contact's username" value=username/>
                <SubmitButton label="Look up contact" busy=busy.into() class="button--secondary"/>
            </form>
            {move || contact.get().map(|entry| {
                let name = entry.entry.username.clone();
                let role = if entry.entry.role == Role::Doctor { "Doctor" } else { "Patient" };
                view! {
                    <div class="doctor-card">
                        <h3>{name.clone()}</h3>
                        <p>{match entry.verified_doctor.clone() {
                            Some((licence, _)) => format!("Verified doctor, licence {licence}."),
                            None => format!("{role} account."),
                        }}</p>
                        <p class="field__hint">"Compare this safety number with them in person or on the phone:"</p>
                        <SafetyNumberView number=entry.safety_number label=format!("Safety number of {name}")/>
                    </div>
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
                        <SubmitButton label="Name as emergency contact" busy=busy.into()/>
                    </form>
                }
            })}
        </section>
    }
}

// ---------------------------------------------------------------------------
// The contact's page.

/// Records this user may ask to open in an emergency (needs the keys).
#[component]
pub fn EmergencyPage() -> impl IntoView {
    with_keys(|u| view! { <ContactView unlocked=u/> })
}

#[component]
fn ContactView(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let me = unlocked.key_entry.value.user_id;
    let data = LocalResource::new(move || async move {
        let mut grants = sharing::list_grants()
            .await
            .map_err(|e| session.explain(&e))?;
        grants.retain(|g| g.grant.value.doctor_id == me && g.emergency.is_some());
        Ok::<_, String>(grants)
    });
    let notice = RwSignal::new(None::<String>);
    let done = Callback::new(move |message: String| {
        notice.set(Some(message));
        data.refetch();
    });
    view! {
        <div class="stack">
            <h1 id="emergency-page-heading" tabindex="-1">"Emergency access"</h1>
            <p class="lead">
                "People who named you as their emergency contact. If one of them cannot answer and you need their record, ask here: "
                "they are told at once and can refuse; if they do not, their record opens to you, to read only, when the waiting period ends."
            </p>
            <StatusNote message=notice.into()/>
            <Suspense fallback=|| view! { <p class="status status--pending" role="status">"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(message) => view! { <p class="alert alert--error" role="alert">{message}</p> }.into_any(),
                    Ok(grants) if grants.is_empty() => view! {
                        <p class="muted">"Nobody has named you as their emergency contact."</p>
                    }.into_any(),
                    Ok(grants) => view! {
                        <ul class="grant-list" aria-label="Records you can ask to open">
                            {grants.into_iter().map(|g| view! { <ContactRow grant=g done=done/> }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn ContactRow(grant: GrantView, done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let patient = grant.patient_name.clone();
    let grant_id = grant.grant.value.grant_id;
    let key = id_text(&grant_id);
    let facts = grant
        .emergency
        .clone()
        .map(|e| view! { <EmergencyFacts emergency=e status=grant.status/> });
    let ask = {
        let patient = patient.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if busy.get_untracked() {
                return;
            }
            error.set(None);
            let why = match validate_reason(&reason.get_untracked()) {
                Ok(r) => r.to_owned(),
                Err(m) => return error.set(Some(m)),
            };
            busy.set(true);
            let patient = patient.clone();
            leptos::task::spawn_local(async move {
                let result = sharing::ask_emergency(EmergencyAsk {
                    grant_id,
                    reason: why,
                })
                .await;
                busy.set(false);
                match result {
                    Ok(view) => {
                        let opens = view
                            .emergency
                            .and_then(|e| e.opens_at())
                            .map(format_time)
                            .unwrap_or_default();
                        done.run(format!(
                            "{patient} has been told of your request. Their record opens to you on {opens} unless they refuse."
                        ));
                    }
                    Err(e) => error.set(Some(session.explain(&e))),
                }
            });
        }
    };
    let reason_id = format!("emergency-reason-{key}");
    let hint_id = format!("{reason_id}-hint");
    let body = match grant.status {
        GrantStatus::Active => view! {
            <p><A href=format!("/patients/{key}")>{format!("Open {patient}'s record")}</A></p>
        }
        .into_any(),
        GrantStatus::Waiting => view! {
            <p class="muted">"Waiting. You can open the record here when the waiting period ends."</p>
        }
        .into_any(),
        GrantStatus::Standby => view! {
            <form class="form" on:submit=ask novalidate>
                <div class="field">
                    <label for=reason_id.clone()>"Why you need the record now"</label>
                    <textarea id=reason_id.clone() rows="3" maxlength="500" aria-describedby=hint_id.clone()
                        bind:value=reason></textarea>
                    <p class="field__hint" id=hint_id>{format!("{patient} reads this at once. Up to 500 characters.")}</p>
                </div>
                <SubmitButton label="Ask for emergency access" busy=busy.into()/>
            </form>
        }
        .into_any(),
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
            <ErrorAlert error=error/>
            {body}
        </li>
    }
}
