//! Doctors' requests for access: approve one (choosing what to share) or
//! deny it, and the requests already answered.

use leptos::prelude::*;
use shared::{
    api::sharing::AccessRequestView,
    model::{Id, Permission},
    records::OpenTree,
};

use crate::{
    components::{
        action::{use_action, UseAction},
        badges::request_badge,
        form::{ErrorAlert, SubmitButton},
    },
    platform::browser::{focus_later, format_date},
    session::{use_session, Unlocked},
    tasks::sharing::{
        approve, can_now, choice, deny, id_text, permission_of, shareable, split_requests,
        PatientData,
    },
};

use super::share_form::PermissionField;

/// Pending and answered requests from doctors.
#[component]
pub(super) fn Requests(
    data: PatientData,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let (pending, answered) = split_requests(&data.requests);
    let tree = StoredValue::new_local(data.tree);
    view! {
        <section class="card" aria-labelledby="requests-heading">
            <h2 id="requests-heading">"Requests from doctors"</h2>
            {if pending.is_empty() {
                view! { <p class="muted">"No doctor is waiting for an answer."</p> }.into_any()
            } else {
                view! {
                    <ul class="request-list">
                        {pending.into_iter().map(|r| view! {
                            <PendingRequest request=r tree=tree unlocked=unlocked done=done/>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!answered.is_empty()).then(|| view! {
                <details class="details">
                    <summary>{format!("Answered requests ({})", answered.len())}</summary>
                    <ul class="plain-list">
                        {answered.into_iter().map(|r| view! {
                            <li>
                                <strong>{r.doctor_name.clone()}</strong>
                                " asked on " {format_date(r.created_at)} ": “" {r.reason.clone()} "” "
                                {request_badge(r.status)}
                            </li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </section>
    }
}

/// The patient's answer to one request.
#[derive(Clone, Copy)]
enum Answer {
    /// Say no; nothing is shared.
    Deny,
    /// Share this folder, with this permission, until this time.
    Approve(Id, Permission, Option<i64>),
}

/// One request waiting for an answer: the doctor's reason, then the buttons,
/// or the form that chooses what to share.
#[component]
fn PendingRequest(
    request: AccessRequestView,
    tree: StoredValue<OpenTree, LocalStorage>,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let key = id_text(&request.request_id);
    let choosing = RwSignal::new(false);
    let form = ApproveChoice {
        scope: RwSignal::new(tree.with_value(|t| id_text(&t.root_id))),
        until: RwSignal::new(String::new()),
        permission: RwSignal::new("read".to_owned()),
    };
    let doctor_name = request.doctor_name.clone();
    let request = StoredValue::new(request);
    let answer = use_action(move |a: Answer| {
        let (r, u, t) = (request.get_value(), unlocked.get_value(), tree.get_value());
        async move {
            let message = match a {
                Answer::Deny => {
                    deny(session, r.request_id).await?;
                    format!(
                        "You said no to {}. Nothing was shared; they can see your answer.",
                        r.doctor_name
                    )
                }
                Answer::Approve(node, permission, expires_at) => {
                    let chosen = (node, permission, expires_at);
                    let (label, note) = approve(session, &u, &t, &r, chosen).await?;
                    let done = format!("{} {}: {label}.", r.doctor_name, can_now(permission));
                    match note {
                        Some(note) => format!("{done} {note}"),
                        None => done,
                    }
                }
            };
            done.run(message);
            focus_later("main h1");
            Ok(None)
        }
    });
    let r = request.get_value();
    view! {
        <li class="request">
            <p>
                <strong>{r.doctor_name.clone()}</strong>
                " asks for access to your record (" {format_date(r.created_at)} "):"
            </p>
            <blockquote class="request__reason">{r.reason.clone()}</blockquote>
            <ErrorAlert error=answer.error/>
            <Show
                when=move || choosing.get()
                fallback={
                    let doctor_name = doctor_name.clone();
                    move || view! { <AnswerButtons doctor_name=doctor_name.clone() choosing=choosing answer=answer/> }
                }
            >
                <ApproveForm key=key.clone() tree=tree form=form choosing=choosing answer=answer/>
            </Show>
        </li>
    }
}

/// "Approve…" (opens the form) and "Deny".
#[component]
fn AnswerButtons(
    doctor_name: String,
    choosing: RwSignal<bool>,
    answer: UseAction<Answer>,
) -> impl IntoView {
    view! {
        <div class="button-row" role="group" aria-label=format!("Answer {}", doctor_name)>
            <button type="button" class="button" disabled=move || answer.busy()
                on:click=move |_| choosing.set(true)>"Approve…"</button>
            <button type="button" class="button button--secondary" disabled=move || answer.busy()
                on:click=move |_| answer.run(Answer::Deny)>{move || if answer.busy() { "Working…" } else { "Deny" }}</button>
        </div>
    }
}

/// What the approve form has chosen so far; kept while the form is closed.
#[derive(Clone, Copy)]
struct ApproveChoice {
    /// The folder, as an id text.
    scope: RwSignal<String>,
    /// The end date, as the date input gives it.
    until: RwSignal<String>,
    /// "read" or "write".
    permission: RwSignal<String>,
}

/// What to share with the doctor who asked, until when, and how.
#[component]
fn ApproveForm(
    key: String,
    tree: StoredValue<OpenTree, LocalStorage>,
    form: ApproveChoice,
    choosing: RwSignal<bool>,
    answer: UseAction<Answer>,
) -> impl IntoView {
    let ApproveChoice {
        scope,
        until,
        permission,
    } = form;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if answer.busy() {
            return;
        }
        answer.error.set(None);
        match choice(&scope.get_untracked(), &until.get_untracked()) {
            Ok((node, expires_at)) => {
                let permission = permission_of(&permission.get_untracked());
                answer.run(Answer::Approve(node, permission, expires_at));
            }
            Err(m) => answer.error.set(Some(m)),
        }
    };
    let scope_id = format!("approve-scope-{key}");
    let until_id = format!("approve-until-{key}");
    view! {
        <form class="form" on:submit=submit novalidate>
            <div class="field">
                <label for=scope_id.clone()>"Share"</label>
                <select id=scope_id on:change=move |ev| scope.set(event_target_value(&ev))>
                    {tree.with_value(shareable).into_iter().map(|(id, label)| view! {
                        <option value=id_text(&id)>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for=until_id.clone()>"End date (optional)"</label>
                <input id=until_id type="date" bind:value=until/>
            </div>
            <PermissionField id=format!("approve-permission-{key}") value=permission/>
            <div class="button-row">
                <SubmitButton label="Approve and share" busy=answer.busy_signal()/>
                <button type="button" class="button button--secondary" on:click=move |_| choosing.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}
