//! The doctors with access, and those whose access ended; removing access
//! (the server ends the grant, then this browser replaces the folder's keys).

use leptos::prelude::*;
use shared::api::sharing::{GrantStatus, GrantView};

use super::{change::ChangeShare, rekey::OwedState};
use crate::{
    components::{
        action::{use_action, UseAction},
        badges::status_badge,
        form::ErrorAlert,
    },
    pages::emergency::EmergencyFacts,
    platform::browser::{focus_later, format_date},
    session::{use_session, Unlocked},
    tasks::{
        record::use_record_store,
        sharing::{
            end_text, made_by, permission_text, rekey_percent, revoke, rotate_keys, scope_label,
            PatientData,
        },
    },
};

/// What people read about copies, wherever access is removed.
const COPIES_STAY: &str =
    "Copies the doctor already downloaded cannot be taken back; from now on they get nothing new.";

/// The doctors with access, and those whose access ended.
#[component]
pub(super) fn GrantList(
    data: PatientData,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let rows: Vec<(GrantView, String)> = data
        .grants
        .iter()
        .map(|g| (g.clone(), scope_label(&data.tree, &g.grant.value.node_id)))
        .collect();
    view! {
        <section class="card" aria-labelledby="grants-heading">
            <h2 id="grants-heading">"Doctors with access"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"You have not shared your record with anyone."</p> }.into_any()
            } else {
                view! {
                    <ul class="grant-list">
                        {rows.into_iter().map(|(g, label)| view! { <GrantRow grant=g label=label unlocked=unlocked done=done/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Which part of removing access to run.
#[derive(Clone, Copy)]
enum Removal {
    /// End the grant, then replace the keys.
    Remove,
    /// Replace the keys again after a replacement that did not finish.
    Again,
}

/// What a row shows of removing access, as it goes.
#[derive(Clone, Copy)]
struct RemovalState {
    /// Set once the server ended the grant: its remove controls go away even
    /// if replacing the keys then fails (the retry stays).
    removed: RwSignal<bool>,
    /// `(parts sent, parts in all)` while the keys are being replaced.
    rekey: RwSignal<Option<(u32, u32)>>,
    /// Whether replacing the keys failed and can be tried again.
    retry: RwSignal<bool>,
}

/// Removing `grant`'s access: the server ends the grant, then the folder's
/// keys are replaced; on success the list reloads with the news.
fn removal_action(
    grant: &GrantView,
    label: String,
    state: RemovalState,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> UseAction<Removal> {
    let session = use_session();
    let store = use_record_store();
    let owed = use_context::<OwedState>();
    let (grant_id, scope) = (grant.grant.value.grant_id, grant.grant.value.node_id);
    let doctor = grant.doctor_name.clone();
    let RemovalState {
        removed,
        rekey,
        retry,
    } = state;
    use_action(move |step: Removal| {
        let (u, doctor, label) = (unlocked.get_value(), doctor.clone(), label.clone());
        async move {
            if let Removal::Remove = step {
                revoke(session, grant_id).await?;
                removed.set(true);
            }
            rekey.set(Some((0, 1)));
            let progress = move |done, total| rekey.set(Some((done, total)));
            let result = rotate_keys(session, store, &u, scope, grant_id, progress).await;
            rekey.set(None);
            match result {
                Ok(()) => {
                    done.run(format!(
                        "{doctor} no longer has access to: {label}. Its keys were replaced, so keys they may have kept open nothing new. {COPIES_STAY}"
                    ));
                    focus_later("main h1");
                    Ok(None)
                }
                Err(m) => {
                    retry.set(true);
                    // The list of folders owed shows this one now, with any
                    // upload that holds it up and a way to cancel it.
                    if let Some(owed) = owed {
                        owed.failed(scope);
                    }
                    Err(format!(
                        "{doctor}'s access was removed, but replacing the folder's keys did not finish: {m} Use “Replace the keys again” to finish it."
                    ))
                }
            }
        }
    })
}

/// One grant: who, what, until when, its state; removing it, with the
/// progress of replacing the keys and a retry if that did not finish.
#[component]
fn GrantRow(
    grant: GrantView,
    label: String,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let state = RemovalState {
        removed: RwSignal::new(false),
        rekey: RwSignal::new(None),
        retry: RwSignal::new(false),
    };
    let RemovalState {
        removed,
        rekey,
        retry,
    } = state;
    // A grant the server lists that the patient did not sign is shown as such
    // (it never receives a key) and can be removed like any grant.
    let forged = !unlocked.with_value(|u| made_by(&grant, &u.key_entry.value));
    // Anything not ended can be removed, an emergency contact's too.
    let active = grant.status.is_live();
    let doctor = grant.doctor_name.clone();
    let removal = removal_action(&grant, label.clone(), state, unlocked, done);
    let grant_for_change = grant.clone();
    let again = move |_| {
        if !removal.busy() {
            retry.set(false);
            removal.run(Removal::Again);
        }
    };
    view! {
        <li class="grant">
            <GrantHead grant=grant label=label.clone() forged=forged removed=removed/>
            {forged.then(|| view! {
                <p class="alert alert--warning" role="note">
                    {format!("You did not sign this share with {doctor}: the server's list holds an entry that did not come from you. Nothing of yours is wrapped to it. Remove it, and tell your administrator.")}
                </p>
            })}
            {(active && !forged && grant_for_change.emergency.is_none()).then(|| view! {
                <div hidden=move || removed.get()>
                    <ChangeShare grant=grant_for_change.clone() unlocked=unlocked done=done/>
                </div>
            })}
            {active.then(|| view! {
                <div hidden=move || removed.get()>
                    <RemoveAccess doctor=doctor.clone() label=label.clone()
                        busy=removal.busy_signal() remove=Callback::new(move |_| removal.run(Removal::Remove))/>
                </div>
            })}
            <Show when=move || rekey.with(Option::is_some)>
                <RekeyProgress rekey=rekey/>
            </Show>
            <ErrorAlert error=removal.error/>
            <Show when=move || retry.get()>
                <button type="button" class="button button--small" disabled=move || removal.busy()
                    on:click=again>"Replace the keys again"</button>
            </Show>
        </li>
    }
}

/// A grant's doctor, scope, permission, dates and state.
#[component]
fn GrantHead(
    grant: GrantView,
    label: String,
    forged: bool,
    removed: RwSignal<bool>,
) -> impl IntoView {
    let g = &grant.grant.value;
    let permission = match grant.emergency {
        Some(_) => "Emergency contact",
        None => permission_text(g.permission),
    };
    let emergency = grant
        .emergency
        .clone()
        .map(|e| view! { <EmergencyFacts emergency=e status=grant.status/> });
    let status = grant.status;
    view! {
        <div class="grant__head">
            <div class="grant__who">
                <strong class="grant__doctor">{grant.doctor_name.clone()}</strong>
                <span class="item__facts">
                    <span>{label}</span>
                    <span>{permission}</span>
                    <span>{format!("Since {}", format_date(g.created_at))}</span>
                    <span>{end_text(&grant)}</span>
                </span>
                {emergency}
            </div>
            {if forged {
                view! { <span class="badge badge--danger">"Not made by you"</span> }.into_any()
            } else {
                (move || {
                    status_badge(if removed.get() { GrantStatus::Revoked } else { status })
                })
                .into_any()
            }}
        </div>
    }
}

/// "Remove access", then the question with its consequences and the answer.
#[component]
fn RemoveAccess(
    doctor: String,
    label: String,
    busy: Signal<bool>,
    remove: Callback<()>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let question = format!("Remove {}'s access to {}? ", doctor, label);
    view! {
        <Show
            when=move || confirming.get()
            fallback={
                let doctor = doctor.clone();
                move || view! {
                    <div class="button-row">
                        <button type="button" class="button button--secondary button--small"
                            aria-label=format!("Remove {}'s access", doctor)
                            on:click=move |_| confirming.set(true)>"Remove access"</button>
                    </div>
                }
            }
        >
            <div class="confirm" role="group" aria-label="Confirm removal">
                <p>{question.clone()}{COPIES_STAY}</p>
                <div class="button-row">
                    <button type="button" class="button button--danger button--small" disabled=move || busy.get()
                        on:click=move |_| remove.run(())>{move || if busy.get() { "Working…" } else { "Yes, remove access" }}</button>
                    <button type="button" class="button button--secondary button--small"
                        on:click=move |_| confirming.set(false)>"Keep access"</button>
                </div>
            </div>
        </Show>
    }
}

/// How far replacing the folder's keys has come.
#[component]
pub(super) fn RekeyProgress(rekey: RwSignal<Option<(u32, u32)>>) -> impl IntoView {
    let percent = move || rekey_percent(rekey.get());
    view! {
        <div class="progress-line">
            <div class="progress" role="progressbar" aria-label="Replacing the folder's keys"
                aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || percent().to_string()
                aria-valuetext=move || format!("{}%", percent())>
                <div class="progress__bar" style:width=move || format!("{}%", percent())></div>
            </div>
            <span class="progress-line__text">{move || format!("Replacing keys: {}%", percent())}</span>
        </div>
    }
}
