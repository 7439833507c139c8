//! Sharing with a doctor by username: look them up (their keys checked in
//! this browser), compare the safety number, choose what to share.

use leptos::prelude::*;
use shared::{
    model::{Id, Permission},
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
    tasks::anchor::unverified_doctor_text,
    tasks::sharing::{
        can_now, choice, id_text, permission_of, scope_label, share_with, shareable,
        verified_doctor, Purpose, VerifiedEntry,
    },
};

/// The choice of read, or read and write, in a share form.
#[component]
pub(super) fn PermissionField(id: String, value: RwSignal<String>) -> impl IntoView {
    let hint = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id.clone()>"Permission"</label>
            <select id=id.clone() aria-describedby=hint.clone() on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="read" selected=move || value.get() == "read">"Read only"</option>
                <option value="write" selected=move || value.get() == "write">"Read and write"</option>
            </select>
            <p class="field__hint" id=hint>
                {move || if value.get() == "write" {
                    "The doctor can view and download what you share and write there on your behalf: add, update or delete files in a shared folder, or add new versions of a shared file. Everything they write is signed by them and shown to you."
                } else {
                    "The doctor can view and download what you share (for a folder, also what you add there later); they cannot change it."
                }}
            </p>
        </div>
    }
}

/// A doctor found (keys checked against the pins), with the first-contact
/// note if their keys were seen for the first time.
type Found = (VerifiedEntry, Option<String>);

/// The two steps of the form.
#[derive(Clone)]
enum Step {
    /// Look the doctor up by username.
    LookUp(String),
    /// Share this folder, with this permission, until this time.
    Share(Box<VerifiedEntry>, (Id, Permission, Option<i64>)),
}

/// What the form holds between its steps.
#[derive(Clone, Copy)]
struct ShareState {
    username: RwSignal<String>,
    doctor: RwSignal<Option<Found>, LocalStorage>,
    scope: RwSignal<String>,
    until: RwSignal<String>,
    permission: RwSignal<String>,
}

/// Share with a doctor by username.
#[component]
pub(super) fn ShareForm(
    tree: OpenTree,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let state = ShareState {
        username: RwSignal::new(String::new()),
        doctor: RwSignal::new_local(None),
        scope: RwSignal::new(id_text(&tree.root_id)),
        until: RwSignal::new(String::new()),
        permission: RwSignal::new("read".to_owned()),
    };
    let choices = StoredValue::new(shareable(&tree));
    let tree = StoredValue::new_local(tree);

    let step = use_action(move |s: Step| {
        let (u, t) = (unlocked.get_value(), tree.get_value());
        async move {
            match s {
                Step::LookUp(name) => {
                    let checked = verified_doctor(session, &u, &name).await?;
                    let note = checked.first_contact_note(Purpose::Share);
                    state.doctor.set(Some((checked.entry, note)));
                    focus_later("#share-scope");
                }
                Step::Share(entry, chosen) => {
                    let label = scope_label(&t, &chosen.0);
                    share_with(session, &u, &t, &entry, chosen, None, None).await?;
                    state.doctor.set(None);
                    state.username.set(String::new());
                    let name = &entry.entry.username;
                    done.run(format!("{name} {}: {label}.", can_now(chosen.1)));
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
        state.doctor.set(None);
        step.run(Step::LookUp(state.username.get_untracked()));
    };

    view! {
        <section class="card" aria-labelledby="share-heading">
            <h2 id="share-heading">"Share with a doctor"</h2>
            <ErrorAlert error=step.error/>
            <form class="form form--inline" on:submit=look_up novalidate>
                <Field id="share-username" label="Doctor's username" value=state.username
                    hint="Ask your doctor for their medvault username."/>
                <SubmitButton label="Look up" busy=step.busy_signal() class="button--secondary"/>
            </form>
            {move || state.doctor.get().map(|(entry, note)| view! {
                <DoctorCard entry=entry note=note/>
                <ShareChoice state=state choices=choices step=step/>
            })}
        </section>
    }
}

/// The doctor looked up: name, licence, at a first contact a note, and the
/// safety number to compare. (Keys that differ from the pinned ones never
/// get here: the look-up refuses them.)
#[component]
fn DoctorCard(entry: VerifiedEntry, note: Option<String>) -> impl IntoView {
    let name = entry.entry.username.clone();
    view! {
        <div class="doctor-card">
            <h3>{name.clone()}</h3>
            {match entry.verified_doctor.clone() {
                Some((licence, admin)) => view! {
                    <p><span class="badge badge--ok">"Verified doctor"</span>
                        " Licence " <strong>{licence}</strong> ", certified by administrator " <strong>{admin}</strong> "."</p>
                }.into_any(),
                None => view! {
                    <p><span class="badge badge--warn">"Not verified"</span>
                        " " {unverified_doctor_text()} " Share only if you know them."</p>
                }.into_any(),
            }}
            {note.map(|n| view! { <p class="status" role="status">{n}</p> })}
            <p class="field__hint">"Compare this safety number with your doctor in person or on the phone:"</p>
            <SafetyNumberView number=entry.safety_number label=format!("Safety number of {name}")/>
        </div>
    }
}

/// What to share with the doctor looked up, until when, and how.
#[component]
fn ShareChoice(
    state: ShareState,
    choices: StoredValue<Vec<(Id, String)>>,
    step: UseAction<Step>,
) -> impl IntoView {
    let ShareState {
        doctor,
        scope,
        until,
        permission,
        ..
    } = state;
    let share = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if step.busy() {
            return;
        }
        step.error.set(None);
        let Some((entry, _)) = doctor.get_untracked() else {
            return step.error.set(Some("Look the doctor up first.".to_owned()));
        };
        match choice(&scope.get_untracked(), &until.get_untracked()) {
            Ok((node, expires_at)) => {
                let permission = permission_of(&permission.get_untracked());
                step.run(Step::Share(Box::new(entry), (node, permission, expires_at)));
            }
            Err(m) => step.error.set(Some(m)),
        }
    };
    view! {
        <form class="form" on:submit=share novalidate>
            <div class="field">
                <label for="share-scope">"Share"</label>
                <select id="share-scope" on:change=move |ev| scope.set(event_target_value(&ev))>
                    {choices.with_value(|c| c.iter().map(|(id, label)| view! {
                        <option value=id_text(id) selected=id_text(id) == scope.get_untracked()>{label.clone()}</option>
                    }).collect_view())}
                </select>
            </div>
            <div class="field">
                <label for="share-until">"End date (optional)"</label>
                <input id="share-until" type="date" aria-describedby="share-until-hint" bind:value=until/>
                <p class="field__hint" id="share-until-hint">"Leave empty to share until you remove access. Access ends at the end of that day."</p>
            </div>
            <PermissionField id="share-permission".to_owned() value=permission/>
            <SubmitButton label="Share" busy=step.busy_signal()/>
        </form>
    }
}
